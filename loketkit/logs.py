"""Logging that cannot carry personal data: exceptions are shown by kind, not by text.

An exception's message can quote what it was given: a database error says
"DETAIL: Failing row contains (Mila, Claes, 26041212345, ...)", a KeyError
names the key. So every record goes through one formatter that renders each
exception in the chain as its type name (and SQLSTATE, for database errors) plus
its traceback frames, never its message, and withholds that message wherever a
library copied it into the log line itself (FastStream logs "IntegrityError:
<message>", asyncio a task's repr). Exceptions whose messages are written to
be shown (domain errors, refused events; they name fields, not values) keep them.

`configure_logging` installs it for the whole process: the root logger, and the
loggers FastStream gives handlers of their own. uvicorn is started without its
own logging config (`log_config=None`), so its loggers propagate to the root.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Iterator
from typing import Any, TextIO

from contracts import MalformedEvent, UnknownEventType
from loketkit.consumer import RejectedEvent
from loketkit.errors import DomainError
from loketkit.transient import sqlstate_of

# Exceptions whose messages name fields and states by design, never values.
SAFE_MESSAGES: tuple[type[BaseException], ...] = (
    DomainError,
    MalformedEvent,
    UnknownEventType,
    RejectedEvent,
)
WITHHELD = "[message withheld]"
# FastStream logs through these with handlers (and propagate=False) of its own.
FASTSTREAM_LOGGERS = ("faststream", "faststream.access.kafka")
# Shorter texts are not worth withholding, and replacing them would mangle the line.
SHORTEST_SECRET = 3


def configure_logging(service: str, level: str = "INFO", stream: TextIO | None = None) -> None:
    """One handler, with the safe formatter, for every logger of the process."""
    # FastStream adds its own handler to a logger unless one already writes to stdout.
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(
        SafeFormatter(f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in FASTSTREAM_LOGGERS:
        own = logging.getLogger(name)
        own.handlers = [handler]
        own.propagate = False


class SafeFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        safe = logging.makeLogRecord(record.__dict__)
        errors = list(_logged_errors(record))
        secrets = {text for error in errors for text in _texts(error)}
        message = _message_without_errors(record)
        for secret in sorted(secrets, key=len, reverse=True):
            message = message.replace(secret, WITHHELD)
        safe.msg, safe.args = message, None
        safe.exc_text = None  # never reuse a rendering another formatter cached
        return super().format(safe)

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        error = ei[1] if isinstance(ei, tuple) else ei
        if not isinstance(error, BaseException):
            return ""
        return format_exception_safely(error)


def format_exception_safely(error: BaseException) -> str:
    """Like Python's traceback, oldest first, with each message replaced by its kind."""
    chain = _causes(error)
    parts: list[str] = []
    for older, newer in zip(chain, [*chain[1:], None], strict=True):
        frames = "".join(traceback.format_tb(older.__traceback__))
        part = "Traceback (most recent call last):\n" + frames + describe_error(older)
        if isinstance(older, BaseExceptionGroup):
            for number, member in enumerate(older.exceptions, start=1):
                nested = format_exception_safely(member).replace("\n", "\n  | ")
                part += f"\n  +-- {number} --\n  | {nested}"
        parts.append(part)
        if newer is not None:
            parts.append(
                "\nThe above exception was the direct cause of the following exception:\n"
                if newer.__cause__ is older
                else "\nDuring handling of the above exception, another exception occurred:\n"
            )
    return "\n".join(parts)


def describe_error(error: BaseException) -> str:
    """The error's type, and its SQLSTATE when the database raised it; the message only
    when its type is safe by design."""
    kind = type(error)
    name = kind.__qualname__ if kind.__module__ == "builtins" else (
        f"{kind.__module__}.{kind.__qualname__}")
    if isinstance(error, SAFE_MESSAGES):
        return f"{name}: {error}"
    sqlstate = sqlstate_of(error)
    return name + (f" (SQLSTATE {sqlstate})" if sqlstate else "")


def _causes(error: BaseException) -> list[BaseException]:
    """The chain Python prints, oldest first."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__)
    return chain[::-1]


def _logged_errors(record: logging.LogRecord) -> Iterator[BaseException]:
    """Every exception the record carries (exc_info, message or arguments) and those
    they wrap: a library may have copied any of their texts into the line."""
    found: list[BaseException] = []
    if record.exc_info and isinstance(record.exc_info, tuple) and record.exc_info[1]:
        found.append(record.exc_info[1])
    candidates = [record.msg, *(record.args if isinstance(record.args, tuple) else ())]
    found.extend(item for item in candidates if isinstance(item, BaseException))
    pending, seen = found, set[int]()
    while pending:
        error = pending.pop()
        if id(error) in seen:
            continue
        seen.add(id(error))
        yield error
        wrapped = [error.__cause__, error.__context__, getattr(error, "orig", None)]
        if isinstance(error, BaseExceptionGroup):
            wrapped.extend(error.exceptions)
        pending.extend(item for item in wrapped if isinstance(item, BaseException))


def _texts(error: BaseException) -> set[str]:
    """What a log line may have copied from an error: its text, repr and arguments."""
    if isinstance(error, SAFE_MESSAGES):
        return set()
    texts = {str(error), repr(error), *(str(arg) for arg in error.args)}
    return {text for text in texts if len(text) >= SHORTEST_SECRET}


def _message_without_errors(record: logging.LogRecord) -> str:
    """The record's message with exceptions given as arguments rendered by kind."""
    def safe(item: object) -> object:
        return describe_error(item) if isinstance(item, BaseException) else item

    message = safe(record.msg)
    if isinstance(record.args, tuple) and record.args:
        return str(message) % tuple(safe(arg) for arg in record.args)
    if record.args:  # one mapping argument: "%(name)s" style
        return str(message) % record.args
    return str(message)
