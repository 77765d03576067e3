"""The role table's rules for capacity's crisis pages (joined in test_route_roles)."""

from __future__ import annotations

from tests.unit.route_roles import RouteCase

CRISIS_PAGE_CASES: list[RouteCase] = []
