"""Matching's use cases, one function per event (and the deadlines job), over a unit of work.

Every change to who waits or what is free tries to make an offer at once, so an
open place never has a fitting waiting request next to it. An offer that ends
without a placement passes its place on to the next candidate in the same
transaction. Every handler is idempotent and tolerant of order: offers only move
by conditional updates from the statuses the rule allows, so an answer for an
offer that already ended changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Set
from datetime import date

from contracts import CloudEvent
from contracts.events import (
    CrisisClosure,
    MatchAccepted,
    MatchCancelled,
    MatchDeclined,
    MatchExpired,
    MatchProposed,
    MatchRefused,
    MatchReminderDue,
    PlaceFreed,
    PlacementConfirmed,
    PlaceWithdrawn,
    RequestExpired,
    RequestSubmitted,
    RequestUpdated,
    RequestWithdrawn,
)
from contracts.events.matching import CancelReason, Fit
from loketkit.area_settings import settings_in_force
from loketkit.bus import AnyHandler
from loketkit.consumer import RejectedEvent
from loketkit.ids import Clock, IdFactory
from services.matching.domain.area_settings import OfferSettings
from services.matching.domain.model import (
    ENDED_REQUEST,
    HOLDING,
    LIVE,
    FreePlace,
    Match,
    MatchStatus,
    PlaceStatus,
    RequestStatus,
    WaitingRequest,
    best_place,
    best_request,
    explain,
    status_of,
    still_fits,
)
from services.matching.ports import MatchingUnitOfWork

log = logging.getLogger(__name__)
DEADLINE_BATCH = 100


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
        priority_facts=sum((facts.parents_working_or_training, facts.single_parent,
                            facts.low_income, facts.foster_child)),
        urgency=data.urgency,
        submitted_at=data.submitted_at,
    )


class Offers:
    """One unit of work's dealings with offers: propose, end, and pass places on."""

    def __init__(self, uow: MatchingUnitOfWork, clock: Clock, new_id: IdFactory,
                 cause: CloudEvent | None) -> None:
        self.uow = uow
        self.now = clock()
        self.new_id = new_id
        self.cause = cause
        self._rules: dict[str, OfferSettings] = {}

    async def rules(self, service_area: str) -> OfferSettings:
        """The area's offer settings in force now (one read per area per unit)."""
        if service_area not in self._rules:
            self._rules[service_area] = await settings_in_force(
                self.uow, OfferSettings, service_area, self.now)
        return self._rules[service_area]

    async def refresh(self, request_id: str) -> WaitingRequest | None:
        """Recomputes the request's status and where it waits from what it holds."""
        request = await self.uow.requests.get(request_id)
        if request is None:
            return None
        holding = await self.uow.matches.of_request(request_id, HOLDING)
        updated = request.model_copy(update={
            "status": status_of(request, holding),
            "holding_location_ids": tuple(dict.fromkeys(m.location_id for m in holding)),
        })
        if updated != request:
            await self.uow.requests.save(updated)
        return updated

    async def close_choice(self, request_id: str, location_id: str) -> None:
        """The location leaves the request's list (declined, expired or refused there)."""
        request = await self.uow.requests.get(request_id)
        if request is not None and location_id not in request.closed_location_ids:
            await self.uow.requests.save(request.model_copy(update={
                "closed_location_ids": (*request.closed_location_ids, location_id)}))

    async def end(self, match: Match, to: MatchStatus, reason: CancelReason | None = None,
                  from_statuses: Set[MatchStatus] = LIVE) -> Match | None:
        """Ends a live offer (conditionally); a cancellation is announced with its reason."""
        ended = await self.uow.matches.transition(match.match_id, from_statuses, to)
        if ended is not None and reason is not None:
            self.uow.emit(MatchCancelled(**offer_fields(ended), reason=reason,
                                         cancelled_at=self.now), caused_by=self.cause)
        return ended

    async def cancel(self, match: Match, reason: CancelReason) -> bool:
        """Cancels a live offer and passes its place on at once."""
        if await self.end(match, MatchStatus.CANCELLED, reason) is None:
            return False
        await self.pass_on(match.place_id)
        return True

    async def pass_on(self, place_id: str) -> None:
        """The place of an ended offer goes to the next candidate, unless it is gone."""
        place = await self.uow.places.get(place_id)
        if place is None or place.status is not PlaceStatus.PROPOSED:
            return
        if await self.uow.matches.live_of_place(place_id) is not None:
            return
        if await self.uow.closures.is_closed(place.location_id):
            await self.uow.places.set_status(place_id, PlaceStatus.CANCELLED)
            return
        await self.uow.places.set_status(place_id, PlaceStatus.OPEN)
        await self.offer_place(place.model_copy(update={"status": PlaceStatus.OPEN}))

    async def offer_place(self, place: FreePlace) -> Match | None:
        rules = await self.rules(place.service_area)
        found = best_request(await self.uow.requests.candidates_for(place), place, rules)
        return await self.propose(found[0], place, found[1]) if found else None

    async def offer_to(self, request: WaitingRequest | None) -> Match | None:
        """The best open place the request waits for, if any."""
        if request is None or request.status in ENDED_REQUEST:
            return None
        waiting = request.waiting_location_ids()
        if not waiting:
            return None
        rules = await self.rules(request.service_area)
        found = best_place(await self.uow.places.open_at(waiting), request, rules)
        return await self.propose(request, found[0], found[1]) if found else None

    async def propose(self, request: WaitingRequest, place: FreePlace, fit: Fit,
                      *, with_siblings: bool = True) -> Match:
        rules = await self.rules(place.service_area)
        family_due = rules.family_answer.after(self.now)
        match = Match(
            match_id=self.new_id("match"), service_area=place.service_area,
            request_id=request.request_id, place_id=place.place_id,
            location_id=place.location_id, location_municipality_nis=place.municipality_nis,
            request_municipality_nis=request.municipality_nis, proposed_at=self.now,
            fit=fit, day_parts=place.day_parts, family_answer_due=family_due,
            family_reminder_due=rules.family_reminder_before.before(family_due),
            organiser_answer_due=rules.organiser_answer.after(self.now),
        )
        await self.uow.matches.add(match)
        await self.uow.places.set_status(place.place_id, PlaceStatus.PROPOSED)
        await self.refresh(request.request_id)
        self.uow.emit(
            MatchProposed(
                **offer_fields(match),
                urgency=request.urgency,
                ordering=explain(request, place),
                start_date=place.available_from,
                day_parts=list(place.day_parts),
                requested_day_parts=list(request.day_parts),
                fit=fit,
                priority_group=request.priority_facts > 0,
                family_answer_due=match.family_answer_due,
                organiser_answer_due=match.organiser_answer_due,
                proposed_at=match.proposed_at,
            ),
            caused_by=self.cause,
        )
        if with_siblings:
            await self.offer_siblings(request, place)
        return match

    async def offer_siblings(self, request: WaitingRequest, place: FreePlace) -> None:
        """Brothers and sisters who chose the same location and wait there get another
        open fitting place at it, if there is one."""
        for sibling_id in request.sibling_request_ids:
            sibling = await self.uow.requests.get(sibling_id)
            if sibling is None or not sibling.waits_at(place.location_id):
                continue
            rules = await self.rules(sibling.service_area)
            found = best_place(await self.uow.places.open_at([place.location_id]), sibling,
                               rules)
            if found:
                await self.propose(sibling, found[0], found[1], with_siblings=False)

    async def fire(self, match: Match) -> int:
        """The deadlines of one claimed offer that are due now; how many fired."""
        now = self.now
        if match.status is MatchStatus.PROPOSED and match.family_answer_due <= now:
            expired = await self.end(match, MatchStatus.EXPIRED,
                                     from_statuses={MatchStatus.PROPOSED})
            if expired is None:
                return 0
            self.uow.emit(MatchExpired(**offer_fields(expired),
                                       family_answer_due=expired.family_answer_due,
                                       expired_at=now))
            await self.close_choice(expired.request_id, expired.location_id)
            await self.pass_on(expired.place_id)
            await self.offer_to(await self.refresh(expired.request_id))
            return 1
        fired = 0
        if (match.status is MatchStatus.PROPOSED and match.family_reminded_at is None
                and match.family_reminder_due <= now
                and await self.uow.matches.mark_reminded(match.match_id, "family", now)):
            self.uow.emit(MatchReminderDue(**offer_fields(match), addressee="family",
                                           answer_due=match.family_answer_due,
                                           reminded_at=now))
            fired += 1
        if (match.live and match.organiser_reminded_at is None
                and match.organiser_answer_due <= now
                and await self.uow.matches.mark_reminded(match.match_id, "organiser", now)):
            self.uow.emit(MatchReminderDue(**offer_fields(match), addressee="organiser",
                                           answer_due=match.organiser_answer_due,
                                           reminded_at=now))
            fired += 1
        return fired


