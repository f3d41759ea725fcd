"""Benchmarks run by ``make bench``: signup paths, routing overhead, no-op migrations, client search.

Everything runs against a throw-away database (``salon_bench``) created on the
server that ``DATABASE_URL`` points at and dropped at the end. Figures are
printed and written to docs/benchmarks.md; nothing here asserts a timing.
"""
