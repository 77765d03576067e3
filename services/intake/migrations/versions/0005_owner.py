"""Sign-in: the parent (token subject) who registered a request themselves, and the
organiser that runs each location.

Revision ID: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.add_column("requests", sa.Column("owner_subject", sa.String(255)))
    op.create_index("ix_requests_owner_subject", "requests", ["owner_subject"])
    op.add_column("locations", sa.Column("organiser_id", sa.String(64)))


def downgrade() -> None:
    op.drop_column("locations", "organiser_id")
    op.drop_index("ix_requests_owner_subject", "requests")
    op.drop_column("requests", "owner_subject")
