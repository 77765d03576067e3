"""Matching's HTTP API: the queue and worklist of one service area, its allocation rounds
(loket staff and coordinators of the area), and the priority rules (public). The area's
settings, local rules included, come from `loketkit.area_settings` (see bootstrap)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path

from contracts.events.base import ID_PATTERN
from loketkit.area_settings import ServiceAreaPath
from loketkit.auth import Caller, Role, public, require_own_area, requires
from loketkit.calendar import brussels_date
from loketkit.errors import NotFound
from services.matching import views
from services.matching.domain.rules import (
    RuleSet,
    rule_set_by_id,
    rule_set_for,
    shipped_rule_sets,
)
from services.matching.entrypoints.deps import ContextDep
from services.matching.entrypoints.schemas import (
    AreaRulesPublic,
    QueuePublic,
    RoundCreate,
    RoundPublic,
    RuleSetSummary,
    WorklistPublic,
)
from services.matching.rounds import PublishRound, RunRound

router = APIRouter(tags=["queue"])

# The loket's people of that area follow its queue; another area's is not found.
AreaStaff = Annotated[Caller, requires(Role.LOKET_STAFF, Role.COORDINATOR)]
RoundId = Annotated[str, Path(max_length=64, pattern=ID_PATTERN)]


@router.get("/service-areas/{service_area}/queue", response_model=QueuePublic,
            summary="Requests and places per status in one service area")
async def queue(service_area: ServiceAreaPath, ctx: ContextDep, caller: AreaStaff
                ) -> QueuePublic:
    require_own_area(caller, service_area)
    found = await views.queue(ctx.uow(), service_area)
    return QueuePublic.model_validate(found, from_attributes=True)


@router.get("/service-areas/{service_area}/worklist", response_model=WorklistPublic,
            summary="Offers organisers have not answered in time, and urgent requests "
            "without an offer")
async def worklist(service_area: ServiceAreaPath, ctx: ContextDep, caller: AreaStaff
                   ) -> WorklistPublic:
    require_own_area(caller, service_area)
    found = await views.worklist(ctx.uow(), service_area, ctx.clock())
    return WorklistPublic.model_validate(found, from_attributes=True)


# --- priority rules: public, so a family can read what decides its rank --------------------

Anyone = Annotated[Caller | None, public("the priority rules are public: families may read "
                                         "what decides their rank")]


@router.get("/rule-sets", response_model=list[RuleSetSummary], tags=["priority rules"],
            summary="The legal priority rule sets, oldest first")
async def rule_sets(caller: Anyone) -> list[RuleSetSummary]:
    return [RuleSetSummary.model_validate(found, from_attributes=True)
            for found in shipped_rule_sets()]


@router.get("/rule-sets/{rule_set_id}", response_model=RuleSet, tags=["priority rules"],
            summary="One legal rule set: its period and, per subsidy tier, its classes, "
            "required share, crisis and urgency, and tie-breakers")
async def rule_set(rule_set_id: Annotated[str, Path(max_length=64)], caller: Anyone
                   ) -> RuleSet:
    try:
        return rule_set_by_id(rule_set_id)
    except KeyError:
        raise NotFound("rule_set_id", "no such rule set") from None


@router.get("/service-areas/{service_area}/rules", response_model=AreaRulesPublic,
            tags=["priority rules"],
            summary="The rules an offer made in the area on a day is decided by, with the "
            "area's local rules")
async def area_rules(service_area: ServiceAreaPath, ctx: ContextDep, caller: Anyone,
                     on: date | None = None) -> AreaRulesPublic:
    day = on or brussels_date(ctx.clock())
    settings = await views.area_settings(ctx.uow(), service_area, ctx.clock())
    in_force = rule_set_for(day, day)
    kept = in_force.earlier_registrations_keep
    return AreaRulesPublic(
        service_area=service_area, decision_date=day, rule_set=in_force,
        earlier_registrations_keep=rule_set_by_id(kept) if kept else None,
        local_rules=settings.local_rules, crisis_window_days=settings.crisis_window_days,
        allocation=settings.allocation)


# --- allocation rounds: the area's loket staff ----------------------------------------------


@router.post("/service-areas/{service_area}/rounds", response_model=RoundPublic,
             status_code=201, tags=["allocation rounds"],
             summary="Run an allocation round (nothing is offered until it is published)")
async def start_round(service_area: ServiceAreaPath, body: RoundCreate, ctx: ContextDep,
                      caller: AreaStaff) -> RoundPublic:
    require_own_area(caller, service_area)
    found = await ctx.bus.handle(RunRound(
        service_area=service_area, period_from=body.period_from, period_to=body.period_to,
        decision_date=body.decision_date, lottery_seed=body.lottery_seed), actor=caller)
    return RoundPublic.model_validate(found, from_attributes=True)


@router.get("/service-areas/{service_area}/rounds", response_model=list[RoundPublic],
            tags=["allocation rounds"], summary="The area's rounds, newest first")
async def list_rounds(service_area: ServiceAreaPath, ctx: ContextDep, caller: AreaStaff
                      ) -> list[RoundPublic]:
    require_own_area(caller, service_area)
    return [RoundPublic.model_validate(found, from_attributes=True)
            for found in await views.rounds(ctx.uow(), service_area)]


@router.get("/service-areas/{service_area}/rounds/{round_id}", response_model=RoundPublic,
            tags=["allocation rounds"],
            summary="One round: its figures (deferred acceptance next to first come, first "
            "served), quotas and assignments")
async def get_round(service_area: ServiceAreaPath, round_id: RoundId, ctx: ContextDep,
                    caller: AreaStaff) -> RoundPublic:
    require_own_area(caller, service_area)
    found = await views.round_of(ctx.uow(), service_area, round_id)
    if found is None:
        raise NotFound("round_id", "no such allocation round in this service area")
    return RoundPublic.model_validate(found, from_attributes=True)


@router.post("/service-areas/{service_area}/rounds/{round_id}/publish",
             response_model=RoundPublic, tags=["allocation rounds"],
             summary="Publish the round's outcome as offers, through the normal lifecycle")
async def publish(service_area: ServiceAreaPath, round_id: RoundId, ctx: ContextDep,
                  caller: AreaStaff) -> RoundPublic:
    require_own_area(caller, service_area)
    found = await ctx.bus.handle(PublishRound(service_area, round_id), actor=caller)
    return RoundPublic.model_validate(found, from_attributes=True)
