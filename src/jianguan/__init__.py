"""jianguan (监管) — an open platform for online supervision (互联网+监管)."""

__version__ = "0.1.0"
