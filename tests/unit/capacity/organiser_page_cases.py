"""The role table's rules for capacity's organiser pages (joined in test_route_roles)."""

from __future__ import annotations

from tests.unit.route_roles import RouteCase

ORGANISER_PAGE_CASES: list[RouteCase] = []
