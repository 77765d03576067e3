"""Matching's use cases, one function per event (and the jobs: deadlines, rekey), over a
unit of work. Offers themselves are made in `offers.py`; allocation rounds in `rounds.py`.

In an area that allocates continuously, every change to who waits or what is free tries
to make an offer at once, so an open place never has a fitting waiting request next to
it (an area that allocates in rounds waits for its round, crisis requests excepted). An
offer that ends without a placement passes its place on to the next candidate in the
same transaction. Every handler is idempotent and tolerant of order: offers only move
by conditional updates from the statuses the rule allows, so an answer for an offer
that already ended changes nothing.
"""

from __future__ import annotations

import logging
from datetime import date

from contracts import CloudEvent
from contracts.events import (
    CrisisClosure,
    EnrolmentEnded,
    EnrolmentsDeclared,
    LocationRegistered,
    MatchAccepted,
    MatchDeclined,
    MatchRefused,
    PlaceFreed,
    PlacementConfirmed,
    PlaceWithdrawn,
    RequestAssessed,
    RequestExpired,
    RequestSubmitted,
    RequestUpdated,
    RequestWithdrawn,
)
from contracts.events.matching import CancelReason
from contracts.events.requests import PriorityFacts
from loketkit.bus import AnyHandler
from loketkit.consumer import RejectedEvent
from loketkit.ids import Clock, IdFactory
from services.matching.domain.model import (
    ENDED_REQUEST,
    LIVE,
    FreePlace,
    KnownLocation,
    Match,
    MatchStatus,
    PlaceStatus,
    RequestStatus,
    WaitingRequest,
    still_fits,
)
from services.matching.offers import Offers
from services.matching.ports import MatchingUnitOfWork
from services.matching.rounds import PublishRound, RunRound, publish_round, run_round

log = logging.getLogger(__name__)
DEADLINE_BATCH = 100
REKEY_BATCH = 500


def declared_facts(facts: PriorityFacts) -> tuple[str, ...]:
    """The facts a family declared with its sworn statement, by their rule names."""
    named = {"work_or_training": facts.parents_working_or_training,
             "work_four_fifths": facts.works_at_least_four_fifths,
             "single_parent": facts.single_parent, "low_income": facts.low_income,
             "foster_child": facts.foster_child}
    return tuple(name for name, held in named.items() if held)


def waiting_request(data: RequestSubmitted) -> WaitingRequest:
    facts = data.priority
    return WaitingRequest(
        request_id=data.request_id,
        service_area=data.service_area,
        municipality_nis=data.municipality_nis,
        birth_month=date.fromisoformat(f"{data.birth_month}-01"),
        desired_start_date=data.desired_start_date,
        day_parts=tuple(data.day_parts),
        accepts_partial_fit=data.accepts_partial_fit,
        preferred_location_ids=tuple(dict.fromkeys(data.preferred_location_ids)),
        sibling_location_ids=tuple(facts.sibling_location_ids),
        sibling_request_ids=tuple(
            dict.fromkeys(s for s in data.sibling_request_ids if s != data.request_id)),
        facts=declared_facts(facts),
        urgency=data.urgency,
        submitted_at=data.submitted_at,
    )


async def answered_match(uow: MatchingUnitOfWork, match_id: str, request_id: str,
                         place_id: str) -> Match | None:
    """The offer an answer is about; None (ignored, logged) when matching never made it.
    An answer naming another request or place than the offer's is rejected."""
    match = await uow.matches.get(match_id)
    if match is None:
        log.warning("answer for an unknown offer %s: ignored", match_id)
        return None
    if match.request_id != request_id:
        raise RejectedEvent("field 'data.request_id': not the request of this offer")
    if match.place_id != place_id:
        raise RejectedEvent("field 'data.place_id': not the place of this offer")
    return match


# --- requests ---------------------------------------------------------------------------


async def on_request_submitted(
    event: CloudEvent, data: RequestSubmitted, uow: MatchingUnitOfWork,
    clock: Clock, new_id: IdFactory,
) -> None:
    if await uow.requests.get(data.request_id):
        return  # the same request announced again (a different event id): nothing changes
    await add_request(event, data, uow, clock, new_id)


