"""Durable notices: an outbox for e-mail.

A handler that must tell someone something adds a `Notice` to `uow.notices` in
the same transaction as the state change, so a notice is written exactly when the
change is. The built-in "mail" job (every service runs it, see
`loketkit.service.assemble`) claims unsent notices with `FOR UPDATE SKIP LOCKED`,
sends them over SMTP and marks them sent in the same transaction, a batch at a time
until the backlog is gone; a failed send counts an attempt and is retried on the next
run. Delivery is at least once: a crash between the SMTP answer and the commit sends
that batch again.

Recipients and bodies are personal data: logs name the error type only.

Texts are Jinja2 templates (`render`), Dutch, one file per kind: the first line is
"Onderwerp: <subject>", the rest is the plain-text body.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from email.charset import QP, Charset
from email.header import Header
from email.message import EmailMessage, Message
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import aiosmtplib
import jinja2
from prometheus_client import Counter, Gauge
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from loketkit.db import NoticeRow, insert_rows, table_of
from loketkit.ids import Clock
from loketkit.settings import ServiceSettings

log = logging.getLogger(__name__)

BATCH_SIZE = 50
MAX_BATCHES_PER_RUN = 200
SUBJECT_PREFIX = "Onderwerp:"
_UTF8_QUOTED_PRINTABLE = Charset("utf-8")
_UTF8_QUOTED_PRINTABLE.body_encoding = QP  # readable in a mail's source, unlike base64

NOTICES_SENT = Counter("loket_notices_sent", "E-mail notices sent", ["service", "kind"])
NOTICES_FAILED = Counter("loket_notices_failed", "Failed attempts to send a notice",
                         ["service", "error"])
NOTICES_PENDING = Gauge("loket_notices_pending", "E-mail notices not sent yet", ["service"])


class Notice(BaseModel):
    """One e-mail to one recipient. `kind` says what it is about ("offer_made")."""

    model_config = ConfigDict(frozen=True)

    notice_id: str = Field(min_length=1, max_length=100)
    recipient: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    subject: str = Field(min_length=1, max_length=300)
    body: str = Field(max_length=100_000)
    kind: str = Field(min_length=1, max_length=50)
    created_at: datetime
    sent_at: datetime | None = None


class NoticeStore(Protocol):
    """`uow.notices` on every unit of work. Handlers only `add`; the mail job uses
    the rest."""

    async def add(self, notice: Notice) -> None: ...

    async def claim_unsent(self, limit: int) -> list[Notice]:
        """Unsent notices, oldest first, locked for this unit of work; rows another
        unit has claimed are skipped."""
        ...

    async def mark_sent(self, notice_ids: Sequence[str], at: datetime) -> set[str]:
        """Set `sent_at` on those still unsent; returns their ids."""
        ...

    async def mark_failed(self, notice_id: str, error_kind: str) -> None:
        """Count a failed attempt; the notice stays pending."""
        ...

    async def pending(self) -> int: ...


class Mailer(Protocol):
    """Sends messages; one `send` call per batch (one SMTP connection)."""

    async def send(self, messages: Sequence[Message]) -> list[BaseException | None]:
        """One result per message: None when sent, else the error. Raises when no
        message could be tried at all (server unreachable)."""
        ...


# --- templates ----------------------------------------------------------------------


@lru_cache(maxsize=32)
def _environment(template_dir: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir)),
        autoescape=False,  # plain text  # noqa: S701
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(template_dir: Path, name: str, **context: Any) -> tuple[str, str]:
    """(subject, body) of `<template_dir>/<name>.txt`. A missing variable raises
    (StrictUndefined), so no e-mail goes out with a hole in it."""
    text = _environment(Path(template_dir)).get_template(f"{name}.txt").render(**context)
    first, _, rest = text.partition("\n")
    if not first.startswith(SUBJECT_PREFIX):
        raise ValueError(f"template {name}.txt must start with '{SUBJECT_PREFIX} ...'")
    subject = first.removeprefix(SUBJECT_PREFIX).strip()
    if not subject:
        raise ValueError(f"template {name}.txt has an empty subject")
    return subject, rest.lstrip("\n")


def compose(
    *, notice_id: str, recipient: str, kind: str, created_at: datetime,
    template_dir: Path, template: str | None = None, **context: Any,
) -> Notice:
    """A notice rendered from `<template_dir>/<template or kind>.txt`."""
    subject, body = render(template_dir, template or kind, **context)
    return Notice(notice_id=notice_id, recipient=recipient, subject=subject, body=body,
                  kind=kind, created_at=created_at)


# --- SQL store ----------------------------------------------------------------------


class SqlNoticeStore:
    """Notices wait for the unit of work's commit (`write`), as its audit records do:
    a batch's hundred notices are one INSERT run, not a flush of records (~0.2 ms a
    notice) nor a statement each."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._waiting: list[dict[str, Any]] = []

    async def add(self, notice: Notice) -> None:
        self._waiting.append(notice.model_dump())

    async def write(self) -> None:
        """Insert the waiting notices, in the order they were added."""
        waiting, self._waiting = self._waiting, []
        await insert_rows(self._session, table_of(NoticeRow), waiting)

    def forget(self) -> None:
        """The transaction is rolled back: its notices with it."""
        self._waiting = []

    async def claim_unsent(self, limit: int) -> list[Notice]:
        await self.write()  # what this unit added reads back too
        rows = (
            await self._session.execute(
                select(NoticeRow)
                .where(col(NoticeRow.sent_at).is_(None))
                .order_by(col(NoticeRow.created_at), col(NoticeRow.notice_id))
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).scalars()
        return [_notice(row) for row in rows]

    async def mark_sent(self, notice_ids: Sequence[str], at: datetime) -> set[str]:
        # One statement for the batch: a statement per notice cost more than its mail.
        if not notice_ids:
            return set()
        result = await self._session.execute(
            update(NoticeRow)
            .where(col(NoticeRow.notice_id).in_(list(notice_ids)),
                   col(NoticeRow.sent_at).is_(None))
            .values(sent_at=at, attempts=NoticeRow.attempts + 1)
            .returning(col(NoticeRow.notice_id))
            .execution_options(synchronize_session=False)
        )
        return set(result.scalars())

    async def mark_failed(self, notice_id: str, error_kind: str) -> None:
        await self._session.execute(
            update(NoticeRow)
            .where(col(NoticeRow.notice_id) == notice_id)
            .values(attempts=NoticeRow.attempts + 1,
                    last_error_kind=error_kind[:200])
            .execution_options(synchronize_session=False)
        )

    async def pending(self) -> int:
        await self.write()
        found = await self._session.scalar(
            select(func.count()).select_from(NoticeRow).where(col(NoticeRow.sent_at).is_(None))
        )
        return int(found or 0)


def _notice(row: NoticeRow) -> Notice:
    return Notice.model_validate(row, from_attributes=True)


# --- sending --------------------------------------------------------------------------


class SmtpMailer:
    """aiosmtplib, one connection per batch, settings from ServiceSettings."""

    def __init__(self, settings: ServiceSettings) -> None:
        self._settings = settings

    async def send(self, messages: Sequence[Message]) -> list[BaseException | None]:
        settings = self._settings
        smtp = aiosmtplib.SMTP(
            hostname=settings.smtp_host, port=settings.smtp_port,
            start_tls=settings.smtp_starttls, timeout=settings.smtp_timeout_seconds,
        )
        results: list[BaseException | None] = []
        async with smtp:
            if settings.smtp_username:
                password = settings.smtp_password.get_secret_value() if (
                    settings.smtp_password) else ""
                await smtp.login(settings.smtp_username, password)
            for message in messages:
                try:
                    await smtp.send_message(message)
                    results.append(None)
                except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPResponseException,
                        aiosmtplib.SMTPSenderRefused) as error:
                    results.append(error)
        return results


