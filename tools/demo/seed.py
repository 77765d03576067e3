"""Seed a running system with the demo area through its public interfaces only:
capacity's and intake's HTTP APIs, signed in at the identity provider as the
organisers' systems, the OCMW's partner system and loket staff would be (see
tools.demo.accounts), plus one free place announced by an
organiser's own system straight onto Kafka, as any vendor could: signed in as
that organiser (org-zonneke) on its own inbound topic, the only one it may write.
Loket staff assess at the desk what needs a judgement (urgency some families asked
for, vulnerable families) before organisers announce their places. Then families and
organisers answer some of the offers, so the demo shows placed, declined and refused
children (and the mail about them) next to offers still waiting for an answer.

    python -m tools.demo.seed [--intake URL] [--capacity URL] [--bootstrap HOST:PORT]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from contracts.topics import organiser_inbound_topic
from tools.demo import generate
from tools.demo.accounts import DemoAccounts
from tools.demo.area import SERVICE_AREA
from tools.infra.kafka_principals import security
from tools.infra.keycloak import LOCAL_ISSUER
from tools.infra.tokens import TokenSource, signed_in_as


async def wait_until_intake_knows(client: httpx.AsyncClient, intake: str, count: int) -> None:
    for _ in range(200):
        if len((await client.get(f"{intake}/locations")).json()) >= count:
            return
        await asyncio.sleep(0.1)
    raise TimeoutError("intake did not learn the demo locations from capacity's events")


async def organiser_announces_place(
    bootstrap: str, location: dict[str, Any], topic_prefix: str = ""
) -> None:
    """Structured-mode CloudEvent, written with nothing but a Kafka client and JSON, by
    the location's organiser (its local principal) on its own topic."""
    organiser = location["organiser_id"]
    event = {
        "specversion": "1.0", "id": str(uuid.uuid4()), "source": f"urn:organiser:{organiser}",
        "type": "be.loket.PlaceFreed.v2", "time": datetime.now(UTC).isoformat(),
        "servicearea": SERVICE_AREA,
        "data": {"service_area": SERVICE_AREA, "place_id": f"org-{uuid.uuid4().hex[:12]}",
                 "location_id": location["location_id"],
                 "municipality_nis": location["municipality_nis"],
                 "available_from": (date.today() + timedelta(days=60)).isoformat(),
                 "day_parts": generate.FULL_WEEK,
                 "min_age_months": 0, "max_age_months": 36,
                 "freed_at": datetime.now(UTC).isoformat()},
    }
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all",
                                **security(organiser).aiokafka())
    await producer.start()
    try:
        await producer.send_and_wait(
            organiser_inbound_topic(organiser, topic_prefix), json.dumps(event).encode(),
            key=SERVICE_AREA.encode(),
            headers=[("content-type", b"application/cloudevents+json")])
    finally:
        await producer.stop()


async def eventually(probe: Callable[[], Awaitable[bool]], seconds: float, what: str) -> None:
    for _ in range(int(seconds / 0.25)):
        if await probe():
            return
        await asyncio.sleep(0.25)
    raise TimeoutError(f"the demo did not see {what} within {seconds:.0f}s")


async def open_offers(client: httpx.AsyncClient, intake: str) -> list[dict[str, Any]]:
    response = await client.get(f"{intake}/requests", params={"has_open_offer": "true"})
    response.raise_for_status()
    return list(response.json())


async def settled_open_offers(client: httpx.AsyncClient, intake: str, at_least: int
                              ) -> list[dict[str, Any]]:
    """Waits until matching has made its offers and intake shows them (no change for 2 s)."""
    seen: list[dict[str, Any]] = []
    stable = 0
    for _ in range(240):
        current = await open_offers(client, intake)
        stable = stable + 1 if len(current) == len(seen) and len(current) >= at_least else 0
        seen = current
        if stable >= 8:
            break
        await asyncio.sleep(0.25)
    return seen


async def organiser_answers(client: httpx.AsyncClient, capacity: str, match_id: str,
                            verb: str, body: dict[str, Any]) -> None:
    """The organiser can answer once capacity has read the family's acceptance."""
    async def answered() -> bool:
        response = await client.post(f"{capacity}/offers/{match_id}/{verb}", json=body)
        if response.status_code in (200, 201):
            return True
        if response.status_code not in (404, 409):
            response.raise_for_status()
        return False

    await eventually(answered, 30, f"capacity learn that {match_id} was accepted")