async def add_request(
    event: CloudEvent, data: RequestSubmitted, uow: MatchingUnitOfWork,
    clock: Clock, new_id: IdFactory,
) -> None:
    """A request matching does not know yet: stored, and offered a place if one fits."""
    request = waiting_request(data)
    offers = Offers(uow, clock, new_id, event)
    await offers.add(request)
    if await offers.matches_continuously(request.service_area, request):
        await offers.offer_to(request)


async def on_request_updated(
    event: CloudEvent, data: RequestUpdated, uow: MatchingUnitOfWork,
    clock: Clock, new_id: IdFactory,
) -> None:
    """New choices, schedule or date: offers that no longer fit end, then try again."""
    request = await uow.requests.get(data.request_id)
    if request is None or request.status in ENDED_REQUEST:
        log.info("update of an unknown or ended request %s: ignored", data.request_id)
        return
    choices = tuple(dict.fromkeys(data.preferred_location_ids))
    updated = request.model_copy(update={
        "desired_start_date": data.desired_start_date,
        "day_parts": tuple(data.day_parts),
        "accepts_partial_fit": data.accepts_partial_fit,
        "preferred_location_ids": choices,
        "sibling_request_ids": tuple(
            dict.fromkeys(s for s in data.sibling_request_ids if s != data.request_id)),
        "closed_location_ids": tuple(c for c in request.closed_location_ids if c in choices),
    })
    offers = Offers(uow, clock, new_id, event)
    await offers.save(updated)
    rules = await offers.rules(request.service_area)
    for match in await uow.matches.of_request(request.request_id, LIVE):
        place = await uow.places.get(match.place_id)
        if place is None or not still_fits(updated, match, place, rules):
            await offers.cancel(match, "request_updated")
    if await offers.matches_continuously(request.service_area, updated):
        await offers.offer_to(await offers.refresh(request.request_id))
    else:
        await offers.refresh(request.request_id)


async def on_request_assessed(
    event: CloudEvent, data: RequestAssessed, uow: MatchingUnitOfWork,
    clock: Clock, new_id: IdFactory,
) -> None:
    """Loket staff judged the family vulnerable or not, and granted urgency or not: the
    request's standing changes everywhere it waits (a crisis request stays one)."""
    request = await uow.requests.get(data.request_id)
    if request is None or request.status in ENDED_REQUEST:
        log.info("assessment of an unknown or ended request %s: ignored", data.request_id)
        return
    facts = tuple(f for f in request.facts if f != "vulnerable")
    urgency = request.urgency if request.urgency == "crisis" else (
        "urgent" if data.urgent else "normal")
    updated = request.model_copy(update={
        "facts": (*facts, "vulnerable") if data.vulnerable else facts, "urgency": urgency})
    if updated == request:
        return
    offers = Offers(uow, clock, new_id, event)
    await offers.save(updated)
    if await offers.matches_continuously(request.service_area, updated):
        await offers.offer_to(updated)


async def end_request(event: CloudEvent, request_id: str, status: RequestStatus,
                      reason: CancelReason, uow: MatchingUnitOfWork, clock: Clock,
                      new_id: IdFactory) -> None:
    """A request that waits no more: its live offers end and their places pass on.
    A confirmed placement stays (the enrolment is capacity's)."""
    request = await uow.requests.get(request_id)
    if request is None or request.status in ENDED_REQUEST:
        return
    offers = Offers(uow, clock, new_id, event)
    await offers.save(request.model_copy(update={"status": status}))
    for match in await uow.matches.of_request(request_id, LIVE):
        await offers.cancel(match, reason)
    await offers.refresh(request_id)


async def on_request_withdrawn(
    event: CloudEvent, data: RequestWithdrawn, uow: MatchingUnitOfWork,
    clock: Clock, new_id: IdFactory,
) -> None:
    await end_request(event, data.request_id, RequestStatus.WITHDRAWN, "request_withdrawn",
                      uow, clock, new_id)


