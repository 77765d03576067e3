"""Priority facts under a sworn statement; urgency asked by the family and decided by
loket staff; staff's assessment of the family's vulnerability.

Requests marked urgent before this (the family's own word, no staff judgement) keep
their urgency, so intake and the other services still agree; they show as granted
with a reason that asks staff to review them (`GET /requests?urgency_status=granted`).

Revision ID: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"

REVIEW = ("urgent at registration, before loket staff decided urgency: to review")


def upgrade() -> None:
    op.add_column("requests", sa.Column("sworn_statement_at", sa.DateTime(timezone=True)))
    op.add_column("requests", sa.Column("urgency_status", sa.String(16), nullable=False,
                                        server_default="none"))
    op.create_index("ix_requests_urgency_status", "requests", ["urgency_status"])
    op.add_column("requests", sa.Column("urgency_reason", sa.String(1000)))
    op.add_column("requests", sa.Column("urgency_decision_reason", sa.String(1000)))
    op.add_column("requests", sa.Column("vulnerability", sa.JSON))
    op.add_column("requests", sa.Column("assessed_at", sa.DateTime(timezone=True)))
    op.execute(sa.text(
        "UPDATE requests SET urgency_status = 'granted', urgency_decision_reason = :reason "
        "WHERE urgency = 'urgent'").bindparams(reason=REVIEW))


def downgrade() -> None:
    op.drop_column("requests", "assessed_at")
    op.drop_column("requests", "vulnerability")
    op.drop_column("requests", "urgency_decision_reason")
    op.drop_column("requests", "urgency_reason")
    op.drop_index("ix_requests_urgency_status", "requests")
    op.drop_column("requests", "urgency_status")
    op.drop_column("requests", "sworn_statement_at")
