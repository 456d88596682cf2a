"""Benchmarks run as commands: python -m bench.<name>."""
