"""Benchmarks: ``make bench`` (``python -m bench``) runs them all; each prints a table
of medians over several runs, because the machine is shared and noisy."""
