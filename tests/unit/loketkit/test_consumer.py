"""The consumer over fakes: identity, transient failures, dead letters, batches."""

from __future__ import annotations

from datetime import UTC, date, datetime

import asyncpg
import pytest
from prometheus_client import REGISTRY

from contracts import CloudEvent, EventData, new_event, to_kafka
from contracts.events import EnrolmentEnded, PlaceFreed, PlaceWithdrawn
from contracts.schedule import DAY_PARTS
from loketkit.consumer import (
    MAX_DEAD_LETTER_BYTES,
    Delivered,
    EventConsumer,
    Incoming,
    Origin,
    RejectedEvent,
)
from loketkit.testing import FakeUnitOfWork, RecordingDeadLetters, deliver_event, deliver_raw
from tests.unit.loketkit.test_transient import database_error


def place(place_id: str = "p-1") -> PlaceFreed:
    return PlaceFreed(service_area="kempen-gml", place_id=place_id, location_id="loc-1",
                      municipality_nis="13008", available_from=date(2027, 1, 4),
                      min_age_months=0, max_age_months=36, freed_at=datetime.now(UTC),
                      day_parts=["mon_am", "mon_pm"])


def event(place_id: str = "p-1", source: str = "/test", event_id: str | None = None
          ) -> CloudEvent:
    made = new_event(place(place_id), source=source)
    return made.model_copy(update={"id": event_id}) if event_id else made


def incoming(made: CloudEvent, offset: int = 0) -> Incoming:
    key, value, headers = to_kafka(made)
    return Incoming(value, headers, Origin("t", 0, offset, key))


class Recorder:
    """A handler that records the places it saw and fails on demand."""

    def __init__(self, fail_on: dict[str, Exception] | None = None, times: int = 1_000) -> None:
        self.seen: list[str] = []
        self.fail_on = fail_on or {}
        self.times = times

    async def __call__(self, event: CloudEvent, data: PlaceFreed, uow: FakeUnitOfWork) -> None:
        failure = self.fail_on.get(data.place_id)
        if failure is not None and self.times > 0:
            self.times -= 1
            raise failure
        self.seen.append(data.place_id)


def consumer_with(handler: Recorder, uow: FakeUnitOfWork, sink: object | None = None,
                  service: str = "unit") -> tuple[EventConsumer, RecordingDeadLetters]:
    letters = RecordingDeadLetters()
    consumer = EventConsumer(service, {PlaceFreed: handler}, lambda: uow,
                             sink or letters,  # type: ignore[arg-type]
                             backoff_seconds=0, dead_letter_backoff_seconds=0)
    return consumer, letters


