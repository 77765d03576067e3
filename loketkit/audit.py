"""The audit trail: every change a person or system makes, with who (subject and role),
what (the command), on which object and when; append-only, and never with the values
that were changed (those can be personal).

The command bus marks the unit of work with the `Acting` (who, what); the unit of
work writes the record in the same transaction as the change itself, when it
commits, so a change without its record (or a record without its change) cannot
exist. The object is the command's own id field, or else the subject of the first
event the change emitted (a new request's id, say). The table refuses UPDATE,
DELETE and TRUNCATE (a trigger, see `create_audit_trail`); the area's coordinator
reads it with `GET /audit`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from sqlalchemy import BigInteger, DateTime, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, col

from contracts import BY_TYPE, CloudEvent
from loketkit.auth import Caller, Role, requires
from loketkit.db import DeliveryTable, insert_rows, table_of
from loketkit.ids import utcnow

# Command fields that name the object a change is about, most specific first.
OBJECT_FIELDS = ("match_id", "enrolment_id", "place_id", "closure_id", "round_id",
                 "request_id", "location_id", "import_id")
ANONYMOUS = "anonymous"


class AuditRow(DeliveryTable, table=True):
    __tablename__ = "audit_trail"

    audit_id: int | None = Field(default=None, primary_key=True, sa_type=BigInteger)
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True),
                                  index=True)
    subject: str = Field(max_length=255)
    role: str = Field(max_length=100)
    action: str = Field(max_length=100)
    object_type: str | None = Field(default=None, max_length=100)
    object_id: str | None = Field(default=None, max_length=100)
    service_area: str | None = Field(default=None, max_length=100, index=True)


@dataclass(frozen=True)
class Acting:
    """Who is changing what, set on a unit of work before the change."""

    subject: str
    role: str
    action: str
    object_type: str | None = None
    object_id: str | None = None
    service_area: str | None = None

    @classmethod
    def of(cls, caller: Caller | None, command: object, home_area: str | None = None
           ) -> Acting:
        object_type, object_id = object_of(command)
        if caller is None:
            return cls(ANONYMOUS, ANONYMOUS, type(command).__name__, object_type, object_id,
                       home_area)
        return cls(caller.subject, caller.role, type(command).__name__, object_type,
                   object_id, caller.service_area or home_area)

    @classmethod
    def system(cls, name: str, action: str, object_type: str | None = None,
               object_id: str | None = None, service_area: str | None = None) -> Acting:
        """A system acting over Kafka (an organiser's inbound topic, say)."""
        return cls(name, "system", action, object_type, object_id, service_area)

    def record(self, events: list[CloudEvent], now: datetime) -> AuditRow:
        object_type, object_id, area = self.object_type, self.object_id, self.service_area
        if events and object_id is None:  # a creation: the new object's id is in its event
            first = events[0]
            subject_field = BY_TYPE[first.type].SUBJECT_FIELD
            object_type, object_id = subject_field.removesuffix("_id"), first.subject
        if events and area is None:
            area = events[0].servicearea
        return AuditRow(occurred_at=now, subject=self.subject, role=self.role,
                        action=self.action, object_type=object_type, object_id=object_id,
                        service_area=area)


def object_of(command: object) -> tuple[str | None, str | None]:
    for name in OBJECT_FIELDS:
        value = getattr(command, name, None)
        if isinstance(value, str):
            return name.removesuffix("_id"), value
    return None, None


class AuditTrail(Protocol):
    async def add(self, row: AuditRow) -> None: ...

    async def in_area(self, service_area: str, limit: int) -> list[AuditRow]: ...


class SqlAuditTrail:
    """Records wait for the unit of work's commit (`write`), which inserts them with its
    inbox and outbox rows: a batch of a few hundred changes is one statement, not a
    flush per change."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._waiting: list[dict[str, Any]] = []

    async def add(self, row: AuditRow) -> None:
        self._waiting.append(row.model_dump(exclude={"audit_id"}))

    async def write(self) -> None:
        """Insert the waiting records, in the order they were added."""
        waiting, self._waiting = self._waiting, []
        await insert_rows(self._session, table_of(AuditRow), waiting)

    def forget(self) -> None:
        """The transaction is rolled back: its records with it."""
        self._waiting = []

    async def in_area(self, service_area: str, limit: int) -> list[AuditRow]:
        await self.write()  # what this unit recorded so far reads back too
        rows = await self._session.execute(
            select(AuditRow).where(col(AuditRow.service_area) == service_area)
            .order_by(col(AuditRow.occurred_at).desc(), col(AuditRow.audit_id).desc())
            .limit(limit))
        return list(rows.scalars())


class AuditPublic(BaseModel):
    occurred_at: datetime
    subject: str
    role: str
    action: str
    object_type: str | None
    object_id: str | None
    service_area: str | None


AreaCoordinator = Annotated[Caller, requires(Role.COORDINATOR)]


def audit_router() -> APIRouter:
    router = APIRouter(tags=["audit"])

    @router.get("/audit", response_model=list[AuditPublic],
                summary="Who changed what, on which object, when (the caller's area, newest "
                        "first)")
    async def audit_trail(
        request: Request, caller: AreaCoordinator,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[AuditPublic]:
        if caller.service_area is None:
            return []
        async with request.app.state.context.uow() as uow:
            rows = await uow.audit_trail.in_area(caller.service_area, limit)
            # read while the session is open: leaving the unit rolls back and expires them
            return [AuditPublic.model_validate(row, from_attributes=True) for row in rows]

    return router


APPEND_ONLY = """
CREATE OR REPLACE FUNCTION audit_trail_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'the audit trail is append-only';
END;
$$ LANGUAGE plpgsql;
"""


def create_audit_trail(op: Any) -> None:
    """The migration every service runs: the table, and a trigger that refuses to change
    or remove what was written."""
    import sqlalchemy as sa

    op.create_table(
        "audit_trail",
        sa.Column("audit_id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("role", sa.String(100), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("object_type", sa.String(100)),
        sa.Column("object_id", sa.String(100)),
        sa.Column("service_area", sa.String(100), index=True),
    )
    op.execute(APPEND_ONLY)
    op.execute("CREATE TRIGGER audit_trail_no_change BEFORE UPDATE OR DELETE ON audit_trail "
               "FOR EACH ROW EXECUTE FUNCTION audit_trail_append_only()")
    op.execute("CREATE TRIGGER audit_trail_no_truncate BEFORE TRUNCATE ON audit_trail "
               "FOR EACH STATEMENT EXECUTE FUNCTION audit_trail_append_only()")
