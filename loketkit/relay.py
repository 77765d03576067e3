"""The outbox relay: publishes committed events, then marks them published.

It sends a batch in order (one partition keeps its order because the producer
is idempotent), waits for the acknowledgements (acks=all), and only then marks
the rows. A crash between the two re-sends the batch: delivery is
at-least-once and consumers drop repeats by CloudEvents source and id. A
transaction-scoped advisory lock lets only one instance of a service relay at
a time, so events leave in the order they were committed.

When a send fails, the rows acknowledged before the first failure are marked
and the rest wait for the next round, so the order holds:
- a failure that may pass (broker away, timeout, leader moving) is retried as is;
- a refusal of the record itself (too large, invalid topic) is tried once more
  on its own, and if Kafka refuses it again the row is parked with the reason
  (`parked_at`, `park_reason`): the rows after it still leave. Parked rows show
  in `loket_outbox_parked` and its alert; an operator repairs and un-parks them.
After a failed delivery the relay starts a fresh producer: the idempotent
producer numbers its batches per partition, and a batch the broker refused
leaves a gap it would otherwise trip over (OutOfOrderSequenceNumber) forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    CorruptRecordException,
    InvalidTimestampError,
    InvalidTopicError,
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)
from prometheus_client import Counter, Gauge
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from loketkit.db import OutboxMessage
from loketkit.ids import utcnow
from loketkit.kafka_security import PLAINTEXT, KafkaSecurity
from loketkit.uow import SqlAnswerStore

log = logging.getLogger(__name__)

KEEP_PUBLISHED = timedelta(days=7)
PRUNE_INTERVAL_SECONDS = 600
METRICS_INTERVAL_SECONDS = 5.0
# Parked rows are not on the partial index: counting them reads the table, so less often
# (and at once after the relay parks one).
PARKED_COUNT_INTERVAL_SECONDS = 60.0
MAX_BACKOFF_SECONDS = 30.0
RELAY_LOCK_ID = 7_140_001  # any constant; one per database, and each service has its own

# Kafka refuses the record itself: sending it again cannot help. Anything else (the
# broker away, timeouts, authorisation, unknown topics) may pass, and is retried in order.
REFUSED_RECORD: tuple[type[KafkaError], ...] = (
    MessageSizeTooLargeError,
    RecordTooLargeError,
    RecordListTooLargeError,
    InvalidTopicError,
    CorruptRecordException,
    InvalidTimestampError,
)

PUBLISHED = Counter("loket_outbox_published", "Events published from the outbox", ["service"])
BACKLOG = Gauge(
    "loket_outbox_backlog", "Outbox rows waiting to be published (parked rows not included)",
    ["service"],
)
OLDEST_AGE = Gauge(
    "loket_outbox_oldest_unpublished_age_seconds",
    "Age of the oldest outbox row waiting to be published; 0 when none waits",
    ["service"],
)
PARKED = Gauge(
    "loket_outbox_parked", "Outbox rows Kafka refused for good, parked until an operator acts",
    ["service"],
)

UNPUBLISHED = (col(OutboxMessage.published_at).is_(None), col(OutboxMessage.parked_at).is_(None))


class Producer(Protocol):
    """What the relay uses of AIOKafkaProducer (tests give a fake)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, topic: str, value: bytes, key: bytes,
                   headers: list[tuple[str, bytes]]) -> asyncio.Future[Any]: ...


ProducerFactory = Callable[[str, str], Producer]  # (bootstrap servers, client id)


def make_producer(bootstrap_servers: str, client_id: str,
                  security: KafkaSecurity = PLAINTEXT) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        **security.aiokafka(),
    )


def refused_record(error: BaseException) -> bool:
    return isinstance(error, REFUSED_RECORD)


def park_reason(row: OutboxMessage, error: BaseException) -> str:
    """The error's kind and the record's sizes: never the values, which may be personal."""
    header_bytes = sum(len(name) + len(value.encode()) for name, value in row.headers)
    size = len(row.value) + len(row.key) + header_bytes
    return (f"{type(error).__name__}: Kafka refused a record of {size} bytes "
            f"(value {len(row.value)}, key {len(row.key)}, headers {header_bytes})")[:500]


@dataclass
class Round:
    """What one batch did."""

    published: int = 0
    parked: int = 0
    failed: bool = False  # a failure that may pass: wait before the next round
    more: bool = False  # rows are left that can go at once

    @property
    def settled(self) -> int:
        return self.published + self.parked


