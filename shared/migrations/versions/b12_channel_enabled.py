"""channels have an enabled flag: a used channel is disabled instead of deleted

Revision ID: b12_channel_enabled
Revises: b12_sessions
Create Date: 2026-12-02 19:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "b12_channel_enabled"
down_revision = "b12_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.drop_column("enabled")
