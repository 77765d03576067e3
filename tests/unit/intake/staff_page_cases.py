"""The role table's rules for intake's staff pages (joined in test_route_roles)."""

from __future__ import annotations

from tests.unit.route_roles import RouteCase

STAFF_PAGE_CASES: list[RouteCase] = []