class OutboxRelay:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        bootstrap_servers: str,
        service: str,
        poll_seconds: float = 0.2,
        batch_size: int = 500,
        topic_prefix: str = "",
        producer_factory: ProducerFactory | None = None,
        security: KafkaSecurity = PLAINTEXT,
    ) -> None:
        self._session_factory = session_factory
        self._bootstrap_servers = bootstrap_servers
        self._topic_prefix = topic_prefix
        # The service's own principal (loketkit.kafka_security), unless a test gives a fake.
        self._producer_factory: ProducerFactory = producer_factory or (
            lambda servers, client_id: make_producer(servers, client_id, security))
        self.producer: Producer | None = None
        self._renew_producer = False
        self._task: asyncio.Task[None] | None = None
        self._service = service
        self._poll_seconds = poll_seconds
        self._batch_size = batch_size
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._count_parked_after = 0.0  # event-loop time

    def wake(self) -> None:
        """Called after a commit that wrote events, so they leave without waiting a poll."""
        self._wakeup.set()

    async def start(self) -> None:
        # Without Kafka the service still takes work into its outbox: the relay connects
        # when it has something to send, and the backlog metric shows the wait.
        try:
            await self._fresh_producer()
        except (KafkaError, OSError) as error:
            log.warning("%s outbox relay: Kafka not reachable at start (%s); events wait in "
                        "the outbox", self._service, type(error).__name__)
        self._task = asyncio.create_task(self.run(), name=f"{self._service}-outbox-relay")

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        next_prune = next_metrics = loop.time()
        failures = 0
        while not self._stopping:
            self._wakeup.clear()  # before relaying: a wake-up during the batch is not lost
            done = await self._guarded("relaying", self.relay_round)
            if loop.time() >= next_metrics:
                await self._guarded("refreshing metrics", self.refresh_metrics)
                next_metrics = loop.time() + METRICS_INTERVAL_SECONDS
            if loop.time() >= next_prune:
                await self._guarded("pruning", self.prune)
                next_prune = loop.time() + PRUNE_INTERVAL_SECONDS
            failures = failures + 1 if done is None or done.failed else 0
            if done is not None and done.more and not done.failed:
                continue
            # A growing pause while the database or the broker is away: no tight loop.
            pause = min(self._poll_seconds * 2 ** min(failures, 10), MAX_BACKOFF_SECONDS)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), pause)

    async def _guarded(self, what: str, step: Callable[[], Awaitable[Any]]) -> Any:
        try:
            return await step()
        except Exception as error:  # noqa: BLE001 - keep relaying after broker or DB hiccups
            # The error's kind only: a database error's text can quote the row's values.
            log.warning("%s outbox relay: %s failed (%s); retrying", self._service, what,
                        type(error).__name__)
            return None

    async def stop(self) -> None:
        """Flush what is committed, then stop."""
        self._stopping = True
        self._wakeup.set()
        if self._task:
            await self._task
        if self.producer:
            try:
                while await self._guarded("flushing", self.relay_once):
                    pass
            finally:
                await self.producer.stop()

    async def _fresh_producer(self) -> None:
        # aiokafka producers must be created inside the running event loop.
        if self.producer is not None:
            with contextlib.suppress(Exception):
                await self.producer.stop()
            self.producer = None
        producer = self._producer_factory(self._bootstrap_servers,
                                          f"loket-{self._service}-relay")
        try:
            await producer.start()
        except BaseException:
            with contextlib.suppress(Exception):
                await producer.stop()
            raise
        self.producer = producer
        self._renew_producer = False

    async def relay_once(self) -> int:
        """One batch; returns the rows settled (published or parked)."""
        return (await self.relay_round()).settled

    async def relay_round(self) -> Round:
        async with self._session_factory() as session, session.begin():
            locked = await session.scalar(select(func.pg_try_advisory_xact_lock(RELAY_LOCK_ID)))
            if not locked:
                return Round()
            rows = (
                await session.execute(
                    select(OutboxMessage)
                    .where(*UNPUBLISHED)
                    .order_by(col(OutboxMessage.id))
                    .limit(self._batch_size)
                )
            ).scalars().all()
            if not rows:
                return Round()
            if self._renew_producer or self.producer is None:
                await self._fresh_producer()
            done, parked = await self._publish(rows)
            now = utcnow()
            if done.published:
                await session.execute(
                    update(OutboxMessage)
                    .where(col(OutboxMessage.id).in_([row.id for row in rows[:done.published]]))
                    .values(published_at=now)
                )
            for row, reason in parked:
                await session.execute(
                    update(OutboxMessage)
                    .where(col(OutboxMessage.id) == row.id)
                    .values(parked_at=now, park_reason=reason)
                )
        PUBLISHED.labels(self._service).inc(done.published)
        for row, reason in parked:
            log.error("%s parked outbox row %s (event %s, topic %s): %s",
                      self._service, row.id, row.event_id, row.topic, reason)
            self._count_parked_after = 0.0
        return done

    async def _publish(
        self, rows: Sequence[OutboxMessage]
    ) -> tuple[Round, list[tuple[OutboxMessage, str]]]:
        """Sends the rows in order. Returns the round (its `published` rows are a prefix of
        `rows`) and the rows to park, with their reasons."""
        acknowledged, error, delivered = await self._send_in_order(rows)
        done = Round(published=acknowledged)
        if error is None:
            done.more = len(rows) == self._batch_size
            return done, []
        self._renew_producer = delivered
        failed_row = rows[acknowledged]
        if refused_record(error):
            # Its batch may have failed for another record's sake: one more try on its own.
            error = await self._send_alone(failed_row)
            if error is None:
                done.published += 1
                done.more = True
                return done, []
            if refused_record(error):
                done.parked = 1
                done.more = True
                return done, [(failed_row, park_reason(failed_row, error))]
        log.warning("%s outbox relay: %s publishing event %s; %d rows wait for the next round",
                    self._service, type(error).__name__, failed_row.event_id,
                    len(rows) - acknowledged)
        done.failed = True
        return done, []

    async def _send_in_order(
        self, rows: Sequence[OutboxMessage]
    ) -> tuple[int, BaseException | None, bool]:
        """(how many leading rows were acknowledged, the first failure or None, whether
        that failure came back from the broker rather than from `send` itself)."""
        deliveries: list[asyncio.Future[Any]] = []
        refused: BaseException | None = None
        for row in rows:
            try:
                deliveries.append(await self._send(row))
            except Exception as error:  # noqa: BLE001 - classified by the caller
                refused = error
                break
        results = await asyncio.gather(*deliveries, return_exceptions=True)
        for position, result in enumerate(results):
            if isinstance(result, BaseException):
                return position, result, True
        return len(results), refused, False

    async def _send_alone(self, row: OutboxMessage) -> BaseException | None:
        try:
            if self._renew_producer:
                await self._fresh_producer()
            delivery = await self._send(row)
        except Exception as error:  # noqa: BLE001 - classified by the caller
            return error
        try:
            await delivery
        except Exception as error:  # noqa: BLE001 - classified by the caller
            self._renew_producer = True
            return error
        return None

    async def _send(self, row: OutboxMessage) -> asyncio.Future[Any]:
        assert self.producer is not None, "start() the relay first"
        delivery: asyncio.Future[Any] = await self.producer.send(
            f"{self._topic_prefix}{row.topic}",
            value=row.value,
            key=row.key,
            headers=[(name, value.encode()) for name, value in row.headers],
        )
        return delivery

    async def refresh_metrics(self) -> None:
        """Backlog and age of the oldest waiting row (on the partial index of unpublished
        rows); parked rows now and then. Every instance reports the same database."""
        async with self._session_factory() as session:
            waiting = await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(*UNPUBLISHED))
            oldest = await session.scalar(
                select(col(OutboxMessage.created_at)).where(*UNPUBLISHED)
                .order_by(col(OutboxMessage.id)).limit(1))
            now = asyncio.get_running_loop().time()
            if now >= self._count_parked_after:
                parked = await session.scalar(
                    select(func.count()).select_from(OutboxMessage).where(
                        col(OutboxMessage.published_at).is_(None),
                        col(OutboxMessage.parked_at).is_not(None)))
                PARKED.labels(self._service).set(parked or 0)
                self._count_parked_after = now + PARKED_COUNT_INTERVAL_SECONDS
        BACKLOG.labels(self._service).set(waiting or 0)
        age = (utcnow() - oldest).total_seconds() if oldest else 0.0
        OLDEST_AGE.labels(self._service).set(max(age, 0.0))

    async def prune(self) -> None:
        await self.prune_published()
        await self.prune_answers()

    async def prune_published(self) -> int:
        """Published rows are kept a while for inspection, then deleted. Parked rows stay
        until an operator deals with them."""
        async with self._session_factory() as session, session.begin():
            result = await session.execute(
                delete(OutboxMessage).where(
                    col(OutboxMessage.published_at) < utcnow() - KEEP_PUBLISHED
                )
            )
        return int(getattr(result, "rowcount", 0) or 0)

    async def prune_answers(self) -> int:
        """Answers to idempotent POSTs expire after a day (loketkit.uow.ANSWER_TTL)."""
        async with self._session_factory() as session, session.begin():
            return await SqlAnswerStore(session).prune(utcnow())
