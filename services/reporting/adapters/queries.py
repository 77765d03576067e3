"""The figures, counted from the facts with one GROUP BY per figure.

All figures come from one UNION ALL statement, so they describe one snapshot
of the database. Each row is (service area, municipality, figure, count).
Waiting times come from a second statement: percentile_cont per family
municipality, per service area and in total (percentiles do not add up).
Facts arrive from three topics in any order, so every rule below is written over
independent rows: whichever fact came first, the figures end the same.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Float,
    Select,
    and_,
    cast,
    exists,
    extract,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.base import ReadOnlyColumnCollection

from services.reporting.adapters.orm import table_of
from services.reporting.domain.facts import (
    AcceptanceFact,
    CancellationFact,
    CapacityFact,
    ClosureFact,
    DeclarationFact,
    DeclaredEnrolmentFact,
    DeclineFact,
    EnrolmentEndFact,
    FreePlaceFact,
    LocationFact,
    OfferExpiryFact,
    PlacementFact,
    PlaceWithdrawalFact,
    ProposalFact,
    RefusalFact,
    RequestExpiryFact,
    RequestFact,
    WithdrawalFact,
)
from services.reporting.domain.model import REFUSAL_REASONS, Measure, WaitingTimes
from services.reporting.domain.report import CountedFacts

Facts = ReadOnlyColumnCollection[str, Column[Any]]

requests, withdrawals, request_expiries = (
    table_of(fact).c for fact in (RequestFact, WithdrawalFact, RequestExpiryFact))
proposals, acceptances, declines, refusals, offer_expiries, cancellations, placements = (
    table_of(fact).c for fact in (ProposalFact, AcceptanceFact, DeclineFact, RefusalFact,
                                  OfferExpiryFact, CancellationFact, PlacementFact))
enrolment_ends, declarations, declared_enrolments, licences = (
    table_of(fact).c for fact in (EnrolmentEndFact, DeclarationFact, DeclaredEnrolmentFact,
                                  CapacityFact))
free_places, place_withdrawals, locations, closures = (
    table_of(fact).c for fact in (FreePlaceFact, PlaceWithdrawalFact, LocationFact, ClosureFact))
declarations_of_capacity = table_of(CapacityFact).alias("newer").c


def offer_ended(match_id: ColumnElement[str]) -> ColumnElement[bool]:
    """An answer, an expiry, a cancellation or a placement ends an offer."""
    return or_(*(exists().where(facts.match_id == match_id)
                 for facts in (declines, refusals, offer_expiries, cancellations, placements)))


# A live offer: proposed and not yet ended (an accepted offer waits for the organiser).
REQUEST_HAS_LIVE_OFFER = exists().where(
    proposals.request_id == requests.request_id, ~offer_ended(proposals.match_id))
PLACE_HAS_LIVE_OFFER = exists().where(
    proposals.place_id == free_places.place_id, ~offer_ended(proposals.match_id))
# A request is open (waiting for an offer) until it has a live offer, is placed,
# withdrawn or expired; a declined, refused or expired offer sets it waiting again.
REQUEST_IS_OPEN = and_(
    ~exists().where(withdrawals.request_id == requests.request_id),
    ~exists().where(request_expiries.request_id == requests.request_id),
    ~exists().where(placements.request_id == requests.request_id),
    ~REQUEST_HAS_LIVE_OFFER,
)
# A free place is open until it is offered, filled or withdrawn, or its location closes;
# an offer that ends without a placement passes it on, so it is open again.
PLACE_IS_OPEN = and_(
    ~PLACE_HAS_LIVE_OFFER,
    ~exists().where(placements.place_id == free_places.place_id),
    ~exists().where(place_withdrawals.place_id == free_places.place_id),
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


def location_municipality(answers: Facts) -> ColumnElement[str]:
    """The family's answer counts at the offered location's municipality: from the
    proposal, else the location, else the answer's own code."""
    return func.coalesce(
        select(proposals.location_municipality_nis)
        .where(proposals.match_id == answers.match_id).scalar_subquery(),
        select(locations.municipality_nis)
        .where(locations.location_id == answers.location_id).scalar_subquery(),
        answers.municipality_nis,
    )


