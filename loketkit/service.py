"""The runtime every service shares, and the one function that assembles it.

A service's `bootstrap` calls `assemble` with what is its own (settings, handler
maps, input topics, SQL unit of work, routers) and passes on what a test may
replace (unit-of-work factory, dead-letter sink, clock, id factory). With a
unit-of-work factory given, nothing touches PostgreSQL or Kafka: the same app,
handlers and consumer run over fakes.

The lifespan runs the migrations, the Kafka subscriber, the outbox relay and the
periodic jobs, and stops them in an order that loses nothing: jobs first (a run
in progress finishes), then consumers (in-flight messages finish and commit),
then the relay flushes what was committed, then the database pool closes.

Jobs (`jobs={"deadlines": fire_due_deadlines}`) are async functions whose first
parameter is `uow`: each run gets a fresh unit of work, enters and commits it
itself, and returns how much it did. Other parameters are injected by name like
a handler's. Every service also runs the "mail" job (loketkit.mail). Tests run a
job on demand: `await app.state.jobs["deadlines"]()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from fastapi import APIRouter, FastAPI
from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from contracts.topics import TopicPattern, TopicSpec
from loketkit import migrations
from loketkit.audit import audit_router
from loketkit.auth import verifier_from_settings
from loketkit.bus import AnyHandler, CommandBus, inject, inject_all
from loketkit.calendar import load_public_holidays
from loketkit.consumer import DeadLetterSink, EventConsumer
from loketkit.db import database_reachable, make_engine, make_session_factory
from loketkit.http import install_common_routes, install_error_handling
from loketkit.ids import Clock, IdFactory, new_id, utcnow
from loketkit.kafka import KafkaDeadLetters, make_broker, subscribe
from loketkit.kafka_security import KafkaSecurity
from loketkit.lag import ConsumerLagMonitor, subscribed_groups
from loketkit.logs import describe_error
from loketkit.mail import SmtpMailer, send_notices
from loketkit.relay import OutboxRelay
from loketkit.settings import ServiceSettings
from loketkit.web.pages import Pages, install_web

log = logging.getLogger(__name__)

S = TypeVar("S", bound=ServiceSettings)
U = TypeVar("U")


@dataclass
class Infrastructure:
    """Connections of one service process, built from its settings."""

    settings: ServiceSettings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    broker: KafkaBroker
    relay: OutboxRelay
    lag: ConsumerLagMonitor

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> Infrastructure:
        engine = make_engine(settings.database_url)
        session_factory = make_session_factory(engine)
        security = KafkaSecurity.from_settings(settings)  # this service's own principal
        relay = OutboxRelay(
            session_factory,
            settings.kafka_bootstrap_servers,
            settings.service_name,
            settings.outbox_poll_seconds,
            settings.outbox_batch_size,
            settings.kafka_topic_prefix,
            security=security,
        )
        broker = make_broker(settings.kafka_bootstrap_servers, settings.service_name, security,
                             settings.kafka_metadata_max_age_ms)
        lag = ConsumerLagMonitor(
            settings.kafka_bootstrap_servers,
            settings.service_name,
            lambda: subscribed_groups(broker),
            settings.consumer_lag_interval_seconds,
            security=security,
        )
        return cls(settings, engine, session_factory, broker, relay, lag)

    def dead_letters(self) -> KafkaDeadLetters:
        return KafkaDeadLetters(self.broker, self.settings.kafka_topic_prefix)

    async def readiness(self) -> dict[str, bool]:
        # Only what the service needs to accept work. A broker outage is not "not
        # ready": requests still go into the outbox; metrics and alerts show it.
        return {"database": await database_reachable(self.engine)}

    @asynccontextmanager
    async def running(self, migrations_dir: Path) -> AsyncIterator[None]:
        settings = self.settings
        if settings.run_migrations:
            await migrations.upgrade(settings.database_url, migrations_dir)
        await self.relay.start()
        await self.broker.start()
        await self.lag.start()
        log.info("%s started on port %d", settings.service_name, settings.http_port)
        try:
            yield
        finally:
            await self.lag.stop()
            await self.broker.stop()
            await self.relay.stop()
            await self.engine.dispose()
            log.info("%s stopped cleanly", settings.service_name)


@dataclass(frozen=True)
class ServiceContext(Generic[S, U]):
    """What routes get (via `Depends(app_context)`): settings, the command bus,
    units of work for reads, and the clock handlers get."""

    settings: S
    bus: CommandBus
    uow: Callable[[], U]
    clock: Clock = utcnow


Job = Callable[[], Awaitable[int]]


class JobRunner:
    """Runs each job every `interval` seconds, each in its own task, until stopped.
    A failing run logs one line (the error's type) and the next run comes as usual."""

    def __init__(self, jobs: Mapping[str, Job], interval: float, service: str) -> None:
        self._jobs = dict(jobs)
        self._interval = interval
        self._service = service
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._stopping.clear()
        self._tasks = [
            asyncio.create_task(self._loop(name, job), name=f"job-{name}")
            for name, job in self._jobs.items()
        ]

    async def stop(self, grace_seconds: float = 10.0) -> None:
        self._stopping.set()
        if not self._tasks:
            return
        _, late = await asyncio.wait(self._tasks, timeout=grace_seconds)
        for task in late:
            task.cancel()
        for task in late:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _loop(self, name: str, job: Job) -> None:
        while not self._stopping.is_set():
            await run_job_once(name, job)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._interval)


