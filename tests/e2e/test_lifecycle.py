"""From offer to placement, end to end: four processes, driven through HTTP, Kafka and the
SMTP sink only."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from functools import partial
from typing import Any

import httpx

from contracts.events import MatchExpired
from contracts.topics import CAPACITY, MATCHES
from tests.e2e.support import (
    MON_TO_WED,
    ORGANISER_EMAIL,
    START,
    THU_FRI,
    answer,
    eventually,
    figures_for,
    free_places,
    occupancy,
    open_offer,
    organiser_answer,
    post,
    register_location,
    request_status,
    submit_request,
    topic,
)
from tests.kafka_helpers import collect
from tools.infra import Infra
from tools.mailsink import MailSink
from tools.processes import ServiceProcess

System = dict[str, ServiceProcess]


def subjects_to(sink: MailSink, address: str) -> list[str]:
    return [str(m["Subject"]) for m in sink.messages() if address in str(m["To"])]


def family(n: str) -> dict[str, Any]:
    return {"parent": {"name": f"Ouder {n}", "email": f"ouder.{n}@example.be",
                       "phone": None, "street": None, "postcode": "2440"}}


def test_accept_and_confirm_place_the_child_everywhere(
    system: System, http: httpx.Client, mail_sink: MailSink
) -> None:
    before = figures_for(http, system, "13053")
    location_id = register_location(http, system)
    request_id = submit_request(http, system, [location_id], **family("a"))
    [place_id] = free_places(http, system, location_id)
    offer = open_offer(http, system, request_id)
    assert offer["place_id"] == place_id

    answer(http, system, request_id, offer["match_id"], "accept")
    organiser_answer(http, system, offer["match_id"], "confirm",
                     start_date=START.isoformat(), day_parts=MON_TO_WED)

    placed = eventually(lambda: (s := request_status(http, system, request_id))["status"]
                        == "placed" and s, what="intake shows the child placed")
    assert placed["offers"][0]["status"] == "placed"
    day_parts = {row["day_part"]: row for row in occupancy(http, system, location_id)["day_parts"]}
    assert day_parts["mon_am"]["enrolled"] == 1 and day_parts["thu_am"]["enrolled"] == 0
    eventually(lambda: figures_for(http, system, "13053").get("placed", 0)
               == before.get("placed", 0) + 1, what="reporting counts the placement")
    eventually(lambda: len(subjects_to(mail_sink, "ouder.a@example.be")) >= 2,
               what="the family got the offer and the placement by mail")
    eventually(lambda: subjects_to(mail_sink, ORGANISER_EMAIL), what="the organiser got mail")


def test_a_family_decline_and_an_organiser_refusal_each_pass_the_place_on(
    system: System, http: httpx.Client
) -> None:
    location_id = register_location(http, system)
    first = submit_request(http, system, [location_id], **family("b1"))
    second = submit_request(http, system, [location_id], **family("b2"),
                            priority={"parents_working_or_training": False})
    third = submit_request(http, system, [location_id], **family("b3"),
                           priority={"parents_working_or_training": False})
    [place_id] = free_places(http, system, location_id)

    offer = open_offer(http, system, first)
    answer(http, system, first, offer["match_id"], "decline")
    passed = open_offer(http, system, second)
    assert passed["place_id"] == place_id

    organiser_answer(http, system, passed["match_id"], "refuse", reason="age_group_full")
    passed_again = open_offer(http, system, third)
    assert passed_again["place_id"] == place_id
    assert request_status(http, system, first)["status"] == "waiting"


async def test_an_unanswered_offer_expires_once_even_across_a_matching_restart(
    system: System, http: httpx.Client, e2e_infra: Infra
) -> None:
    area = "kempen-gml"
    settings = post(http, f"{system['matching'].url}/service-areas/{area}/settings",
                    {"family_answer": {"seconds": 6}, "family_reminder_before": {"seconds": 3}})
    assert settings.status_code == 201, settings.text
    try:
        location_id = register_location(http, system)
        silent = submit_request(http, system, [location_id], **family("c1"))
        waiting = submit_request(http, system, [location_id], **family("c2"),
                                 priority={"parents_working_or_training": False})
        free_places(http, system, location_id)
        offer = open_offer(http, system, silent)

        system["matching"].kill()  # SIGKILL: the deadline must survive in matching's database
        await asyncio.sleep(7)
        system["matching"].start()
        system["matching"].wait_ready()

        passed = open_offer(http, system, waiting, timeout=60)
        assert passed["place_id"] == offer["place_id"]
        records = await collect(
            e2e_infra.bootstrap_servers, topic(MATCHES),
            match=lambda r: r.headers.get("ce_type", "").startswith("be.loket.MatchExpired")
            and getattr(r.data(), "match_id", None) == offer["match_id"],
            until=lambda found: len(found) >= 1, settle=3.0)
        assert len({r.event().id for r in records}) == 1, "expired exactly once"
        assert isinstance(records[0].data(), MatchExpired)
        expired = next(o for o in request_status(http, system, silent)["offers"]
                       if o["match_id"] == offer["match_id"])
        assert expired["status"] == "expired"
    finally:
        post(http, f"{system['matching'].url}/service-areas/{area}/settings")


def test_an_ended_enrolment_lets_a_new_free_place_through_and_it_is_offered(
    system: System, http: httpx.Client
) -> None:
    location_id = register_location(http, system, capacity=1)
    first = submit_request(http, system, [location_id], **family("d1"))
    free_places(http, system, location_id)
    offer = open_offer(http, system, first)
    answer(http, system, first, offer["match_id"], "accept")
    confirmed = organiser_answer(http, system, offer["match_id"], "confirm",
                                 start_date=START.isoformat(), day_parts=MON_TO_WED).json()

    refused = http.post(f"{system['capacity'].url}/locations/{location_id}/free-places",
                        json={"available_from": START.isoformat(), "count": 1,
                              "day_parts": MON_TO_WED})
    assert refused.status_code == 409, "the one licensed place is taken on those day-parts"

    second = submit_request(http, system, [location_id], **family("d2"))
    ended = http.post(f"{system['capacity'].url}/enrolments/{confirmed['enrolment_id']}/end",
                      json={"ended_on": START.isoformat(), "reason": "left"})
    assert ended.status_code in (200, 201), ended.text
    [place_id] = free_places(http, system, location_id, day_parts=MON_TO_WED)
    assert open_offer(http, system, second)["place_id"] == place_id


def test_fourteen_licensed_places_hold_twenty_part_time_children(
    system: System, http: httpx.Client
) -> None:
    location_id = register_location(http, system, capacity=14)
    declared = [{"enrolment_id": f"e-{n}", "start_date": START.isoformat(),
                 "day_parts": MON_TO_WED if n < 14 else THU_FRI} for n in range(19)]
    response = http.put(f"{system['capacity'].url}/locations/{location_id}/enrolments",
                        json={"enrolments": declared})
    assert response.status_code in (200, 201), response.text
    # The twentieth child comes through the loket, for Thursday and Friday.
    request_id = submit_request(http, system, [location_id], **family("e"), day_parts=THU_FRI)
    free_places(http, system, location_id, day_parts=THU_FRI)
    offer = open_offer(http, system, request_id)
    answer(http, system, request_id, offer["match_id"], "accept")
    organiser_answer(http, system, offer["match_id"], "confirm",
                     start_date=START.isoformat(), day_parts=THU_FRI)
    eventually(lambda: request_status(http, system, request_id)["status"] == "placed",
               what="the twentieth child is placed")

    rows = occupancy(http, system, location_id)["day_parts"]
    assert max(row["enrolled"] for row in rows) == 14
    # Thursday and Friday: five declared children and the one placed through the loket.
    assert sorted(row["enrolled"] for row in rows) == [6] * 4 + [14] * 6
    full_week = http.post(f"{system['capacity'].url}/locations/{location_id}/free-places",
                          json={"available_from": START.isoformat(), "count": 1})
    assert full_week.status_code == 409


async def test_a_closure_stays_inside_capacity_until_released_then_re_places_every_child(
    system: System, http: httpx.Client, e2e_infra: Infra
) -> None:
    closing = register_location(http, system, municipality_nis="13021", postcode="2450")
    elsewhere = register_location(http, system)
    enrolled = submit_request(http, system, [closing, elsewhere], **family("f1"))
    offered = submit_request(http, system, [closing, elsewhere], **family("f2"),
                             priority={"parents_working_or_training": False})
    free_places(http, system, closing)
    placed_offer = open_offer(http, system, enrolled)
    answer(http, system, enrolled, placed_offer["match_id"], "accept")
    organiser_answer(http, system, placed_offer["match_id"], "confirm",
                     start_date=START.isoformat(), day_parts=MON_TO_WED)
    eventually(lambda: request_status(http, system, enrolled)["status"] == "placed",
               what="one child placed at the location that will close")
    free_places(http, system, closing)
    open_offer(http, system, offered)

    registered = post(http, f"{system['capacity'].url}/locations/{closing}/closures",
                      {"reason": "licence_suspended", "effective_from": START.isoformat(),
                       "expected_end": (START + timedelta(days=180)).isoformat()})
    assert registered.status_code == 201, registered.text
    closure_id = registered.json()["closure_id"]
    await asyncio.sleep(3)
    assert request_status(http, system, enrolled)["status"] == "placed"
    assert request_status(http, system, offered)["offers"][0]["status"] == "open"
    published = await collect(
        e2e_infra.bootstrap_servers, topic(CAPACITY),
        match=lambda r: r.headers.get("ce_type", "").startswith("be.loket.CrisisClosure")
        and getattr(r.data(), "location_id", None) == closing,
        until=lambda found: True, settle=3.0)
    assert published == [], "a registered closure is not published"

    released = post(http, f"{system['capacity'].url}/closures/{closure_id}/release")
    assert released.status_code in (200, 201), released.text
    def replaced(request_id: str) -> dict[str, Any] | None:
        status = request_status(http, system, request_id)
        return status if status["status"] == "replaced_after_closure" else None

    for request_id in (enrolled, offered):
        old = eventually(partial(replaced, request_id), what=f"{request_id} is re-placed")
        crisis = request_status(http, system, old["replaced_by_request_id"])
        assert crisis["urgency"] == "crisis"
        assert crisis["submitted_at"] == old["submitted_at"], "keeps its registration date"
        assert crisis["desired_start_date"] == START.isoformat()
        assert crisis["preferred_location_ids"][0] == elsewhere
    assert Counter(request_status(http, system, r)["status"] for r in (enrolled, offered)) == {
        "replaced_after_closure": 2}
