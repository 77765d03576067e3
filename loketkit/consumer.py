"""Consuming events: idempotent, redelivered while the infrastructure is down,
and never blocked by a bad message.

For each message: read the CloudEvent, look up the handler for its type, and
apply it in one unit of work together with the event's identity (CloudEvents
`source` + `id`: the inbox), skipping events already applied. Then:
- malformed or unknown-type events go to the dead-letter topic at once, and so
  does an event the domain rejects (`RejectedEvent`);
- a handler that keeps failing goes there after bounded retries with backoff;
- an infrastructure failure (`loketkit.transient.is_transient`: the database
  restarting, out of connections, unreachable; the broker timing out) is
  raised, never dead-lettered: the subscriber (`loketkit.kafka`) pauses the
  partition and delivers the message again after a growing delay.
Writing to the dead-letter topic is bounded (headers capped, a value too large
for the broker left out) and retried a few times; if it still fails, the
failure is logged and counted and the partition moves on: the original stays
at its topic, partition and offset.

A handler that declares an `origin` parameter also gets the message's `Origin`
(topic, partition, offset, key): capacity reads from an organiser's own inbound
topic who published the event, as the broker's ACLs guarantee.

`consume_batch` applies several messages in one transaction (one inbox row
each); if any fails, it rolls back and applies them one by one, so only the
bad one is retried or dead-lettered. A service may also give a batch handler
for a type (`batch_handlers`): consecutive events of that type in a batch go to
it together, as a list of `Delivered`, so it can read and write them set-wise
(a burst of free places is a few statements, not a few per place); consecutive
events of several types that share one batch handler go to it together too, in
their order. It must do exactly what the event handlers would do to each event in
turn; a single event (and every event of a batch that failed) still goes to the
event handler. A service may also read ahead (`read_ahead`): before the events of a
batch are applied, it gets them all with the unit of work, to read at once what their
handlers will ask for (capacity locks every location the batch names in one
statement) and keep it in the unit; it must change nothing.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from prometheus_client import Counter, Histogram

from contracts import (
    CloudEvent,
    EventData,
    MalformedEvent,
    UnknownEventType,
    from_kafka,
    parse_data,
)
from loketkit.transient import describe, is_transient
from loketkit.uow import UnitOfWork

log = logging.getLogger(__name__)

APPLIED = Counter("loket_events_applied", "Events applied by a handler", ["service", "type"])
DUPLICATES = Counter("loket_events_duplicate", "Repeated events skipped", ["service"])
DEAD_LETTERS = Counter(
    "loket_dead_letters",
    "Messages sent to the dead-letter topic, by reason: malformed, unknown_type, rejected, "
    "handler_failed",
    ["service", "topic", "reason"],
)
# How far batching goes: a service that keeps up sees small batches, one catching up large.
BATCH_MESSAGES = Histogram("loket_consumer_batch_messages", "Messages per consumed batch",
                           ["service"], buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500))
DEAD_LETTER_FAILURES = Counter(
    "loket_dead_letter_failures",
    "Messages the dead-letter topic refused after retries; skipped, still at their offset",
    ["service", "topic", "reason"],
)

# (event, data, unit of work), and `origin=` when the handler declares that parameter
Handler = Callable[..., Awaitable[None]]
# (a list of `Delivered`, unit of work): the same as `Handler` on each, in order
BatchHandler = Callable[..., Awaitable[None]]
# (a list of `Delivered`, unit of work): reads ahead for a batch, changes nothing
ReadAhead = Callable[..., Awaitable[None]]
Data = TypeVar("Data", bound=EventData)

# What a dead letter carries besides the original value: bounded, so that adding
# our headers can never make it too large to publish.
MAX_COPIED_HEADERS = 32
MAX_HEADER_NAME_CHARS = 200
MAX_HEADER_VALUE_CHARS = 1024
MAX_REASON_CHARS = 1000
# Kafka's default message.max.bytes is 1 MiB (1048588) per record batch; stay under
# it with room for the record overhead. A larger value is left out of the dead letter.
MAX_DEAD_LETTER_BYTES = 1_000_000


class RejectedEvent(Exception):
    """The domain refuses this event (say, a free place at an unknown location)."""


@dataclass(frozen=True)
class Origin:
    topic: str
    partition: int
    offset: int
    key: bytes | None


@dataclass(frozen=True)
class Incoming:
    """One message as Kafka handed it over."""

    value: bytes | None
    headers: Sequence[tuple[str, bytes]]
    origin: Origin


@dataclass(frozen=True)
class Delivered(Generic[Data]):
    """One event of a run that a batch handler applies together."""

    event: CloudEvent
    data: Data
    origin: Origin


class DeadLetterSink(Protocol):
    async def send(self, value: bytes | None, key: bytes | None, headers: dict[str, str]) -> None:
        ...


@dataclass
class _Decoded:
    message: Incoming
    event: CloudEvent
    data: EventData
    handler: Handler = field(repr=False)


def reason_kind(error: BaseException) -> str:
    """A bounded label for metrics and the `dlq_reason_kind` header."""
    if isinstance(error, MalformedEvent):
        return "malformed"
    if isinstance(error, UnknownEventType):
        return "unknown_type"
    if isinstance(error, RejectedEvent):
        return "rejected"
    return "handler_failed"


class EventConsumer:
    def __init__(
        self,
        service: str,
        handlers: dict[type[EventData], Handler],
        uow_factory: Callable[[], UnitOfWork],
        dead_letters: DeadLetterSink,
        max_attempts: int = 3,
        backoff_seconds: float = 0.2,
        dead_letter_attempts: int = 5,
        dead_letter_backoff_seconds: float = 0.2,
        batch_handlers: Mapping[type[EventData], BatchHandler] | None = None,
        read_ahead: ReadAhead | None = None,
    ) -> None:
        self.service = service
        self._handlers = {model.event_type(): handler for model, handler in handlers.items()}
        self._batch_handlers = {model.event_type(): handler
                                for model, handler in (batch_handlers or {}).items()}
        # Inspected once: which handlers want to know the topic their message came from.
        self._wants_origin = {handler for handler in self._handlers.values()
                              if "origin" in inspect.signature(handler).parameters}
        self._read_ahead = read_ahead
        self._uow_factory = uow_factory
        self._dead_letters = dead_letters
        self._max_attempts = max_attempts
        self._backoff = backoff_seconds
        self._dead_letter_attempts = dead_letter_attempts
        self._dead_letter_backoff = dead_letter_backoff_seconds

    async def consume(
        self, value: bytes | None, headers: Iterable[tuple[str, bytes]], origin: Origin
    ) -> str:
        """Handle one message; returns what happened: applied, duplicate, ignored,
        dead-lettered, or dead-letter-failed. Raises a transient error (see
        `loketkit.transient`): the message must then be delivered again."""
        message = Incoming(value, list(headers), origin)
        decoded = self._decode(message)
        if decoded is None:
            return "ignored"  # a known event this service has no use for
        if isinstance(decoded, Exception):
            return await self._dead_letter(message, decoded, attempts=0)
        return await self._apply_with_retries(decoded)

    async def consume_batch(self, messages: Sequence[Incoming]) -> list[str]:
        """Apply several messages in one unit of work (one transaction, one inbox row
        each), skipping events already applied and repeats within the batch. If one
        fails, nothing of the batch is kept and each is applied on its own, so only
        the bad one is retried or dead-lettered. Returns an outcome per message, in
        order; raises a transient error like `consume` (deliver the batch again)."""
        BATCH_MESSAGES.labels(self.service).observe(len(messages))
        outcomes: list[str] = ["ignored"] * len(messages)
        undecodable: list[tuple[int, Exception]] = []
        todo: list[tuple[int, _Decoded]] = []
        for index, message in enumerate(messages):
            decoded = self._decode(message)
            if isinstance(decoded, Exception):
                undecodable.append((index, decoded))
            elif decoded is not None:
                todo.append((index, decoded))
        together = await self._apply_splitting([decoded for _, decoded in todo])
        for (index, _), outcome in zip(todo, together, strict=True):
            outcomes[index] = outcome
        # Dead letters last: if the batch raised a transient error above, none was sent
        # yet, and the redelivered batch does not send them twice.
        for index, refused in undecodable:
            outcomes[index] = await self._dead_letter(messages[index], refused, attempts=0)
        return outcomes

    async def _apply_splitting(self, batch: list[_Decoded]) -> list[str]:
        """Together in one unit of work; if that fails, one by one, so only the bad one
        is retried or dead-lettered (and a lone message goes straight to its retries)."""
        if not batch:
            return []
        if len(batch) == 1:
            return [await self._apply_with_retries(batch[0])]
        try:
            return await self._apply_together(batch)
        except Exception as error:  # noqa: BLE001 - fall back to one by one, below
            if is_transient(error):
                raise
            log.warning("%s: a batch of %d events failed (%s); applying them one by one",
                        self.service, len(batch), describe(error))
            return [await self._apply_with_retries(decoded) for decoded in batch]

    def _decode(self, message: Incoming) -> _Decoded | Exception | None:
        try:
            event = from_kafka(message.value, list(message.headers))
            data = parse_data(event)
        except (MalformedEvent, UnknownEventType) as error:
            return error
        # By the upgraded payload's type: a v1 event reaches the handler of the current version.
        handler = self._handlers.get(data.event_type())
        return None if handler is None else _Decoded(message, event, data, handler)

    async def _apply_with_retries(self, decoded: _Decoded) -> str:
        event = decoded.event
        for attempt in range(1, self._max_attempts + 1):
            try:
                [outcome] = await self._apply_together([decoded])
                return outcome
            except RejectedEvent as error:
                return await self._dead_letter(decoded.message, error, attempts=attempt)
            except Exception as error:  # noqa: BLE001 - a handler bug must not stop the partition
                if is_transient(error):
                    raise  # not this message's fault: the subscriber delivers it again later
                log.warning(
                    "%s failed on %s (%s), attempt %d/%d: %s",
                    self.service, event.type, event.id, attempt, self._max_attempts,
                    describe(error),
                )
                if attempt == self._max_attempts:
                    return await self._dead_letter(decoded.message, error, attempts=attempt)
                await asyncio.sleep(self._backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    async def _apply_together(self, batch: list[_Decoded]) -> list[str]:
        """One unit of work for the whole batch; each event (or run of events for a
        batch handler) in a nested unit."""
        outcomes: list[str] = []
        seen: set[tuple[str, str]] = set()
        fresh: list[_Decoded] = []
        async with self._uow_factory() as uow:
            applied_before = await uow.applied_among([decoded.event for decoded in batch])
            for decoded in batch:
                identity = (decoded.event.source, decoded.event.id)
                duplicate = identity in seen or identity in applied_before
                seen.add(identity)
                outcomes.append("duplicate" if duplicate else "applied")
                if not duplicate:
                    fresh.append(decoded)
            if self._read_ahead is not None and len(fresh) > 1:
                await self._read_ahead(delivered(fresh), uow)
            for run in self._runs(fresh):
                async with uow:  # nested: its commit only flushes
                    await self._apply_run(run, uow)
                    for decoded in run:
                        await uow.mark_applied(decoded.event)
                    await uow.commit()
            await uow.commit()
        for decoded, outcome in zip(batch, outcomes, strict=True):
            if outcome == "applied":
                APPLIED.labels(self.service, decoded.event.type).inc()
            else:
                DUPLICATES.labels(self.service).inc()
        return outcomes

    def _runs(self, fresh: list[_Decoded]) -> list[list[_Decoded]]:
        """Consecutive events whose types have the same batch handler together; others
        alone."""
        runs: list[list[_Decoded]] = []
        for decoded in fresh:
            handler = self._batch_handlers.get(decoded.event.type)
            if (runs and handler is not None
                    and self._batch_handlers.get(runs[-1][-1].event.type) is handler):
                runs[-1].append(decoded)
            else:
                runs.append([decoded])
        return runs

    async def _apply_run(self, run: list[_Decoded], uow: UnitOfWork) -> None:
        if len(run) > 1:
            await self._batch_handlers[run[0].event.type](delivered(run), uow)
            return
        [decoded] = run
        if decoded.handler in self._wants_origin:
            await decoded.handler(decoded.event, decoded.data, uow, origin=decoded.message.origin)
        else:
            await decoded.handler(decoded.event, decoded.data, uow)

    async def _dead_letter(self, message: Incoming, error: Exception, attempts: int) -> str:
        origin = message.origin
        kind = reason_kind(error)
        # The reason names fields and error kinds only: never the values, which may be personal.
        explained = isinstance(error, MalformedEvent | UnknownEventType | RejectedEvent)
        reason = str(error) if explained else f"{describe(error)} in handler"
        value, headers = dead_letter_record(message, {
            "dlq_reason": reason[:MAX_REASON_CHARS],
            "dlq_reason_kind": kind,
            "dlq_error_type": type(error).__name__,
            "dlq_service": self.service,
            "dlq_original_topic": origin.topic,
            "dlq_original_partition": str(origin.partition),
            "dlq_original_offset": str(origin.offset),
            "dlq_attempts": str(attempts),
        })
        for attempt in range(1, self._dead_letter_attempts + 1):
            try:
                await self._dead_letters.send(value, origin.key, headers)
                break
            except Exception as send_error:  # noqa: BLE001 - bounded below, then move on
                if attempt == self._dead_letter_attempts:
                    DEAD_LETTER_FAILURES.labels(self.service, origin.topic, kind).inc()
                    log.error(
                        "%s could not dead-letter %s[%d]@%d after %d attempts (%s); "
                        "skipping it, the original stays at that offset",
                        self.service, origin.topic, origin.partition, origin.offset,
                        attempt, describe(send_error),
                    )
                    return "dead-letter-failed"
                await asyncio.sleep(self._dead_letter_backoff * 2 ** (attempt - 1))
        DEAD_LETTERS.labels(self.service, origin.topic, kind).inc()
        log.warning(
            "%s dead-lettered %s[%d]@%d: %s",
            self.service, origin.topic, origin.partition, origin.offset, reason,
        )
        return "dead-lettered"


def delivered(batch: list[_Decoded]) -> list[Delivered[EventData]]:
    return [Delivered(each.event, each.data, each.message.origin) for each in batch]


def dead_letter_record(
    message: Incoming, dlq_headers: dict[str, str]
) -> tuple[bytes | None, dict[str, str]]:
    """The value and headers to publish: the original headers, capped in number and
    length, then ours; without the value (`dlq_value_omitted`) when it would not fit."""
    headers: dict[str, str] = {}
    for name, raw in message.headers:
        if len(headers) >= MAX_COPIED_HEADERS:
            break
        if name.startswith("dlq_"):
            continue  # a replayed dead letter failing again gets fresh dlq_ headers
        headers[name[:MAX_HEADER_NAME_CHARS]] = raw[: MAX_HEADER_VALUE_CHARS * 4].decode(
            "utf-8", "replace")[:MAX_HEADER_VALUE_CHARS]
    headers.update(dlq_headers)
    value = message.value
    size = (len(value or b"") + len(message.origin.key or b"")
            + sum(len(k.encode()) + len(v.encode()) for k, v in headers.items()))
    if size > MAX_DEAD_LETTER_BYTES:
        value = None
        headers["dlq_value_omitted"] = "true"
    return value, headers
