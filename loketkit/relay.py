"""The outbox relay: publishes committed events, then marks them published.

It sends a batch in order (one partition keeps its order because the producer
is idempotent), waits for every acknowledgement (acks=all), and only then
marks the rows. A crash between the two re-sends the batch: delivery is
at-least-once and consumers drop repeats by event id. A transaction-scoped
advisory lock lets only one instance of a service relay at a time, so events
leave in the order they were committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from aiokafka import AIOKafkaProducer
from prometheus_client import Counter, Gauge
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from loketkit.db import OutboxMessage
from loketkit.ids import utcnow

log = logging.getLogger(__name__)

KEEP_PUBLISHED = timedelta(days=7)
PRUNE_INTERVAL_SECONDS = 600
RELAY_LOCK_ID = 7_140_001  # any constant; one per database, and each service has its own
PUBLISHED = Counter("loket_outbox_published", "Events published from the outbox", ["service"])
PENDING = Gauge("loket_outbox_batch_size", "Events in the last relayed batch", ["service"])


def make_producer(bootstrap_servers: str, client_id: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
    )


class OutboxRelay:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        bootstrap_servers: str,
        service: str,
        poll_seconds: float = 0.2,
        batch_size: int = 500,
        topic_prefix: str = "",
    ) -> None:
        self._session_factory = session_factory
        self._bootstrap_servers = bootstrap_servers
        self._topic_prefix = topic_prefix
        self.producer: AIOKafkaProducer | None = None
        self._task: asyncio.Task[None] | None = None
        self._service = service
        self._poll_seconds = poll_seconds
        self._batch_size = batch_size
        self._wakeup = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        """Called after a commit that wrote events, so they leave without waiting a poll."""
        self._wakeup.set()

    async def start(self) -> None:
        # aiokafka producers must be created inside the running event loop.
        self.producer = make_producer(self._bootstrap_servers, f"loket-{self._service}-relay")
        await self.producer.start()
        self._task = asyncio.create_task(self.run(), name=f"{self._service}-outbox-relay")

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        next_prune = loop.time()
        while not self._stopping:
            self._wakeup.clear()  # before relaying: a wake-up during the batch is not lost
            try:
                sent = await self.relay_once()
                if loop.time() >= next_prune:
                    await self.prune_published()
                    next_prune = loop.time() + PRUNE_INTERVAL_SECONDS
            except Exception:  # noqa: BLE001 - keep relaying after broker or DB hiccups
                log.exception("outbox relay failed; retrying")
                sent = 0
            if sent < self._batch_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), self._poll_seconds)

    async def prune_published(self) -> int:
        """Published rows are kept a while for inspection, then deleted."""
        async with self._session_factory() as session, session.begin():
            result = await session.execute(
                delete(OutboxMessage).where(
                    col(OutboxMessage.published_at) < utcnow() - KEEP_PUBLISHED
                )
            )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def stop(self) -> None:
        """Flush what is committed, then stop."""
        self._stopping = True
        self._wakeup.set()
        if self._task:
            await self._task
        if self.producer:
            while await self.relay_once():
                pass
            await self.producer.stop()

    async def relay_once(self) -> int:
        async with self._session_factory() as session, session.begin():
            locked = await session.scalar(select(func.pg_try_advisory_xact_lock(RELAY_LOCK_ID)))
            if not locked:
                return 0
            assert self.producer is not None, "start() the relay first"
            rows = (
                await session.execute(
                    select(OutboxMessage)
                    .where(col(OutboxMessage.published_at).is_(None))
                    .order_by(col(OutboxMessage.id))
                    .limit(self._batch_size)
                )
            ).scalars().all()
            if not rows:
                return 0
            deliveries = [
                await self.producer.send(
                    f"{self._topic_prefix}{row.topic}",
                    value=row.value,
                    key=row.key,
                    headers=[(name, value.encode()) for name, value in row.headers],
                )
                for row in rows
            ]
            await asyncio.gather(*deliveries)
            await session.execute(
                update(OutboxMessage)
                .where(col(OutboxMessage.id).in_([row.id for row in rows]))
                .values(published_at=utcnow())
            )
        PUBLISHED.labels(self._service).inc(len(rows))
        PENDING.labels(self._service).set(len(rows))
        return len(rows)
