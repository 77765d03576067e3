"""The ACL table: each principal gets what its job needs and nothing more."""

from __future__ import annotations

import importlib
from typing import Any
from unittest import mock

import pytest
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AclOperation,
    ResourcePatternType,
    ResourceType,
)

from contracts.topics import TopicPattern, TopicSpec
from loketkit.testing import FakeUnitOfWork
from tools.infra.kafka_acls import Grant, acl_table, organiser_grants

SERVICES = ("intake", "capacity", "matching", "reporting")

Row = tuple[str, str, str, str, bool]


def rows(grants: list[Grant]) -> set[Row]:
    return {(g.principal, g.resource, g.name, g.operation, g.prefixed) for g in grants}


def writers(topic: str) -> set[str]:
    return {g.principal for g in acl_table() if g.resource == "topic" and g.name == topic
            and g.operation == "WRITE" and not g.prefixed}


def test_each_service_topic_belongs_to_its_publisher_and_the_operator_only() -> None:
    assert writers("loket.capacity.v1") == {"capacity", "operator"}
    assert writers("loket.requests.v1") == {"intake", "operator"}
    assert writers("loket.matches.v1") == {"matching", "operator"}
    assert writers("loket.deadletter.v1") == {"intake", "capacity", "matching", "reporting"}


def test_an_organiser_writes_its_own_inbound_topic_and_nothing_else() -> None:
    assert rows(organiser_grants("org-zonneke")) == {
        ("org-zonneke", "topic", "loket.capacity.inbound.v1.org-zonneke", op, False)
        for op in ("WRITE", "DESCRIBE")}
    mine = {g for g in acl_table() if g.principal == "org-zonneke"}
    assert mine == set(organiser_grants("org-zonneke"))


def test_capacity_reads_every_organisers_topic_by_prefix() -> None:
    assert ("capacity", "topic", "loket.capacity.inbound.v1.", "READ", True) in rows(acl_table())
    prefixed = {g.principal for g in acl_table() if g.prefixed and g.operation == "READ"}
    assert prefixed == {"capacity"}


def test_services_read_their_inputs_in_their_own_group() -> None:
    table = rows(acl_table())
    for service in ("intake", "capacity", "matching", "reporting"):
        assert (service, "group", f"loket-{service}", "READ", False) in table
    assert ("reporting", "topic", "loket.matches.v1", "READ", False) in table
    assert not {row for row in table if row[0] == "reporting" and row[3] == "WRITE"
                and row[2] != "loket.deadletter.v1"}


@pytest.mark.parametrize("service", SERVICES)
def test_the_grants_are_what_each_service_subscribes(service: str) -> None:
    """The table follows each service's own bootstrap (its `input_topics`)."""
    module = importlib.import_module(f"services.{service}.bootstrap")
    seen: list[Any] = []

    def recording(*_: Any, **kwargs: Any) -> Any:
        seen.append(kwargs["input_topics"])
        return mock.MagicMock()  # an app, for what the bootstrap does after assembling

    with mock.patch.object(module, "assemble", recording):
        module.bootstrap(uow_factory=FakeUnitOfWork)
    [inputs] = seen
    explicit = {topic.name for topic in inputs if isinstance(topic, TopicSpec)}
    stems = {topic.stem for topic in inputs if isinstance(topic, TopicPattern)}
    readable = {row[2] for row in rows(acl_table()) if row[0] == service and row[3] == "READ"
                and row[1] == "topic"}
    assert readable == explicit | stems


def test_bindings_take_the_namespace_prefix() -> None:
    grant = Grant("capacity", "topic", "loket.capacity.inbound.v1.", "READ", prefixed=True)
    binding = grant.binding("t1.")
    assert binding.name == "t1.loket.capacity.inbound.v1."
    assert binding.resource_pattern_type == ResourcePatternType.PREFIXED
    assert binding.restype == ResourceType.TOPIC
    assert binding.operation == AclOperation.READ
    assert binding.principal == "User:capacity"
    cluster = Grant("capacity", "cluster", "kafka-cluster", "IDEMPOTENT_WRITE").binding("t1.")
    assert (cluster.restype, cluster.name) == (ResourceType.BROKER, "kafka-cluster")
