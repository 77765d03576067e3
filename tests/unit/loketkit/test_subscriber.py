"""Subscriber wiring, in memory with FastStream's TestKafkaBroker."""

from __future__ import annotations

from datetime import UTC, date, datetime

from faststream.kafka import KafkaBroker, TestKafkaBroker

from contracts import new_event, to_kafka
from contracts.events import PlaceFreed
from contracts.topics import CAPACITY, DEAD_LETTER
from loketkit.consumer import EventConsumer
from loketkit.kafka import KafkaDeadLetters, subscribe
from loketkit.testing import FakeUnitOfWork

PLACE = PlaceFreed(service_area="kempen-gml", place_id="p-1", location_id="loc-1",
                   municipality_nis="13008", available_from=date(2027, 1, 4),
                   min_age_months=0, max_age_months=36, freed_at=datetime.now(UTC),
                      day_parts=["mon_am", "mon_pm"])


async def test_events_reach_the_handler_and_garbage_reaches_the_dead_letter_topic() -> None:
    broker = KafkaBroker()
    uow = FakeUnitOfWork()
    handled: list[PlaceFreed] = []

    async def on_place_freed(event: object, data: PlaceFreed, _: object) -> None:
        handled.append(data)

    consumer = EventConsumer("test", {PlaceFreed: on_place_freed}, lambda: uow,
                             KafkaDeadLetters(broker), backoff_seconds=0)
    subscribe(broker, [CAPACITY], consumer, "test-group")

    @broker.subscriber(DEAD_LETTER.name)
    async def dead_letters(body: bytes) -> None: ...

    async with TestKafkaBroker(broker) as test_broker:
        event = new_event(PLACE, source="/test")
        key, value, headers = to_kafka(event)
        header_map = {name: raw.decode() for name, raw in headers}
        await test_broker.publish(value, topic=CAPACITY.name, key=key, headers=header_map)
        await test_broker.publish(value, topic=CAPACITY.name, key=key, headers=header_map)
        await test_broker.publish(b"{broken", topic=CAPACITY.name, key=key,
                                  headers={"ce_specversion": "1.0"})

        assert handled == [PLACE], "the repeat was skipped"
        assert uow.applied == {(event.source, event.id)}
        dead_letters.mock.assert_called_once_with(b"{broken")
