"""The role table's rules for intake's family pages (joined in test_route_roles)."""

from __future__ import annotations

from tests.unit.route_roles import RouteCase

FAMILY_PAGE_CASES: list[RouteCase] = []
