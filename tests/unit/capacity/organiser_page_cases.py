"""The role table's rules for capacity's organiser pages (joined in test_route_roles).

Personas send bearer tokens (no CSRF token needed) and an empty form: announcing
without a date is a 422 (the form again, with its errors); withdrawing and confirming
need no field (303: the offer's own start date and day-parts); refusing needs a reason
(422). Another organiser's location or offer is not found."""

from __future__ import annotations

from tests.unit.route_roles import RouteCase, page_case

LOCATION = "/organisator/locaties/{location_id}"
OFFER = "/organisator/aanbiedingen/{match_id}"
OTHER_ORGANISER = frozenset({"other_organiser"})

ORGANISER_PAGE_CASES: list[RouteCase] = [
    page_case("/organisator", ok={"organiser": 200, "other_organiser": 200}),
    page_case(LOCATION, url="/organisator/locaties/loc-a", ok={"organiser": 200},
              hidden=OTHER_ORGANISER),
    page_case(LOCATION + "/vrije-plaatsen", method="POST",
              url="/organisator/locaties/loc-a/vrije-plaatsen", ok={"organiser": 422},
              hidden=OTHER_ORGANISER),
    page_case(LOCATION + "/vrije-plaatsen/{place_id}/intrekken", method="POST",
              url="/organisator/locaties/loc-a/vrije-plaatsen/{open_place}/intrekken",
              ok={"organiser": 303}, hidden=OTHER_ORGANISER),
    page_case(OFFER, url="/organisator/aanbiedingen/match-1", ok={"organiser": 200},
              hidden=OTHER_ORGANISER),
    page_case(OFFER + "/bevestigen", method="POST",
              url="/organisator/aanbiedingen/match-1/bevestigen", ok={"organiser": 303},
              hidden=OTHER_ORGANISER),
    page_case(OFFER + "/weigeren", method="POST",
              url="/organisator/aanbiedingen/match-2/weigeren", ok={"organiser": 422},
              hidden=OTHER_ORGANISER),
]
