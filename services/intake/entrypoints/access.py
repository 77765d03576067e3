"""Who may see and change which request in intake.

- A parent: the requests they registered while signed in (`owner_subject`); a family
  without an account: the one request its personal link opens (`X-Personal-Link`).
- Loket staff: the requests of their own service area; a coordinator reads them too.
  Both assess the family's vulnerability and decide urgency (a judgement, not the
  family's to declare).
- An organiser: the contact of a family that accepted an offer at one of its locations.
- A partner system: registers requests for its own service area, nothing else.
Another tenant's request answers 404 with the message of a missing one, so its
existence is never revealed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import jwt
from fastapi import Request as HttpRequest
from fastapi import Security
from fastapi.security import APIKeyHeader
from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from loketkit.auth import (
    Caller,
    NotAllowed,
    NotSignedIn,
    OptionalCaller,
    Role,
    authorised,
    guard,
    public,
    requires,
)
from loketkit.errors import NotFound, RateLimited
from services.intake import personal_links, views
from services.intake.domain.model import Request
from services.intake.entrypoints.deps import IntakeContext

MISSING_REQUEST = "no request with this id"

@dataclass(frozen=True)
class LinkHolder(Caller):
    """A family without an account, holding the personal link of one request."""

    request_id: str = ""


link_header = APIKeyHeader(
    name="X-Personal-Link", auto_error=False, scheme_name="personal_link",
    description="The personal link a family got by e-mail (or from the loket): opens "
    "that one request.")


async def link_holder(http: HttpRequest, token: str) -> LinkHolder:
    context = http.app.state.context
    settings = context.settings
    try:
        request_id, link_id = personal_links.read(
            token, settings.personal_link_key.get_secret_value())
    except jwt.PyJWTError:
        raise NotSignedIn("x-personal-link", "the personal link is not valid") from None
    async with context.uow() as uow:
        link = await uow.personal_links.get(link_id)
    if link is None or link.request_id != request_id or not link.valid_at(context.clock()):
        raise NotSignedIn("x-personal-link", "the personal link is revoked or expired")
    return LinkHolder(subject=f"personal-link:{link_id}", roles=frozenset({Role.PARENT}),
                      request_id=request_id)


def requires_or_link(*roles: Role) -> Any:
    """Like `requires`, but a valid personal link (for the request in the path) will do."""
    allowed = frozenset(roles)

    async def signed_in_or_link(
        http: HttpRequest, caller: OptionalCaller,
        link: Annotated[str | None, Security(link_header)] = None,
    ) -> Caller:
        if link:
            return await link_holder(http, link)
        return authorised(caller, allowed, "a bearer token or your personal link")

    return guard(signed_in_or_link, *sorted(allowed), "personal-link")


# Route guards: who may call at all (the tenant checks below then narrow it).
Registrant = Annotated[Caller | None, public(
    "families register without an account; staff, partners and parents with one")]
Family = Annotated[Caller, requires_or_link(Role.PARENT, Role.LOKET_STAFF)]
Reader = Annotated[Caller, requires_or_link(Role.PARENT, Role.LOKET_STAFF, Role.COORDINATOR)]
AreaStaff = Annotated[Caller, requires(Role.LOKET_STAFF, Role.COORDINATOR)]
# Vulnerability and urgency need a judgement: the loket's staff of the request's area.
Assessor = AreaStaff
Staff = Annotated[Caller, requires(Role.LOKET_STAFF)]
Organiser = Annotated[Caller, requires(Role.ORGANISER)]
Directory = Annotated[Caller | None, public("the locations families choose from are public")]

REGISTERING_ROLES = (Role.PARENT, Role.LOKET_STAFF, Role.PARTNER)


def opens(holder: LinkHolder, request: Request) -> bool:
    """A link opens its request and the crisis request that replaced it after a closure
    (the same child, re-placed without registering again)."""
    return holder.request_id in (request.request_id, request.replaces_request_id)


def may_read(caller: Caller, request: Request) -> bool:
    if isinstance(caller, LinkHolder):
        return opens(caller, request)
    if caller.in_area(request.service_area, Role.LOKET_STAFF, Role.COORDINATOR):
        return True
    return caller.acts_as(Role.PARENT) and request.owner_subject == caller.subject


def may_change(caller: Caller, request: Request) -> bool:
    if isinstance(caller, LinkHolder):
        return opens(caller, request)
    if caller.in_area(request.service_area, Role.LOKET_STAFF):
        return True
    return caller.acts_as(Role.PARENT) and request.owner_subject == caller.subject


def may_assess(caller: Caller, request: Request) -> bool:
    """Loket staff and the coordinator of the request's own area, never the family."""
    return (not isinstance(caller, LinkHolder)
            and caller.in_area(request.service_area, Role.LOKET_STAFF, Role.COORDINATOR))


async def request_for(
    ctx: IntakeContext, caller: Caller, request_id: str,
    may: Callable[[Caller, Request], bool] = may_read,
) -> Request:
    """The request, if `may` lets the caller at it; else not found, like a missing one."""
    request = await views.request_by_id(ctx.uow(), request_id)
    if not may(caller, request):
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
    if caller.acts_as(Role.PARENT) and not isinstance(caller, LinkHolder):
        return True, caller.subject
    return False, None  # a personal link opens one request, it lists none


class RegistrationLimit:
    """Registering without an account is open to anyone: a moving window per client
    address keeps a script from flooding the loket (limits' in-memory storage, so per
    process)."""

    def __init__(self, per_minute: int) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._item = RateLimitItemPerMinute(per_minute)

    async def check(self, address: str) -> None:
        if await self._limiter.hit(self._item, "anonymous-registration", address):
            return
        stats = await self._limiter.get_window_stats(self._item, "anonymous-registration",
                                                     address)
        wait = max(1, int(stats.reset_time - time.time()) + 1)
        raise RateLimited("authorization", "too many registrations from this address; "
                          "try again later or sign in", retry_after=wait)


async def limit_anonymous(http: HttpRequest, caller: Caller | None) -> None:
    if caller is not None:
        return
    limit: RegistrationLimit = http.app.state.registration_limit  # made by bootstrap
    await limit.check(http.client.host if http.client else "unknown")