# A placement also counts at the family's municipality, once the request or the
# proposal tells which that is.
FAMILY_MUNICIPALITY = func.coalesce(
    select(requests.municipality_nis)
    .where(requests.request_id == placements.request_id).scalar_subquery(),
    select(proposals.request_municipality_nis)
    .where(proposals.match_id == placements.match_id).scalar_subquery(),
)

# figure -> (facts, the municipality they count for, which of them count)
FIGURES: dict[str, tuple[Facts, ColumnElement[str], list[ColumnElement[bool]]]] = {
    "requests_submitted": (requests, requests.municipality_nis, []),
    "requests_open": (requests, requests.municipality_nis, [REQUEST_IS_OPEN]),
    "requests_withdrawn": (withdrawals, withdrawals.municipality_nis, [WITHDRAWN_BY_CHOICE]),
    "requests_expired": (request_expiries, request_expiries.municipality_nis, []),
    "crisis_requests": (requests, CLOSED_LOCATION_MUNICIPALITY, [requests.urgency == "crisis"]),
    "proposals": (proposals, proposals.location_municipality_nis, []),
    "offers_accepted": (acceptances, location_municipality(acceptances), []),
    "declined_by_family": (declines, location_municipality(declines), []),
    **{f"refused_{reason}": (refusals, refusals.municipality_nis, [refusals.reason == reason])
       for reason in REFUSAL_REASONS},
    "offers_expired": (offer_expiries, offer_expiries.location_municipality_nis, []),
    "offers_cancelled": (cancellations, cancellations.location_municipality_nis, []),
    "placed": (placements, placements.municipality_nis, []),
    "placed_family": (placements, FAMILY_MUNICIPALITY, [FAMILY_MUNICIPALITY.is_not(None)]),
    "enrolments_ended": (enrolment_ends, enrolment_ends.municipality_nis, []),
    "free_places": (free_places, free_places.municipality_nis, []),
    "free_places_open": (free_places, free_places.municipality_nis, [PLACE_IS_OPEN]),
    "places_withdrawn": (place_withdrawals, place_withdrawals.municipality_nis, []),
    "locations": (locations, locations.municipality_nis, []),
    "closures": (closures, closures.municipality_nis, []),
}


def figure_select(figure: str, municipality_nis: str | None) -> Select[Any]:
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


def closed_on(location_id: ColumnElement[str], on: date) -> ColumnElement[bool]:
    return exists().where(closures.location_id == location_id, closures.effective_from <= on)


def licence_select(on: date, municipality_nis: str | None) -> Select[Any]:
    """Licensed places of the locations open on `on`: the latest CapacityDeclared, else the
    capacity the location was registered with (a declaration may arrive first)."""
    latest_declared = (
        select(licences.licensed_places).where(licences.location_id == locations.location_id)
        .order_by(licences.declared_at.desc()).limit(1).scalar_subquery())
    registered = select(
        locations.service_area, locations.municipality_nis,
        func.coalesce(latest_declared, locations.capacity).label("places"),
    ).where(~closed_on(locations.location_id, on))
    newest = select(func.max(declarations_of_capacity.declared_at)).where(
        declarations_of_capacity.location_id == licences.location_id).scalar_subquery()
    declared_only = select(
        licences.service_area, licences.municipality_nis, licences.licensed_places,
    ).where(
        licences.declared_at == newest,
        ~exists().where(locations.location_id == licences.location_id),
        ~closed_on(licences.location_id, on),
    )
    places = union_all(registered, declared_only).subquery("licences")
    statement = select(
        places.c.service_area, places.c.municipality_nis,
        literal("licensed_places").label("figure"), func.sum(places.c.places).label("count"),
    ).group_by(places.c.service_area, places.c.municipality_nis)
    if municipality_nis is not None:
        statement = statement.where(places.c.municipality_nis == municipality_nis)
    return statement


def not_ended(location_id: ColumnElement[str], enrolment_id: ColumnElement[str], on: date
              ) -> ColumnElement[bool]:
    """Its day-parts are free again from `ended_on`."""
    return ~exists().where(enrolment_ends.location_id == location_id,
                           enrolment_ends.enrolment_id == enrolment_id,
                           enrolment_ends.ended_on <= on)


