"""Intake's migrations keep the requests they find: 0004 turns days per week into that
many full days of day-parts and reads old statuses as waiting; 0008 keeps a family's own
'urgent' in force for staff to review."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from loketkit.db import make_engine, make_session_factory
from loketkit.migrations import alembic_config
from services.intake.adapters.uow import SqlIntakeUnitOfWork
from services.intake.bootstrap import MIGRATIONS
from services.intake.domain.model import Request, Status
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


async def migrated(servers: Servers, database: str, revision: str, insert: str,
                   rows: Sequence[Mapping[str, Any]]) -> dict[str, Request]:
    """Rows written at `revision`, read back through the repository after every later
    migration, by request id."""
    url = await create_database(
        servers.admin_url, f"{database}{DATABASE_SUFFIX}", drop_existing=True)
    config = alembic_config(url, MIGRATIONS)
    await asyncio.to_thread(command.upgrade, config, revision)
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        for row in rows:
            await connection.execute(text(insert), row)
    await engine.dispose()
    await asyncio.to_thread(command.upgrade, config, "head")

    engine = make_engine(url)
    uow = SqlIntakeUnitOfWork(make_session_factory(engine))
    found: dict[str, Request] = {}
    async with uow:
        for row in rows:
            request = await uow.requests.get(row["id"])
            assert request is not None
            found[row["id"]] = request
    await engine.dispose()
    return found


async def test_old_requests_survive_the_lifecycle_migration(servers: Servers) -> None:
    at = datetime(2026, 1, 5, tzinfo=UTC)
    found = await migrated(servers, "intake_data", "0003", OLD_ROW, [
        {"id": "req-1", "status": "proposed", "days": 3, "at": at},
        {"id": "req-2", "status": "withdrawn", "days": 5, "at": at}])
    first, second = found["req-1"], found["req-2"]
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
    at = datetime(2026, 1, 5, tzinfo=UTC)
    found = await migrated(servers, "intake_urgency", "0007", URGENT_ROW, [
        {"id": "req-1", "urgency": "urgent", "at": at},
        {"id": "req-2", "urgency": "normal", "at": at}])
    urgent, normal = found["req-1"], found["req-2"]
    assert (urgent.urgency, urgent.urgency_status, urgent.urgent) == ("urgent", "granted", True)
    assert "review" in (urgent.urgency_decision_reason or "")
    assert (normal.urgency, normal.urgency_status, normal.vulnerability) == ("normal", "none",
                                                                             None)
    assert urgent.sworn_statement_at is None and urgent.assessed_at is None
