"""A licence is suspended: every child offered a place there gets a crisis request first."""

from __future__ import annotations

import httpx

from tests.e2e.support import (
    close_location,
    eventually,
    figures_for,
    free_places,
    open_offer,
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
    open_offer(http, system, request_id)
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
    offer = open_offer(http, system, crisis["request_id"])
    assert offer["place_id"] == place_id, "the crisis child gets the place"
    rival_now = request_status(http, system, rival)
    assert rival_now["status"] == "waiting" and rival_now["offers"] == []

    eventually(lambda: figures_for(http, system, "13021").get("closures") == closures_before + 1,
               what="reporting counts the closure")
