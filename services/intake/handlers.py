"""Intake's use cases: one function per command or event, over a unit of work.

Collaborators are injected by parameter name (see `bootstrap`): `clock`, `new_id`,
`settings`, `child_ref` (the keyed HMAC) and `postcode_coordinates`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Literal

from contracts import CloudEvent
from contracts.events import (
    CrisisClosure,
    LocationRegistered,
    MatchProposed,
    PriorityFacts,
    RequestSubmitted,
    RequestWithdrawn,
)
from loketkit.bus import AnyHandler
from loketkit.consumer import RejectedEvent
from loketkit.errors import NotFound
from loketkit.ids import Clock, IdFactory
from services.intake.domain.commands import ErasePersonalData, SubmitRequest, WithdrawRequest
from services.intake.domain.locations import Coordinates, Location, crisis_choices
from services.intake.domain.model import Request, check_new_request
from services.intake.ports import ChildRef, IntakeUnitOfWork
from services.intake.settings import IntakeSettings

log = logging.getLogger(__name__)


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
        priority=PriorityFacts.model_validate(request.priority, from_attributes=True),
        urgency=request.urgency,
        replaces_request_id=request.replaces_request_id,
        submitted_at=request.submitted_at,
    )


def withdrawn_event(
    request: Request, reason: Literal["by_family", "replaced_after_closure"], now: datetime
) -> RequestWithdrawn:
    return RequestWithdrawn(
        service_area=request.service_area,
        request_id=request.request_id,
        municipality_nis=request.municipality_nis,
        reason=reason,
        withdrawn_at=now,
    )


async def submit_request(
    command: SubmitRequest,
    uow: IntakeUnitOfWork,
    settings: IntakeSettings,
    child_ref: ChildRef,
    clock: Clock,
    new_id: IdFactory,
) -> Request:
    request = Request(
        request_id=new_id("req"),
        service_area=settings.service_area,
        child=command.child,
        contact=command.contact,
        municipality_nis=command.municipality_nis,
        neighbourhood_code=command.neighbourhood_code,
        desired_start_date=command.desired_start_date,
        days_per_week=command.days_per_week,
        preferred_location_ids=tuple(dict.fromkeys(command.preferred_location_ids)),
        priority=command.priority,
        urgency=command.urgency,
        submitted_at=clock(),
    )
    async with uow:
        known = {location.location_id for location in await uow.locations.open_in(
            request.service_area)}
        check_new_request(request, settings.municipalities, known)
        await uow.requests.add(request)
        uow.emit(submitted_event(request, child_ref(request.child)))
        await uow.commit()
    return request


async def known_request(uow: IntakeUnitOfWork, request_id: str) -> Request:
    request = await uow.requests.get_for_update(request_id)
    if request is None:
        raise NotFound("request_id", "no request with this id")
    return request


async def withdraw_request(
    command: WithdrawRequest, uow: IntakeUnitOfWork, clock: Clock
) -> Request:
    async with uow:
        request = await known_request(uow, command.request_id)
        request.withdraw()
        await uow.requests.save(request)
        uow.emit(withdrawn_event(request, "by_family", clock()))
        await uow.commit()
    return request


async def erase_personal_data(
    command: ErasePersonalData, uow: IntakeUnitOfWork, clock: Clock
) -> Request:
    """Erasure: personal data goes, the pseudonymous facts (and so the figures) stay."""
    async with uow:
        request = await known_request(uow, command.request_id)
        now = clock()
        if request.erase_personal_data(now):
            uow.emit(withdrawn_event(request, "by_family", now))
        await uow.requests.save(request)
        await uow.commit()
    return request


async def on_location_registered(
    event: CloudEvent, data: LocationRegistered, uow: IntakeUnitOfWork
) -> None:
    await uow.locations.upsert(Location.model_validate(data, from_attributes=True))


async def on_match_proposed(event: CloudEvent, data: MatchProposed, uow: IntakeUnitOfWork) -> None:
    request = await uow.requests.get_for_update(data.request_id)
    if request is None:
        raise RejectedEvent("field 'data.request_id': proposal for a request intake does not know")
    if request.propose(data.match_id, data.location_id, data.place_id):
        await uow.requests.save(request)


async def on_crisis_closure(
    event: CloudEvent,
    data: CrisisClosure,
    uow: IntakeUnitOfWork,
    child_ref: ChildRef,
    postcode_coordinates: Coordinates,
    clock: Clock,
    new_id: IdFactory,
) -> None:
    """Every child with a proposal at the closed location gets a new crisis request:
    for the family's remaining choices, or else the nearest open locations."""
    await uow.locations.close(data.location_id)
    open_locations = await uow.locations.open_in(data.service_area)
    now = clock()
    for old in await uow.requests.proposed_at(data.location_id):
        choices = crisis_choices(old.preferred_location_ids, data.location_id,
                                 old.contact.postcode, open_locations, postcode_coordinates)
        if not choices:
            # Nothing left to offer in the area: the loket takes it up by hand.
            log.warning("crisis closure %s: no open location left for a request",
                        data.closure_id)
            continue
        new = old.replace_after_closure(new_id("req"), choices, now)
        await uow.requests.save(old)
        await uow.requests.add(new)
        uow.emit(withdrawn_event(old, "replaced_after_closure", now), caused_by=event)
        uow.emit(submitted_event(new, child_ref(new.child)), caused_by=event)


# The one place that says which handler answers what.
COMMAND_HANDLERS: dict[type, AnyHandler] = {
    SubmitRequest: submit_request,
    WithdrawRequest: withdraw_request,
    ErasePersonalData: erase_personal_data,
}
EVENT_HANDLERS: dict[type, AnyHandler] = {
    LocationRegistered: on_location_registered,
    MatchProposed: on_match_proposed,
    CrisisClosure: on_crisis_closure,
}
