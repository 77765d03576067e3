"""A burst of freed places, matched set-wise: the same offers, places and events as
`on_place_freed` on each place in turn, in a few statements per burst instead of a
dozen per place.

The plan runs in memory, over each location's best candidates read once (enough for
its places in the burst, in the candidate index's order): each place goes to the first
candidate that still waits there and fits it, and a request that gets an offer waits
only where `WaitingRequest.waits_at` still says so. Where the plan cannot be sure that
one-by-one handling would do the same (the candidates read run out, or the chosen
request has brothers or sisters, whose offers follow), what it planned is written and
that place goes to `on_place_freed` (a location whose candidates ran out first reads
twice as many, fresh); the plan then reads again the requests that got offers and goes
on. Before writing, the requests it offered to are locked and read again; if they are not
what the plan assumed (another transaction changed them), the burst fails and the
consumer applies its events one by one.

Organisers' other events come between their freed places (a year's run of capacity
events is mostly declarations and ended enrolments), so they do not end a burst: each
is applied in its turn by its own handler. A declaration or an ended enrolment changes
only who is counted at a location, which the plan reads again for each place (the unit
forgets the location), and nothing the plan holds or has yet to write. A withdrawn
place may end an offer and make another: the plan so far is written first, and what
it read of requests and offers is read again after.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, cast

from contracts import CloudEvent, EventData
from contracts.events import (
    EnrolmentEnded,
    EnrolmentsDeclared,
    MatchProposed,
    PlaceFreed,
    PlaceWithdrawn,
    RequestSubmitted,
)
from contracts.events.matching import Fit
from loketkit.bus import AnyHandler
from loketkit.consumer import Delivered
from loketkit.ids import Clock, IdFactory
from services.matching.arrivals import on_requests_submitted
from services.matching.domain.model import (
    HOLDING,
    FreePlace,
    Match,
    PlaceStatus,
    WaitingRequest,
    born_between,
    fit_of,
    holding_now,
)
from services.matching.handlers import (
    free_place,
    on_enrolment_ended,
    on_enrolments_declared,
    on_place_freed,
    on_place_withdrawn,
)
from services.matching.offers import Offers, proposed_since
from services.matching.ports import CandidateRead, MatchingUnitOfWork

# Candidates read per location: enough for each of its places in the burst to skip a
# few that do not fit. Running out costs a second read (twice as many).
CANDIDATES_PER_PLACE, EXTRA_CANDIDATES = 2, 8
Outcome = Literal["planned", "ran out", "siblings"]
# Applied in their turn in a burst: beside the plan, or after writing it (see above).
BESIDE_THE_PLAN: dict[type, AnyHandler] = {EnrolmentsDeclared: on_enrolments_declared,
                                          EnrolmentEnded: on_enrolment_ended}
AFTER_WRITING: dict[type, AnyHandler] = {PlaceWithdrawn: on_place_withdrawn}


class PlanOvertaken(Exception):
    """A request the plan offered to changed under it: apply the events one by one."""


@dataclass
class Candidates:
    requests: list[WaitingRequest]
    complete: bool  # all that wait there in the birth months read, not just the first


@dataclass
class Burst:
    uow: MatchingUnitOfWork
    clock: Clock
    new_id: IdFactory
    places_at: Counter[str]
    born: dict[str, tuple[date, date]]  # per location: the birth months its places take
    candidates: dict[tuple[str, bool], Candidates] = field(default_factory=dict)
    holding: dict[str, list[Match]] = field(default_factory=dict)
    requests: dict[str, WaitingRequest] = field(default_factory=dict)  # as the plan has them
    places: list[FreePlace] = field(default_factory=list)
    offers: list[tuple[Match, MatchProposed, CloudEvent]] = field(default_factory=list)
    reads: Counter[str] = field(default_factory=Counter)  # candidate reads per location

    async def plan(self, event: CloudEvent, place: FreePlace, closed: bool) -> Outcome:
        """The place's outcome in the plan, or why the plan cannot be sure of it."""
        if closed:
            self.places.append(place.model_copy(update={"status": PlaceStatus.CANCELLED}))
            return "planned"
        offers = Offers(self.uow, self.clock, self.new_id, event)
        if not await offers.matches_continuously(place.service_area):
            self.places.append(place)
            return "planned"
        reserved = (await offers.ranking(place.service_area)).reserves_next_place(
            await offers.location(place))
        found = await self.candidates_for(place, reserved)
        rules = await offers.rules(place.service_area)
        born_from, born_to = born_between(place)
        for candidate in found.requests:
            request = self.requests.get(candidate.request_id, candidate)
            if not born_from <= request.birth_month <= born_to:
                continue
            fit = fit_of(request, place, rules)
            if fit is not None:
                return await self.offer(offers, request, place, fit)
        if not found.complete:
            return "ran out"
        self.places.append(place)
        return "planned"

    async def offer(self, offers: Offers, request: WaitingRequest, place: FreePlace,
                    fit: Fit) -> Outcome:
        if request.sibling_request_ids:
            return "siblings"  # their offers follow this one: one by one
        match, proposed = await offers.proposal(request, place, fit)
        held = [*self.holding[request.request_id], match]  # the latest offer comes last
        self.holding[request.request_id] = held
        self.requests[request.request_id] = holding_now(request, held)
        self.places.append(place.model_copy(update={"status": PlaceStatus.PROPOSED}))
        self.offers.append((match, proposed, event_of(offers)))
        return "planned"

    async def candidates_for(self, place: FreePlace, reserved: bool) -> Candidates:
        """The location's best candidates in this order, read once per burst, with what
        each holds."""
        key = (place.location_id, reserved)
        if key not in self.candidates:
            await self.read_candidates([key])
        return self.candidates[key]

    async def read_candidates(self, keys: Sequence[tuple[str, bool]]) -> None:
        """The best candidates for each (location, reserved first), in one read, with
        what each holds in one more."""
        reads = []
        for location_id, reserved in keys:
            limit = (CANDIDATES_PER_PLACE * self.places_at[location_id]
                     + EXTRA_CANDIDATES) * 2 ** self.reads[location_id]
            self.reads[location_id] += 1
            reads.append(CandidateRead(location_id, *self.born[location_id],
                                       priority_first=reserved, limit=limit))
        found = await self.uow.requests.candidates_born_at(reads)
        unknown = sorted({request.request_id for requests in found for request in requests
                          if request.request_id not in self.holding})
        if unknown:
            self.holding.update(await self.uow.matches.of_requests(unknown, HOLDING))
        for key, read, requests in zip(keys, reads, found, strict=True):
            self.candidates[key] = Candidates(requests, complete=len(requests) < read.limit)

    async def read_ahead(self, places: Iterable[FreePlace]) -> None:
        """Every location's candidates at once, in the order its first place in the
        burst wants them (a location whose reserve changes later in the burst reads
        the other order when it gets there)."""
        offers = Offers(self.uow, self.clock, self.new_id, None)
        first: dict[str, bool] = {}
        for place in places:
            if place.location_id in first or not await offers.matches_continuously(
                    place.service_area):
                continue
            first[place.location_id] = (await offers.ranking(place.service_area)
                                        ).reserves_next_place(await offers.location(place))
        await self.read_candidates(list(first.items()))

    async def write(self) -> None:
        await self.uow.places.add_all(self.places)
        await self.uow.matches.add_all([match for match, _, _ in self.offers])
        offered = sorted({match.request_id for match, _, _ in self.offers})
        if offered:
            locked = await self.uow.requests.lock_many(offered)
            holding = await self.uow.matches.of_requests(offered, HOLDING)
            changes = []
            offers = Offers(self.uow, self.clock, self.new_id, None)
            for request_id in offered:
                now = holding_now(locked[request_id], holding[request_id])
                if unordered(now) != unordered(self.requests[request_id]):
                    raise PlanOvertaken(request_id)
                changes.append((now, await offers.keys(now)))
            await self.uow.requests.save_many(changes)
        for _, proposed, cause in self.offers:
            self.uow.emit(proposed, caused_by=cause)
        self.places, self.offers = [], []

    async def between(self, delivered: Delivered[EventData]) -> None:
        """An organiser's other event, applied in its turn by its own handler."""
        kind = type(delivered.data)
        if kind in BESIDE_THE_PLAN:
            await BESIDE_THE_PLAN[kind](delivered.event, delivered.data, self.uow,
                                        self.clock, self.new_id)
            return
        await self.write()
        await AFTER_WRITING[kind](delivered.event, delivered.data, self.uow, self.clock,
                                  self.new_id)
        self.candidates, self.holding, self.requests = {}, {}, {}

    def read_again(self, location_id: str) -> None:
        """The location's candidates are read again (twice as many) when next needed."""
        for reserved in (False, True):
            self.candidates.pop((location_id, reserved), None)

    async def one_by_one(self, delivered: Delivered[PlaceFreed]) -> None:
        """`on_place_freed` for the place, after writing the plan so far (it reads the
        database); then the requests it made offers to are read again for the plan."""
        await self.write()
        before = len(self.uow.pending_events)
        await on_place_freed(delivered.event, delivered.data, self.uow, self.clock,
                             self.new_id)
        offered = sorted({data.request_id for data in proposed_since(self.uow, before)})
        if offered:
            self.requests.update(await self.uow.requests.lock_many(offered))
            self.holding.update(await self.uow.matches.of_requests(offered, HOLDING))


