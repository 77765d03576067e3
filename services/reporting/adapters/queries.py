"""The figures, counted from the facts with one GROUP BY per figure.

All figures come from one UNION ALL statement, so they describe one snapshot
of the database. Each row is (service area, municipality, figure, count).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Select,
    and_,
    exists,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.base import ReadOnlyColumnCollection

from services.reporting.adapters.orm import table_of
from services.reporting.domain.facts import (
    ClosureFact,
    FreePlaceFact,
    LocationFact,
    ProposalFact,
    RequestFact,
    WithdrawalFact,
)
from services.reporting.domain.report import CountedFacts

requests, withdrawals, proposals, free_places, locations, closures = (
    table_of(fact).c for fact in (
        RequestFact, WithdrawalFact, ProposalFact, FreePlaceFact, LocationFact, ClosureFact
    )
)

# A request is open until it gets a proposal or is withdrawn, whichever topic
# delivers first: the facts are independent rows, so arrival order is irrelevant.
REQUEST_IS_OPEN = and_(
    ~exists().where(withdrawals.request_id == requests.request_id),
    ~exists().where(proposals.request_id == requests.request_id),
)
# A free place is open until it is proposed or its location closes.
PLACE_IS_OPEN = and_(
    ~exists().where(proposals.place_id == free_places.place_id),
    ~exists().where(closures.location_id == free_places.location_id),
)
# Replaced after a closure is no family's choice: the replacement request counts instead.
WITHDRAWN_BY_CHOICE = withdrawals.reason != "replaced_after_closure"
# A crisis request counts where the crisis happened: the municipality of the closed
# location the replaced request was proposed at (the family's own until that is known).
CLOSED_LOCATION_MUNICIPALITY = func.coalesce(
    select(proposals.location_municipality_nis)
    .where(proposals.request_id == requests.replaces_request_id)
    .order_by(proposals.proposed_at.desc())
    .limit(1)
    .scalar_subquery(),
    requests.municipality_nis,
)

Facts = ReadOnlyColumnCollection[str, Column[Any]]
# figure -> (facts, the municipality they count for, which of them count)
FIGURES: dict[str, tuple[Facts, ColumnElement[str], list[ColumnElement[bool]]]] = {
    "requests_submitted": (requests, requests.municipality_nis, []),
    "requests_open": (requests, requests.municipality_nis, [REQUEST_IS_OPEN]),
    "requests_withdrawn": (withdrawals, withdrawals.municipality_nis, [WITHDRAWN_BY_CHOICE]),
    "crisis_requests": (requests, CLOSED_LOCATION_MUNICIPALITY, [requests.urgency == "crisis"]),
    "proposals": (proposals, proposals.location_municipality_nis, []),
    "free_places": (free_places, free_places.municipality_nis, []),
    "free_places_open": (free_places, free_places.municipality_nis, [PLACE_IS_OPEN]),
    "locations": (locations, locations.municipality_nis, []),
    "closures": (closures, closures.municipality_nis, []),
}


def figure_select(figure: str, municipality_nis: str | None) -> Select[Any, str, str, int]:
    facts, municipality, conditions = FIGURES[figure]
    # Each counted fact as (service area, municipality), then grouped: the
    # municipality may be an expression, which GROUP BY cannot name directly.
    counted = (
        select(facts.service_area.label("service_area"), municipality.label("municipality_nis"))
        .where(*conditions)
        .subquery(figure)
    )
    statement = select(
        counted.c.service_area,
        counted.c.municipality_nis,
        literal(figure).label("figure"),
        func.count().label("count"),
    ).group_by(counted.c.service_area, counted.c.municipality_nis)
    if municipality_nis is not None:
        statement = statement.where(counted.c.municipality_nis == municipality_nis)
    return statement


async def counted_facts(
    session: AsyncSession, municipality_nis: str | None = None
) -> list[CountedFacts]:
    statement = union_all(*(figure_select(name, municipality_nis) for name in FIGURES))
    rows = await session.execute(statement)
    return [CountedFacts(area, nis, figure, count)
            for area, nis, figure, count in rows]
