"""Reference data: GB/T 2260 regions, GB/T 4754-2017 industries and the value domains (值域)."""