def offer_fields(match: Match) -> dict[str, str]:
    """What every event about one offer names."""
    return {
        "service_area": match.service_area, "match_id": match.match_id,
        "request_id": match.request_id, "place_id": match.place_id,
        "location_id": match.location_id,
        "location_municipality_nis": match.location_municipality_nis,
        "request_municipality_nis": match.request_municipality_nis,
    }


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
    request = waiting_request(data)
    await uow.requests.add(request)
    await Offers(uow, clock, new_id, event).offer_to(request)


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
    await uow.requests.save(updated)
    offers = Offers(uow, clock, new_id, event)
    rules = await offers.rules(request.service_area)
    for match in await uow.matches.of_request(request.request_id, LIVE):
        place = await uow.places.get(match.place_id)
        if place is None or not still_fits(updated, match, place, rules):
            await offers.cancel(match, "request_updated")
    await offers.offer_to(await offers.refresh(request.request_id))


async def end_request(event: CloudEvent, request_id: str, status: RequestStatus,
                      reason: CancelReason, uow: MatchingUnitOfWork, clock: Clock,
                      new_id: IdFactory) -> None:
    """A request that waits no more: its live offers end and their places pass on.
    A confirmed placement stays (the enrolment is capacity's)."""
    request = await uow.requests.get(request_id)
    if request is None or request.status in ENDED_REQUEST:
        return
    await uow.requests.save(request.model_copy(update={"status": status}))
    offers = Offers(uow, clock, new_id, event)
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
    await uow.requests.save(request.model_copy(update={
        "closed_location_ids": tuple(dict.fromkeys((*request.closed_location_ids, *closing)))}))
    await offers.refresh(match.request_id)


# --- places -------------------------------------------------------------------------------


async def on_place_freed(
    event: CloudEvent, data: PlaceFreed, uow: MatchingUnitOfWork,
    clock: Clock, new_id: IdFactory,
) -> None:
    if await uow.places.get(data.place_id):
        return  # a place is offered once, however often it is announced (or if withdrawn)
    place = FreePlace(
        place_id=data.place_id, service_area=data.service_area, location_id=data.location_id,
        municipality_nis=data.municipality_nis, available_from=data.available_from,
        min_age_months=data.min_age_months, max_age_months=data.max_age_months,
        day_parts=tuple(data.day_parts),
    )
    if await uow.closures.is_closed(place.location_id):
        await uow.places.add(place.model_copy(update={"status": PlaceStatus.CANCELLED}))
        return
    await uow.places.add(place)
    await Offers(uow, clock, new_id, event).offer_place(place)


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


# Which handler answers what. Matching takes no commands: it only listens.
COMMAND_HANDLERS: dict[type, AnyHandler] = {}
EVENT_HANDLERS: dict[type, AnyHandler] = {
    RequestSubmitted: on_request_submitted,
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
}
JOBS: dict[str, AnyHandler] = {"deadlines": fire_due_deadlines}
