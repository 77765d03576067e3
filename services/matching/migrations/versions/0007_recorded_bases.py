"""An area's candidate keys are recorded as computed under the rules in force when its
first requests arrive (so the rekey job has nothing to redo for a new area); an area
that already has requests gets a basis that matches no rules, so the job computes its
keys once more, as before.

Revision ID: 0007
"""

from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.execute("INSERT INTO area_rankings (service_area, basis, computed_at) "
               "SELECT DISTINCT service_area, 'before 0007', now() FROM requests "
               "ON CONFLICT (service_area) DO NOTHING")


def downgrade() -> None:
    op.execute("DELETE FROM area_rankings WHERE basis = 'before 0007'")
