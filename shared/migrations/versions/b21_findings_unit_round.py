"""findings are indexed by unit and round: whether a unit has open problems in a round (the home page's
and the dashboard's report states) is one index look-up, not a walk through the unit's every round

Revision ID: b21_findings_unit_round
Revises: b20_finding_indexes
"""

from alembic import op

revision = "b21_findings_unit_round"
down_revision = "b20_finding_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.create_index("ix_findings_unit_round", ["unit_id", "round_code"], unique=False)
        batch_op.drop_index("ix_findings_unit_id")


def downgrade() -> None:
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.create_index("ix_findings_unit_id", ["unit_id"], unique=False)
        batch_op.drop_index("ix_findings_unit_round")
