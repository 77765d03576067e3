"""One unit of work's dealings with offers: rank, propose, end, and pass places on.

Every change to who waits or what is free tries to make an offer at once (in an area
that allocates continuously), so an open place never has a fitting waiting request
next to it. A freed place reads its candidates from the ranked candidate index, best
first under the rules in force, a page at a time, and is offered to the first that
fits: the cost does not grow with the waiting list. Every offer records the rule set,
the request's class there and a sentence that explains its rank.
"""

from __future__ import annotations

from collections.abc import Set

from contracts import CloudEvent, parse_data
from contracts.events import MatchCancelled, MatchExpired, MatchProposed, MatchReminderDue
from contracts.events.matching import CancelReason, Fit
from loketkit.area_settings import settings_in_force
from loketkit.calendar import brussels_date
from loketkit.ids import Clock, IdFactory
from services.matching.domain.area_settings import OfferSettings
from services.matching.domain.model import (
    ENDED_REQUEST,
    HOLDING,
    LIVE,
    FreePlace,
    KnownLocation,
    Match,
    MatchStatus,
    PlaceStatus,
    WaitingRequest,
    as_announced,
    best_place,
    fit_of,
    holding_now,
    offered_start,
)
from services.matching.domain.ranking import CandidateKey, Ranking
from services.matching.ports import MatchingUnitOfWork

# The best candidate usually fits: read a few first, then more per page (each read
# candidate is decoded, so a large first page mostly decodes requests never used).
FIRST_CANDIDATE_PAGE, MAX_CANDIDATE_PAGE = 4, 64


class Offers:
    """One unit of work's dealings with offers: propose, end, and pass places on."""

    def __init__(self, uow: MatchingUnitOfWork, clock: Clock, new_id: IdFactory,
                 cause: CloudEvent | None) -> None:
        self.uow = uow
        self.now = clock()
        self.new_id = new_id
        self.cause = cause
        self._rules: dict[str, OfferSettings] = {}
        self._rankings: dict[str, Ranking] = {}
        self._locations: dict[str, KnownLocation] = {}  # read once per unit of work

    async def rules(self, service_area: str) -> OfferSettings:
        """The area's offer settings in force now (one read per area per unit)."""
        if service_area not in self._rules:
            self._rules[service_area] = await settings_in_force(
                self.uow, OfferSettings, service_area, self.now)
        return self._rules[service_area]

    async def ranking(self, service_area: str) -> Ranking:
        """The area's priority rules for a decision made now."""
        if service_area not in self._rankings:
            self._rankings[service_area] = Ranking(brussels_date(self.now),
                                                   await self.rules(service_area))
        return self._rankings[service_area]

    async def keys(self, request: WaitingRequest) -> dict[str, CandidateKey]:
        """The request's candidate key at each chosen location."""
        ranking = await self.ranking(request.service_area)
        await self.uow.rankings.keyed_under(request.service_area, ranking.basis(), self.now)
        locations = await self.uow.locations.get_many(request.preferred_location_ids)
        return {location_id: ranking.candidate_key(request, location)
                for location_id, location in locations.items()}

    async def add(self, request: WaitingRequest) -> None:
        await self.uow.requests.add(request, await self.keys(request))

    async def save(self, request: WaitingRequest) -> None:
        await self.uow.requests.save(request, await self.keys(request))

    async def location(self, place: FreePlace) -> KnownLocation:
        """The place's location with its children counted, read once per unit of work."""
        if place.location_id not in self._locations:
            found = await self.uow.locations.get_many([place.location_id])
            self._locations[place.location_id] = as_announced(found[place.location_id], place)
        return self._locations[place.location_id]

    async def matches_continuously(self, service_area: str,
                                   request: WaitingRequest | None = None) -> bool:
        """Whether a new place or request is matched at once: always, unless the area
        allocates in rounds (a crisis request is matched at once even then)."""
        if request is not None and request.urgency == "crisis":
            return True
        return (await self.rules(service_area)).allocation == "continuous"

    async def refresh(self, request_id: str) -> WaitingRequest | None:
        """Recomputes the request's status and where it waits from what it holds."""
        request = await self.uow.requests.get(request_id)
        if request is None:
            return None
        updated = holding_now(request, await self.uow.matches.of_request(request_id, HOLDING))
        if updated != request:
            await self.save(updated)
        return updated

    async def close_choice(self, request_id: str, location_id: str) -> None:
        """The location leaves the request's list (declined, expired or refused there)."""
        request = await self.uow.requests.get(request_id)
        if request is not None and location_id not in request.closed_location_ids:
            await self.save(request.model_copy(update={
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
        """The place goes to the best waiting request that fits it. A location short of
        its required share of priority-group children reads those first."""
        rules = await self.rules(place.service_area)
        reserved = (await self.ranking(place.service_area)).reserves_next_place(
            await self.location(place))
        offset, limit = 0, FIRST_CANDIDATE_PAGE
        while True:
            page = await self.uow.requests.candidates_for(
                place, priority_first=reserved, offset=offset, limit=limit)
            for request in page:
                if (fit := fit_of(request, place, rules)) is not None:
                    return await self.propose(request, place, fit)
            if len(page) < limit:
                return None
            offset, limit = offset + limit, min(limit * 4, MAX_CANDIDATE_PAGE)

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
                      *, with_siblings: bool = True, round_id: str | None = None) -> Match:
        match, proposed = await self.proposal(request, place, fit, round_id=round_id)
        await self.uow.matches.add(match)
        await self.uow.places.set_status(place.place_id, PlaceStatus.PROPOSED)
        await self.refresh(request.request_id)
        self.uow.emit(proposed, caused_by=self.cause)
        if with_siblings:
            await self.offer_siblings(request, place)
        return match

    async def proposal(self, request: WaitingRequest, place: FreePlace, fit: Fit,
                       *, round_id: str | None = None) -> tuple[Match, MatchProposed]:
        """The offer of the place to the request and its announcement (nothing stored)."""
        rules = await self.rules(place.service_area)
        standing = (await self.ranking(place.service_area)).standing(
            request, await self.location(place))
        family_due = rules.family_answer.after(self.now)
        match = Match(
            match_id=self.new_id("match"), service_area=place.service_area,
            request_id=request.request_id, place_id=place.place_id,
            location_id=place.location_id, location_municipality_nis=place.municipality_nis,
            request_municipality_nis=request.municipality_nis, proposed_at=self.now,
            fit=fit, day_parts=place.day_parts, family_answer_due=family_due,
            family_reminder_due=rules.family_reminder_before.before(family_due),
            organiser_answer_due=rules.organiser_answer.after(self.now),
            rule_set_id=standing.rule_set_id, priority_class=standing.priority_class,
            explanation=standing.sentence(), round_id=round_id,
        )
        return match, MatchProposed(
            **offer_fields(match),
            urgency=request.urgency,
            ordering=standing.sentence()[:300],
            start_date=offered_start(request, place),
            day_parts=list(place.day_parts),
            requested_day_parts=list(request.day_parts),
            fit=fit,
            priority_group=standing.priority_group,
            rule_set=standing.rule_set_id,
            priority_class=standing.priority_class,
            round_id=round_id,
            family_answer_due=match.family_answer_due,
            organiser_answer_due=match.organiser_answer_due,
            proposed_at=match.proposed_at,
        )

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


def proposed_since(uow: MatchingUnitOfWork, before: int) -> list[MatchProposed]:
    """The offers the unit announced after its first `before` events."""
    return [data for data in (parse_data(made) for made in uow.pending_events[before:])
            if isinstance(data, MatchProposed)]