async def on_request_expired(
    event: CloudEvent, data: RequestExpired, uow: MatchingUnitOfWork,
    clock: Clock, new_id: IdFactory,
) -> None:
    await end_request(event, data.request_id, RequestStatus.EXPIRED, "request_expired",
                      uow, clock, new_id)


# --- answers ------------------------------------------------------------------------------


async def on_match_accepted(
    event: CloudEvent, data: MatchAccepted, uow: MatchingUnitOfWork,
    clock: Clock, new_id: IdFactory,
) -> None:
    """The family takes the offer; its live offers ranked lower end."""
    match = await answered_match(uow, data.match_id, data.request_id, data.place_id)
    if match is None:
        return
    accepted = await uow.matches.transition(
        match.match_id, {MatchStatus.PROPOSED}, MatchStatus.ACCEPTED,
        keep_waiting=data.keep_waiting_for_higher_choices)
    if accepted is None:
        return  # answered, expired or cancelled already: the answer changes nothing
    offers = Offers(uow, clock, new_id, event)
    request = await uow.requests.get(match.request_id)
    if request is not None:
        rank = request.rank(match.location_id)
        for other in await uow.matches.of_request(match.request_id, LIVE):
            if other.match_id != match.match_id and request.rank(other.location_id) > rank:
                await offers.cancel(other, "accepted_other_offer")
    await offers.refresh(match.request_id)


async def end_by_answer(event: CloudEvent, match: Match, to: MatchStatus,
                        uow: MatchingUnitOfWork, clock: Clock, new_id: IdFactory) -> None:
    """Declined or refused: the location leaves the request's list, the place passes on
    at once, and the request may get an offer at its other choices."""
    offers = Offers(uow, clock, new_id, event)
    if await offers.end(match, to) is None:
        return
    await offers.close_choice(match.request_id, match.location_id)
    await offers.pass_on(match.place_id)
    await offers.offer_to(await offers.refresh(match.request_id))


async def on_match_declined(
    event: CloudEvent, data: MatchDeclined, uow: MatchingUnitOfWork,
    clock: Clock, new_id: IdFactory,
) -> None:
    match = await answered_match(uow, data.match_id, data.request_id, data.place_id)
    if match is not None:
        await end_by_answer(event, match, MatchStatus.DECLINED, uow, clock, new_id)


async def on_match_refused(
    event: CloudEvent, data: MatchRefused, uow: MatchingUnitOfWork,
    clock: Clock, new_id: IdFactory,
) -> None:
    match = await answered_match(uow, data.match_id, data.request_id, data.place_id)
    if match is not None:
        await end_by_answer(event, match, MatchStatus.REFUSED, uow, clock, new_id)


async def on_placement_confirmed(
    event: CloudEvent, data: PlacementConfirmed, uow: MatchingUnitOfWork,
    clock: Clock, new_id: IdFactory,
) -> None:
    """The child is placed. Its other live offers end (placed_elsewhere), except those
    ranked higher when the family kept waiting for them; its choices close likewise.

    A confirmation of a proposed offer counts too (the family's acceptance travels on
    another topic and may come later). One for an unknown or ended offer is ignored
    and logged: matching never placed that child through this offer."""
    match = await answered_match(uow, data.match_id, data.request_id, data.place_id)
    if match is None:
        return
    confirmed = await uow.matches.transition(match.match_id, LIVE, MatchStatus.CONFIRMED)
    if confirmed is None:
        if match.status is not MatchStatus.CONFIRMED:
            log.warning("placement confirmed for offer %s that is %s: ignored",
                        match.match_id, match.status)
        return
    await uow.places.set_status(match.place_id, PlaceStatus.FILLED)
    await uow.locations.enrol(data.enrolment_id, data.location_id, data.priority_group)
    offers = Offers(uow, clock, new_id, event)
    request = await uow.requests.get(match.request_id)
    if request is None:
        return
    rank = request.rank(match.location_id)
    keep_higher = confirmed.keep_waiting
    for other in await uow.matches.of_request(match.request_id, LIVE):
        if not (keep_higher and request.rank(other.location_id) < rank):
            await offers.cancel(other, "placed_elsewhere")
    closing = [loc for loc in request.preferred_location_ids
               if not (keep_higher and request.rank(loc) < rank)]
    await offers.save(request.model_copy(update={
        "closed_location_ids": tuple(dict.fromkeys((*request.closed_location_ids, *closing)))}))
    await offers.refresh(match.request_id)


