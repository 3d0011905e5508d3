"""drafts have a revision: a save based on an older one is refused instead of overwriting it

Revision ID: b14_draft_revision
Revises: b16_visits_cases
"""

from alembic import op
import sqlalchemy as sa


revision = "b14_draft_revision"
down_revision = "b16_visits_cases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.drop_column("revision")
