"""evaluations record the rules that could not be evaluated

Revision ID: b19_evaluation_errors
Revises: 2231404d3fd7
Create Date: 2026-12-02 18:15:58.388618
"""

from alembic import op
import sqlalchemy as sa


revision = "b19_evaluation_errors"
down_revision = "2231404d3fd7"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("errors", sa.JSON(), server_default=sa.text("'[]'"), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.drop_column("errors")
