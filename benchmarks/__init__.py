"""Benchmarks, run by ``make bench``. Each prints its measurements and a ratio against a
reference run in the same process; none of them asserts a time."""
