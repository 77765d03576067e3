"""Intake's 0004 migration keeps the requests it finds: days per week become that many
full days of day-parts, and the statuses of old rows read as waiting."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from loketkit.db import make_engine, make_session_factory
from loketkit.migrations import alembic_config
from services.intake.adapters.uow import SqlIntakeUnitOfWork
from services.intake.bootstrap import MIGRATIONS
from services.intake.domain.model import Status
from tests.conftest import DATABASE_SUFFIX, Servers
from tools.infra import create_database

pytestmark = pytest.mark.integration

OLD_ROW = """
INSERT INTO requests (request_id, service_area, status, urgency, child_first_name,
  child_last_name, child_birth_date, parent_name, postcode, municipality_nis,
  desired_start_date, days_per_week, preferred_location_ids, priority, submitted_at,
  match_id, proposed_location_id, proposed_place_id)
VALUES (:id, 'kempen-gml', :status, 'normal', 'Lotte', 'Peeters', '2026-10-12', 'An', '2440',
  '13008', '2027-09-01', :days, '["loc-a"]', '{}', :at, 'm-1', 'loc-a', 'p-1')
"""


async def test_old_requests_survive_the_lifecycle_migration(servers: Servers) -> None:
    url = await create_database(
        servers.admin_url, f"intake_data{DATABASE_SUFFIX}", drop_existing=True)
    config = alembic_config(url, MIGRATIONS)
    await asyncio.to_thread(command.upgrade, config, "0003")
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        at = datetime(2026, 1, 5, tzinfo=UTC)
        await connection.execute(text(OLD_ROW), {"id": "req-1", "status": "proposed",
                                                 "days": 3, "at": at})
        await connection.execute(text(OLD_ROW), {"id": "req-2", "status": "withdrawn",
                                                 "days": 5, "at": at})
    await engine.dispose()
    await asyncio.to_thread(command.upgrade, config, "head")

    engine = make_engine(url)
    uow = SqlIntakeUnitOfWork(make_session_factory(engine))
    async with uow:
        first = await uow.requests.get("req-1")
        second = await uow.requests.get("req-2")
    await engine.dispose()
    assert first and second
    assert (first.status, first.day_parts) == (
        Status.WAITING, ("mon_am", "mon_pm", "tue_am", "tue_pm", "wed_am", "wed_pm"))
    assert second.status is Status.WITHDRAWN and len(second.day_parts) == 10
    assert first.sibling_request_ids == () and not first.share_contact_with_organiser


URGENT_ROW = """
INSERT INTO requests (request_id, service_area, status, urgency, child_first_name,
  child_last_name, child_birth_date, parent_name, postcode, municipality_nis,
  desired_start_date, day_parts, preferred_location_ids, priority, submitted_at)
VALUES (:id, 'kempen-gml', 'waiting', :urgency, 'Lotte', 'Peeters', '2026-10-12', 'An',
  '2440', '13008', '2027-09-01', '["mon_am"]', '["loc-a"]', '{}', :at)
"""


async def test_requests_marked_urgent_before_staff_decided_stay_urgent_for_review(
    servers: Servers,
) -> None:
    """0008: the family's own 'urgent' stays in force (the other services know it so),
    shown as granted with a reason asking staff to review it."""
    url = await create_database(
        servers.admin_url, f"intake_urgency{DATABASE_SUFFIX}", drop_existing=True)
    config = alembic_config(url, MIGRATIONS)
    await asyncio.to_thread(command.upgrade, config, "0007")
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        at = datetime(2026, 1, 5, tzinfo=UTC)
        for request_id, urgency in (("req-1", "urgent"), ("req-2", "normal")):
            await connection.execute(text(URGENT_ROW), {"id": request_id, "urgency": urgency,
                                                        "at": at})
    await engine.dispose()
    await asyncio.to_thread(command.upgrade, config, "head")

    engine = make_engine(url)
    uow = SqlIntakeUnitOfWork(make_session_factory(engine))
    async with uow:
        urgent = await uow.requests.get("req-1")
        normal = await uow.requests.get("req-2")
    await engine.dispose()
    assert urgent and normal
    assert (urgent.urgency, urgent.urgency_status, urgent.urgent) == ("urgent", "granted", True)
    assert "review" in (urgent.urgency_decision_reason or "")
    assert (normal.urgency, normal.urgency_status, normal.vulnerability) == ("normal", "none",
                                                                             None)
    assert urgent.sworn_statement_at is None and urgent.assessed_at is None
