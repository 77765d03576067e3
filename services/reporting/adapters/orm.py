"""Reporting's tables: one row per fact, keyed by the fact's natural id.

Each table is its domain fact plus a table name: the columns come from the fact
(`domain.facts`). No counters are stored; figures are counted from these rows at
read time, so a redelivered event cannot double them and replaying the log
rebuilds them.
"""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.orm import registry
from sqlmodel import SQLModel

from services.reporting.domain.facts import (
    ClosureFact,
    Fact,
    FreePlaceFact,
    LocationFact,
    ProposalFact,
    RequestFact,
    WithdrawalFact,
)


class ReportingTable(SQLModel, registry=registry()):
    """Reporting's own metadata: every service has a `requests` or `locations`
    table in its own database, and one Python process (the tests) may load several."""


class RequestRow(RequestFact, ReportingTable, table=True):
    __tablename__ = "requests"


class WithdrawalRow(WithdrawalFact, ReportingTable, table=True):
    __tablename__ = "withdrawals"


class ProposalRow(ProposalFact, ReportingTable, table=True):
    __tablename__ = "proposals"


class FreePlaceRow(FreePlaceFact, ReportingTable, table=True):
    __tablename__ = "free_places"


class LocationRow(LocationFact, ReportingTable, table=True):
    __tablename__ = "locations"


class ClosureRow(ClosureFact, ReportingTable, table=True):
    __tablename__ = "closures"


ROWS: dict[type[Fact], type[ReportingTable]] = {
    RequestFact: RequestRow,
    WithdrawalFact: WithdrawalRow,
    ProposalFact: ProposalRow,
    FreePlaceFact: FreePlaceRow,
    LocationFact: LocationRow,
    ClosureFact: ClosureRow,
}


def table_of(fact: type[Fact]) -> Table:
    return ReportingTable.metadata.tables[str(ROWS[fact].__tablename__)]
