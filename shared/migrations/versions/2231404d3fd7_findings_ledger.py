"""findings ledger: unit kinds, finding categories, modes, extensions, versions; skipped rules

Revision ID: 2231404d3fd7
Revises: 494d053ef91a
Create Date: 2026-12-02 18:14:08.415867
"""

from alembic import op
import sqlalchemy as sa


revision = "2231404d3fd7"
down_revision = "494d053ef91a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing rows get the values that keep their meaning: every unit was treated as an enterprise,
    # every finding ended automatically and (but data errors) needed a proof to report rectified.
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("skipped", sa.JSON(), nullable=False, server_default="{}"))

    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("category", sa.String(length=64), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("measure_code", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("resolution_mode", sa.String(length=8), nullable=False, server_default="auto")
        )
        batch_op.add_column(
            sa.Column("proof_required", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("raised_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("extension_until", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("extension_reason", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.create_foreign_key(batch_op.f("fk_findings_raised_by_users"), "users", ["raised_by"], ["id"])

    with op.batch_alter_table("pilot_units", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="enterprise", nullable=False)
        )

    findings = sa.table(
        "findings",
        sa.column("source", sa.String),
        sa.column("category", sa.String),
        sa.column("severity", sa.String),
        sa.column("proof_required", sa.Boolean),
    )
    # What the old `source` held was a category, not a document, for these words.
    for word in ("完整性", "数据一致性", "推进情况", "滞后单位", "及时性", "异常值"):
        op.execute(findings.update().where(findings.c.source == word).values(category=word, source=""))
    op.execute(findings.update().where(findings.c.severity != "error").values(proof_required=True))


def downgrade() -> None:
    with op.batch_alter_table("pilot_units", schema=None) as batch_op:
        batch_op.drop_column("kind")

    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_findings_raised_by_users"), type_="foreignkey")
        batch_op.drop_column("version")
        batch_op.drop_column("extension_reason")
        batch_op.drop_column("extension_until")
        batch_op.drop_column("raised_by")
        batch_op.drop_column("proof_required")
        batch_op.drop_column("resolution_mode")
        batch_op.drop_column("measure_code")
        batch_op.drop_column("category")

    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.drop_column("skipped")
