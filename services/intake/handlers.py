"""Intake's use cases: one function per command or event, over a unit of work."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from contracts import CloudEvent
from contracts.events import (
    CrisisClosure,
    LocationRegistered,
    MatchProposed,
    PriorityFacts,
    RequestSubmitted,
    RequestWithdrawn,
)
from loketkit.consumer import RejectedEvent
from services.intake.domain.model import Request, check_new_request

# Handlers take the service's unit of work (SQL in production, in-memory in tests).
UoW = Any


def submitted_event(request: Request, child_ref: str) -> RequestSubmitted:
    """The pseudonymous facts of a request: what other services may know."""
    return RequestSubmitted(
        service_area=request.service_area,
        request_id=request.request_id,
        child_ref=child_ref,
        municipality_nis=request.municipality_nis,
        neighbourhood_code=request.neighbourhood_code,
        birth_month=request.birth_month,
        desired_start_date=request.desired_start_date,
        days_per_week=request.days_per_week,
        preferred_location_ids=list(request.preferred_location_ids),
        priority=PriorityFacts(
            parents_working_or_training=request.priority.parents_working_or_training,
            single_parent=request.priority.single_parent,
            low_income=request.priority.low_income,
            foster_child=request.priority.foster_child,
            sibling_location_ids=list(request.priority.sibling_location_ids),
        ),
        urgency=request.urgency,
        replaces_request_id=request.replaces_request_id,
        submitted_at=request.submitted_at,
    )


async def submit_request(
    request: Request, uow: UoW, municipalities: frozenset[str], child_ref: str
) -> Request:
    async with uow:
        known = set(await uow.locations.open_ids(request.service_area))
        check_new_request(request, municipalities, known)
        await uow.requests.add(request)
        uow.emit(submitted_event(request, child_ref))
        await uow.commit()
    return request


def withdrawn_event(request: Request) -> RequestWithdrawn:
    return RequestWithdrawn(
        service_area=request.service_area,
        request_id=request.request_id,
        municipality_nis=request.municipality_nis,
        reason="by_family",
        withdrawn_at=datetime.now(UTC),
    )


async def known_request(uow: UoW, request_id: str) -> Request:
    request: Request | None = await uow.requests.get_for_update(request_id)
    if request is None:
        raise LookupError(request_id)
    return request


async def withdraw_request(request_id: str, uow: UoW) -> Request:
    async with uow:
        request = await known_request(uow, request_id)
        request.withdraw()
        await uow.requests.save(request)
        uow.emit(withdrawn_event(request))
        await uow.commit()
    return request


async def erase_personal_data(request_id: str, uow: UoW) -> Request:
    """Erasure: personal data goes, the pseudonymous facts (and so the figures) stay."""
    async with uow:
        request = await known_request(uow, request_id)
        if request.erase_personal_data(datetime.now(UTC)):
            uow.emit(withdrawn_event(request))
        await uow.requests.save(request)
        await uow.commit()
    return request


async def on_location_registered(event: CloudEvent, data: LocationRegistered, uow: UoW) -> None:
    await uow.locations.upsert(data)


async def on_match_proposed(event: CloudEvent, data: MatchProposed, uow: UoW) -> None:
    request = await uow.requests.get_for_update(data.request_id)
    if request is None:
        raise RejectedEvent("field 'data.request_id': proposal for a request intake does not know")
    if request.propose(data.match_id, data.location_id, data.place_id):
        await uow.requests.save(request)


async def on_crisis_closure(
    event: CloudEvent, data: CrisisClosure, uow: UoW, child_ref_for: Any
) -> None:
    """Every child with a proposal at the closed location gets a new crisis request."""
    await uow.locations.close(data.location_id)
    open_locations = await uow.locations.open_ids(data.service_area)
    now = datetime.now(UTC)
    for old in await uow.requests.proposed_at(data.location_id):
        new = old.replace_after_closure(
            f"req-{uuid.uuid4()}", data.location_id, open_locations, now
        )
        await uow.requests.save(old)
        await uow.requests.add(new)
        uow.emit(
            RequestWithdrawn(
                service_area=old.service_area,
                request_id=old.request_id,
                municipality_nis=old.municipality_nis,
                reason="replaced_after_closure",
                withdrawn_at=now,
            ),
            caused_by=event,
        )
        uow.emit(submitted_event(new, child_ref_for(new.child)), caused_by=event)
