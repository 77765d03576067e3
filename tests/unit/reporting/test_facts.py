"""One event-to-fact table: each counted event becomes its fact by pydantic's
mapping, and each fact has a table with exactly its fields."""

from __future__ import annotations

import pytest

from contracts import EventData
from services.reporting.adapters.orm import ROWS, table_of
from services.reporting.domain.facts import (
    FACTS,
    DeclarationFact,
    DeclaredEnrolmentFact,
    Fact,
    fact_of,
    facts_of,
)
from tests.unit.reporting.events import (
    MON_TUE,
    accepted,
    cancelled,
    capacity_declared,
    closed,
    declined,
    enrolment,
    enrolment_ended,
    enrolments_declared,
    freed,
    offer_expired,
    place_withdrawn,
    placed,
    proposed,
    refused,
    registered,
    request_expired,
    submitted,
    withdrawn,
)

EXAMPLES = [submitted("req-1", replaces="req-0"), withdrawn("req-1"), request_expired("req-1"),
            proposed("match-1", "req-1", "place-1"), accepted("match-1", "req-1", "place-1"),
            declined("match-1", "req-1", "place-1"), refused("match-1", "req-1", "place-1"),
            offer_expired("match-1", "req-1", "place-1"), cancelled("match-1", "req-1", "place-1"),
            placed("match-1", "req-1", "place-1"), enrolment_ended("enr-1"),
            enrolments_declared(enrolment("e-1", MON_TUE)), capacity_declared(20),
            freed("place-1"), place_withdrawn("place-1"), registered(), closed("closure-1")]


def test_every_fact_kind_has_an_example() -> None:
    assert {type(example) for example in EXAMPLES} == set(FACTS)


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda event: type(event).__name__)
def test_a_fact_keeps_the_fields_of_its_event(event: EventData) -> None:
    fact = fact_of(event)
    assert isinstance(fact, FACTS[type(event)])
    assert fact.model_dump() == event.model_dump(include=set(type(fact).model_fields))
    assert fact.natural_id == tuple(str(getattr(event, key)) for key in type(fact).natural_key())


@pytest.mark.parametrize("fact", ROWS, ids=lambda fact: fact.__name__)
def test_each_fact_is_stored_in_a_table_with_its_fields(fact: type[Fact]) -> None:
    table = table_of(fact)
    assert set(table.columns.keys()) == set(fact.model_fields)
    assert tuple(column.name for column in table.primary_key) == fact.natural_key()


def test_a_declaration_keeps_each_declared_enrolment_as_its_own_fact() -> None:
    event = enrolments_declared(enrolment("e-1", MON_TUE), enrolment("e-2", ["fri_am"]))
    declaration, *enrolments = facts_of(event)
    assert isinstance(declaration, DeclarationFact)
    assert [(type(fact), fact.natural_id[2]) for fact in enrolments] == [
        (DeclaredEnrolmentFact, "e-1"), (DeclaredEnrolmentFact, "e-2")]
    assert all(isinstance(fact, DeclaredEnrolmentFact) and fact.location_id == "loc-a"
               and fact.declared_at == event.declared_at for fact in enrolments)
    assert facts_of(enrolments_declared()) == [fact_of(enrolments_declared())]  # empty: counts