def enrolled_select(on: date, municipality_nis: str | None) -> Select[Any]:
    """Children enrolled on `on`, per day-part: placed through the loket, plus the latest
    declaration of each location (enrolments admitted outside the loket), less the ended."""
    placed = select(
        placements.service_area, placements.municipality_nis, placements.day_parts,
    ).where(placements.start_date <= on,
            not_ended(placements.location_id, placements.enrolment_id, on))
    latest = select(func.max(declarations.declared_at)).where(
        declarations.location_id == declared_enrolments.location_id).scalar_subquery()
    declared = select(
        declared_enrolments.service_area, declared_enrolments.municipality_nis,
        declared_enrolments.day_parts,
    ).where(
        declared_enrolments.declared_at == latest,
        declared_enrolments.start_date <= on,
        or_(declared_enrolments.end_date.is_(None), declared_enrolments.end_date >= on),
        not_ended(declared_enrolments.location_id, declared_enrolments.enrolment_id, on),
        # A child the loket placed and the organiser also declared counts once.
        ~exists().where(placements.location_id == declared_enrolments.location_id,
                        placements.enrolment_id == declared_enrolments.enrolment_id),
    )
    enrolments = union_all(placed, declared).subquery("enrolments")
    parts = select(
        enrolments.c.service_area, enrolments.c.municipality_nis,
        func.unnest(enrolments.c.day_parts).label("part"),
    ).subquery("parts")
    statement = select(
        parts.c.service_area, parts.c.municipality_nis,
        literal("enrolled_").concat(parts.c.part).label("figure"),
        func.count().label("count"),
    ).group_by(parts.c.service_area, parts.c.municipality_nis, parts.c.part)
    if municipality_nis is not None:
        statement = statement.where(parts.c.municipality_nis == municipality_nis)
    return statement


async def counted_facts(
    session: AsyncSession, on: date, municipality_nis: str | None = None
) -> list[CountedFacts]:
    statement = union_all(*(figure_select(name, municipality_nis) for name in FIGURES),
                          licence_select(on, municipality_nis),
                          enrolled_select(on, municipality_nis))
    rows = await session.execute(statement)
    return [CountedFacts(area, nis, figure, int(count))
            for area, nis, figure, count in rows]


# The first moment of each measure per request: the first offer, the first placement.
FIRST: dict[Measure, tuple[ColumnElement[str], ColumnElement[Any]]] = {
    "first_offer": (proposals.request_id, proposals.proposed_at),
    "placement": (placements.request_id, placements.confirmed_at),
}


def waiting_select(measure: Measure, municipality_nis: str | None) -> list[Select[Any]]:
    request_id, moment = FIRST[measure]
    first = (select(request_id.label("request_id"), func.min(moment).label("at"))
             .group_by(request_id).subquery("firsts"))
    seconds = extract("epoch", first.c.at - requests.submitted_at)
    days = func.greatest(0.0, cast(seconds, Float) / 86400.0)
    waited = (
        select(requests.service_area, requests.municipality_nis, days.label("days"))
        .join(first, first.c.request_id == requests.request_id)
        # A crisis request keeps the registration date of a family that was placed.
        .where(requests.urgency != "crisis")
    )
    if municipality_nis is not None:
        waited = waited.where(requests.municipality_nis == municipality_nis)
    rows = waited.subquery(f"waited_{measure}")

    def summary(scope: str, key: ColumnElement[str]) -> Select[Any]:
        return select(
            literal(scope).label("scope"), key.label("key"), literal(measure).label("measure"),
            func.percentile_cont(0.5).within_group(rows.c.days).label("median"),
            func.percentile_cont(0.9).within_group(rows.c.days).label("p90"),
            func.count().label("requests"),
        )

    return [
        summary("municipality", rows.c.municipality_nis).group_by(rows.c.municipality_nis),
        summary("service_area", rows.c.service_area).group_by(rows.c.service_area),
        summary("total", literal("")).having(func.count() > 0),
    ]


async def waiting_times(
    session: AsyncSession, municipality_nis: str | None = None
) -> list[WaitingTimes]:
    statement = union_all(*(part for measure in FIRST
                            for part in waiting_select(measure, municipality_nis)))
    rows = await session.execute(statement)
    return [WaitingTimes(scope, key, measure, median, p90, requests)
            for scope, key, measure, median, p90, requests in rows]
