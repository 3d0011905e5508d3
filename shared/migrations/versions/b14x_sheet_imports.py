"""spreadsheet uploads are checked and stored by the intake worker, with their progress and outcome

Revision ID: b14x_sheet_imports
Revises: b14_draft_revision
"""

from alembic import op
import sqlalchemy as sa
import shared.models.base


revision = "b14x_sheet_imports"
down_revision = "b14_draft_revision"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sheet_imports",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("round_code", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("submission_ids", sa.JSON(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("problem_count", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("requested_at", shared.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", shared.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["users.id"], name=op.f("fk_sheet_imports_requested_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["round_code"], ["rounds.code"], name=op.f("fk_sheet_imports_round_code_rounds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sheet_imports")),
    )
    with op.batch_alter_table("sheet_imports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sheet_imports_round_code"), ["round_code"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sheet_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sheet_imports_round_code"))
    op.drop_table("sheet_imports")
