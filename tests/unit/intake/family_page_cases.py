"""The role table's rules for intake's family pages (joined in test_route_roles).

Personas send bearer tokens, which skip the CSRF check, so their empty POSTs reach the
page: the form comes back with its errors (422), or the answer is done (303). Without a
token a POST has no CSRF token either: 403. Registering and opening a personal link are
open to anyone (like `POST /requests`); the request pages are the family's own: its
parent (or its personal link) gets them, another parent 404 as if it did not exist,
staff and others 403 (they have their own pages), and a browser with neither a sign-in
nor a link is sent to open its link (303)."""

from __future__ import annotations

from tests.personas import PERSONAS
from tests.unit.route_roles import RouteCase, page_case

EVERYONE = dict.fromkeys(PERSONAS, 200)
# Who may register: the API's rule (a parent, the area's staff and partner systems).
REGISTRANTS = {"anonymous": 403, "parent": 422, "other_parent": 422, "staff": 422,
               "partner": 422}
MINE = "/mijn-aanvraag/{request_id}"
REQ_1 = "/mijn-aanvraag/req-1"
OFFER = MINE + "/aanbod/{match_id}"
OFFER_1 = REQ_1 + "/aanbod/m-req-1-loc-a"
HIDDEN = frozenset({"other_parent"})
DONE = {"anonymous": 403, "parent": 303}

FAMILY_PAGE_CASES: list[RouteCase] = [
    RouteCase("GET", "/aanvraag", ok=EVERYONE),
    RouteCase("POST", "/aanvraag", ok=REGISTRANTS),
    # Only right after registering in this browser; otherwise back to the form.
    RouteCase("GET", "/aanvraag/geregistreerd", ok=dict.fromkeys(PERSONAS, 303)),
    page_case("/balie/aanvragen/nieuw", ok={"staff": 200}),
    page_case("/balie/aanvragen/nieuw", method="POST", ok={"staff": 422}),
    RouteCase("GET", "/mijn-aanvraag", ok=EVERYONE),
    RouteCase("POST", "/mijn-aanvraag", ok=dict.fromkeys(PERSONAS, 422) | {"anonymous": 403}),
    page_case(MINE, url=REQ_1, ok={"parent": 200}, hidden=HIDDEN),
    page_case(MINE + "/wijzigen", url=REQ_1 + "/wijzigen", ok={"parent": 200}, hidden=HIDDEN),
    RouteCase("POST", MINE + "/wijzigen", url=REQ_1 + "/wijzigen",
              ok={"anonymous": 403, "parent": 422}, hidden=HIDDEN),
    RouteCase("POST", OFFER + "/aanvaarden", url=OFFER_1 + "/aanvaarden", ok=DONE,
              hidden=HIDDEN),
    RouteCase("POST", OFFER + "/weigeren", url=OFFER_1 + "/weigeren", ok=DONE, hidden=HIDDEN),
    RouteCase("POST", MINE + "/bevestigen", url=REQ_1 + "/bevestigen", ok=DONE, hidden=HIDDEN),
    page_case(MINE + "/intrekken", url=REQ_1 + "/intrekken", ok={"parent": 200}, hidden=HIDDEN),
    RouteCase("POST", MINE + "/intrekken", url=REQ_1 + "/intrekken", ok=DONE, hidden=HIDDEN),
]
