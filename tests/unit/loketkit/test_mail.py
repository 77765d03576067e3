"""Notices: rendered from Dutch templates, stored with the unit of work, sent by the job."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import jinja2
import pytest
from aiosmtplib.email import flatten_message

from loketkit.mail import BATCH_SIZE, Notice, compose, render, send_notices, to_message
from loketkit.settings import ServiceSettings
from loketkit.testing import FakeUnitOfWork, RecordingMailer

TEMPLATES = Path(__file__).parent / "templates"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def notice(n: int, created_at: datetime = NOW) -> Notice:
    return Notice(notice_id=f"ntc-{n}", recipient=f"ouder{n}@example.be", subject="Plaats",
                  body="Beste ouder", kind="offer_made", created_at=created_at)


def test_render_splits_subject_and_body() -> None:
    subject, body = render(TEMPLATES, "offer_made", child="Lotte", location="De Kikker",
                           due="maandag 23 november")
    assert subject == "Er is een plaats voor Lotte"
    assert body.startswith("Beste ouder,")
    assert "Antwoord vóór maandag 23 november." in body
    assert "Onderwerp" not in body


def test_render_refuses_a_missing_variable() -> None:
    with pytest.raises(jinja2.UndefinedError):
        render(TEMPLATES, "offer_made", child="Lotte", location="De Kikker")


def test_render_does_not_escape_html_in_plain_text() -> None:
    _, body = render(TEMPLATES, "offer_made", child="A", location="Kim & Tom", due="x")
    assert "Kim & Tom" in body


def test_a_template_without_subject_line_is_refused() -> None:
    with pytest.raises(ValueError, match="Onderwerp"):
        render(TEMPLATES, "no_subject")


def test_compose_renders_the_kind_template() -> None:
    made = compose(notice_id="ntc-1", recipient="ouder@example.be", kind="offer_made",
                   created_at=NOW, template_dir=TEMPLATES, child="Lotte", location="X", due="Y")
    assert (made.subject, made.kind, made.sent_at) == ("Er is een plaats voor Lotte",
                                                       "offer_made", None)


async def test_a_notice_counts_only_when_its_unit_commits() -> None:
    uow = FakeUnitOfWork()
    async with uow:
        await uow.notices.add(notice(1))
    assert uow.notices.rows == []
    async with uow:
        await uow.notices.add(notice(2))
        await uow.commit()
    assert [n.notice_id for n in uow.notices.rows] == ["ntc-2"]


async def test_the_mail_job_sends_each_notice_once() -> None:
    uow, mailer = FakeUnitOfWork(), RecordingMailer()
    async with uow:
        await uow.notices.add(notice(2, NOW + timedelta(seconds=1)))
        await uow.notices.add(notice(1))
        await uow.commit()
    settings = ServiceSettings(service_name="test")
    assert await send_notices(uow, mailer, lambda: NOW, settings) == 2
    assert await send_notices(uow, mailer, lambda: NOW, settings) == 0
    assert [m["To"] for m in mailer.sent] == ["ouder1@example.be", "ouder2@example.be"]
    assert mailer.sent[0]["From"] == settings.mail_from
    assert all(n.sent_at == NOW for n in uow.notices.rows)
    assert uow.notices.unsent == []


async def test_with_the_mail_server_down_notices_stay_pending_and_go_later() -> None:
    uow, mailer = FakeUnitOfWork(), RecordingMailer(down=True)
    async with uow:
        await uow.notices.add(notice(1))
        await uow.commit()
    settings = ServiceSettings(service_name="test")
    assert await send_notices(uow, mailer, lambda: NOW, settings) == 0
    assert [n.notice_id for n in uow.notices.unsent] == ["ntc-1"]
    assert uow.notices.attempts["ntc-1"] == 1
    assert uow.notices.last_error_kind["ntc-1"] == "ConnectionRefusedError"
    mailer.down = False
    assert await send_notices(uow, mailer, lambda: NOW, settings) == 1
    assert uow.notices.unsent == []
    assert len(mailer.sent) == 1


async def test_one_run_of_the_mail_job_sends_a_backlog_batch_after_batch() -> None:
    uow, mailer = FakeUnitOfWork(), RecordingMailer()
    async with uow:
        for n in range(2 * BATCH_SIZE + 7):
            await uow.notices.add(notice(n, NOW + timedelta(seconds=n)))
        await uow.commit()
    settings = ServiceSettings(service_name="test")
    assert await send_notices(uow, mailer, lambda: NOW, settings) == 2 * BATCH_SIZE + 7
    assert uow.notices.unsent == []
    assert len({m["Message-ID"] for m in mailer.sent}) == 2 * BATCH_SIZE + 7


async def test_with_the_mail_server_down_a_run_tries_one_batch_only() -> None:
    uow, mailer = FakeUnitOfWork(), RecordingMailer(down=True)
    async with uow:
        for n in range(3 * BATCH_SIZE):
            await uow.notices.add(notice(n, NOW + timedelta(seconds=n)))
        await uow.commit()
    settings = ServiceSettings(service_name="test")
    assert await send_notices(uow, mailer, lambda: NOW, settings) == 0
    assert sum(uow.notices.attempts.values()) == BATCH_SIZE
    assert len(uow.notices.unsent) == 3 * BATCH_SIZE


@pytest.mark.parametrize("recipient", ["ouder@example.be", "oüder@example.be"])
def test_a_mail_reads_back_as_written_accents_and_all(recipient: str) -> None:
    written = Notice(notice_id="ntc-9", recipient=recipient, kind="offer_made",
                     subject="Een plaats voor Zoë – bevestig vóór maandag " + "x" * 60,
                     body="Beste ouder,\n\nDe plaats in crèche 't Kièkentje is vrij.\n",
                     created_at=NOW)
    wire = flatten_message(to_message(written, "loket@example.be"),
                           utf8=not recipient.isascii())
    read = email.message_from_bytes(wire, policy=email.policy.default)
    assert isinstance(read, EmailMessage)
    assert (read["To"], read["From"]) == (recipient, "loket@example.be")
    assert read["Subject"] == written.subject
    assert read["Message-ID"] == "<ntc-9@loket.invalid>"
    assert read["X-Loket-Notice-Kind"] == "offer_made"
    body = read.get_body(preferencelist=("plain",))
    assert body is not None
    assert body.get_content().replace("\r\n", "\n") == written.body
