"""Benchmarks at the scale of a real operation: `make bench` (or `python -m benchmarks.run --sizes 1000000`)."""
