"""The runtime every service shares: one FastAPI app whose lifespan runs the
migrations, the Kafka subscribers and the outbox relay, and stops them in an
order that loses nothing: consumers first (in-flight messages finish and
commit), then the relay flushes what was committed, then the database.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from contracts.topics import TopicSpec
from loketkit import migrations
from loketkit.consumer import EventConsumer, Handler
from loketkit.db import database_reachable, make_engine, make_session_factory
from loketkit.http import install_common_routes
from loketkit.kafka import KafkaDeadLetters, make_broker, subscribe
from loketkit.relay import OutboxRelay
from loketkit.settings import ServiceSettings
from loketkit.uow import UnitOfWork

log = logging.getLogger(__name__)


@dataclass
class Infrastructure:
    """Connections of one service process, built from its settings."""

    settings: ServiceSettings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    broker: KafkaBroker
    relay: OutboxRelay

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> Infrastructure:
        engine = make_engine(settings.database_url)
        session_factory = make_session_factory(engine)
        relay = OutboxRelay(
            session_factory,
            settings.kafka_bootstrap_servers,
            settings.service_name,
            settings.outbox_poll_seconds,
            settings.outbox_batch_size,
            settings.kafka_topic_prefix,
        )
        broker = make_broker(settings.kafka_bootstrap_servers, settings.service_name)
        return cls(settings, engine, session_factory, broker, relay)

    def consume(
        self,
        topics: list[TopicSpec],
        handlers: dict[type, Handler],
        uow_factory: Callable[[], UnitOfWork],
    ) -> None:
        consumer = EventConsumer(
            self.settings.service_name,
            handlers,
            uow_factory,
            KafkaDeadLetters(self.broker, self.settings.kafka_topic_prefix),
            max_attempts=self.settings.handler_max_attempts,
            backoff_seconds=self.settings.handler_backoff_seconds,
            after_commit=self.relay.wake,
        )
        subscribe(self.broker, topics, consumer, self.settings.consumer_group,
                  self.settings.kafka_topic_prefix)

    async def readiness(self) -> dict[str, bool]:
        try:
            broker_ok = await self.broker.ping(timeout=2.0)
        except Exception:  # noqa: BLE001 - any failure means not ready
            broker_ok = False
        return {"database": await database_reachable(self.engine), "kafka": bool(broker_ok)}


def create_app(
    infra: Infrastructure, migrations_dir: Path, title: str, description: str
) -> FastAPI:
    settings = infra.settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.run_migrations:
            await migrations.upgrade(settings.database_url, migrations_dir)
        await infra.relay.start()
        await infra.broker.start()
        log.info("%s started on port %d", settings.service_name, settings.http_port)
        try:
            yield
        finally:
            await infra.broker.stop()
            await infra.relay.stop()
            await infra.engine.dispose()
            log.info("%s stopped cleanly", settings.service_name)

    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan)
    install_common_routes(app, settings.service_name, infra.readiness)
    return app
