"""A licence is suspended: every child proposed there gets a crisis request, placed first."""

from __future__ import annotations

import httpx

from tests.e2e.support import (
    close_location,
    eventually,
    figures_for,
    free_places,
    register_location,
    request_status,
    submit_request,
)
from tools.processes import ServiceProcess


def test_children_of_a_closed_location_are_re_placed_first(
    system: dict[str, ServiceProcess], http: httpx.Client
) -> None:
    closing = register_location(http, system, municipality_nis="13021", postcode="2450")
    elsewhere = register_location(http, system)
    request_id = submit_request(http, system, [closing, elsewhere])
    free_places(http, system, closing)
    eventually(lambda: request_status(http, system, request_id)["status"] == "proposed",
               what="a proposal at the location that will close")
    closures_before = figures_for(http, system, "13021").get("closures", 0)

    close_location(http, system, closing)

    old = eventually(lambda: (s := request_status(http, system, request_id))["status"]
                     == "replaced_after_closure" and s, what="intake replaces the request")
    crisis = request_status(http, system, old["replaced_by_request_id"])
    assert crisis["urgency"] == "crisis"
    assert crisis["replaces_request_id"] == request_id
    assert crisis["preferred_location_ids"] == [elsewhere]

    # A family that registered normally wants the same single place: the crisis child comes first.
    rival = submit_request(http, system, [elsewhere])
    [place_id] = free_places(http, system, elsewhere)
    placed = eventually(lambda: (s := request_status(http, system, crisis["request_id"]))
                        ["status"] == "proposed" and s, what="the crisis child gets the place")
    assert placed["proposed_place_id"] == place_id
    assert request_status(http, system, rival)["status"] == "submitted"

    eventually(lambda: figures_for(http, system, "13021").get("closures") == closures_before + 1,
               what="reporting counts the closure")
