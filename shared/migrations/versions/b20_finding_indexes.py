"""findings are indexed for a province's ledger: by round and state, newest first (of every district and
of one), and by the report that last settled them

Revision ID: b20_finding_indexes
Revises: b17_submissions_waiting
"""

from alembic import op

revision = "b20_finding_indexes"
down_revision = "b17_submissions_waiting"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_findings_round_status", ["round_code", "status"]),
    ("ix_findings_opened", ["opened_at", "id"]),
    ("ix_findings_district_opened", ["district_code", "opened_at", "id"]),
    ("ix_findings_last_submission_id", ["last_submission_id"]),
)


def upgrade() -> None:
    with op.batch_alter_table("findings", schema=None) as batch_op:
        for name, columns in INDEXES:
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("findings", schema=None) as batch_op:
        for name, _columns in reversed(INDEXES):
            batch_op.drop_index(name)
