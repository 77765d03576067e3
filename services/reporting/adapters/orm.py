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
    AcceptanceFact,
    CancellationFact,
    CapacityFact,
    ClosureFact,
    DeclarationFact,
    DeclaredEnrolmentFact,
    DeclineFact,
    EnrolmentEndFact,
    Fact,
    FreePlaceFact,
    LocationFact,
    OfferExpiryFact,
    PlacementFact,
    PlaceWithdrawalFact,
    ProposalFact,
    RefusalFact,
    RequestExpiryFact,
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


class RequestExpiryRow(RequestExpiryFact, ReportingTable, table=True):
    __tablename__ = "request_expiries"


class ProposalRow(ProposalFact, ReportingTable, table=True):
    __tablename__ = "proposals"


class AcceptanceRow(AcceptanceFact, ReportingTable, table=True):
    __tablename__ = "acceptances"


class DeclineRow(DeclineFact, ReportingTable, table=True):
    __tablename__ = "declines"


class RefusalRow(RefusalFact, ReportingTable, table=True):
    __tablename__ = "refusals"


class OfferExpiryRow(OfferExpiryFact, ReportingTable, table=True):
    __tablename__ = "offer_expiries"


class CancellationRow(CancellationFact, ReportingTable, table=True):
    __tablename__ = "cancellations"


class PlacementRow(PlacementFact, ReportingTable, table=True):
    __tablename__ = "placements"


class EnrolmentEndRow(EnrolmentEndFact, ReportingTable, table=True):
    __tablename__ = "enrolment_ends"


class DeclarationRow(DeclarationFact, ReportingTable, table=True):
    __tablename__ = "enrolment_declarations"


class DeclaredEnrolmentRow(DeclaredEnrolmentFact, ReportingTable, table=True):
    __tablename__ = "declared_enrolments"


class CapacityRow(CapacityFact, ReportingTable, table=True):
    __tablename__ = "capacity_declarations"


class FreePlaceRow(FreePlaceFact, ReportingTable, table=True):
    __tablename__ = "free_places"


class PlaceWithdrawalRow(PlaceWithdrawalFact, ReportingTable, table=True):
    __tablename__ = "place_withdrawals"


class LocationRow(LocationFact, ReportingTable, table=True):
    __tablename__ = "locations"


class ClosureRow(ClosureFact, ReportingTable, table=True):
    __tablename__ = "closures"


ROWS: dict[type[Fact], type[ReportingTable]] = {
    RequestFact: RequestRow,
    WithdrawalFact: WithdrawalRow,
    RequestExpiryFact: RequestExpiryRow,
    ProposalFact: ProposalRow,
    AcceptanceFact: AcceptanceRow,
    DeclineFact: DeclineRow,
    RefusalFact: RefusalRow,
    OfferExpiryFact: OfferExpiryRow,
    CancellationFact: CancellationRow,
    PlacementFact: PlacementRow,
    EnrolmentEndFact: EnrolmentEndRow,
    DeclarationFact: DeclarationRow,
    DeclaredEnrolmentFact: DeclaredEnrolmentRow,
    CapacityFact: CapacityRow,
    FreePlaceFact: FreePlaceRow,
    PlaceWithdrawalFact: PlaceWithdrawalRow,
    LocationFact: LocationRow,
    ClosureFact: ClosureRow,
}


def table_of(fact: type[Fact]) -> Table:
    return ReportingTable.metadata.tables[str(ROWS[fact].__tablename__)]
