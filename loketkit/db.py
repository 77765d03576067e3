"""Async database engine and sessions, plus the delivery tables every service has.

The delivery tables (outbox, inbox, stored answers to idempotent POSTs) are
defined here once; each service's migrations create them and its Alembic
metadata includes them (`with_delivery_tables`), so a test can compare every
migrated database with the code.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    LargeBinary,
    MetaData,
    Table,
    Text,
    bindparam,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import registry
from sqlalchemy.orm.util import identity_key
from sqlmodel import Field, SQLModel

from loketkit.ids import utcnow


def make_engine(database_url: str) -> AsyncEngine:
    # hide_parameters: a failing statement's error must never print the values
    # (names, national numbers) it was given, in any log.
    return create_async_engine(
        database_url, pool_size=10, max_overflow=5, pool_pre_ping=True, hide_parameters=True
    )


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def table_of(record: type[SQLModel]) -> Table:
    return cast(Table, record.__table__)  # type: ignore[attr-defined]


async def insert_rows(session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]],
                      *, skip_existing: bool = False) -> None:
    """Rows (each with the same keys) in order, with `skip_existing` leaving out a row
    whose key is there already. One statement run for many parameter sets: compiled once
    and cached, where a multi-row VALUES list is compiled anew for every batch (which
    cost more than the database's work), and sent in one go (SQLAlchemy's
    "insertmanyvalues" over asyncpg)."""
    if not rows:
        return
    statement = insert(table)
    await session.execute(statement.on_conflict_do_nothing() if skip_existing else statement,
                          list(rows))


def plain_row(model: BaseModel) -> dict[str, Any]:
    """A domain model's fields as a row of its record (which has the same fields), for
    `insert_rows` and the like: tuples as lists, as the record's JSON columns take them."""
    return {name: list(value) if isinstance(value, tuple) else value
            for name, value in model.model_dump().items()}


def expire_held(session: AsyncSession, record: type[SQLModel], keys: Iterable[Any]) -> None:
    """The records the session holds for these primary keys are read again when next
    used: a Core statement has written past them."""
    for key in keys:
        held = session.identity_map.get(identity_key(record, key))
        if held is not None:
            session.expire(held)


async def update_rows(session: AsyncSession, table: Table, key: str,
                      rows: Sequence[dict[str, Any]]) -> None:
    """Rows (each with the same keys) updated by their `key` column: one statement run
    for many parameter sets, as `insert_rows`. Past the session: records it holds keep
    their values unless the caller sets them (`set_committed_value`)."""
    if not rows:
        return
    names = [name for name in rows[0] if name != key]
    statement = (update(table).where(table.c[key] == bindparam(f"new_{key}"))
                 .values({name: bindparam(f"new_{name}") for name in names}))
    await session.execute(statement, [{f"new_{name}": value for name, value in row.items()}
                                      for row in rows])


async def database_reachable(engine: AsyncEngine) -> bool:
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - readiness reports any failure as "not ready"
        return False


class DeliveryTable(SQLModel, registry=registry()):
    """Metadata of the tables every service database has besides its own."""


class OutboxMessage(DeliveryTable, table=True):
    """An event written in the same transaction as the state that caused it.

    The relay publishes it and sets `published_at`; a row Kafka refuses for good
    (too large, say) is parked with the reason, so the rows after it still leave.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index(
            "ix_outbox_unpublished",
            "id",
            postgresql_where=text("published_at IS NULL AND parked_at IS NULL"),
        ),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(), primary_key=True)
    )
    event_id: str = Field(unique=True, max_length=64)
    topic: str = Field(max_length=200)
    key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    value: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    headers: list[Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    published_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    parked_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    park_reason: str | None = Field(default=None, max_length=500)


class ProcessedEvent(DeliveryTable, table=True):
    """The events a consumer has applied (the inbox). A CloudEvent is identified by
    `source` and `id` together: two organisers' systems may both number from 1."""

    __tablename__ = "processed_events"

    source: str = Field(primary_key=True, max_length=255)
    event_id: str = Field(primary_key=True, max_length=255)
    event_type: str = Field(max_length=200)
    processed_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class StoredAnswer(DeliveryTable, table=True):
    """The first answer to a POST with an Idempotency-Key, replayed to its retries."""

    __tablename__ = "idempotency_keys"

    caller: str = Field(primary_key=True, max_length=200)
    key: str = Field(primary_key=True, max_length=200)
    fingerprint: str = Field(max_length=64, description="sha256 of method, path and body")
    status_code: int
    body: Any = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=DateTime(timezone=True), index=True
    )


class AreaSettingsRow(DeliveryTable, table=True):
    """One version of a service area's settings (see `loketkit.area_settings`)."""

    __tablename__ = "area_settings"

    service_area: str = Field(primary_key=True, max_length=100)
    version: int = Field(primary_key=True)
    effective_from: datetime = Field(sa_type=DateTime(timezone=True))
    body: Any = Field(sa_column=Column(JSON, nullable=False))
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    recorded_by: str | None = Field(default=None, max_length=200)


class NoticeRow(DeliveryTable, table=True):
    """An e-mail to send, written with the state change that called for it; the mail
    job sends it and sets `sent_at` (see `loketkit.mail`)."""

    __tablename__ = "notices"
    __table_args__ = (
        Index("ix_notices_unsent", "created_at", postgresql_where=text("sent_at IS NULL")),
    )

    notice_id: str = Field(primary_key=True, max_length=100)
    recipient: str = Field(max_length=320)
    subject: str = Field(max_length=300)
    body: str = Field(sa_column=Column(Text, nullable=False))
    kind: str = Field(max_length=50)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    sent_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    attempts: int = Field(default=0)
    last_error_kind: str | None = Field(default=None, max_length=200)


def with_delivery_tables(metadata: MetaData) -> MetaData:
    """A service's own tables plus the delivery tables: what its database should hold."""
    combined = MetaData()
    for table in (*metadata.tables.values(), *DeliveryTable.metadata.tables.values()):
        table.to_metadata(combined)
    return combined
