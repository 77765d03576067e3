"""Sign-in: the audit trail of changes by people and systems (append-only).

Revision ID: 0005
"""

from alembic import op

from loketkit.audit import create_audit_trail

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    create_audit_trail(op)


def downgrade() -> None:
    raise NotImplementedError("forward only: the audit trail is never dropped")
