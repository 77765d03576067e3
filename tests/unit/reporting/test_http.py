"""Reporting's HTTP routes and Kafka wiring, in memory: no database, no broker."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from faststream.kafka import TestKafkaBroker

from contracts import new_event, to_kafka
from contracts.topics import CAPACITY, MATCHES, REQUESTS
from services.reporting.bootstrap import ReportingContext, bootstrap
from services.reporting.settings import ReportingSettings
from tests.unit.reporting.events import GEEL, LAAKDAL, freed, proposed, submitted
from tests.unit.reporting.harness import Reporting

Client = httpx.AsyncClient


@pytest.fixture
def reporting(monkeypatch: pytest.MonkeyPatch) -> Reporting:
    """Reporting whose routes and subscribers use the in-memory unit of work."""
    harness = Reporting()
    monkeypatch.setattr(ReportingContext, "uow", lambda self: harness.uow)
    return harness


@pytest.fixture
def app(reporting: Reporting) -> FastAPI:
    return bootstrap(ReportingSettings(run_migrations=False))


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[Client]:
    # ASGITransport does not run the lifespan: no migrations, database or broker.
    transport = httpx.ASGITransport(app=app)
    async with Client(transport=transport, base_url="http://reporting") as client:
        yield client


async def seed(reporting: Reporting) -> None:
    await reporting.apply(submitted("req-1", GEEL), submitted("req-2", GEEL),
                          freed("place-1", nis=LAAKDAL),
                          proposed("match-1", "req-1", "place-1", location_nis=LAAKDAL))


async def test_figures_as_json(reporting: Reporting, client: Client) -> None:
    await seed(reporting)
    body = (await client.get("/figures")).json()
    assert set(body) == {"generated_at", "service_areas", "municipalities", "totals"}
    geel, laakdal = body["municipalities"]
    assert (geel["municipality_nis"], geel["name"], geel["inhabitants"]) == (GEEL, "Geel", 40709)
    assert (geel["requests_submitted"], geel["requests_open"], geel["shortage"]) == (2, 1, 1)
    assert (laakdal["proposals"], laakdal["free_places"], laakdal["free_places_open"]) == (1, 1, 0)
    assert body["totals"]["requests_submitted"] == 2
    assert body["service_areas"][0]["service_area"] == "kempen-gml"


async def test_figures_for_one_municipality(reporting: Reporting, client: Client) -> None:
    await seed(reporting)
    body = (await client.get("/figures", params={"municipality_nis": LAAKDAL})).json()
    assert [row["name"] for row in body["municipalities"]] == ["Laakdal"]


@pytest.mark.parametrize("code", ["abc", "1300", "99999"])
async def test_a_bad_municipality_is_a_422_naming_the_field(client: Client, code: str) -> None:
    for path in ("/figures", "/figures.csv"):
        response = await client.get(path, params={"municipality_nis": code})
        assert response.status_code == 422, response.text
        assert any("municipality_nis" in item["field"] for item in response.json()["fields"])


async def test_figures_as_csv(reporting: Reporting, client: Client) -> None:
    await seed(reporting)
    response = await client.get("/figures.csv")
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(row["municipality_nis"], row["name"], row["requests_submitted"], row["proposals"])
            for row in rows] == [(GEEL, "Geel", "2", "0"), (LAAKDAL, "Laakdal", "0", "1")]


async def test_the_dutch_page(reporting: Reporting, client: Client) -> None:
    await seed(reporting)
    response = await client.get("/")
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<html lang="nl">' in page and "Registratiecijfers Lokaal Loket Kinderopvang" in page
    for text in ("Geel", "Laakdal", "Open aanvragen", "Voorstellen", "Vrije plaatsen",
                 "Sluitingen", "Tekort", "Totaal"):
        assert text in page
    assert "<script" not in page
    unknown = await client.get("/", params={"municipality_nis": "99999"})
    assert unknown.status_code == 422 and "Onbekende gemeente" in unknown.text
    assert (await client.get("/", params={"municipality_nis": ""})).status_code == 200


async def test_an_empty_page_says_there_are_no_figures_yet(client: Client) -> None:
    assert "Nog geen cijfers" in (await client.get("/")).text


async def test_subscribers_feed_every_topic_into_the_figures(
    reporting: Reporting, app: FastAPI, client: Client
) -> None:
    broker = app.state.context.infra.broker
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
