"""Why matching offered a place to the family: the rule set and a sentence staff read out.

Offers read before this keep no reason (empty): matching did not send one then.

Revision ID: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    op.add_column("offers", sa.Column("rule_set", sa.String(64)))
    op.add_column("offers", sa.Column("why", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    op.drop_column("offers", "why")
    op.drop_column("offers", "rule_set")
