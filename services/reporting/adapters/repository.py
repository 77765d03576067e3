"""Facts over SQL: each event becomes one row, and a repeated fact changes nothing."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from contracts.events import (
    CrisisClosure,
    LocationRegistered,
    MatchProposed,
    PlaceFreed,
    RequestSubmitted,
    RequestWithdrawn,
)
from services.reporting.adapters.orm import (
    ClosureFact,
    FreePlaceFact,
    LocationFact,
    ProposalFact,
    RequestFact,
    WithdrawalFact,
)
from services.reporting.adapters.queries import counted_facts
from services.reporting.domain.report import CountedFacts


class SqlFactRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_request(self, data: RequestSubmitted) -> None:
        await self._insert(RequestFact(
            request_id=data.request_id, service_area=data.service_area,
            municipality_nis=data.municipality_nis, urgency=data.urgency,
            replaces_request_id=data.replaces_request_id, submitted_at=data.submitted_at,
        ))

    async def add_withdrawal(self, data: RequestWithdrawn) -> None:
        await self._insert(WithdrawalFact(
            request_id=data.request_id, service_area=data.service_area,
            municipality_nis=data.municipality_nis, reason=data.reason,
            withdrawn_at=data.withdrawn_at,
        ))

    async def add_proposal(self, data: MatchProposed) -> None:
        await self._insert(ProposalFact(
            match_id=data.match_id, request_id=data.request_id, place_id=data.place_id,
            location_id=data.location_id, service_area=data.service_area,
            location_municipality_nis=data.location_municipality_nis,
            request_municipality_nis=data.request_municipality_nis,
            urgency=data.urgency, proposed_at=data.proposed_at,
        ))

    async def add_free_place(self, data: PlaceFreed) -> None:
        await self._insert(FreePlaceFact(
            place_id=data.place_id, location_id=data.location_id,
            service_area=data.service_area, municipality_nis=data.municipality_nis,
            available_from=data.available_from, freed_at=data.freed_at,
        ))

    async def add_location(self, data: LocationRegistered) -> None:
        await self._insert(LocationFact(
            location_id=data.location_id, service_area=data.service_area,
            municipality_nis=data.municipality_nis, capacity=data.capacity,
            subsidy_tier=data.subsidy_tier, registered_at=data.registered_at,
        ))

    async def add_closure(self, data: CrisisClosure) -> None:
        await self._insert(ClosureFact(
            closure_id=data.closure_id, location_id=data.location_id,
            service_area=data.service_area, municipality_nis=data.municipality_nis,
            reason=data.reason, effective_from=data.effective_from,
            announced_at=data.announced_at,
        ))

    async def counted_facts(self, municipality_nis: str | None = None) -> list[CountedFacts]:
        return await counted_facts(self._session, municipality_nis)

    async def _insert(self, fact: SQLModel) -> None:
        # The primary key is the fact's natural id: the first arrival wins, a
        # repeat (new event id, same fact) is silently dropped.
        statement = insert(type(fact)).values(fact.model_dump()).on_conflict_do_nothing()
        await self._session.execute(statement)
