"""Alembic, run programmatically: each service keeps its own migrations folder
and version table in its own database.

`upgrade` is what services call at start-up (RUN_MIGRATIONS=true); `run_env`
is what each service's migrations/env.py calls.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

# Serialises concurrent start-ups of several instances of one service.
MIGRATION_LOCK_ID = 7_140_002


def alembic_config(database_url: str, script_location: Path) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


async def upgrade(database_url: str, script_location: Path) -> None:
    # Alembic's env.py runs its own event loop, so give it a thread.
    await asyncio.to_thread(command.upgrade, alembic_config(database_url, script_location), "head")


def run_env(target_metadata: MetaData | None = None) -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is not set"

    def migrate(connection: Connection) -> None:
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})")
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.begin() as connection:
            await connection.run_sync(migrate)
        await engine.dispose()

    asyncio.run(run())


def create_delivery_tables() -> None:
    """The outbox and inbox tables; every service's first migration calls this."""
    import sqlalchemy as sa
    from alembic import op

    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("key", sa.LargeBinary, nullable=False),
        sa.Column("value", sa.LargeBinary, nullable=False),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True)),
    )
    op.create_index(
        "ix_outbox_unpublished", "outbox", ["id"], postgresql_where=sa.text("published_at IS NULL")
    )
    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.String(200), primary_key=True),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    )


def upgrade_delivery_tables_0002() -> None:
    """The inbox keys on CloudEvents `source` + `id`; the outbox can park a row Kafka
    refuses; POSTs remember their first answer per Idempotency-Key. Every service's
    second migration calls this."""
    import sqlalchemy as sa
    from alembic import op

    # Events applied before this change keep an empty source: they were ours.
    op.add_column(
        "processed_events",
        sa.Column("source", sa.String(255), nullable=False, server_default=""),
    )
    op.alter_column("processed_events", "source", server_default=None)
    op.alter_column("processed_events", "event_id", type_=sa.String(255))
    op.drop_constraint("processed_events_pkey", "processed_events", type_="primary")
    op.create_primary_key("processed_events_pkey", "processed_events", ["source", "event_id"])

    op.add_column("outbox", sa.Column("parked_at", sa.DateTime(timezone=True)))
    op.add_column("outbox", sa.Column("park_reason", sa.String(500)))
    op.drop_index("ix_outbox_unpublished", "outbox")
    op.create_index(
        "ix_outbox_unpublished", "outbox", ["id"],
        postgresql_where=sa.text("published_at IS NULL AND parked_at IS NULL"),
    )

    op.create_table(
        "idempotency_keys",
        sa.Column("caller", sa.String(200), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])


def create_settings_and_notices_0003() -> None:
    """Versioned per-area settings and the notices (mail) outbox. Every service's third
    migration calls this."""
    import sqlalchemy as sa
    from alembic import op

    op.create_table(
        "area_settings",
        sa.Column("service_area", sa.String(100), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(200)),
    )
    op.create_table(
        "notices",
        sa.Column("notice_id", sa.String(100), primary_key=True),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error_kind", sa.String(200)),
    )
    op.create_index(
        "ix_notices_unsent", "notices", ["created_at"],
        postgresql_where=sa.text("sent_at IS NULL"),
    )