def counted(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# Part 2 point 5: CloudEvents identity is source + id.

async def test_same_id_from_two_sources_is_two_events_and_a_repeat_is_one() -> None:
    handler, uow = Recorder(), FakeUnitOfWork()
    consumer, _ = consumer_with(handler, uow)
    first = event("p-a", source="/organiser/a", event_id="1")
    other = event("p-b", source="/organiser/b", event_id="1")
    outcomes = [await deliver_event(consumer, e) for e in (first, other, first)]
    assert outcomes == ["applied", "applied", "duplicate"]
    assert handler.seen == ["p-a", "p-b"]
    assert uow.applied == {("/organiser/a", "1"), ("/organiser/b", "1")}


# Part 2 point 1: a database outage is never dead-lettered.

@pytest.mark.parametrize("kind", [asyncpg.exceptions.CannotConnectNowError,
                                  asyncpg.exceptions.TooManyConnectionsError,
                                  asyncpg.exceptions.ConnectionFailureError])
async def test_a_database_outage_is_raised_for_redelivery_not_dead_lettered(
    kind: type[Exception],
) -> None:
    handler = Recorder({"p-1": database_error(kind)})
    uow = FakeUnitOfWork()
    consumer, letters = consumer_with(handler, uow)
    made = event("p-1")
    with pytest.raises(Exception) as raised:
        await deliver_event(consumer, made)
    assert raised.value is handler.fail_on["p-1"]
    assert letters.sent == []
    assert uow.applied == set()


# Point 6: what is dead-lettered, with which headers.

async def test_malformed_unknown_rejected_and_failing_events_are_dead_lettered_by_kind() -> None:
    handler = Recorder({"p-rejected": RejectedEvent("field 'location_id': unknown location"),
                        "p-bug": ZeroDivisionError("division by zero")})
    consumer, letters = consumer_with(handler, FakeUnitOfWork(), service="unit-kinds")
    before = {kind: counted("loket_dead_letters_total", service="unit-kinds", topic="test-topic",
                            reason=kind)
              for kind in ("malformed", "unknown_type", "rejected", "handler_failed")}
    assert await deliver_raw(consumer, b"{broken", [("ce_specversion", b"1.0")]) \
        == "dead-lettered"
    unknown = event()
    key, value, headers = to_kafka(unknown)
    headers = [(n, b"NoSuchEvent.v1" if n == "ce_type" else v) for n, v in headers]
    assert await deliver_raw(consumer, value, headers, key) == "dead-lettered"
    assert await deliver_event(consumer, event("p-rejected")) == "dead-lettered"
    assert await deliver_event(consumer, event("p-bug")) == "dead-lettered"

    kinds = [letter.headers["dlq_reason_kind"] for letter in letters.sent]
    assert kinds == ["malformed", "unknown_type", "rejected", "handler_failed"]
    rejected, bug = letters.sent[2].headers, letters.sent[3].headers
    assert rejected["dlq_attempts"] == "1", "a rejection is not retried"
    assert bug["dlq_attempts"] == "3" and bug["dlq_error_type"] == "ZeroDivisionError"
    assert bug["dlq_reason"] == "ZeroDivisionError in handler", "no exception text"
    for letter in letters.sent:
        assert {"dlq_service", "dlq_original_topic", "dlq_original_partition",
                "dlq_original_offset"} <= set(letter.headers)
        assert letter.headers["dlq_service"] == "unit-kinds"
    for kind, was in before.items():
        assert counted("loket_dead_letters_total", service="unit-kinds", topic="test-topic",
                       reason=kind) == was + 1


# Part 2 point 6: the dead-letter path cannot stall a partition.

class FlakySink(RecordingDeadLetters):
    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures
        self.attempts = 0

    async def send(self, value: bytes | None, key: bytes | None, headers: dict[str, str]) -> None:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise OSError("broker hiccup")
        await super().send(value, key, headers)


async def test_a_dead_letter_publish_that_fails_briefly_is_retried() -> None:
    sink = FlakySink(failures=2)
    consumer, _ = consumer_with(Recorder(), FakeUnitOfWork(), sink)
    assert await deliver_raw(consumer, b"{broken", []) == "dead-lettered"
    assert sink.attempts == 3 and len(sink.sent) == 1


async def test_a_dead_letter_topic_that_keeps_refusing_is_logged_counted_and_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink = FlakySink(failures=1_000)
    consumer, _ = consumer_with(Recorder(), FakeUnitOfWork(), sink, service="unit-stuck")
    before = counted("loket_dead_letter_failures_total", service="unit-stuck",
                     topic="test-topic", reason="malformed")
    outcome = await deliver_raw(consumer, b"{secret-value", [])
    assert outcome == "dead-letter-failed", "the partition moves on (the offset is committed)"
    assert sink.attempts == 5
    assert counted("loket_dead_letter_failures_total", service="unit-stuck",
                   topic="test-topic", reason="malformed") == before + 1
    assert "OSError" in caplog.text and "secret-value" not in caplog.text


async def test_what_is_copied_into_a_dead_letter_is_bounded() -> None:
    consumer, letters = consumer_with(Recorder(), FakeUnitOfWork())
    many = [(f"x-{n}", b"v" * 5_000) for n in range(100)]
    huge = b"{" + b"x" * 2 * MAX_DEAD_LETTER_BYTES
    assert await deliver_raw(consumer, huge, many) == "dead-lettered"
    [letter] = letters.sent
    assert letter.value is None, "too large for the broker: left out, not retried forever"
    assert letter.headers["dlq_value_omitted"] == "true"
    copied = [name for name in letter.headers if name.startswith("x-")]
    assert 0 < len(copied) <= 32
    assert all(len(letter.headers[name]) <= 1024 for name in copied)
    assert letter.headers["dlq_original_offset"].isdigit()


async def test_a_small_dead_letter_keeps_its_value() -> None:
    consumer, letters = consumer_with(Recorder(), FakeUnitOfWork())
    await deliver_raw(consumer, b"{broken", [("ce_specversion", b"1.0")])
    assert letters.sent[0].value == b"{broken"
    assert "dlq_value_omitted" not in letters.sent[0].headers
    assert letters.sent[0].headers["ce_specversion"] == "1.0"


# Part 1 point 3: several events in one unit of work.

async def test_a_batch_is_applied_in_one_transaction_skipping_repeats() -> None:
    handler, uow = Recorder(), FakeUnitOfWork()
    consumer, letters = consumer_with(handler, uow, service="batching")
    old = event("p-old")
    await deliver_event(consumer, old)
    commits = uow.commits
    a, b = event("p-a"), event("p-b")
    outcomes = await consumer.consume_batch(
        [incoming(a, 1), incoming(old, 2), incoming(b, 3), incoming(a, 4),
         Incoming(b"{broken", [], Origin("t", 0, 5, None))])
    assert outcomes == ["applied", "duplicate", "applied", "duplicate", "dead-lettered"]
    assert uow.commits == commits + 1, "one transaction for the batch"
    assert counted("loket_consumer_batch_messages_sum", service="batching") == 5
    assert handler.seen == ["p-old", "p-a", "p-b"]
    assert {("/test", a.id), ("/test", b.id)} <= uow.applied
    assert len(letters.sent) == 1


async def test_a_failing_event_rolls_the_batch_back_and_only_it_is_dead_lettered() -> None:
    handler = Recorder({"p-bad": ValueError("bug")})
    uow = FakeUnitOfWork()
    consumer, letters = consumer_with(handler, uow)
    good, bad, later = event("p-good"), event("p-bad"), event("p-later")
    outcomes = await consumer.consume_batch([incoming(good), incoming(bad), incoming(later)])
    assert outcomes == ["applied", "dead-lettered", "applied"]
    assert [letter.headers["dlq_original_offset"] for letter in letters.sent] == ["0"]
    assert uow.applied >= {("/test", good.id), ("/test", later.id)}
    assert ("/test", bad.id) not in uow.applied


async def test_a_transient_failure_in_a_batch_sends_nothing_and_is_raised() -> None:
    outage = database_error(asyncpg.exceptions.CannotConnectNowError)
    handler = Recorder({"p-1": outage})
    uow = FakeUnitOfWork()
    consumer, letters = consumer_with(handler, uow)
    with pytest.raises(Exception) as raised:
        await consumer.consume_batch([
            Incoming(b"{broken", [], Origin("t", 0, 0, None)), incoming(event("p-1"), 1)])
    assert raised.value is outage
    assert letters.sent == [], "dead letters wait until the batch is through"
    assert uow.applied == set()


class RunRecorder:
    """A batch handler that records each run it gets and fails on demand."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.runs: list[list[str]] = []
        self.fail_on = fail_on

    async def __call__(self, run: list[Delivered[PlaceFreed]], uow: FakeUnitOfWork) -> None:
        places = [delivered.data.place_id for delivered in run]
        if self.fail_on in places:
            raise ValueError("bug")
        self.runs.append(places)


def consumer_with_runs(handler: Recorder, runs: RunRecorder, uow: FakeUnitOfWork
                       ) -> tuple[EventConsumer, RecordingDeadLetters]:
    letters = RecordingDeadLetters()
    consumer = EventConsumer("unit", {PlaceFreed: handler}, lambda: uow, letters,
                             backoff_seconds=0, dead_letter_backoff_seconds=0,
                             batch_handlers={PlaceFreed: runs})
    return consumer, letters


async def test_consecutive_events_of_a_type_go_to_its_batch_handler_together() -> None:
    handler, runs, uow = Recorder(), RunRecorder(), FakeUnitOfWork()
    consumer, _ = consumer_with_runs(handler, runs, uow)
    old = event("p-old")
    await deliver_event(consumer, old)
    assert handler.seen == ["p-old"], "a lone event goes to the event handler"
    a, b, c = event("p-a"), event("p-b"), event("p-c")
    outcomes = await consumer.consume_batch(
        [incoming(a, 1), incoming(old, 2), incoming(b, 3), incoming(a, 4), incoming(c, 5)])
    assert outcomes == ["applied", "duplicate", "applied", "duplicate", "applied"]
    assert runs.runs == [["p-a", "p-b", "p-c"]], "repeats are left out of the run"
    assert {("/test", a.id), ("/test", b.id), ("/test", c.id)} <= uow.applied


def withdrawn(place_id: str) -> CloudEvent:
    return new_event(PlaceWithdrawn(service_area="kempen-gml", place_id=place_id,
                                    location_id="loc-1", municipality_nis="13008",
                                    withdrawn_at=datetime.now(UTC)), source="/test")


def ended(enrolment_id: str) -> CloudEvent:
    return new_event(EnrolmentEnded(service_area="kempen-gml", enrolment_id=enrolment_id,
                                    location_id="loc-1", municipality_nis="13008",
                                    ended_on=date(2027, 1, 4), reason="left",
                                    recorded_at=datetime.now(UTC)), source="/test")


async def test_consecutive_events_of_types_that_share_a_batch_handler_go_together() -> None:
    seen: list[str] = []
    runs: list[list[str]] = []

    def named(data: EventData) -> str:
        return f"{data.NAME} {data.subject()}"

    async def one(event: CloudEvent, data: EventData, uow: FakeUnitOfWork) -> None:
        seen.append(named(data))

    async def run(delivered: list[Delivered[EventData]], uow: FakeUnitOfWork) -> None:
        runs.append([named(each.data) for each in delivered])

    consumer = EventConsumer(
        "unit", {PlaceFreed: one, PlaceWithdrawn: one, EnrolmentEnded: one},
        FakeUnitOfWork, RecordingDeadLetters(), backoff_seconds=0,
        batch_handlers={PlaceFreed: run, PlaceWithdrawn: run})
    batch = [event("p-a"), withdrawn("p-b"), event("p-c"), ended("e-x"), event("p-d"),
             event("p-e"), ended("e-y"), withdrawn("p-f")]
    outcomes = await consumer.consume_batch(
        [incoming(made, offset) for offset, made in enumerate(batch)])
    assert outcomes == ["applied"] * len(batch)
    assert runs == [["PlaceFreed p-a", "PlaceWithdrawn p-b", "PlaceFreed p-c"],
                    ["PlaceFreed p-d", "PlaceFreed p-e"]], "in their order, split by others"
    assert seen == ["EnrolmentEnded e-x", "EnrolmentEnded e-y", "PlaceWithdrawn p-f"]


async def test_a_failing_run_is_applied_one_by_one_by_the_event_handler() -> None:
    handler = Recorder({"p-bad": ValueError("bug")})
    runs, uow = RunRecorder(fail_on="p-bad"), FakeUnitOfWork()
    consumer, letters = consumer_with_runs(handler, runs, uow)
    good, bad, later = event("p-good"), event("p-bad"), event("p-later")
    outcomes = await consumer.consume_batch([incoming(good), incoming(bad), incoming(later)])
    assert outcomes == ["applied", "dead-lettered", "applied"]
    assert runs.runs == []
    assert handler.seen == ["p-good", "p-later"]
    assert len(letters.sent) == 1


async def test_a_batch_is_read_ahead_once_before_its_events_are_applied() -> None:
    handler, uow = Recorder(), FakeUnitOfWork()
    read: list[tuple[list[str], list[str]]] = []  # (the batch's places, applied before)

    async def read_ahead(batch: list[Delivered[PlaceFreed]], given: FakeUnitOfWork) -> None:
        assert given is uow
        read.append(([each.data.place_id for each in batch], list(handler.seen)))

    consumer = EventConsumer("unit", {PlaceFreed: handler}, lambda: uow,
                             RecordingDeadLetters(), read_ahead=read_ahead)
    old = event("p-old")
    await deliver_event(consumer, old)
    assert read == [], "a lone event needs no reading ahead"
    a, b = event("p-a"), event("p-b")
    await consumer.consume_batch([incoming(a, 1), incoming(old, 2), incoming(b, 3)])
    assert read == [(["p-a", "p-b"], ["p-old"])], "the fresh events, before any is applied"
    assert handler.seen == ["p-old", "p-a", "p-b"]


async def test_a_v1_event_reaches_the_handler_of_the_current_version_upgraded() -> None:
    uow, letters = FakeUnitOfWork(), RecordingDeadLetters()
    seen: list[PlaceFreed] = []

    async def keep(event: CloudEvent, data: PlaceFreed, uow: FakeUnitOfWork) -> None:
        seen.append(data)

    consumer = EventConsumer("unit", {PlaceFreed: keep}, lambda: uow, letters,
                             backoff_seconds=0, dead_letter_backoff_seconds=0)
    v1 = event("p-old").model_copy(update={"type": "be.loket.PlaceFreed.v1"})
    assert await deliver_event(consumer, v1) == "applied"
    assert [place.day_parts for place in seen] == [list(DAY_PARTS)]
    assert letters.sent == []
