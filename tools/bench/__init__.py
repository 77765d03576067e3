"""Benchmarks: figures printed for people to read, not tests (they assert nothing).

`uv run python -m tools.bench.matching {continuous,round,fairness,all}`; see
tools/bench/matching.py.
"""
