"""Intake's tables. Personal data lives in `requests` and nowhere else
(`audit_log.staff_member` names loket staff, not families)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, DateTime, Text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class IntakeTable(SQLModel, registry=registry()):
    """Intake's own metadata: table names are per database, and one Python
    process (the tests) may load several services' tables."""


class RequestRecord(IntakeTable, table=True):
    __tablename__ = "requests"

    request_id: str = Field(primary_key=True, max_length=64)
    service_area: str = Field(max_length=64)
    status: str = Field(max_length=32, index=True)
    urgency: str = Field(max_length=16)
    # Personal data: never copied into events, logs or metrics.
    child_first_name: str = Field(max_length=100)
    child_last_name: str = Field(max_length=100)
    child_birth_date: date
    child_national_number: str | None = Field(default=None, max_length=11)
    parent_name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    street: str | None = Field(default=None, max_length=200)
    postcode: str = Field(max_length=4)
    # Facts that may be published pseudonymously.
    municipality_nis: str = Field(max_length=5, index=True)
    neighbourhood_code: str | None = Field(default=None, max_length=32)
    desired_start_date: date
    day_parts: list[str] = Field(sa_column=Column(JSON, nullable=False))
    accepts_partial_fit: bool = False
    share_contact_with_organiser: bool = False
    sibling_request_ids: list[str] = Field(sa_column=Column(JSON, nullable=False))
    # The effective choices (published); which of them came from the family's distance
    # (the rest it named itself) and that distance, which stays here (see Request).
    preferred_location_ids: list[str] = Field(sa_column=Column(JSON, nullable=False))
    distance_location_ids: list[str] = Field(sa_column=Column(JSON, nullable=False))
    max_distance_km: float | None = None
    priority: dict[str, object] = Field(sa_column=Column(JSON, nullable=False))
    submitted_at: datetime = Field(sa_type=DateTime(timezone=True))
    replaces_request_id: str | None = Field(default=None, max_length=64)
    replaced_by_request_id: str | None = Field(default=None, max_length=64)
    erased_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    last_confirmed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    confirmation_asked_at: datetime | None = Field(
        default=None, sa_type=DateTime(timezone=True), index=True)
    needs_loket_for_closure_id: str | None = Field(default=None, max_length=64, index=True)
    import_id: str | None = Field(default=None, max_length=64)
    owner_subject: str | None = Field(default=None, max_length=255, index=True)
    sworn_statement_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    # Urgency as asked and decided, and staff's assessment: personal, never published
    # (RequestAssessed carries only the outcome).
    urgency_status: str = Field(default="none", max_length=16, index=True)
    urgency_reason: str | None = Field(default=None, max_length=1000)
    urgency_decision_reason: str | None = Field(default=None, max_length=1000)
    vulnerability: dict[str, bool] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True))
    assessed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class OfferRecord(IntakeTable, table=True):
    """Offers matching made to a request, and what became of them; a placed one is the
    child's placement. Pseudonymous: the personal data stays in `requests`."""

    __tablename__ = "offers"

    match_id: str = Field(primary_key=True, max_length=64)
    request_id: str = Field(max_length=64, index=True)
    location_id: str = Field(max_length=64, index=True)
    place_id: str = Field(max_length=64)
    start_date: date
    day_parts: list[str] = Field(sa_column=Column(JSON, nullable=False))
    fit: str = Field(max_length=16)
    family_answer_due: datetime = Field(sa_type=DateTime(timezone=True))
    organiser_answer_due: datetime = Field(sa_type=DateTime(timezone=True))
    proposed_at: datetime = Field(sa_type=DateTime(timezone=True))
    status: str = Field(max_length=16)
    cancel_reason: str | None = Field(default=None, max_length=32)
    refusal_reason: str | None = Field(default=None, max_length=32)
    keep_waiting_for_higher_choices: bool = False
    answered_by: str | None = Field(default=None, max_length=16)
    answered_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    enrolment_id: str | None = Field(default=None, max_length=64)
    ended_on: date | None = None
    rule_set: str | None = Field(default=None, max_length=64)
    why: str = Field(default="", sa_type=Text)


class AuditRecord(IntakeTable, table=True):
    """Who did what for a request, when: staff answering for a family without e-mail."""

    __tablename__ = "audit_log"

    audit_id: str = Field(primary_key=True, max_length=64)
    request_id: str = Field(max_length=64, index=True)
    match_id: str | None = Field(default=None, max_length=64)
    action: str = Field(max_length=32)
    actor: str = Field(max_length=16)
    staff_member: str | None = Field(default=None, max_length=200)
    at: datetime = Field(sa_type=DateTime(timezone=True))


class ImportRecord(IntakeTable, table=True):
    """One imported waiting list (an audited batch); its requests name it."""

    __tablename__ = "imports"

    import_id: str = Field(primary_key=True, max_length=64)
    rows: int
    imported_at: datetime = Field(sa_type=DateTime(timezone=True))
    imported_by: str | None = Field(default=None, max_length=200)


class PersonalLinkRecord(IntakeTable, table=True):
    """Personal links handed to families (see services.intake.personal_links)."""

    __tablename__ = "personal_links"

    link_id: str = Field(primary_key=True, max_length=64)
    request_id: str = Field(max_length=64, index=True)
    issued_at: datetime = Field(sa_type=DateTime(timezone=True))
    expires_at: datetime = Field(sa_type=DateTime(timezone=True))
    revoked_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class LocationRecord(IntakeTable, table=True):
    """Locations families can choose, as announced by capacity."""

    __tablename__ = "locations"

    location_id: str = Field(primary_key=True, max_length=64)
    service_area: str = Field(max_length=64, index=True)
    name: str = Field(max_length=200)
    municipality_nis: str = Field(max_length=5)
    postcode: str = Field(max_length=4)
    subsidy_tier: str = Field(max_length=32)
    closed: bool = False
    closure_id: str | None = Field(default=None, max_length=64)
    closed_from: date | None = None
    organiser_id: str | None = Field(default=None, max_length=64)
