"""users have a session version: raising it ends every signed-in session of the user

Revision ID: b12_sessions
Revises: b19_evaluation_errors
Create Date: 2026-12-02 18:12:20.539852
"""

from alembic import op
import sqlalchemy as sa


revision = "b12_sessions"
down_revision = "b19_evaluation_errors"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_version", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_version")
