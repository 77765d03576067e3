"""No personal data in logs: exceptions are logged by kind, never by message."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator

import pytest
from faststream._internal.context import ContextRepo
from faststream.kafka.broker.logging import KafkaParamsStorage
from sqlalchemy.exc import DBAPIError, IntegrityError

from contracts import MalformedEvent
from loketkit.errors import Invalid
from loketkit.logs import FASTSTREAM_LOGGERS, configure_logging

PLANTED = ("Mila", "Claes", "26041212345", "sara.claes@example.be", "+32 470 12 34 56",
           "Markt 1")


class CheckViolation(Exception):
    """What asyncpg raises: the message quotes the refused row."""

    sqlstate = "23514"


def integrity_error() -> IntegrityError:
    """A database error as SQLAlchemy raises it, planted values in message and parameters."""
    row = ", ".join(PLANTED)
    try:
        try:
            raise CheckViolation(
                'new row for relation "requests" violates check constraint "planted"\n'
                f"DETAIL:  Failing row contains (req-1, {row}).")
        except CheckViolation as orig:
            raise IntegrityError("INSERT INTO requests VALUES ($1, $2, $3, $4, $5, $6)",
                                 PLANTED, orig) from orig
    except IntegrityError as error:
        return error


@pytest.fixture
def output(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """The process's stdout, where the configured handler writes; the logging setup is
    restored afterwards."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level,
             {name: (logging.getLogger(name).handlers[:], logging.getLogger(name).propagate)
              for name in FASTSTREAM_LOGGERS})
    stdout = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stdout)
    configure_logging("intake", "DEBUG")
    yield stdout
    root.handlers[:], level, faststream = saved
    root.setLevel(level)
    for name, (handlers, propagate) in faststream.items():
        logging.getLogger(name).handlers, logging.getLogger(name).propagate = handlers, propagate


def assert_nothing_personal(text: str) -> None:
    leaked = [value for value in PLANTED if value in text]
    assert leaked == [], text


def test_a_database_error_is_logged_by_type_and_sqlstate_only(output: io.StringIO) -> None:
    error = integrity_error()
    assert "Failing row contains (req-1, Mila" in str(error)  # what must not be logged
    logging.getLogger("uvicorn.error").error("Exception in ASGI application", exc_info=error)
    text = output.getvalue()
    assert "intake ERROR uvicorn.error: Exception in ASGI application" in text
    assert "sqlalchemy.exc.IntegrityError (SQLSTATE 23514)" in text
    assert "CheckViolation (SQLSTATE 23514)" in text
    assert "direct cause of the following exception" in text
    assert "Traceback (most recent call last)" in text
    assert "in integrity_error" in text  # the frames are kept
    assert_nothing_personal(text)


def test_a_dbapi_error_with_parameters_shown_is_still_withheld(output: io.StringIO) -> None:
    error = DBAPIError("UPDATE requests SET first_name = $1", PLANTED,
                       CheckViolation(f"value {PLANTED[0]!r} refused"))
    logging.getLogger("loketkit.consumer").exception("handler failed", exc_info=error)
    text = output.getvalue()
    assert "sqlalchemy.exc.DBAPIError" in text
    assert_nothing_personal(text)


def test_error_texts_copied_into_the_line_are_withheld(output: io.StringIO) -> None:
    error = integrity_error()
    log = logging.getLogger("some.library")
    log.error(f"{type(error).__name__}: {error}", exc_info=error)  # as FastStream does
    log.error("failed: %s", error)  # an exception as an argument
    log.error("Task exception was never retrieved\nfuture: <Task exception=%r>", error.orig)
    log.error(error)
    text = output.getvalue()
    assert "IntegrityError: [message withheld]" in text
    assert "failed: sqlalchemy.exc.IntegrityError (SQLSTATE 23514)" in text
    assert_nothing_personal(text)


def test_messages_written_to_be_shown_are_kept(output: io.StringIO) -> None:
    for error in (Invalid("child.birth_date", "lies after the desired start date"),
                  MalformedEvent("field 'data.name': must not contain control characters")):
        try:
            raise error
        except Exception:
            logging.getLogger("x").exception("refused")
    text = output.getvalue()
    assert "loketkit.errors.Invalid: lies after the desired start date" in text
    assert "MalformedEvent: field 'data.name': must not contain control characters" in text


def test_faststreams_broker_logger_goes_through_the_safe_formatter(
    output: io.StringIO,
) -> None:
    # The logger FastStream's Kafka broker builds for itself (propagate=False, its own
    # handler unless one writes to stdout), and how it reports a failing subscriber.
    logger = KafkaParamsStorage().get_logger(context=ContextRepo())
    error = integrity_error()
    logger.log(logging.ERROR, f"{type(error).__name__}: {error}", exc_info=error,
               extra={"topic": "loket.capacity.v1", "group_id": "loket-intake",
                      "message_id": "m-1"})
    text = output.getvalue()
    assert "intake ERROR faststream.access.kafka: IntegrityError: [message withheld]" in text
    assert "sqlalchemy.exc.IntegrityError (SQLSTATE 23514)" in text
    assert_nothing_personal(text)


def test_faststreams_own_logger_goes_through_the_safe_formatter(output: io.StringIO) -> None:
    logging.getLogger("faststream").error("failed", exc_info=integrity_error())
    text = output.getvalue()
    assert "intake ERROR faststream: failed" in text
    assert_nothing_personal(text)
