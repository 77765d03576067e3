"""Per-area settings: versions in force by date, and the three routes every service gets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field

from loketkit.area_settings import AreaSettingsVersion, area_settings_router, settings_in_force
from loketkit.calendar import Period
from loketkit.service import assemble
from loketkit.settings import ServiceSettings
from loketkit.testing import FakeUnitOfWork, RecordingDeadLetters
from tests.personas import MATCHING_USERS, signed_in

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


class DemoSettings(BaseModel):
    offer_response: Period = Period(working_days=3)
    max_offers: int = Field(default=2, ge=1, le=10)


def version(n: int, effective_from: datetime, max_offers: int) -> AreaSettingsVersion:
    return AreaSettingsVersion(service_area="kempen-gml", version=n,
                               effective_from=effective_from,
                               body={"max_offers": max_offers}, recorded_at=NOW)


async def test_the_version_in_force_depends_on_the_date() -> None:
    uow = FakeUnitOfWork()
    async with uow:
        await uow.area_settings.add(version(1, NOW - timedelta(days=10), 3))
        await uow.area_settings.add(version(2, NOW + timedelta(days=10), 5))
        await uow.commit()
    async with uow:
        assert await uow.area_settings.in_force("kempen-gml", NOW - timedelta(days=11)) is None
        assert (await settings_in_force(uow, DemoSettings, "kempen-gml", NOW)).max_offers == 3
        later = await settings_in_force(uow, DemoSettings, "kempen-gml", NOW + timedelta(days=11))
        assert later.max_offers == 5
        assert (await settings_in_force(uow, DemoSettings, "other", NOW)) == DemoSettings()
        assert [v.version for v in await uow.area_settings.history("kempen-gml")] == [1, 2]


async def test_an_uncommitted_version_is_not_kept() -> None:
    uow = FakeUnitOfWork()
    async with uow:
        await uow.area_settings.add(version(1, NOW, 3))
    async with uow:
        assert await uow.area_settings.history("kempen-gml") == []


@pytest.fixture
def app() -> FastAPI:
    uow = FakeUnitOfWork()
    return assemble(
        ServiceSettings(service_name="demo"), title="demo", description="demo",
        migrations_dir=Path("."), sql_uow=lambda *_: None, command_handlers={},
        event_handlers={}, input_topics=[], routers=[area_settings_router(DemoSettings, "demo")],
        uow_factory=lambda: uow, dead_letters=RecordingDeadLetters(), clock=lambda: NOW,
    )


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test",
                                 auth=signed_in(app, MATCHING_USERS)) as client:
        yield client


async def test_defaults_are_version_zero(client: httpx.AsyncClient) -> None:
    answer = await client.get("/service-areas/kempen-gml/settings")
    assert answer.status_code == 200
    assert answer.json()["version"] == 0
    assert answer.json()["settings"] == {"offer_response": {"working_days": 3, "days": None,
                                                            "seconds": None}, "max_offers": 2}


async def test_posting_stores_the_next_version_in_force_from_now(
    client: httpx.AsyncClient,
) -> None:
    first = await client.post("/service-areas/kempen-gml/settings",
                              json={"max_offers": 4, "recorded_by": "schepen 2026/12"})
    assert first.status_code == 201, first.text
    assert first.json()["version"] == 1
    assert first.json()["effective_from"] == "2026-11-20T09:00:00Z"
    later = (NOW + timedelta(days=30)).isoformat()
    second = await client.post("/service-areas/kempen-gml/settings",
                               json={"offer_response": {"days": 7}, "effective_from": later})
    assert second.json()["version"] == 2
    now = (await client.get("/service-areas/kempen-gml/settings")).json()
    assert (now["version"], now["settings"]["max_offers"]) == (1, 4)
    history = (await client.get("/service-areas/kempen-gml/settings/history")).json()
    assert [v["version"] for v in history] == [1, 2]
    assert history[1]["settings"]["offer_response"]["days"] == 7
    assert history[1]["settings"]["max_offers"] == 2, "a version holds all settings"


@pytest.mark.parametrize(("body", "field"), [
    ({"max_offers": 0}, "max_offers"),
    ({"offer_response": {"days": 1, "seconds": 2}}, "offer_response"),
    ({"effective_from": "2026-12-01T00:00:00"}, "effective_from"),
])
async def test_bad_settings_are_a_422_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, object], field: str,
) -> None:
    answer = await client.post("/service-areas/kempen-gml/settings", json=body)
    assert answer.status_code == 422
    assert field in [f["field"] for f in answer.json()["fields"]]


async def test_a_bad_area_code_is_a_422(client: httpx.AsyncClient) -> None:
    answer = await client.get("/service-areas/Kempen GML/settings")
    assert answer.status_code == 422
