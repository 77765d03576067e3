"""The follow-up of a crisis closure in intake, in Dutch: every child the released
closure reached, the crisis request that replaced its request and where that stands now
(waiting, offered, accepted, re-placed, left to the loket, withdrawn), until each is
re-placed. Capacity's closure page links here: capacity loses the children once their
requests are replaced, intake follows the new requests.

Loket staff and the coordinator of the area see it (with the child's first name, as on
the other staff pages); another area's staff and coordinators find nothing (404).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter
from fastapi import Request as HttpRequest
from fastapi.responses import HTMLResponse

from loketkit.auth import Caller, Role
from loketkit.dutch import date_in_dutch, moment_in_dutch
from loketkit.errors import NotFound
from loketkit.web import page_requires
from services.intake import views
from services.intake.domain.model import Offer, OfferStatus, Request, Status
from services.intake.entrypoints.deps import ContextDep
from services.intake.entrypoints.pages import PAGES
from services.intake.entrypoints.pages.family_form import MUNICIPALITY_NAMES

router = APIRouter(include_in_schema=False)

AreaPage = Annotated[Caller, page_requires(Role.LOKET_STAFF, Role.COORDINATOR)]

# The states, in the order the page lists the children: who needs the loket first.
NEEDS_LOKET, WAITING, OFFERED, ACCEPTED, PLACED, REPLACED, EXPIRED, WITHDRAWN = (
    "needs_loket", "waiting", "offered", "accepted", "placed", "replaced", "expired",
    "withdrawn")
ORDER = (NEEDS_LOKET, WAITING, OFFERED, ACCEPTED, PLACED, REPLACED, EXPIRED, WITHDRAWN)
# For the counts at the top: how many children are in each state.
COUNTED = {
    NEEDS_LOKET: "Geen open locatie: het loket neemt contact op",
    WAITING: "Wacht op een plaats",
    OFFERED: "Met een aanbod",
    ACCEPTED: "Aanvaard, wacht op de organisator",
    PLACED: "Herplaatst",
    REPLACED: "Opnieuw vervangen na een andere sluiting",
    EXPIRED: "Vervallen (niet bevestigd)",
    WITHDRAWN: "Ingetrokken",
}


@dataclass(frozen=True)
class Row:
    """One child: its requests (old, the crisis request, later ones) and its state."""

    child: views.AffectedChild
    state: str
    text: str
    municipality: str

    @property
    def current(self) -> Request:
        return self.child.current


def municipality_name(code: str) -> str:
    return MUNICIPALITY_NAMES.get(code, f"gemeente {code}")


def _latest(offers: list[Offer], status: OfferStatus) -> Offer | None:
    found = [offer for offer in offers if offer.status is status]
    return max(found, key=lambda offer: (offer.proposed_at, offer.start_date)) if found else None


def state_of(child: views.AffectedChild, closed_location_id: str,
             names: dict[str, str]) -> tuple[str, str]:
    """The child's state now, in plain Dutch. An offer or placement at the closed
    location itself does not count (a child the closure left with the loket keeps its
    old request, and its placement there)."""
    request = child.current

    def name(location_id: str) -> str:
        return names.get(location_id, location_id)

    if request.status is Status.WITHDRAWN:
        return WITHDRAWN, "ingetrokken"
    if request.status is Status.EXPIRED:
        return EXPIRED, "vervallen: het gezin bevestigde de aanvraag niet"
    if request.status is Status.REPLACED:
        return REPLACED, "opnieuw vervangen na een andere sluiting"
    offers = [offer for offer in request.offers if offer.location_id != closed_location_id]
    placed = max((offer for offer in offers if offer.status is OfferStatus.PLACED),
                 key=lambda offer: offer.start_date, default=None)
    if placed:
        return PLACED, (f"herplaatst bij {name(placed.location_id)} "
                        f"vanaf {date_in_dutch(placed.start_date)}")
    accepted = _latest(offers, OfferStatus.ACCEPTED)
    if accepted:
        return ACCEPTED, f"aanvaard, wacht op de organisator ({name(accepted.location_id)})"
    offered = _latest(offers, OfferStatus.OPEN)
    if offered:
        return OFFERED, (f"aanbod bij {name(offered.location_id)} "
                         f"tot {moment_in_dutch(offered.family_answer_due)}")
    if request.needs_loket_for_closure_id is not None:
        return NEEDS_LOKET, "geen open locatie: loket neemt contact op"
    return WAITING, "wacht op een plaats"


def rows_of(found: views.ClosureChildren, names: dict[str, str]) -> list[Row]:
    assert found.location is not None or not found.children
    closed = found.location.location_id if found.location else ""
    rows = []
    for child in found.children:
        state, text = state_of(child, closed, names)
        rows.append(Row(child, state, text, municipality_name(child.current.municipality_nis)))
    return sorted(rows, key=lambda row: (ORDER.index(row.state), row.child.old.request_id))


def counted(rows: list[Row]) -> list[tuple[int, str]]:
    """(how many, in what state) for each state some child is in, in the page's order."""
    counts = Counter(row.state for row in rows)
    return [(counts[state], COUNTED[state]) for state in ORDER if counts[state]]


@router.get("/balie/sluitingen/{closure_id}", response_class=HTMLResponse)
async def closure_page(caller: AreaPage, http: HttpRequest, ctx: ContextDep,
                       closure_id: str) -> HTMLResponse:
    area = ctx.settings.service_area
    if not caller.in_area(area, Role.LOKET_STAFF, Role.COORDINATOR):
        raise NotFound("closure_id", "no closure with this id")
    found = await views.closure_children(ctx.uow(), closure_id, area)
    names = {location.location_id: location.name
             for location in await views.locations(ctx.uow())}
    rows = rows_of(found, names)
    location = found.location
    heading = (f"Sluiting van {location.name} vanaf {date_in_dutch(location.closed_from)}"
               if location and location.closed_from else f"Sluiting {closure_id}")
    return PAGES.render(
        http, "staff/closure.html", heading=heading, closure_id=closure_id,
        location=location, rows=rows, counts=counted(rows),
        placed=sum(row.state == PLACED for row in rows),
        coordinator=caller.acts_as(Role.COORDINATOR))
