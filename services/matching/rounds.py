"""Allocation rounds, for loket staff: run one over the area's waiting requests and the
places free in a period, read its figures, then publish its outcome as offers.

Running changes nothing but the stored round (its figures are measured before any
family or organiser answers); publishing proposes each assignment through the normal
offer lifecycle, skipping those the world has overtaken since the run (a place taken
or withdrawn, a request no longer waiting there).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

from loketkit.area_settings import settings_in_force
from loketkit.calendar import brussels_date
from loketkit.errors import Conflict, Invalid, NotFound
from loketkit.ids import Clock, IdFactory
from services.matching.domain.area_settings import OfferSettings
from services.matching.domain.model import PlaceStatus, WaitingRequest, as_announced, fit_of
from services.matching.domain.ranking import Ranking
from services.matching.domain.rounds import AllocationRound, plan_round
from services.matching.offers import Offers
from services.matching.ports import MatchingUnitOfWork

PAGE = 1000


@dataclass(frozen=True)
class RunRound:
    service_area: str
    period_from: date
    period_to: date
    decision_date: date | None = None  # today (Brussels) when not given
    lottery_seed: int | None = None  # drawn at random and recorded when not given


@dataclass(frozen=True)
class PublishRound:
    service_area: str
    round_id: str


async def all_waiting(uow: MatchingUnitOfWork, service_area: str) -> list[WaitingRequest]:
    found: list[WaitingRequest] = []
    while True:
        after = found[-1].request_id if found else ""
        page = await uow.requests.waiting_in_area(service_area, after=after, limit=PAGE)
        found.extend(page)
        if len(page) < PAGE:
            return found


async def run_round(command: RunRound, uow: MatchingUnitOfWork, clock: Clock,
                    new_id: IdFactory) -> AllocationRound:
    if command.period_to < command.period_from:
        raise Invalid("period_to", "the period ends before it starts")
    now = clock()
    seed = (secrets.randbelow(2**62) if command.lottery_seed is None
            else command.lottery_seed)
    decision = command.decision_date or brussels_date(now)
    async with uow:
        rules = await settings_in_force(uow, OfferSettings, command.service_area, now)
        requests = await all_waiting(uow, command.service_area)
        places = await uow.places.open_in_area(command.service_area, command.period_from,
                                               command.period_to)
        location_ids = {p.location_id for p in places} | {
            loc for r in requests for loc in r.preferred_location_ids}
        locations = await uow.locations.get_many(sorted(location_ids))
        for place in places:
            locations[place.location_id] = as_announced(locations[place.location_id], place)
        plan = plan_round(requests, places, locations,
                          Ranking(decision, rules, lottery_seed=seed), rules)
        found = AllocationRound(
            round_id=new_id("round"), service_area=command.service_area,
            decision_date=decision, period_from=command.period_from,
            period_to=command.period_to, lottery_seed=seed, rule_sets=plan.rule_sets,
            report=plan.report, run_at=now)
        await uow.rounds.add(found)
        await uow.commit()
    return found


async def publish_round(command: PublishRound, uow: MatchingUnitOfWork, clock: Clock,
                        new_id: IdFactory) -> AllocationRound:
    async with uow:
        found = await uow.rounds.get(command.round_id)
        if found is None or found.service_area != command.service_area:
            raise NotFound("round_id", "no such allocation round in this service area")
        if found.published_at is not None:
            raise Conflict("round_id", "this round was published already")
        offers = Offers(uow, clock, new_id, None)
        rules = await offers.rules(found.service_area)
        made = 0
        for request_id, place_id in found.assignments():
            place = await uow.places.get(place_id)
            request = await uow.requests.get(request_id)
            if place is None or request is None or place.status is not PlaceStatus.OPEN:
                continue
            fit = fit_of(request, place, rules)
            if fit is None:
                continue
            await offers.propose(request, place, fit, with_siblings=False,
                                 round_id=found.round_id)
            made += 1
        published = found.model_copy(update={"published_at": offers.now, "offers_made": made})
        await uow.rounds.save(published)
        await uow.commit()
    return published