# --- places -------------------------------------------------------------------------------


def free_place(data: PlaceFreed) -> FreePlace:
    return FreePlace(
        place_id=data.place_id, service_area=data.service_area, location_id=data.location_id,
        municipality_nis=data.municipality_nis, available_from=data.available_from,
        min_age_months=data.min_age_months, max_age_months=data.max_age_months,
        day_parts=tuple(data.day_parts),
    )


async def on_place_freed(
    event: CloudEvent, data: PlaceFreed, uow: MatchingUnitOfWork,
    clock: Clock, new_id: IdFactory,
) -> None:
    if await uow.places.get(data.place_id):
        return  # a place is offered once, however often it is announced (or if withdrawn)
    place = free_place(data)
    if await uow.closures.is_closed(place.location_id):
        await uow.places.add(place.model_copy(update={"status": PlaceStatus.CANCELLED}))
        return
    await uow.places.add(place)
    offers = Offers(uow, clock, new_id, event)
    if await offers.matches_continuously(place.service_area):
        await offers.offer_place(place)


async def on_place_withdrawn(
    event: CloudEvent, data: PlaceWithdrawn, uow: MatchingUnitOfWork,
    clock: Clock, new_id: IdFactory,
) -> None:
    """The organiser takes a place back; a live offer on it ends and its request waits
    again. A withdrawal of a place not announced yet is remembered (a withdrawn
    place), so the PlaceFreed that comes after it changes nothing."""
    place = await uow.places.get(data.place_id)
    if place is None:
        await uow.places.add(FreePlace(
            place_id=data.place_id, service_area=data.service_area,
            location_id=data.location_id, municipality_nis=data.municipality_nis,
            available_from=data.withdrawn_at.date(), min_age_months=0, max_age_months=0,
            status=PlaceStatus.WITHDRAWN))
        return
    if place.status not in (PlaceStatus.OPEN, PlaceStatus.PROPOSED):
        return  # filled, withdrawn or cancelled already
    await uow.places.set_status(place.place_id, PlaceStatus.WITHDRAWN)
    live = await uow.matches.live_of_place(place.place_id)
    if live is None:
        return
    offers = Offers(uow, clock, new_id, event)
    await offers.cancel(live, "place_withdrawn")
    await offers.offer_to(await offers.refresh(live.request_id))


async def on_crisis_closure(
    event: CloudEvent, data: CrisisClosure, uow: MatchingUnitOfWork,
    clock: Clock, new_id: IdFactory,
) -> None:
    """No more offers at a closed location: its places are cancelled and its live offers
    end. Intake re-registers the children as crisis requests, which come first."""
    offers = Offers(uow, clock, new_id, event)
    await uow.closures.close(data.location_id, offers.now)
    live = await uow.matches.live_at(data.location_id)
    for match in live:
        await offers.end(match, MatchStatus.CANCELLED, "location_closed")
    await uow.places.cancel_at(data.location_id)
    for request_id in dict.fromkeys(match.request_id for match in live):
        await offers.refresh(request_id)


# --- locations and their children ---------------------------------------------------------


async def on_location_registered(
    event: CloudEvent, data: LocationRegistered, uow: MatchingUnitOfWork,
    clock: Clock, new_id: IdFactory,
) -> None:
    """The location's subsidy tier says which rules bind it: the requests that chose it
    are ranked there again."""
    await uow.locations.register(KnownLocation(
        location_id=data.location_id, municipality_nis=data.municipality_nis,
        subsidy_tier=data.subsidy_tier))
    offers = Offers(uow, clock, new_id, event)
    location = (await uow.locations.get_many([data.location_id]))[data.location_id]
    for request in await uow.requests.choosing(data.location_id):
        ranking = await offers.ranking(request.service_area)
        await uow.requests.rekey(request.request_id, {
            data.location_id: ranking.candidate_key(request, location)})


