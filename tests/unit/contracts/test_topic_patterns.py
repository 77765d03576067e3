"""Organisers' own inbound topics: the name scheme, who a topic belongs to, and the one
regular expression capacity subscribes by."""

from __future__ import annotations

import re

import pytest

from contracts.topics import (
    CAPACITY,
    MATCHES,
    ORGANISER_INBOUND_TOPICS,
    REQUESTS,
    TOPICS,
    organiser_inbound_topic,
    organiser_of_topic,
    subscription_regex,
)


def test_each_organiser_has_its_own_topic_with_the_inbound_settings() -> None:
    assert organiser_inbound_topic("org-zonneke") == "loket.capacity.inbound.v1.org-zonneke"
    assert organiser_inbound_topic("org-zonneke", "t1.") == (
        "t1.loket.capacity.inbound.v1.org-zonneke")
    spec = ORGANISER_INBOUND_TOPICS.topic("org-zonneke")
    assert (spec.partitions, spec.retention_ms) == (6, 30 * 24 * 60 * 60 * 1000)
    assert all(not topic.name.startswith("loket.capacity.inbound") for topic in TOPICS)


@pytest.mark.parametrize("bad", ["", "Org", "org.x", "org_x", "-org", "org-", "a" * 65,
                                 "org x", "org/x"])
def test_an_organiser_id_that_cannot_be_a_principal_and_topic_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        organiser_inbound_topic(bad)


@pytest.mark.parametrize(("topic", "prefix", "organiser"), [
    ("loket.capacity.inbound.v1.org-zonneke", "", "org-zonneke"),
    ("t1.loket.capacity.inbound.v1.org-bolleboos", "t1.", "org-bolleboos"),
    ("t1.loket.capacity.inbound.v1.org-bolleboos", "", None),  # another namespace
    ("loket.capacity.inbound.v1.org-zonneke", "t1.", None),
    ("loket.capacity.inbound.v1", "", None),  # the old shared topic: nobody's
    ("loket.capacity.inbound.v1.", "", None),
    ("loket.capacity.inbound.v1.org.x", "", None),
    ("loket.capacity.v1", "", None),
    ("loket.requests.v1", "", None),
])
def test_the_organiser_of_a_topic(topic: str, prefix: str, organiser: str | None) -> None:
    assert organiser_of_topic(topic, prefix) == organiser


def test_one_regex_covers_the_explicit_topics_and_every_organisers_topic() -> None:
    regex = subscription_regex((MATCHES, REQUESTS), (ORGANISER_INBOUND_TOPICS,), "t1.")
    assert regex == (r"^(?:t1\.loket\.matches\.v1|t1\.loket\.requests\.v1"
                     r"|t1\.loket\.capacity\.inbound\.v1\..+)$")
    covered = re.compile(regex)
    for topic in ("t1.loket.matches.v1", "t1.loket.requests.v1",
                  "t1.loket.capacity.inbound.v1.org-zonneke",
                  "t1.loket.capacity.inbound.v1.org-new"):
        assert covered.match(topic), topic
    for topic in ("t1.loket.capacity.v1", "loket.requests.v1", "t1.loket.requests.v10",
                  "t1.loket.capacity.inbound.v1", "xt1.loket.matches.v1",
                  "t2.loket.capacity.inbound.v1.org-zonneke", f"t1.{CAPACITY.name}"):
        assert not covered.match(topic), topic
