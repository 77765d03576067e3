"""Notices in PostgreSQL, sent by the mail job to a real SMTP server (the sink): a
committed notice arrives once, a rolled-back one never, a notice waits while the
server is away, and two job runs at once claim different rows (SKIP LOCKED)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from loketkit.db import NoticeRow
from loketkit.mail import Notice, SmtpMailer, send_notices
from loketkit.service import assemble
from loketkit.settings import ServiceSettings
from loketkit.uow import SqlUnitOfWork
from tests.conftest import Servers, free_port
from tests.integration.scratch import scratch_database
from tools.mailsink import MailSink

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
_numbers = itertools.count(1)


@pytest.fixture(scope="module")
async def mail_db(servers: Servers) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    async with scratch_database(servers.admin_url, "mail_it") as (_, sessions):
        yield sessions


@pytest.fixture
async def clean(mail_db: async_sessionmaker[AsyncSession]) -> None:
    """Each test starts with no pending notices (earlier tests may leave some)."""
    async with mail_db() as session:
        await session.execute(NoticeRow.__table__.delete())  # type: ignore[attr-defined]
        await session.commit()


def uow_of(factory: async_sessionmaker[AsyncSession]) -> SqlUnitOfWork:
    return SqlUnitOfWork(factory, source="/loket/mail-it")


def notice(tag: str) -> Notice:
    n = next(_numbers)
    return Notice(notice_id=f"ntc-{tag}-{n}", recipient=f"ouder-{tag}-{n}@example.be",
                  subject=f"Plaats vóór maandag ({tag})", body="Beste ouder,\nEr is plaats.\n",
                  kind="offer_made", created_at=NOW + timedelta(seconds=n))


def settings_for(port: int) -> ServiceSettings:
    return ServiceSettings(service_name="mail-it", smtp_port=port, smtp_timeout_seconds=2)


async def run_job(factory: async_sessionmaker[AsyncSession], settings: ServiceSettings) -> int:
    return await send_notices(uow_of(factory), SmtpMailer(settings), lambda: NOW, settings)


def to_of(sink: MailSink, tag: str) -> list[str]:
    return [str(m["To"]) for m in sink.messages() if f"-{tag}-" in str(m["To"])]


async def rows(factory: async_sessionmaker[AsyncSession], tag: str) -> list[NoticeRow]:
    async with factory() as session:
        found = await session.execute(
            select(NoticeRow).where(col(NoticeRow.notice_id).like(f"ntc-{tag}-%")))
        return list(found.scalars())


async def test_a_committed_notice_arrives_once_and_a_rolled_back_one_never(
    mail_db: async_sessionmaker[AsyncSession], mail_sink: MailSink, clean: None,
) -> None:
    kept, dropped = notice("once"), notice("once")
    async with uow_of(mail_db) as uow:
        await uow.notices.add(kept)
        await uow.commit()
    async with uow_of(mail_db) as uow:
        await uow.notices.add(dropped)  # never committed
    settings = settings_for(mail_sink.port)
    assert await run_job(mail_db, settings) == 1
    assert await run_job(mail_db, settings) == 0
    assert to_of(mail_sink, "once") == [kept.recipient]
    arrived = next(m for m in mail_sink.messages() if m["To"] == kept.recipient)
    assert arrived["Subject"] == kept.subject
    assert arrived["From"] == settings.mail_from
    [row] = await rows(mail_db, "once")
    assert row.sent_at == NOW and row.attempts == 1


async def test_with_the_server_away_a_notice_waits_and_goes_when_it_is_back(
    mail_db: async_sessionmaker[AsyncSession], clean: None,
) -> None:
    port = free_port()
    settings = settings_for(port)
    waiting = notice("away")
    async with uow_of(mail_db) as uow:
        await uow.notices.add(waiting)
        await uow.commit()
    assert await run_job(mail_db, settings) == 0  # nothing listens on the port
    [row] = await rows(mail_db, "away")
    assert (row.sent_at, row.attempts) == (None, 1)
    assert row.last_error_kind
    sink = MailSink().start(port)
    try:
        assert await run_job(mail_db, settings) == 1
        assert to_of(sink, "away") == [waiting.recipient]
    finally:
        sink.stop()
    [row] = await rows(mail_db, "away")
    assert row.sent_at == NOW and row.attempts == 2


class SlowMailer:
    """Holds each batch a while, so two job runs overlap."""

    def __init__(self) -> None:
        self.sent: list[Message] = []

    async def send(self, messages: Sequence[Message]) -> list[BaseException | None]:
        await asyncio.sleep(0.3)
        self.sent.extend(messages)
        return [None] * len(messages)


async def test_two_job_runs_at_once_claim_disjoint_rows(
    mail_db: async_sessionmaker[AsyncSession], clean: None,
) -> None:
    made = [notice("race") for _ in range(6)]
    async with uow_of(mail_db) as uow:
        for item in made:
            await uow.notices.add(item)
        await uow.commit()

    first, second = uow_of(mail_db), uow_of(mail_db)
    async with first, second:
        mine = await first.notices.claim_unsent(4)
        theirs = await second.notices.claim_unsent(50)
        assert len(mine) == 4 and len(theirs) == 2
        assert not {n.notice_id for n in mine} & {n.notice_id for n in theirs}

    mailer, settings = SlowMailer(), settings_for(1)
    counts = await asyncio.gather(
        send_notices(uow_of(mail_db), mailer, lambda: NOW, settings),
        send_notices(uow_of(mail_db), mailer, lambda: NOW, settings),
    )
    assert sum(counts) == 6
    assert sorted(m["To"] for m in mailer.sent) == sorted(n.recipient for n in made)
    assert all(row.sent_at == NOW for row in await rows(mail_db, "race"))


async def test_a_running_service_sends_notices_by_itself(
    servers: Servers, mail_sink: MailSink,
) -> None:
    """The whole loop: assemble's lifespan starts the jobs, the mail job finds the notice."""
    async with scratch_database(servers.admin_url, "mail_app_it") as (url, factory):
        settings = ServiceSettings(
            service_name="mail-app-it", database_url=url, run_migrations=False,
            **servers.kafka_settings(), smtp_port=mail_sink.port,
            jobs_interval_seconds=0.1,
        )
        app = assemble(
            settings, title="mail", description="mail", migrations_dir=Path("."),
            sql_uow=lambda session_factory, wake: SqlUnitOfWork(session_factory, "/it", wake),
            command_handlers={}, event_handlers={}, input_topics=[], routers=[],
        )
        sent = notice("loop")
        async with app.router.lifespan_context(app):
            async with uow_of(factory) as uow:
                await uow.notices.add(sent)
                await uow.commit()
            for _ in range(100):
                if to_of(mail_sink, "loop"):
                    break
                await asyncio.sleep(0.05)
        assert to_of(mail_sink, "loop") == [sent.recipient]
