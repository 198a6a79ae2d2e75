"""Tercel benchmarks: `make bench` (python -m bench) writes results.json and RESULTS.md."""
