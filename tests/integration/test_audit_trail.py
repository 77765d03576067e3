"""The audit trail in PostgreSQL: written with the change it records, and append-only
(the database itself refuses UPDATE, DELETE and TRUNCATE)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from loketkit import migrations
from loketkit.audit import Acting
from loketkit.db import make_session_factory
from loketkit.testing import RecordingDeadLetters
from services.intake.adapters.uow import SqlIntakeUnitOfWork
from services.intake.bootstrap import bootstrap
from services.intake.settings import IntakeSettings
from tests.conftest import DATABASE_SUFFIX, Servers
from tests.personas import ISSUER, headers
from tools.infra import create_database

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("statement", [
    "UPDATE audit_trail SET subject = 'someone-else'",
    "DELETE FROM audit_trail",
    "TRUNCATE audit_trail",
])
async def test_the_trail_is_written_on_commit_and_never_changed(
    servers: Servers, statement: str
) -> None:
    url = await create_database(servers.admin_url, f"intake_audit{DATABASE_SUFFIX}",
                                drop_existing=True)
    await migrations.upgrade(url, ROOT / "services/intake/migrations")
    engine = create_async_engine(url)
    try:
        uow = SqlIntakeUnitOfWork(make_session_factory(engine))
        async with uow:
            uow.acting = Acting("coordinator-jan", "coordinator", "ReleaseClosure", "closure",
                                "clo-1", "kempen-gml")
            await uow.commit()
        async with engine.connect() as connection:
            rows = (await connection.execute(text(
                "SELECT subject, role, action, object_id FROM audit_trail"))).all()
            assert [tuple(row) for row in rows] == [
                ("coordinator-jan", "coordinator", "ReleaseClosure", "clo-1")]
            with pytest.raises(DBAPIError, match="append-only"):
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def test_the_coordinator_reads_the_trail_over_sql(servers: Servers) -> None:
    url = await create_database(servers.admin_url, f"intake_audit_read{DATABASE_SUFFIX}",
                                drop_existing=True)
    await migrations.upgrade(url, ROOT / "services/intake/migrations")
    engine = create_async_engine(url)
    try:
        sessions = make_session_factory(engine)
        uow = SqlIntakeUnitOfWork(sessions)
        async with uow:
            uow.acting = Acting("balie-els", "loket_staff", "WithdrawRequest", "request",
                                "req-1", "kempen-gml")
            await uow.commit()
        app = bootstrap(IntakeSettings(), uow_factory=lambda: SqlIntakeUnitOfWork(sessions),
                        dead_letters=RecordingDeadLetters())
        app.state.verifier = ISSUER.verifier
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://intake") as client:
            read = await client.get("/audit", headers=headers("coordinator"))
        assert read.status_code == 200, read.text
        assert [(r["subject"], r["action"], r["object_id"]) for r in read.json()] == [
            ("balie-els", "WithdrawRequest", "req-1")]
    finally:
        await engine.dispose()