def to_message(notice: Notice, sender: str) -> Message:
    """The mail, UTF-8 quoted-printable. Built on the compat32 classes: the default
    policy parses every header it is given (1.3 ms a mail with its flattening, against
    0.4 ms here). Addresses that are not ASCII need it (SMTPUTF8), so they still get it."""
    message: Message
    if notice.recipient.isascii() and sender.isascii():
        plain: Message[str, str | Header] = Message()
        plain.set_payload(notice.body, _UTF8_QUOTED_PRINTABLE)  # and its MIME headers
        plain["Subject"] = Header(notice.subject, None if notice.subject.isascii() else "utf-8",
                                  header_name="Subject")
        message = plain
    else:
        message = EmailMessage()
        message.set_content(notice.body)
        message["Subject"] = notice.subject
    message["From"] = sender
    message["To"] = notice.recipient
    message["Message-ID"] = f"<{notice.notice_id}@loket.invalid>"
    message["X-Loket-Notice-Kind"] = notice.kind
    return message


class _HasNotices(Protocol):
    @property
    def notices(self) -> NoticeStore: ...

    async def __aenter__(self) -> Any: ...

    async def __aexit__(self, *args: Any) -> None: ...

    async def commit(self) -> None: ...


async def send_notices(
    uow: _HasNotices, mailer: Mailer, clock: Clock, settings: ServiceSettings
) -> int:
    """The "mail" job: send unsent notices a batch (one transaction, one SMTP connection)
    at a time, until fewer than a batch wait or a send fails (retried on the next run):
    a busy day's confirmations leave within the run, not at one batch per interval.
    Returns how many were sent."""
    sent = 0
    for _ in range(MAX_BATCHES_PER_RUN):  # a bound, so other work gets its turn
        claimed, sent_now = await _send_batch(uow, mailer, clock, settings)
        sent += sent_now
        if claimed < BATCH_SIZE or sent_now < claimed:
            break
    return sent


async def _send_batch(
    uow: _HasNotices, mailer: Mailer, clock: Clock, settings: ServiceSettings
) -> tuple[int, int]:
    """One batch: how many notices were claimed and how many of them were sent."""
    service = settings.service_name
    async with uow:
        claimed = await uow.notices.claim_unsent(BATCH_SIZE)
        sent = 0
        if claimed:
            try:
                results = await mailer.send(
                    [to_message(notice, settings.mail_from) for notice in claimed]
                )
            except Exception as error:  # noqa: BLE001 - the server is away: retry later
                results = [error] * len(claimed)
                # The type only: an SMTP error's text can quote the recipient.
                log.warning("sending %d notices failed: %s; retrying on the next run",
                            len(claimed), type(error).__qualname__)
            outcomes = list(zip(claimed, results, strict=False))
            marked = await uow.notices.mark_sent(
                [notice.notice_id for notice, outcome in outcomes if outcome is None], clock())
            for notice, outcome in outcomes:
                if notice.notice_id in marked:
                    sent += 1
                    NOTICES_SENT.labels(service, notice.kind).inc()
                elif outcome is not None:
                    kind = type(outcome).__name__
                    await uow.notices.mark_failed(notice.notice_id, kind)
                    NOTICES_FAILED.labels(service, kind).inc()
        NOTICES_PENDING.labels(service).set(await uow.notices.pending())
        await uow.commit()
    return len(claimed), sent