async def answer_offers(client: httpx.AsyncClient, intake: str, capacity: str,
                        accounts: DemoAccounts, how_many: int = 12) -> dict[str, int]:
    """Half of the answered offers end in a placement, a quarter are declined by the
    family, a quarter refused by the organiser; the rest stay open for the visitor."""
    outcomes: Counter[str] = Counter()
    placed: list[str] = []
    requests = await settled_open_offers(client, intake, at_least=how_many)
    for number, request in enumerate(requests[:how_many]):
        offer = next(o for o in request["offers"] if o["status"] == "open")
        accounts.location_of_offer[offer["match_id"]] = offer["location_id"]
        url = f"{intake}/requests/{request['request_id']}/offers/{offer['match_id']}"
        # Families without e-mail answer at the desk; staff answer for them (audited).
        by = ({} if request["has_email"]
              else {"answered_by": "loket_staff", "staff_member": "baliemedewerker-demo"})
        if number % 4 == 2:
            (await client.post(f"{url}/decline", json=by)).raise_for_status()
            outcomes["declined_by_family"] += 1
            continue
        (await client.post(f"{url}/accept", json=by)).raise_for_status()
        if number % 4 == 3:
            await organiser_answers(client, capacity, offer["match_id"], "refuse",
                                    {"reason": "age_group_full"})
            outcomes["refused_by_organiser"] += 1
        else:
            await organiser_answers(client, capacity, offer["match_id"], "confirm", {})
            placed.append(request["request_id"])
    for request_id in placed:
        async def shows_placed(request_id: str = request_id) -> bool:
            response = await client.get(f"{intake}/requests/{request_id}")
            return bool(response.json()["status"] == "placed")

        await eventually(shows_placed, 30, f"{request_id} placed")
    outcomes["placed"] = len(placed)
    return dict(outcomes)


async def assess(client: httpx.AsyncClient, intake: str, request_ids: list[str],
                 decisions: list[tuple[int, dict[str, Any]]]) -> dict[str, int]:
    """Loket staff (balie.els) assess at the desk what needs a judgement: urgency the
    families asked for, and which families are vulnerable (audited in intake)."""
    outcomes: Counter[str] = Counter()
    for index, body in decisions:
        response = await client.put(f"{intake}/requests/{request_ids[index]}/assessment",
                                    json=body)
        response.raise_for_status()
        assessed = response.json()
        outcomes["urgency_granted"] += assessed["urgency_status"] == "granted"
        outcomes["urgency_refused"] += assessed["urgency_status"] == "refused"
        outcomes["vulnerable"] += bool(assessed["vulnerable"])
    return dict(outcomes)


async def seed(
    intake: str, capacity: str, bootstrap: str, tokens: TokenSource, seed_value: int = 2026,
    topic_prefix: str = "",
) -> dict[str, int]:
    rng = random.Random(seed_value)
    today = date.today()
    locations = generate.locations(rng)
    places = generate.free_places(rng, locations, today)
    # Room for what organisers announce (and one more at the Kafka-announcing location).
    announced = Counter(location_id for location_id, _ in places)
    announced[locations[0]["location_id"]] += 1
    enrolled = 0
    accounts = DemoAccounts(tokens, intake, capacity)
    async with httpx.AsyncClient(timeout=30,
                                 auth=signed_in_as(tokens, accounts.account)) as client:
        for location in locations:
            # each organiser's own system registers its locations
            accounts.organiser_of_location[location["location_id"]] = location["organiser_id"]
            response = await client.post(f"{capacity}/locations", json=location,
                                         headers=accounts.as_organiser(location["organiser_id"]))
            if response.status_code not in (201, 409):  # 409: seeded before
                response.raise_for_status()
            children = generate.enrolments(rng, location, announced[location["location_id"]],
                                           today)
            response = await client.put(
                f"{capacity}/locations/{location['location_id']}/enrolments",
                json={"enrolments": children})
            response.raise_for_status()
            enrolled += len(children)
        await wait_until_intake_knows(client, intake, len(locations))
        requests = generate.requests(rng, locations, today)
        request_ids = []
        for body in requests:
            response = await client.post(f"{intake}/requests", json=body)
            response.raise_for_status()
            request_ids.append(response.json()["request_id"])
        assessed = await assess(client, intake, request_ids,
                                generate.assessments(random.Random(seed_value + 1), requests))
        for location_id, body in places:
            response = await client.post(f"{capacity}/locations/{location_id}/free-places",
                                         json=body)
            response.raise_for_status()
        await organiser_announces_place(bootstrap, locations[0], topic_prefix)
        answered = await answer_offers(client, intake, capacity, accounts)
    return {"locations": len(locations), "enrolled_children": enrolled,
            "requests": len(requests), **assessed, "free_places": len(places) + 1,
            **answered}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--intake", default="http://127.0.0.1:8001")
    parser.add_argument("--capacity", default="http://127.0.0.1:8002")
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    parser.add_argument("--topic-prefix", default="")
    parser.add_argument("--issuer", default=LOCAL_ISSUER, help="the identity provider")
    args = parser.parse_args()
    print(asyncio.run(seed(args.intake, args.capacity, args.bootstrap, TokenSource(args.issuer),
                           topic_prefix=args.topic_prefix)))


if __name__ == "__main__":
    main()
