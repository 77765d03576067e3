"""Who follows a request on the family pages: a signed-in parent (their own requests),
or a family without an account holding the personal link of one request. The link sits
in the session once opened (a mailed `/mijn-aanvraag#<token>` or a pasted one); it is
checked like the API's `X-Personal-Link` on every page (`access.link_holder`), so a
revoked or expired link stops working at once."""

from __future__ import annotations

from fastapi import Request as HttpRequest

from loketkit.auth import Caller, NotAllowed, NotSignedIn, Role
from services.intake.entrypoints.access import LinkHolder, link_holder

SESSION_LINK = "personal_link"
MIN_TOKEN = 20  # shorter is no signed link: not worth a look-up


def token_from(pasted: str) -> str:
    """The token in what a family pasted: the whole link (`…/mijn-aanvraag#<token>`)
    or the token alone."""
    text = pasted.strip()
    if "#" in text:
        text = text.rsplit("#", 1)[1]
    return text.strip()


async def holder_of(http: HttpRequest, token: str) -> LinkHolder | None:
    """The holder of a valid link; None for a forged, revoked or expired one."""
    if len(token) < MIN_TOKEN:
        return None
    try:
        return await link_holder(http, token)
    except NotSignedIn:
        return None


async def session_holder(http: HttpRequest) -> LinkHolder | None:
    """The link kept in this browser's session, while it is valid (else forgotten)."""
    token = http.session.get(SESSION_LINK)
    if not isinstance(token, str):
        return None
    holder = await holder_of(http, token)
    if holder is None:
        http.session.pop(SESSION_LINK, None)
    return holder


def as_parent(caller: Caller | None) -> Caller | None:
    """A signed-in parent; None when nobody signed in. These pages are the family's:
    staff and others serve families on their own pages."""
    if caller is None:
        return None
    if not caller.acts_as(Role.PARENT):
        raise NotAllowed("authorization", "the family pages are for parents")
    return caller


async def family_of(http: HttpRequest, caller: Caller | None, request_id: str
                    ) -> Caller | None:
    """Who opens this request: the session's link if it is this request's, else the
    signed-in parent, else the link (for another request: not found later), else
    nobody (the page asks for the link)."""
    parent = as_parent(caller)
    holder = await session_holder(http)
    if holder is not None and holder.request_id == request_id:
        return holder
    return parent or holder
