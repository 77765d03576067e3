"""Facts over SQL: each fact becomes one row, and a repeated fact changes nothing."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting.adapters.orm import table_of
from services.reporting.adapters.queries import counted_facts
from services.reporting.domain.facts import Fact
from services.reporting.domain.report import CountedFacts


class SqlFactRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, fact: Fact) -> None:
        # The primary key is the fact's natural id: the first arrival wins, a
        # repeat (new event id, same fact) is silently dropped.
        statement = insert(table_of(type(fact))).values(fact.model_dump())
        await self._session.execute(statement.on_conflict_do_nothing())

    async def counted_facts(self, municipality_nis: str | None = None) -> list[CountedFacts]:
        return await counted_facts(self._session, municipality_nis)
