"""Per-area settings in PostgreSQL: the version in force by date, the history in order,
and the same routes as over the fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loketkit.area_settings import AreaSettingsVersion, area_settings_router, settings_in_force
from loketkit.calendar import Period
from loketkit.service import assemble
from loketkit.settings import ServiceSettings
from loketkit.testing import RecordingDeadLetters
from loketkit.uow import SqlUnitOfWork
from tests.conftest import Servers
from tests.integration.scratch import scratch_database
from tests.personas import loket_of, signed_in

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


class DemoSettings(BaseModel):
    offer_response: Period = Period(working_days=3)
    max_offers: int = Field(default=2, ge=1, le=10)


@pytest.fixture(scope="module")
async def settings_db(servers: Servers) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    async with scratch_database(servers.admin_url, "area_settings_it") as (_, sessions):
        yield sessions


def uow_of(factory: async_sessionmaker[AsyncSession]) -> SqlUnitOfWork:
    return SqlUnitOfWork(factory, source="/loket/area-settings-it")


def version(area: str, n: int, effective_from: datetime, max_offers: int) -> AreaSettingsVersion:
    return AreaSettingsVersion(service_area=area, version=n, effective_from=effective_from,
                               body={"max_offers": max_offers}, recorded_at=NOW,
                               recorded_by="test")


async def test_in_force_by_date_and_history_in_version_order(
    settings_db: async_sessionmaker[AsyncSession],
) -> None:
    area = "in-force"
    async with uow_of(settings_db) as uow:
        await uow.area_settings.add(version(area, 2, NOW + timedelta(days=10), 5))
        await uow.area_settings.add(version(area, 1, NOW - timedelta(days=10), 3))
        # Same moment as version 1: the later version wins.
        await uow.area_settings.add(version(area, 3, NOW - timedelta(days=10), 4))
        await uow.area_settings.add(version("elsewhere", 1, NOW - timedelta(days=20), 9))
        await uow.commit()
    async with uow_of(settings_db) as uow:
        assert await uow.area_settings.in_force(area, NOW - timedelta(days=11)) is None
        found = await uow.area_settings.in_force(area, NOW)
        assert found is not None and (found.version, found.body) == (3, {"max_offers": 4})
        assert found.effective_from == NOW - timedelta(days=10)
        later = await settings_in_force(uow, DemoSettings, area, NOW + timedelta(days=10))
        assert later.max_offers == 5
        assert await settings_in_force(uow, DemoSettings, "nowhere", NOW) == DemoSettings()
        history = await uow.area_settings.history(area)
        assert [v.version for v in history] == [1, 2, 3]
        assert history[0].recorded_by == "test"


async def test_a_version_added_in_a_unit_of_work_is_in_force_in_it_at_once(
    settings_db: async_sessionmaker[AsyncSession],
) -> None:
    """The store keeps an area's versions for the unit of work (a batch of events reads
    them once); one it adds itself counts from then on."""
    area = "added-in-batch"
    async with uow_of(settings_db) as uow:
        await uow.area_settings.add(version(area, 1, NOW - timedelta(days=10), 3))
        await uow.commit()
    async with uow_of(settings_db) as uow:
        assert (await settings_in_force(uow, DemoSettings, area, NOW)).max_offers == 3
        await uow.area_settings.add(version(area, 2, NOW - timedelta(days=1), 6))
        assert (await settings_in_force(uow, DemoSettings, area, NOW)).max_offers == 6
        await uow.commit()


async def test_a_version_number_is_stored_once(
    settings_db: async_sessionmaker[AsyncSession],
) -> None:
    async with uow_of(settings_db) as uow:
        await uow.area_settings.add(version("twice", 1, NOW, 3))
        await uow.commit()
    with pytest.raises(IntegrityError):
        async with uow_of(settings_db) as uow:
            await uow.area_settings.add(version("twice", 1, NOW, 4))
            await uow.commit()


async def test_the_routes_over_postgresql(
    settings_db: async_sessionmaker[AsyncSession],
) -> None:
    app = assemble(
        ServiceSettings(service_name="demo"), title="demo", description="demo",
        migrations_dir=Path("."), sql_uow=lambda *_: None, command_handlers={},
        event_handlers={}, input_topics=[], routers=[area_settings_router(DemoSettings, "demo")],
        uow_factory=lambda: uow_of(settings_db), dead_letters=RecordingDeadLetters(),
        clock=lambda: NOW,
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://demo",
                                 auth=signed_in(app, loket_of("routes-it"))) as client:
        path = "/service-areas/routes-it/settings"
        assert (await client.get(path)).json()["version"] == 0
        first = await client.post(path, json={"max_offers": 4})
        assert first.status_code == 201, first.text
        second = await client.post(path, json={"offer_response": {"seconds": 30}})
        assert second.json()["version"] == 2
        now = (await client.get(path)).json()
        assert now["version"] == 2
        assert now["settings"]["offer_response"]["seconds"] == 30
        assert [v["version"] for v in (await client.get(f"{path}/history")).json()] == [1, 2]
