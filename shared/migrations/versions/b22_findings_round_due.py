"""findings are indexed by round and deadline: the red and yellow lights (problems whose deadline has
passed or is near) read a round's problems due by a date, not all its open ones (42,000 at 10,000 units)

Revision ID: b22_findings_round_due
Revises: b21_findings_unit_round
"""

from alembic import op

revision = "b22_findings_round_due"
down_revision = "b21_findings_unit_round"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.create_index("ix_findings_round_due", ["round_code", "due_date"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index("ix_findings_round_due")
