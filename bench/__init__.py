"""Benchmarks of funnelpact at scale (issue 9): `python -m bench --help`.

Not part of the installed package: it measures the pipeline from the outside, one
subprocess per measurement, so peak memory and start-up are the real ones.
"""
