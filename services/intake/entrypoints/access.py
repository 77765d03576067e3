"""Who may see and change which request in intake.

- A parent: the requests they registered while signed in (`owner_subject`).
- Loket staff: the requests of their own service area; a coordinator reads them too.
- An organiser: the contact of a family that accepted an offer at one of its locations.
- A partner system: registers requests for its own service area, nothing else.
Another tenant's request answers 404 with the message of a missing one, so its
existence is never revealed.
"""

from __future__ import annotations

from typing import Annotated

from loketkit.auth import Caller, NotAllowed, Role, public, requires
from loketkit.errors import NotFound
from services.intake import views
from services.intake.domain.model import Request
from services.intake.entrypoints.deps import IntakeContext

MISSING_REQUEST = "no request with this id"

# Route guards: who may call at all (the tenant checks below then narrow it).
Registrant = Annotated[Caller | None, public(
    "families register without an account; staff, partners and parents with one")]
Family = Annotated[Caller, requires(Role.PARENT, Role.LOKET_STAFF)]
Reader = Annotated[Caller, requires(Role.PARENT, Role.LOKET_STAFF, Role.COORDINATOR)]
AreaStaff = Annotated[Caller, requires(Role.LOKET_STAFF, Role.COORDINATOR)]
Staff = Annotated[Caller, requires(Role.LOKET_STAFF)]
Organiser = Annotated[Caller, requires(Role.ORGANISER)]
Directory = Annotated[Caller | None, public("the locations families choose from are public")]

REGISTERING_ROLES = (Role.PARENT, Role.LOKET_STAFF, Role.PARTNER)


def may_read(caller: Caller, request: Request) -> bool:
    if caller.in_area(request.service_area, Role.LOKET_STAFF, Role.COORDINATOR):
        return True
    return caller.acts_as(Role.PARENT) and request.owner_subject == caller.subject


def may_change(caller: Caller, request: Request) -> bool:
    if caller.in_area(request.service_area, Role.LOKET_STAFF):
        return True
    return caller.acts_as(Role.PARENT) and request.owner_subject == caller.subject


async def readable_request(ctx: IntakeContext, caller: Caller, request_id: str) -> Request:
    request = await views.request_by_id(ctx.uow(), request_id)
    if not may_read(caller, request):
        raise NotFound("request_id", MISSING_REQUEST)
    return request


async def changeable_request(ctx: IntakeContext, caller: Caller, request_id: str) -> Request:
    request = await views.request_by_id(ctx.uow(), request_id)
    if not may_change(caller, request):
        raise NotFound("request_id", MISSING_REQUEST)
    return request


def owner_for_registration(ctx: IntakeContext, caller: Caller | None) -> str | None:
    """Who may register here, and the owner the request gets: a signed-in parent owns
    theirs; staff and partner systems register for their own area only."""
    if caller is None:
        return None
    if not caller.acts_as(*REGISTERING_ROLES):
        raise NotAllowed("authorization", "your role may not register requests")
    if caller.acts_as(Role.LOKET_STAFF, Role.PARTNER):
        if caller.service_area != ctx.settings.service_area:
            raise NotAllowed("authorization", "you register for another service area")
        return None
    return caller.subject


def worklist_scope(ctx: IntakeContext, caller: Caller) -> tuple[bool, str | None]:
    """(anything to show, owner filter): staff see their area's, a parent their own."""
    if caller.in_area(ctx.settings.service_area, Role.LOKET_STAFF, Role.COORDINATOR):
        return True, None
    if caller.acts_as(Role.PARENT):
        return True, caller.subject
    return False, None
