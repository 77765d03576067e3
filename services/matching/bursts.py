"""A burst of freed places, matched set-wise: the same offers, places and events as
`on_place_freed` on each place in turn, in a few statements per burst instead of a
dozen per place.

The plan runs in memory, over each location's best candidates read once (enough for
its places in the burst, in the candidate index's order): each place goes to the first
candidate that still waits there and fits it, and a request that gets an offer waits
only where `WaitingRequest.waits_at` still says so. Where the plan cannot be sure that
one-by-one handling would do the same (the candidates read run out, or the chosen
request has brothers or sisters, whose offers follow), it stops there: what it planned
is written, that place goes to `on_place_freed`, and a fresh plan takes the rest.
Before writing, the requests it offered to are locked and read again; if they are not
what the plan assumed (another transaction changed them), the burst fails and the
consumer applies its events one by one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from contracts import CloudEvent
from contracts.events import MatchProposed, PlaceFreed
from contracts.events.matching import Fit
from loketkit.bus import AnyHandler
from loketkit.consumer import Delivered
from loketkit.ids import Clock, IdFactory
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
from services.matching.handlers import free_place, on_place_freed
from services.matching.offers import Offers
from services.matching.ports import MatchingUnitOfWork

# Candidates read per location: enough for each of its places in the burst to skip a
# few that do not fit. Running out only hands the rest of the burst to the slow path.
CANDIDATES_PER_PLACE, EXTRA_CANDIDATES = 4, 16


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

    async def plan(self, event: CloudEvent, place: FreePlace, closed: bool) -> bool:
        """The place's outcome in the plan; False when the plan cannot be sure of it."""
        if closed:
            self.places.append(place.model_copy(update={"status": PlaceStatus.CANCELLED}))
            return True
        offers = Offers(self.uow, self.clock, self.new_id, event)
        if not await offers.matches_continuously(place.service_area):
            self.places.append(place)
            return True
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
            return False
        self.places.append(place)
        return True

    async def offer(self, offers: Offers, request: WaitingRequest, place: FreePlace,
                    fit: Fit) -> bool:
        if request.sibling_request_ids:
            return False  # their offers follow this one: one by one
        match, proposed = await offers.proposal(request, place, fit)
        held = [*self.holding[request.request_id], match]  # the latest offer comes last
        self.holding[request.request_id] = held
        self.requests[request.request_id] = holding_now(request, held)
        self.places.append(place.model_copy(update={"status": PlaceStatus.PROPOSED}))
        self.offers.append((match, proposed, event_of(offers)))
        return True

    async def candidates_for(self, place: FreePlace, reserved: bool) -> Candidates:
        """The location's best candidates in this order, read once per burst, with what
        each holds."""
        key = (place.location_id, reserved)
        if key not in self.candidates:
            limit = CANDIDATES_PER_PLACE * self.places_at[place.location_id] + EXTRA_CANDIDATES
            born_from, born_to = self.born[place.location_id]
            found = await self.uow.requests.candidates_born(
                place.location_id, born_from, born_to, priority_first=reserved, limit=limit)
            unknown = [r.request_id for r in found if r.request_id not in self.holding]
            if unknown:
                self.holding.update(await self.uow.matches.of_requests(unknown, HOLDING))
            self.candidates[key] = Candidates(found, complete=len(found) < limit)
        return self.candidates[key]

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
                if now != self.requests[request_id]:
                    raise PlanOvertaken(request_id)
                changes.append((now, await offers.keys(now)))
            await self.uow.requests.save_many(changes)
        for _, proposed, cause in self.offers:
            self.uow.emit(proposed, caused_by=cause)


def event_of(offers: Offers) -> CloudEvent:
    assert offers.cause is not None, "a freed place's offer has its cause"
    return offers.cause


async def on_places_freed(run: Sequence[Delivered[PlaceFreed]], uow: MatchingUnitOfWork,
                          clock: Clock, new_id: IdFactory) -> None:
    """`on_place_freed` for each, in order (see the module's docstring)."""
    rest = list(run)
    while rest:
        unsure = await plan_and_write(rest, uow, clock, new_id)
        if unsure is None:
            return
        # That place one by one; a fresh plan (reading what it changed) for the rest.
        await on_place_freed(rest[unsure].event, rest[unsure].data, uow, clock, new_id)
        rest = rest[unsure + 1:]


async def plan_and_write(run: Sequence[Delivered[PlaceFreed]], uow: MatchingUnitOfWork,
                         clock: Clock, new_id: IdFactory) -> int | None:
    """Plans the places in order and writes the plan; returns the position of the first
    place the plan could not be sure of (nothing of it or after it is written)."""
    known = await uow.places.known_among([d.data.place_id for d in run])
    fresh: list[tuple[int, FreePlace]] = []
    for index, delivered in enumerate(run):
        if delivered.data.place_id not in known:
            known.add(delivered.data.place_id)  # a repeat in the burst changes nothing
            fresh.append((index, free_place(delivered.data)))
    closed = await uow.closures.closed_among({place.location_id for _, place in fresh})
    burst = Burst(uow, clock, new_id, Counter(place.location_id for _, place in fresh),
                  birth_months(place for _, place in fresh))
    unsure = None
    for index, place in fresh:
        if not await burst.plan(run[index].event, place, place.location_id in closed):
            unsure = index
            break
    await burst.write()
    return unsure


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


# Consecutive PlaceFreed events in a consumer batch come here (see loketkit.consumer).
EVENT_BATCH_HANDLERS: dict[type, AnyHandler] = {PlaceFreed: on_places_freed}
