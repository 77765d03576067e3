"""The role table's rules for intake's staff pages (joined in test_route_roles).

Personas send bearer tokens (no CSRF token needed) and an empty form: an empty
assessment is a valid one (no characteristic, urgency left as it is: 303), an offer
answer without a choice is not (422). Another area's staff see an empty worklist and
search (200, nothing of this area's) and no request (404)."""

from __future__ import annotations

from tests.unit.route_roles import RouteCase, page_case

AREA_PAGE = {"staff": 200, "coordinator": 200, "staff_other_area": 200,
             "coordinator_other_area": 200}
OTHER_AREA = frozenset({"staff_other_area", "coordinator_other_area"})
DETAIL = "/balie/aanvragen/{request_id}"

STAFF_PAGE_CASES: list[RouteCase] = [
    page_case("/balie", ok=AREA_PAGE),
    page_case("/balie/aanvragen", url="/balie/aanvragen?q=peeters", ok=AREA_PAGE),
    page_case(DETAIL, url="/balie/aanvragen/req-1", ok={"staff": 200, "coordinator": 200},
              hidden=OTHER_AREA),
    page_case(DETAIL + "/beoordeling", method="POST", url="/balie/aanvragen/req-1/beoordeling",
              ok={"staff": 303, "coordinator": 303}, hidden=OTHER_AREA),
    page_case(DETAIL + "/aanbod/{match_id}", method="POST",
              url="/balie/aanvragen/req-1/aanbod/m-req-1-loc-a", ok={"staff": 422},
              hidden=frozenset({"staff_other_area"})),
    page_case(DETAIL + "/persoonlijke-link", method="POST",
              url="/balie/aanvragen/req-1/persoonlijke-link", ok={"staff": 303},
              hidden=frozenset({"staff_other_area"})),
    page_case("/organisator/contact/{match_id}", url="/organisator/contact/m-req-2-loc-a",
              ok={"organiser": 200}, hidden=frozenset({"other_organiser"})),
    # The follow-up of a closure (none in the seeded world: "nog geen kinderen").
    page_case("/balie/sluitingen/{closure_id}", url="/balie/sluitingen/c-1",
              ok={"staff": 200, "coordinator": 200}, hidden=OTHER_AREA),
]
