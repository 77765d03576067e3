"""Seed a running system with the demo area through its public interfaces only:
capacity's and intake's HTTP APIs, plus one free place announced by an
organiser's own system straight onto Kafka, as any vendor could.

    python -m tools.demo.seed [--intake URL] [--capacity URL] [--bootstrap HOST:PORT]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from contracts.topics import CAPACITY_INBOUND
from tools.demo import generate
from tools.demo.area import SERVICE_AREA


async def wait_until_intake_knows(client: httpx.AsyncClient, intake: str, count: int) -> None:
    for _ in range(200):
        if len((await client.get(f"{intake}/locations")).json()) >= count:
            return
        await asyncio.sleep(0.1)
    raise TimeoutError("intake did not learn the demo locations from capacity's events")


async def organiser_announces_place(
    bootstrap: str, location: dict[str, Any], topic_prefix: str = ""
) -> None:
    """Structured-mode CloudEvent, written with nothing but a Kafka client and JSON."""
    event = {
        "specversion": "1.0", "id": str(uuid.uuid4()), "source": "urn:organiser:demo-system",
        "type": "be.loket.PlaceFreed.v1", "time": datetime.now(UTC).isoformat(),
        "servicearea": SERVICE_AREA,
        "data": {"service_area": SERVICE_AREA, "place_id": f"org-{uuid.uuid4().hex[:12]}",
                 "location_id": location["location_id"],
                 "municipality_nis": location["municipality_nis"],
                 "available_from": (date.today() + timedelta(days=60)).isoformat(),
                 "min_age_months": 0, "max_age_months": 36,
                 "freed_at": datetime.now(UTC).isoformat()},
    }
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            f"{topic_prefix}{CAPACITY_INBOUND.name}", json.dumps(event).encode(),
            key=SERVICE_AREA.encode(),
            headers=[("content-type", b"application/cloudevents+json")])
    finally:
        await producer.stop()


async def seed(
    intake: str, capacity: str, bootstrap: str, seed_value: int = 2026, topic_prefix: str = ""
) -> dict[str, int]:
    rng = random.Random(seed_value)
    today = date.today()
    locations = generate.locations(rng)
    async with httpx.AsyncClient(timeout=30) as client:
        for location in locations:
            response = await client.post(f"{capacity}/locations", json=location)
            if response.status_code not in (201, 409):  # 409: seeded before
                response.raise_for_status()
        await wait_until_intake_knows(client, intake, len(locations))
        requests = generate.requests(rng, locations, today)
        for body in requests:
            (await client.post(f"{intake}/requests", json=body)).raise_for_status()
        places = generate.free_places(rng, locations, today)
        for location_id, body in places:
            response = await client.post(f"{capacity}/locations/{location_id}/free-places",
                                         json=body)
            response.raise_for_status()
    await organiser_announces_place(bootstrap, locations[0], topic_prefix)
    return {"locations": len(locations), "requests": len(requests),
            "free_places": len(places) + 1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--intake", default="http://127.0.0.1:8001")
    parser.add_argument("--capacity", default="http://127.0.0.1:8002")
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    parser.add_argument("--topic-prefix", default="")
    args = parser.parse_args()
    print(asyncio.run(seed(args.intake, args.capacity, args.bootstrap,
                           topic_prefix=args.topic_prefix)))


if __name__ == "__main__":
    main()