def unordered(request: WaitingRequest) -> WaitingRequest:
    """The request as the plan decides on it: where it holds offers, in any order
    (offers made in the same instant are listed by id, which the plan cannot know)."""
    return request.model_copy(update={
        "holding_location_ids": tuple(sorted(request.holding_location_ids))})


def event_of(offers: Offers) -> CloudEvent:
    assert offers.cause is not None, "a freed place's offer has its cause"
    return offers.cause


async def on_places_freed(run: Sequence[Delivered[EventData]], uow: MatchingUnitOfWork,
                          clock: Clock, new_id: IdFactory) -> None:
    """`on_place_freed` for each freed place, and its own handler for each other event,
    in order (see the module's docstring)."""
    announced = [cast(Delivered[PlaceFreed], d) for d in run if isinstance(d.data, PlaceFreed)]
    known = await uow.places.known_among([d.data.place_id for d in announced]
                                         ) if announced else set()
    fresh: dict[str, FreePlace] = {}
    for delivered in announced:  # as first announced (a repeat in the burst changes nothing)
        if delivered.data.place_id not in known:
            fresh.setdefault(delivered.data.place_id, free_place(delivered.data))
    located = sorted({place.location_id for place in fresh.values()})
    closed = await uow.closures.closed_among(set(located)) if located else set()
    await uow.locations.get_many(located)  # kept in the unit: one read for the burst
    burst = Burst(uow, clock, new_id, Counter(place.location_id for place in fresh.values()),
                  birth_months(fresh.values()))
    await burst.read_ahead(place for place in fresh.values() if place.location_id not in closed)
    for each in run:
        if not isinstance(each.data, PlaceFreed):
            await burst.between(each)
            if isinstance(each.data, PlaceWithdrawn):
                known.add(each.data.place_id)  # a place withdrawn before it is announced
            continue
        if each.data.place_id in known:
            continue
        known.add(each.data.place_id)
        place = fresh[each.data.place_id]
        is_closed = place.location_id in closed
        outcome = await burst.plan(each.event, place, is_closed)
        if outcome == "ran out":  # more of the location's candidates, read fresh
            await burst.write()
            burst.read_again(place.location_id)
            outcome = await burst.plan(each.event, place, is_closed)
        if outcome != "planned":
            await burst.one_by_one(cast(Delivered[PlaceFreed], each))
    await burst.write()


def birth_months(places: Iterable[FreePlace]) -> dict[str, tuple[date, date]]:
    """Per location, the widest range of birth months its places take."""
    found: dict[str, tuple[date, date]] = {}
    for place in places:
        born_from, born_to = born_between(place)
        if place.location_id in found:
            was_from, was_to = found[place.location_id]
            born_from, born_to = min(born_from, was_from), max(born_to, was_to)
        found[place.location_id] = (born_from, born_to)
    return found


# Consecutive events of these types in a consumer batch come here (see loketkit.consumer):
# an organiser's freed places with the other events between them, and new requests.
EVENT_BATCH_HANDLERS: dict[type, AnyHandler] = {
    PlaceFreed: on_places_freed, **dict.fromkeys([*BESIDE_THE_PLAN, *AFTER_WRITING],
                                                 on_places_freed),
    RequestSubmitted: on_requests_submitted}
