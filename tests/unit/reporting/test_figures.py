"""The figure rules against the in-memory fake (the SQL runs them in
tests/integration/test_reporting_figures.py)."""

from __future__ import annotations

from tests.unit.reporting.figure_rules import FigureRules, LifecycleRules


class TestFiguresInMemory(FigureRules):
    pass


class TestLifecycleInMemory(LifecycleRules):
    pass
