"""Supervised entities (监管对象): the registry every draw, inspection, case and KPI reads."""
