"""Reporting's use cases: record each fact once, and report the figures.

Every handler stores the fact under its natural id; the figures are counted
from those facts when asked, never kept as counters.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from contracts import CloudEvent, EventData
from contracts.events import (
    CrisisClosure,
    LocationRegistered,
    MatchProposed,
    PlaceFreed,
    RequestSubmitted,
    RequestWithdrawn,
)
from loketkit.consumer import Handler
from services.reporting.domain.model import Municipality
from services.reporting.domain.report import Report, UnknownMunicipality, build_report

# Handlers take the service's unit of work (SQL in production, in-memory in tests).
UoW = Any


async def on_request_submitted(event: CloudEvent, data: RequestSubmitted, uow: UoW) -> None:
    await uow.facts.add_request(data)


async def on_request_withdrawn(event: CloudEvent, data: RequestWithdrawn, uow: UoW) -> None:
    await uow.facts.add_withdrawal(data)


async def on_match_proposed(event: CloudEvent, data: MatchProposed, uow: UoW) -> None:
    await uow.facts.add_proposal(data)


async def on_place_freed(event: CloudEvent, data: PlaceFreed, uow: UoW) -> None:
    await uow.facts.add_free_place(data)


async def on_location_registered(event: CloudEvent, data: LocationRegistered, uow: UoW) -> None:
    await uow.facts.add_location(data)


async def on_crisis_closure(event: CloudEvent, data: CrisisClosure, uow: UoW) -> None:
    await uow.facts.add_closure(data)


# Every fact reporting counts: all of the catalogue so far (registered in bootstrap).
EVENT_HANDLERS: dict[type[EventData], Handler] = {
    RequestSubmitted: on_request_submitted,
    RequestWithdrawn: on_request_withdrawn,
    MatchProposed: on_match_proposed,
    PlaceFreed: on_place_freed,
    LocationRegistered: on_location_registered,
    CrisisClosure: on_crisis_closure,
}


async def report_figures(
    uow: UoW, reference: Mapping[str, Municipality], municipality_nis: str | None = None
) -> Report:
    """All figures, or one municipality's; a code known to neither list nor facts is refused."""
    async with uow:
        rows = await uow.facts.counted_facts(municipality_nis)
    if municipality_nis is not None and municipality_nis not in reference and not rows:
        raise UnknownMunicipality(municipality_nis)
    return build_report(
        rows,
        reference,
        generated_at=datetime.now(UTC),
        always_show=[municipality_nis] if municipality_nis else [],
    )
