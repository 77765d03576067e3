"""Intake, capacity and matching as one small world, in memory: each service's real app
(its `bootstrap`) over its fake unit of work, one clock they share, and a broker that
carries what each unit of work committed to the services that consume its topic.

The broker keeps one FIFO queue per (consumer, topic), as a Kafka partition keyed by
the service area would: a test chooses which queue to deliver from next, so events
on different topics may arrive in any order while each topic stays in order. Which
topics a service consumes is read from its own `bootstrap` (the `input_topics` it
hands to `loketkit.service.assemble`), so the routing cannot drift from production.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import ModuleType
from typing import Any, TypeVar
from unittest import mock

import httpx
from fastapi import FastAPI

from contracts import BY_TYPE, CloudEvent
from contracts.topics import TopicSpec
from loketkit import service as loketkit_service
from loketkit.testing import FakeUnitOfWork, RecordingDeadLetters, deliver_event
from services.capacity import bootstrap as capacity_bootstrap
from services.capacity.settings import CapacitySettings
from services.intake import bootstrap as intake_bootstrap
from services.intake.settings import IntakeSettings
from services.matching import bootstrap as matching_bootstrap
from services.matching.settings import MatchingSettings
from tests.personas import CAPACITY_USERS, INTAKE_USERS, MATCHING_USERS, signed_in
from tests.unit.capacity.fakes import FakeCapacityUnitOfWork
from tests.unit.intake.fakes import FakeIntakeUnitOfWork
from tests.unit.matching.fakes import FakeMatchingUnitOfWork

T = TypeVar("T")
Queue = tuple[str, str]  # (consumer service, topic)
DRAIN_LIMIT = 5000  # deliveries; a world that never settles is a bug too
USERS = {"intake": INTAKE_USERS, "capacity": CAPACITY_USERS, "matching": MATCHING_USERS}


def topic_of(event: CloudEvent) -> str:
    """The topic an event travels on: its contract class says."""
    return BY_TYPE[event.type].TOPIC.name


@dataclass
class Service:
    """One service: its app, what it committed, its dead letters and its subscriptions."""

    name: str
    app: FastAPI
    uow: FakeUnitOfWork
    dead_letters: RecordingDeadLetters
    topics: frozenset[str]
    client: httpx.AsyncClient
    taken: int = 0  # how many of uow.published the broker has collected


@dataclass
class Delivery:
    consumer: str
    topic: str
    event: CloudEvent
    outcome: str


def counting_ids() -> Callable[[str], str]:
    """Predictable ids (`match-3`); each service uses its own prefixes."""
    numbers = itertools.count(1)
    return lambda prefix: f"{prefix}-{next(numbers)}"


def build(module: ModuleType, uow: FakeUnitOfWork, dead_letters: RecordingDeadLetters,
          settings: Any, clock: Callable[[], datetime]
          ) -> tuple[FastAPI, frozenset[str]]:
    """The service's app from its own bootstrap, and the topics that bootstrap subscribes."""
    seen: list[Sequence[TopicSpec]] = []
    real = loketkit_service.assemble

    def recording(*args: Any, **kwargs: Any) -> FastAPI:
        seen.append(kwargs["input_topics"])
        return real(*args, **kwargs)

    with mock.patch.object(module, "assemble", recording):
        app = module.bootstrap(settings, uow_factory=lambda: uow, dead_letters=dead_letters,
                               clock=clock, id_factory=counting_ids())
    assert isinstance(app, FastAPI) and len(seen) == 1
    return app, frozenset(topic.name for topic in seen[0])


@dataclass
class World:
    now: datetime
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    intake_uow: FakeIntakeUnitOfWork = field(default_factory=FakeIntakeUnitOfWork)
    capacity_uow: FakeCapacityUnitOfWork = field(default_factory=FakeCapacityUnitOfWork)
    matching_uow: FakeMatchingUnitOfWork = field(default_factory=FakeMatchingUnitOfWork)
    queues: dict[Queue, deque[CloudEvent]] = field(default_factory=dict)
    delivered: list[Delivery] = field(default_factory=list)
    services: dict[str, Service] = field(default_factory=dict)

    def __post_init__(self) -> None:
        made = (
            ("intake", intake_bootstrap, self.intake_uow, IntakeSettings(
                handler_backoff_seconds=0)),
            ("capacity", capacity_bootstrap, self.capacity_uow, CapacitySettings(
                handler_backoff_seconds=0)),
            ("matching", matching_bootstrap, self.matching_uow, MatchingSettings(
                handler_backoff_seconds=0)),
        )
        for name, module, uow, settings in made:
            dead_letters = RecordingDeadLetters()
            app, topics = build(module, uow, dead_letters, settings, self.clock)
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                       base_url=f"http://{name}",
                                       auth=signed_in(app, USERS[name]))
            self.services[name] = Service(name, app, uow, dead_letters, topics, client)

    def clock(self) -> datetime:
        return self.now

    def run(self, step: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(step)

    def close(self) -> None:
        for one in self.services.values():
            self.run(one.client.aclose())
        self.loop.close()

    # --- commands and jobs ---------------------------------------------------------

    def http(self, service: str, method: str, path: str,
             body: dict[str, Any] | None = None) -> httpx.Response:
        """One call to a service's HTTP API; what it committed goes to the broker."""
        response = self.run(self.services[service].client.request(method, path, json=body))
        self.collect()
        return response

    def run_jobs(self) -> None:
        """One tick of the jobs that move offers and requests on (not "mail": no SMTP)."""
        for service, job in (("matching", "deadlines"), ("intake", "confirmations")):
            self.run(self.services[service].app.state.jobs[job]())
        self.collect()

    # --- the broker ----------------------------------------------------------------

    def collect(self) -> None:
        """Queue what each service committed since the last look, per subscriber."""
        for producer in self.services.values():
            fresh = producer.uow.published[producer.taken:]
            producer.taken = len(producer.uow.published)
            for event in fresh:
                topic = topic_of(event)
                for consumer in self.services.values():
                    if topic in consumer.topics:
                        self.queues.setdefault((consumer.name, topic), deque()).append(event)

    def pending(self) -> list[Queue]:
        return sorted(key for key, queue in self.queues.items() if queue)

    def deliver_one(self, key: Queue) -> Delivery:
        """The head of one queue to its consumer, through the app's real consumer."""
        consumer, topic = key
        event = self.queues[key].popleft()
        outcome = self.run(deliver_event(self.services[consumer].app.state.consumer, event))
        delivery = Delivery(consumer, topic, event, outcome)
        self.delivered.append(delivery)
        self.collect()
        return delivery

    def deliver_again(self, index: int) -> str:
        """At least once: an event delivered before comes again."""
        earlier = self.delivered[index]
        outcome = self.run(deliver_event(self.services[earlier.consumer].app.state.consumer,
                                         earlier.event))
        self.collect()
        return outcome

    def drain(self) -> None:
        """Deliver until every queue is empty, taking the queues in turn."""
        for _ in range(DRAIN_LIMIT):
            pending = self.pending()
            if not pending:
                return
            for key in pending:
                self.deliver_one(key)
        raise AssertionError(f"the world did not settle after {DRAIN_LIMIT} deliveries: "
                             f"still pending {self.pending()}")

    def dead_letters(self) -> dict[str, list[dict[str, str]]]:
        return {name: [letter.headers for letter in one.dead_letters.sent]
                for name, one in self.services.items() if one.dead_letters.sent}

    def published(self, service: str) -> list[CloudEvent]:
        return list(self.services[service].uow.published)
