"""The role table's rules for capacity's crisis pages (joined in test_route_roles).

Only a coordinator opens them, each for its own area: another area's closure is not
found. Personas send bearer tokens (no CSRF token needed) and an empty form:
registering without a location, reason or date is a 422 (the form again, with its
errors); releasing needs no field (303)."""

from __future__ import annotations

from tests.unit.route_roles import RouteCase, page_case

CLOSURE = "/crisis/sluitingen/{closure_id}"
COORDINATORS = {"coordinator": 200, "coordinator_other_area": 200}
OTHER_AREA = frozenset({"coordinator_other_area"})

CRISIS_PAGE_CASES: list[RouteCase] = [
    page_case("/crisis", ok=COORDINATORS),
    page_case("/crisis", method="POST", ok={"coordinator": 422, "coordinator_other_area": 422}),
    page_case(CLOSURE, url="/crisis/sluitingen/{closure}", ok={"coordinator": 200},
              hidden=OTHER_AREA),
    page_case(CLOSURE + "/vrijgeven", method="POST", url="/crisis/sluitingen/{closure}/vrijgeven",
              ok={"coordinator": 303}, hidden=OTHER_AREA),
]
