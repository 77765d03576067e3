"""Reads for the routes: small queries over the unit of work, no side effects."""

from __future__ import annotations

from dataclasses import dataclass, field

from loketkit.errors import NotFound
from services.intake.domain.locations import Location
from services.intake.domain.model import (
    AuditEntry,
    OfferStatus,
    Request,
    Status,
    UrgencyStatus,
)
from services.intake.ports import IntakeUnitOfWork

WORKLIST_LIMIT = 500


async def request_by_id(uow: IntakeUnitOfWork, request_id: str) -> Request:
    async with uow:
        request = await uow.requests.get(request_id)
    if request is None:
        raise NotFound("request_id", "no request with this id")
    return request


async def worklist(
    uow: IntakeUnitOfWork, *, without_email: bool, has_open_offer: bool, needs_loket: bool,
    owner_subject: str | None = None, urgency_status: UrgencyStatus | None = None,
) -> list[Request]:
    """Open requests the loket must act on: families without e-mail holding an offer,
    children a crisis closure left without any open location, families asking for
    urgency."""
    async with uow:
        return await uow.requests.listing(without_email=without_email,
                                          has_open_offer=has_open_offer,
                                          needs_loket=needs_loket, limit=WORKLIST_LIMIT,
                                          owner_subject=owner_subject,
                                          urgency_status=urgency_status)


async def audit(uow: IntakeUnitOfWork, request_id: str) -> list[AuditEntry]:
    async with uow:
        if await uow.requests.get(request_id) is None:
            raise NotFound("request_id", "no request with this id")
        return await uow.audit.for_request(request_id)


async def contact_for_offer(uow: IntakeUnitOfWork, match_id: str) -> Request:
    """The family behind an offer, only when it accepted that offer (or the child is
    placed there) and consented to share its contact; otherwise nothing is revealed."""
    async with uow:
        request = await uow.requests.by_match(match_id)
    offer = request.offer(match_id) if request else None
    if (request is None or offer is None or request.erased_at is not None
            or not request.share_contact_with_organiser
            or offer.status not in (OfferStatus.ACCEPTED, OfferStatus.PLACED)):
        raise NotFound("match_id", "no contact to share for this offer")
    return request


async def location(uow: IntakeUnitOfWork, location_id: str) -> Location | None:
    async with uow:
        return await uow.locations.get(location_id)


async def locations(uow: IntakeUnitOfWork) -> list[Location]:
    """Every location families can choose or have chosen, by name."""
    async with uow:
        return await uow.locations.all()


async def open_requests(uow: IntakeUnitOfWork) -> list[Request]:
    """Every open request (waiting or placed), oldest first, at most WORKLIST_LIMIT: what
    the staff pages sort into their worklist and search through."""
    return await worklist(uow, without_email=False, has_open_offer=False, needs_loket=False)


# A crisis request can itself be replaced after a later closure: followed this far.
MAX_REPLACEMENTS = 10


@dataclass(frozen=True)
class AffectedChild:
    """One child a released closure reached: its request then (`old`), the crisis request
    that replaced it (`new`; None when no open location was left and the loket took it
    up), and the request it is on now (`current`: `new`, or the last of its own
    replacements after later closures; `old` when there is no `new`)."""

    old: Request
    new: Request | None
    current: Request
    later: tuple[Request, ...] = ()  # the replacements of `new` after later closures


@dataclass(frozen=True)
class ClosureChildren:
    """What intake knows of a closure: nothing (`location` None) until it is released."""

    closure_id: str
    location: Location | None = None
    children: list[AffectedChild] = field(default_factory=list)


def reached_by_closure(request: Request, location: Location) -> bool:
    """The closure at `location` ended this request: it left the child on the loket's
    list, or replaced the request while the child held an offer there that the closure
    cancelled, or was placed there on the closure's first day."""
    if location.closure_id is None or location.closed_from is None:
        return False
    if request.needs_loket_for_closure_id == location.closure_id:
        return True
    closed_from = location.closed_from
    return request.status is Status.REPLACED and any(
        offer.location_id == location.location_id
        and ((offer.status is OfferStatus.CANCELLED and offer.cancel_reason == "location_closed")
             or offer.present_from(closed_from))
        for offer in request.offers)


async def closure_children(
    uow: IntakeUnitOfWork, closure_id: str, service_area: str
) -> ClosureChildren:
    """Every child of the area a released closure reached, with the crisis request it
    got and where that stands now, by the old request's id. Intake hears of a closure
    only when it is released: before that it knows nothing of it."""
    async with uow:
        location = next((loc for loc in await uow.locations.all()
                         if loc.closure_id == closure_id and loc.service_area == service_area
                         and loc.closed_from is not None), None)
        if location is None:
            return ClosureChildren(closure_id)
        children = []
        for old in await uow.requests.closed_out_at(location.location_id, closure_id):
            if old.service_area != service_area or not reached_by_closure(old, location):
                continue
            chain: list[Request] = []
            next_id = old.replaced_by_request_id
            while next_id and len(chain) < MAX_REPLACEMENTS:
                found = await uow.requests.get(next_id)
                if found is None:
                    break
                chain.append(found)
                next_id = found.replaced_by_request_id
            children.append(AffectedChild(
                old, chain[0] if chain else None, chain[-1] if chain else old,
                tuple(chain[1:])))
    return ClosureChildren(closure_id, location, children)
