"""The synthetic province: deterministic, plausible registries for the demo, tests and benchmarks."""
