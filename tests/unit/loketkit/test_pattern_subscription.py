"""A subscription with a topic family (organisers' inbound topics): one regex, one group,
and the lag monitor finds the topics the regex covers."""

from __future__ import annotations

from faststream.kafka import KafkaBroker

from contracts.topics import MATCHES, ORGANISER_INBOUND_TOPICS, REQUESTS
from loketkit.consumer import EventConsumer
from loketkit.kafka import subscribe
from loketkit.lag import resolve, subscribed_groups
from loketkit.testing import FakeUnitOfWork, RecordingDeadLetters


def test_explicit_topics_and_a_family_make_one_pattern_subscriber() -> None:
    broker = KafkaBroker()
    consumer = EventConsumer("capacity", {}, FakeUnitOfWork, RecordingDeadLetters())
    subscribe(broker, [ORGANISER_INBOUND_TOPICS, MATCHES, REQUESTS], consumer, "t1.loket-capacity",
              topic_prefix="t1.")
    [group] = subscribed_groups(broker).items()
    assert group == ("t1.loket-capacity", [
        r"^(?:t1\.loket\.matches\.v1|t1\.loket\.requests\.v1|t1\.loket\.capacity\.inbound\.v1\..+)$"])


def test_explicit_topics_alone_stay_a_topic_list() -> None:
    broker = KafkaBroker()
    consumer = EventConsumer("matching", {}, FakeUnitOfWork, RecordingDeadLetters())
    subscribe(broker, [REQUESTS], consumer, "loket-matching")
    assert subscribed_groups(broker) == {"loket-matching": ["loket.requests.v1"]}


def test_the_lag_monitor_resolves_a_pattern_to_the_existing_topics() -> None:
    existing = ["loket.requests.v1", "loket.capacity.inbound.v1.org-a",
                "loket.capacity.inbound.v1.org-b", "loket.capacity.v1", "__consumer_offsets"]
    pattern = r"^(?:loket\.requests\.v1|loket\.capacity\.inbound\.v1\..+)$"
    assert resolve([pattern], existing) == [
        "loket.capacity.inbound.v1.org-a", "loket.capacity.inbound.v1.org-b",
        "loket.requests.v1"]
    assert resolve(["loket.matches.v1"], existing) == ["loket.matches.v1"]
