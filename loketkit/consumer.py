"""Consuming events: idempotent, retried, and never blocked by a bad message.

For each message: read the CloudEvent, look up the handler for its type, and
apply it in one unit of work together with the event id (the inbox), skipping
ids already applied. Then:
- malformed, unknown-type or rejected events go to the dead-letter topic at once;
- a handler that keeps failing goes there after bounded retries with backoff;
- an infrastructure failure (database or broker unreachable) is raised, so the
  subscriber does not commit the offset and the message is delivered again.
The subscriber acknowledges (commits the offset) only after one of these
effects is durable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from prometheus_client import Counter
from sqlalchemy.exc import InterfaceError, OperationalError

from contracts import (
    CloudEvent,
    EventData,
    MalformedEvent,
    UnknownEventType,
    from_kafka,
    parse_data,
)
from loketkit.uow import UnitOfWork

log = logging.getLogger(__name__)

APPLIED = Counter("loket_events_applied", "Events applied by a handler", ["service", "type"])
DUPLICATES = Counter("loket_events_duplicate", "Repeated events skipped", ["service"])
DEAD_LETTERS = Counter("loket_dead_letters", "Messages sent to dead letter", ["service", "topic"])

Handler = Callable[[CloudEvent, Any, Any], Awaitable[None]]  # (event, data, unit of work)
TRANSIENT = (OperationalError, InterfaceError, ConnectionError, OSError, TimeoutError)


class RejectedEvent(Exception):
    """The domain refuses this event (say, a free place at an unknown location)."""


@dataclass(frozen=True)
class Origin:
    topic: str
    partition: int
    offset: int
    key: bytes | None


class DeadLetterSink(Protocol):
    async def send(self, value: bytes | None, key: bytes | None, headers: dict[str, str]) -> None:
        ...


class EventConsumer:
    def __init__(
        self,
        service: str,
        handlers: dict[type[EventData], Handler],
        uow_factory: Callable[[], UnitOfWork],
        dead_letters: DeadLetterSink,
        max_attempts: int = 3,
        backoff_seconds: float = 0.2,
    ) -> None:
        self.service = service
        self._handlers = {model.event_type(): handler for model, handler in handlers.items()}
        self._uow_factory = uow_factory
        self._dead_letters = dead_letters
        self._max_attempts = max_attempts
        self._backoff = backoff_seconds

    async def consume(
        self, value: bytes | None, headers: Iterable[tuple[str, bytes]], origin: Origin
    ) -> str:
        """Handle one message; returns what happened: applied, duplicate, ignored, dead-lettered."""
        headers = list(headers)
        try:
            event = from_kafka(value, headers)
            data = parse_data(event)
        except (MalformedEvent, UnknownEventType) as error:
            await self._dead_letter(value, headers, origin, error, attempts=0)
            return "dead-lettered"
        handler = self._handlers.get(event.type)
        if handler is None:
            return "ignored"  # a known event this service has no use for
        for attempt in range(1, self._max_attempts + 1):
            try:
                return await self._apply(handler, event, data)
            except RejectedEvent as error:
                await self._dead_letter(value, headers, origin, error, attempts=attempt)
                return "dead-lettered"
            except TRANSIENT:
                raise  # not this message's fault: leave it uncommitted, it comes back
            except Exception as error:  # noqa: BLE001 - a handler bug must not stop the partition
                log.warning(
                    "%s failed on %s (%s), attempt %d/%d: %s",
                    self.service, event.type, event.id, attempt, self._max_attempts,
                    type(error).__name__,
                )
                if attempt == self._max_attempts:
                    await self._dead_letter(value, headers, origin, error, attempts=attempt)
                    return "dead-lettered"
                await asyncio.sleep(self._backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    async def _apply(self, handler: Handler, event: CloudEvent, data: EventData) -> str:
        async with self._uow_factory() as uow:
            if await uow.already_applied(event):
                DUPLICATES.labels(self.service).inc()
                return "duplicate"
            await handler(event, data, uow)
            await uow.mark_applied(event)
            await uow.commit()
        APPLIED.labels(self.service, event.type).inc()
        return "applied"

    async def _dead_letter(
        self,
        value: bytes | None,
        headers: list[tuple[str, bytes]],
        origin: Origin,
        error: Exception,
        attempts: int,
    ) -> None:
        # The reason names fields and error kinds only: never the values, which may be personal.
        explained = isinstance(error, MalformedEvent | UnknownEventType | RejectedEvent)
        reason = str(error) if explained else f"{type(error).__name__} in handler"
        dlq_headers = {name: raw.decode("utf-8", "replace") for name, raw in headers}
        dlq_headers.update(
            {
                "dlq_reason": reason[:1000],
                "dlq_error_type": type(error).__name__,
                "dlq_service": self.service,
                "dlq_original_topic": origin.topic,
                "dlq_original_partition": str(origin.partition),
                "dlq_original_offset": str(origin.offset),
                "dlq_attempts": str(attempts),
            }
        )
        await self._dead_letters.send(value, origin.key, dlq_headers)
        DEAD_LETTERS.labels(self.service, origin.topic).inc()
        log.warning(
            "%s dead-lettered %s[%d]@%d: %s",
            self.service, origin.topic, origin.partition, origin.offset, reason,
        )
