"""Reads for the routes: small queries over the unit of work, no side effects."""

from __future__ import annotations

from loketkit.errors import NotFound
from services.intake.domain.locations import Location
from services.intake.domain.model import AuditEntry, OfferStatus, Request, UrgencyStatus
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
