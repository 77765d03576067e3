"""One event-to-fact table: each counted event becomes its fact by pydantic's
mapping, and each fact has a table with exactly its fields."""

from __future__ import annotations

import pytest

from contracts import EventData
from services.reporting.adapters.orm import table_of
from services.reporting.domain.facts import FACTS, Fact, fact_of
from tests.unit.reporting.events import (
    closed,
    freed,
    proposed,
    registered,
    submitted,
    withdrawn,
)

EXAMPLES = [submitted("req-1", replaces="req-0"), withdrawn("req-1"),
            proposed("match-1", "req-1", "place-1"), freed("place-1"), registered(),
            closed("closure-1")]


def test_every_fact_kind_has_an_example() -> None:
    assert {type(example) for example in EXAMPLES} == set(FACTS)


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda event: type(event).__name__)
def test_a_fact_keeps_the_fields_of_its_event(event: EventData) -> None:
    fact = fact_of(event)
    assert isinstance(fact, FACTS[type(event)])
    assert fact.model_dump() == event.model_dump(include=set(type(fact).model_fields))
    assert fact.natural_id == getattr(event, type(fact).natural_key())


@pytest.mark.parametrize("fact", FACTS.values(), ids=lambda fact: fact.__name__)
def test_each_fact_is_stored_in_a_table_with_its_fields(fact: type[Fact]) -> None:
    table = table_of(fact)
    assert set(table.columns.keys()) == set(fact.model_fields)
    assert [column.name for column in table.primary_key] == [fact.natural_key()]
