"""reports are found by when they arrived: an evaluation worker takes the ones waiting since

Revision ID: b17_submissions_waiting
Revises: b14x_sheet_imports
"""

from alembic import op

revision = "b17_submissions_waiting"
down_revision = "b14x_sheet_imports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_submissions_submitted_at", "submissions", ["submitted_at"])


def downgrade() -> None:
    op.drop_index("ix_submissions_submitted_at", table_name="submissions")
