"""Periodic jobs: injected like handlers, runnable on demand, and a failure does not stop them."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from loketkit.ids import Clock
from loketkit.mail import Notice
from loketkit.service import JobRunner, assemble, run_job_once
from loketkit.settings import ServiceSettings
from loketkit.testing import FakeUnitOfWork, RecordingDeadLetters, RecordingMailer

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


async def count_notices(uow: FakeUnitOfWork, clock: Clock, area: str) -> int:
    async with uow:
        await uow.notices.add(Notice(notice_id=f"ntc-{clock():%s}", recipient="a@example.be",
                                     subject=area, body="", kind="test", created_at=clock()))
        await uow.commit()
    return len(uow.notices.rows)


def app_with(uow: FakeUnitOfWork, mailer: RecordingMailer):  # type: ignore[no-untyped-def]
    return assemble(
        ServiceSettings(service_name="demo"), title="demo", description="demo",
        migrations_dir=Path("."), sql_uow=lambda *_: None, command_handlers={},
        event_handlers={}, input_topics=[], routers=[], uow_factory=lambda: uow,
        dead_letters=RecordingDeadLetters(), clock=lambda: NOW,
        dependencies={"area": "kempen-gml", "mailer": mailer}, jobs={"count": count_notices},
    )


async def test_jobs_run_on_demand_with_their_dependencies_and_the_mail_job_is_built_in() -> None:
    uow, mailer = FakeUnitOfWork(), RecordingMailer()
    app = app_with(uow, mailer)
    assert set(app.state.jobs) == {"mail", "count"}
    assert await app.state.jobs["count"]() == 1
    assert uow.notices.rows[0].subject == "kempen-gml"
    assert uow.notices.rows[0].created_at == NOW
    assert await app.state.jobs["mail"]() == 1
    assert await app.state.jobs["mail"]() == 0
    assert len(mailer.sent) == 1


async def test_a_failing_run_logs_its_type_only_and_returns_zero(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken() -> int:
        raise RuntimeError("ouder@example.be refused")

    with caplog.at_level(logging.ERROR):
        assert await run_job_once("broken", broken) == 0
    assert "job broken failed: RuntimeError" in caplog.text
    assert "ouder@example.be" not in caplog.text


async def test_the_runner_keeps_running_after_a_failure_and_stops_cleanly() -> None:
    runs: list[int] = []

    async def flaky() -> int:
        runs.append(1)
        if len(runs) == 1:
            raise RuntimeError("first run fails")
        return 1

    runner = JobRunner({"flaky": flaky}, interval=0.01, service="demo")
    await runner.start()
    for _ in range(100):
        if len(runs) >= 3:
            break
        await asyncio.sleep(0.01)
    await runner.stop()
    count = len(runs)
    assert count >= 3
    await asyncio.sleep(0.05)
    assert len(runs) == count, "no run after stop"
