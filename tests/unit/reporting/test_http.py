"""Reporting's HTTP routes and Kafka wiring, in memory: the real app over fakes,
no database, no broker."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

import httpx
import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker

from contracts import new_event, to_kafka
from contracts.topics import CAPACITY, MATCHES, REQUESTS
from loketkit.kafka import subscribe
from services.reporting.bootstrap import INPUT_TOPICS
from tests.personas import REPORTING_USERS, signed_in
from tests.unit.reporting.events import (
    AFTER_START,
    GEEL,
    LAAKDAL,
    NOW,
    freed,
    placed,
    proposed,
    refused,
    registered,
    submitted,
)
from tests.unit.reporting.harness import InMemoryReporting

Client = httpx.AsyncClient


@pytest.fixture
async def client(reporting: InMemoryReporting) -> AsyncIterator[Client]:
    # ASGITransport does not run the lifespan: no migrations, database or broker.
    transport = httpx.ASGITransport(app=reporting.app)
    async with Client(transport=transport, base_url="http://reporting",
                    auth=signed_in(reporting.app, REPORTING_USERS)) as client:
        yield client


async def seed(reporting: InMemoryReporting) -> None:
    await reporting.apply(submitted("req-1", GEEL), submitted("req-2", GEEL),
                          freed("place-1", nis=LAAKDAL),
                          proposed("match-1", "req-1", "place-1", location_nis=LAAKDAL))


async def test_figures_as_json(reporting: InMemoryReporting, client: Client) -> None:
    await seed(reporting)
    body = (await client.get("/figures")).json()
    assert set(body) == {"generated_at", "service_areas", "municipalities", "totals"}
    geel, laakdal = body["municipalities"]
    assert (geel["municipality_nis"], geel["name"], geel["inhabitants"]) == (GEEL, "Geel", 40709)
    assert (geel["requests_submitted"], geel["requests_open"], geel["shortage"]) == (2, 1, 1)
    assert (laakdal["proposals"], laakdal["free_places"], laakdal["free_places_open"]) == (1, 1, 0)
    assert body["totals"]["requests_submitted"] == 2
    assert body["service_areas"][0]["service_area"] == "kempen-gml"


async def test_figures_for_one_municipality(reporting: InMemoryReporting, client: Client) -> None:
    await seed(reporting)
    body = (await client.get("/figures", params={"municipality_nis": LAAKDAL})).json()
    assert [row["name"] for row in body["municipalities"]] == ["Laakdal"]


@pytest.mark.parametrize("code", ["abc", "1300", "99999"])
async def test_a_bad_municipality_is_a_422_naming_the_field(client: Client, code: str) -> None:
    for path in ("/figures", "/figures.csv"):
        response = await client.get(path, params={"municipality_nis": code})
        assert response.status_code == 422, response.text
        assert any("municipality_nis" in item["field"] for item in response.json()["fields"])


async def test_figures_as_csv(reporting: InMemoryReporting, client: Client) -> None:
    await seed(reporting)
    response = await client.get("/figures.csv")
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(row["municipality_nis"], row["name"], row["requests_submitted"], row["proposals"])
            for row in rows] == [(GEEL, "Geel", "2", "0"), (LAAKDAL, "Laakdal", "0", "1")]


async def test_subscribers_feed_every_topic_into_the_figures(
    reporting: InMemoryReporting, client: Client
) -> None:
    # Reporting's own wiring: its input topics into its consumer (loketkit's
    # subscriber itself is tested in tests/unit/loketkit/test_subscriber.py).
    broker = KafkaBroker()
    subscribe(broker, INPUT_TOPICS, reporting.app.state.consumer, "test-reporting")
    async with TestKafkaBroker(broker) as test_broker:
        for topic, data in ((REQUESTS, submitted("req-1", GEEL)), (CAPACITY, freed("place-1")),
                            (MATCHES, proposed("match-1", "req-1", "place-1"))):
            key, value, headers = to_kafka(new_event(data, source="/test"))
            await test_broker.publish(value, topic=topic.name, key=key,
                                      headers={name: raw.decode() for name, raw in headers})
    geel, laakdal = (await client.get("/figures")).json()["municipalities"]
    assert (geel["requests_submitted"], geel["requests_open"]) == (1, 0)
    assert (laakdal["proposals"], laakdal["free_places"]) == (1, 1)
    assert reporting.uow.commits == 3


async def test_the_report_is_dated_by_the_injected_clock() -> None:
    reporting = InMemoryReporting(clock=lambda: NOW)
    transport = httpx.ASGITransport(app=reporting.app)
    async with Client(transport=transport, base_url="http://reporting",
                    auth=signed_in(reporting.app, REPORTING_USERS)) as client:
        body = (await client.get("/figures")).json()
        csv_file = await client.get("/figures.csv")
    assert body["generated_at"] == "2025-09-01T09:00:00Z"
    assert 'filename="registratiecijfers-2025-09-01.csv"' in csv_file.headers[
        "content-disposition"]


async def test_lifecycle_figures_in_json_and_csv(
    reporting: InMemoryReporting, client: Client
) -> None:
    await reporting.apply(
        registered(capacity=14), submitted("req-1", GEEL, days_ago=12),
        proposed("match-1", "req-1", "place-1"), placed("match-1", "req-1", "place-1", days=3),
        refused("match-2", "req-2", "place-2", "care_need_not_met"),
    )
    body = (await client.get("/figures", params={"on": AFTER_START.isoformat()})).json()
    geel, laakdal = body["municipalities"]
    assert (laakdal["placed"], laakdal["refused_care_need_not_met"]) == (1, 1)
    assert (laakdal["licensed_places"], laakdal["enrolled_mon_am"], laakdal["enrolled_fri_am"]) == (
        14, 1, 0)
    assert (geel["placed_family"], geel["median_days_to_first_offer"],
            geel["p90_days_to_placement"]) == (1, 12.0, 15.0)
    assert laakdal["median_days_to_first_offer"] is None
    assert body["totals"]["median_days_to_placement"] == 15.0
    rows = list(csv.DictReader(io.StringIO(
        (await client.get("/figures.csv", params={"on": AFTER_START.isoformat()})).text)))
    assert [(row["placed"], row["enrolled_mon_am"], row["median_days_to_placement"])
            for row in rows] == [("0", "0", "15.0"), ("1", "1", "")]


async def test_a_bad_day_is_a_422_naming_the_field(client: Client) -> None:
    response = await client.get("/figures", params={"on": "2026-02-30"})
    assert response.status_code == 422
    assert any("on" in item["field"] for item in response.json()["fields"])
