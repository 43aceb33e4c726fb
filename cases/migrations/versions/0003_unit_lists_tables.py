"""A unit's list from one index (case state copied onto case_units), a case's units and photos by index;
the name behind every event; responsibility tables in the store.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cases.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OPEN_STATES = ("reported", "dispatched", "rectified", "postponed")  # cases.workflow.OPEN_STATES at 0003


def upgrade() -> None:
    with op.batch_alter_table("case_units") as batch:
        batch.add_column(sa.Column("case_state", sa.String(20)))
        batch.add_column(sa.Column("case_open", sa.Boolean()))
        batch.add_column(sa.Column("due_at", UTCDateTime()))
        batch.add_column(sa.Column("reported_at", UTCDateTime()))
    # Rows written before this revision take their case's values.
    op.execute(
        sa.text(
            "UPDATE case_units SET "
            "case_state = (SELECT state FROM cases WHERE cases.id = case_units.case_pk), "
            "due_at = (SELECT due_at FROM cases WHERE cases.id = case_units.case_pk), "
            "reported_at = (SELECT reported_at FROM cases WHERE cases.id = case_units.case_pk)"
        )
    )
    op.execute(
        sa.text("UPDATE case_units SET case_open = (case_state IN :open)").bindparams(
            sa.bindparam("open", value=list(OPEN_STATES), expanding=True)
        )
    )
    with op.batch_alter_table("case_units") as batch:
        batch.alter_column("case_state", existing_type=sa.String(20), nullable=False)
        batch.alter_column("case_open", existing_type=sa.Boolean(), nullable=False)
        batch.alter_column("reported_at", existing_type=UTCDateTime(), nullable=False)
    held_now = {"sqlite_where": sa.text("until IS NULL"), "postgresql_where": sa.text("until IS NULL")}
    for name, time_column in (("ix_case_units_unit_due", "due_at"), ("ix_case_units_unit_reported", "reported_at")):
        op.create_index(name, "case_units", ["unit_id", "case_open", time_column, "case_pk", "case_state"], **held_now)
    # replaces ix_case_units_unit_open (unit_id, until, case_pk): the same, and counts by state too
    op.drop_index("ix_case_units_unit_open", "case_units")
    op.create_index("ix_case_units_unit_state", "case_units", ["unit_id", "until", "case_state", "case_pk"])
    op.create_table(
        "unit_case_counts",
        sa.Column("unit_id", sa.String(200), nullable=False),
        sa.Column("case_state", sa.String(20), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("unit_id", "case_state", name="pk_unit_case_counts"),
    )
    op.execute(
        sa.text(
            "INSERT INTO unit_case_counts (unit_id, case_state, cases) "
            "SELECT unit_id, case_state, COUNT(*) FROM case_units WHERE until IS NULL GROUP BY unit_id, case_state"
        )
    )
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("actor_name", sa.String(200)))
    op.execute(sa.text("UPDATE events SET actor_name = (SELECT name FROM users WHERE users.id = events.actor_id)"))
    # a case's units and photos, read for every case a list shows (they had no index of their own)
    op.create_index("ix_case_units_case_pk", "case_units", ["case_pk"])
    op.create_index("ix_photos_case_pk", "photos", ["case_pk"])
    op.create_table(
        "dataset_tables",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_key", sa.String(200), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(80), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("change_id", sa.Integer()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dataset_tables"),
        sa.ForeignKeyConstraint(
            ["change_id"], ["assignment_changes.id"], name="fk_dataset_tables_change_id_assignment_changes"
        ),
        sa.UniqueConstraint("dataset_key", "seq", "table_name", name="uq_dataset_tables_key_seq_table"),
    )


def downgrade() -> None:
    op.drop_table("dataset_tables")
    op.drop_table("unit_case_counts")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("actor_name")
    op.drop_index("ix_photos_case_pk", "photos")
    op.drop_index("ix_case_units_case_pk", "case_units")
    op.drop_index("ix_case_units_unit_state", "case_units")
    op.create_index("ix_case_units_unit_open", "case_units", ["unit_id", "until", "case_pk"])
    op.drop_index("ix_case_units_unit_reported", "case_units")
    op.drop_index("ix_case_units_unit_due", "case_units")
    with op.batch_alter_table("case_units") as batch:
        for column in ("reported_at", "due_at", "case_open", "case_state"):
            batch.drop_column(column)