async def on_enrolments_declared(
    event: CloudEvent, data: EnrolmentsDeclared, uow: MatchingUnitOfWork,
    clock: Clock, new_id: IdFactory,
) -> None:
    """The organiser's children, for the location's required share of priority groups."""
    today = clock().date()
    await uow.locations.replace_declared(data.location_id, [
        (enrolment.enrolment_id, enrolment.priority_group) for enrolment in data.enrolments
        if enrolment.end_date is None or enrolment.end_date >= today])


async def on_enrolment_ended(
    event: CloudEvent, data: EnrolmentEnded, uow: MatchingUnitOfWork,
    clock: Clock, new_id: IdFactory,
) -> None:
    await uow.locations.end_enrolment(data.enrolment_id)


# --- the candidate index ------------------------------------------------------------------


async def rekey_areas(uow: MatchingUnitOfWork, clock: Clock, new_id: IdFactory) -> int:
    """The job that keeps the candidate index true to the rules in force: when an area's
    rules changed since its keys were computed (a new legal rule set came into force,
    its local rules or lottery seed changed), its keys are computed again, a batch per
    transaction. Returns how many requests were re-keyed."""
    async with uow:
        areas = await uow.rankings.areas()
        await uow.commit()
    done = 0
    for area in areas:
        async with uow:
            offers = Offers(uow, clock, new_id, None)
            basis = (await offers.ranking(area)).basis()
            current = await uow.rankings.basis(area)
            await uow.commit()
        if current == basis:
            continue
        after = ""
        while True:
            async with uow:
                offers = Offers(uow, clock, new_id, None)
                page = await uow.requests.waiting_in_area(area, after=after, limit=REKEY_BATCH)
                for request in page:
                    await uow.requests.rekey(request.request_id, await offers.keys(request))
                if len(page) < REKEY_BATCH:
                    await uow.rankings.set_basis(area, basis, offers.now)
                await uow.commit()
            done += len(page)
            if len(page) < REKEY_BATCH:
                break
            after = page[-1].request_id
    return done


# --- deadlines ----------------------------------------------------------------------------


async def fire_due_deadlines(uow: MatchingUnitOfWork, clock: Clock, new_id: IdFactory) -> int:
    """The deadlines job: expiries and reminders that are due, each exactly once.

    Each batch is one transaction: it claims due offers (FOR UPDATE SKIP LOCKED, so
    instances running at the same time take different rows), moves them by
    conditional updates, and writes the events to the outbox with them."""
    fired = 0
    for _ in range(1000):  # a bound, not a target: each batch changes what it claims
        async with uow:
            offers = Offers(uow, clock, new_id, None)
            due = await uow.matches.claim_due(offers.now, DEADLINE_BATCH)
            for match in due:
                fired += await offers.fire(match)
            await uow.commit()
        if len(due) < DEADLINE_BATCH:
            break
    return fired


# Which handler answers what. Staff run and publish allocation rounds; the rest listens.
# (A burst of freed places goes to `bursts.on_places_freed`: EVENT_BATCH_HANDLERS there.)
COMMAND_HANDLERS: dict[type, AnyHandler] = {RunRound: run_round, PublishRound: publish_round}
EVENT_HANDLERS: dict[type, AnyHandler] = {
    RequestSubmitted: on_request_submitted,
    RequestAssessed: on_request_assessed,
    RequestUpdated: on_request_updated,
    RequestWithdrawn: on_request_withdrawn,
    RequestExpired: on_request_expired,
    MatchAccepted: on_match_accepted,
    MatchDeclined: on_match_declined,
    MatchRefused: on_match_refused,
    PlacementConfirmed: on_placement_confirmed,
    PlaceFreed: on_place_freed,
    PlaceWithdrawn: on_place_withdrawn,
    CrisisClosure: on_crisis_closure,
    LocationRegistered: on_location_registered,
    EnrolmentsDeclared: on_enrolments_declared,
    EnrolmentEnded: on_enrolment_ended,
}
JOBS: dict[str, AnyHandler] = {"deadlines": fire_due_deadlines, "rekey": rekey_areas}