async def run_job_once(name: str, job: Job) -> int:
    try:
        return await job()
    except Exception as error:  # noqa: BLE001 - a job's failure must not end the loop
        log.error("job %s failed: %s", name, describe_error(error))
        return 0


SqlUnitOfWorkFactory = Callable[[async_sessionmaker[AsyncSession], Callable[[], None]], Any]


def assemble(
    settings: S,
    *,
    title: str,
    description: str,
    migrations_dir: Path,
    sql_uow: SqlUnitOfWorkFactory,
    command_handlers: Mapping[type, AnyHandler],
    event_handlers: Mapping[type, AnyHandler],
    event_batch_handlers: Mapping[type, AnyHandler] | None = None,
    event_read_ahead: AnyHandler | None = None,
    input_topics: Sequence[TopicSpec | TopicPattern],
    routers: Sequence[APIRouter],
    dependencies: Mapping[str, object] | None = None,
    uow_factory: Callable[[], Any] | None = None,
    dead_letters: DeadLetterSink | None = None,
    clock: Clock = utcnow,
    id_factory: IdFactory = new_id,
    jobs: Mapping[str, AnyHandler] | None = None,
    body_limits: Mapping[str, int] | None = None,
    pages: Pages | None = None,
) -> FastAPI:
    """The service's app. `sql_uow(session_factory, on_commit)` builds its SQL unit of
    work; `event_read_ahead` reads ahead for a batch of events (loketkit.consumer);
    `dependencies` are injected into handlers and jobs by parameter name, besides
    `clock`, `new_id`, `settings` and `mailer`. `jobs` run periodically (see above).
    `body_limits` raise the request-body cap for the paths that take files. Bearer
    tokens are checked by `app.state.verifier`: the settings' OpenID Connect issuer (a
    test puts its own in its place)."""
    infra = None if uow_factory else Infrastructure.from_settings(settings)
    if infra is not None:
        session_factory, wake = infra.session_factory, infra.relay.wake
        uow_factory = lambda: sql_uow(session_factory, wake)  # noqa: E731
    assert uow_factory is not None
    injected = {"clock": clock, "new_id": id_factory, "settings": settings,
                "mailer": SmtpMailer(settings), **(dependencies or {})}
    job_functions = {"mail": send_notices, **(jobs or {})}
    made = uow_factory

    def bind(job: AnyHandler) -> Job:
        injected_job = inject(job, injected)

        async def run() -> int:
            return int(await injected_job(made()))

        return run

    runnable_jobs = {name: bind(job) for name, job in job_functions.items()}
    runner = JobRunner(runnable_jobs, settings.jobs_interval_seconds, settings.service_name)
    sink = dead_letters or (infra.dead_letters() if infra else None)
    assert sink is not None, "give a dead-letter sink when running without Kafka"
    consumer = EventConsumer(
        settings.service_name,
        inject_all(event_handlers, injected),
        uow_factory,
        sink,
        max_attempts=settings.handler_max_attempts,
        backoff_seconds=settings.handler_backoff_seconds,
        dead_letter_attempts=settings.dead_letter_attempts,
        batch_handlers=inject_all(event_batch_handlers or {}, injected),
        read_ahead=inject(event_read_ahead, injected) if event_read_ahead else None,
    )
    if infra is not None and input_topics:
        subscribe(infra.broker, input_topics, consumer, settings.consumer_group,
                  settings.kafka_topic_prefix,
                  redelivery_first_seconds=settings.redelivery_first_seconds,
                  redelivery_max_seconds=settings.redelivery_max_seconds,
                  max_records=settings.consumer_batch_max_records,
                  batch_timeout_ms=settings.consumer_batch_timeout_ms)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if infra is None:
            yield
            return
        load_public_holidays(clock().date())
        async with infra.running(migrations_dir):
            if settings.run_jobs:
                await runner.start()
            try:
                yield
            finally:
                await runner.stop()

    async def no_infrastructure() -> dict[str, bool]:
        return {}

    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan)
    install_common_routes(app, settings.service_name,
                          infra.readiness if infra else no_infrastructure)
    install_error_handling(app, body_limits)
    app.state.context = ServiceContext(
        settings,
        CommandBus(uow_factory, inject_all(command_handlers, injected),
                   home_area=getattr(settings, "service_area", None)),
        uow_factory, clock,
    )
    app.state.verifier = verifier_from_settings(
        settings.oidc_issuer, settings.oidc_audience, settings.oidc_discovery_url)
    app.state.jobs = runnable_jobs
    app.state.job_runner = runner
    app.state.uow_factory = uow_factory
    app.state.consumer = consumer
    app.state.infra = infra
    for router in (*routers, audit_router()):
        app.include_router(router)
    if pages is not None:
        install_web(app, settings, pages)
    return app
