"""Matching's migrations keep what they find: 0007 records that the candidate keys of
an area with requests were computed under rules it cannot name, so the rekey job
computes them once more (a new area records its rules with its first requests)."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from alembic import command

from loketkit.db import make_engine, make_session_factory
from loketkit.migrations import alembic_config
from services.matching.adapters.uow import SqlMatchingUnitOfWork
from services.matching.bootstrap import MIGRATIONS
from services.matching.domain.model import WaitingRequest
from tests.conftest import DATABASE_SUFFIX, Servers
from tests.integration.test_matching_repositories import AREA, T0, keys_of
from tools.infra import create_database

pytestmark = pytest.mark.integration


async def test_an_area_keyed_before_bases_were_recorded_is_keyed_again(
    servers: Servers,
) -> None:
    url = await create_database(servers.admin_url, f"matching_bases{DATABASE_SUFFIX}",
                                drop_existing=True)
    config = alembic_config(url, MIGRATIONS)
    await asyncio.to_thread(command.upgrade, config, "0006")
    engine = make_engine(url)
    uow = SqlMatchingUnitOfWork(make_session_factory(engine))
    async with uow:  # (0007 changes no table: today's repository writes 0006's rows)
        request = WaitingRequest(
            request_id="r1", service_area=AREA, municipality_nis="13008",
            birth_month=date(2026, 5, 1), desired_start_date=date(2027, 1, 4),
            preferred_location_ids=("loc-a",), sibling_location_ids=(), urgency="normal",
            submitted_at=T0)
        await uow.requests.add_many([(request, keys_of(request))])
        await uow.commit()
    await asyncio.to_thread(command.upgrade, config, "head")
    async with uow:
        kept, new_area = await uow.rankings.basis(AREA), await uow.rankings.basis("elders")
    await engine.dispose()
    assert (kept, new_area) == ("before 0007", None)
