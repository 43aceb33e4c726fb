"""Cases, their units and events, and the people who act on them.

Revision ID: 0001
Revises:
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cases.models import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("unit_id", sa.String(200)),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("disabled_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("name", name="uq_users_name"),
        sa.UniqueConstraint("token_hash", name="uq_users_token_hash"),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(40), nullable=False),
        sa.Column("category", sa.String(80), nullable=False),
        sa.Column("category_name", sa.String(200), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("reported_at", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("due_at", UTCDateTime()),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("given_lon", sa.Float(), nullable=False),
        sa.Column("given_lat", sa.Float(), nullable=False),
        sa.Column("given_crs", sa.String(60), nullable=False),
        sa.Column("district_id", sa.String(200)),
        sa.Column("district_name", sa.String(400)),
        sa.Column("layer", sa.String(200)),
        sa.Column("feature_id", sa.String(200)),
        sa.Column("feature_name", sa.String(400)),
        sa.Column("stretch_from_m", sa.Float()),
        sa.Column("stretch_to_m", sa.Float()),
        sa.Column("fallback", sa.Boolean(), nullable=False),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("attribution_date", sa.Date(), nullable=False),
        sa.Column("dataset_hash", sa.String(80), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reporter_id", sa.Integer()),
        sa.Column("reporter_contact", sa.String(400)),
        sa.Column("idempotency_key", sa.String(200)),
        sa.Column("attribution", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
        sa.UniqueConstraint("case_id", name="uq_cases_case_id"),
        sa.UniqueConstraint("idempotency_key", name="uq_cases_idempotency_key"),
        sa.ForeignKeyConstraint(["reporter_id"], ["users.id"], name="fk_cases_reporter_id_users"),
    )
    op.create_index("ix_cases_state_due", "cases", ["state", "due_at"])
    op.create_index("ix_cases_reported_at", "cases", ["reported_at"])
    op.create_index("ix_cases_district", "cases", ["district_id"])
    op.create_index("ix_cases_lon_lat", "cases", ["lon", "lat"])
    op.create_table(
        "case_units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_pk", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.String(200), nullable=False),
        sa.Column("unit_name", sa.String(400), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("since", UTCDateTime(), nullable=False),
        sa.Column("until", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_case_units"),
        sa.ForeignKeyConstraint(["case_pk"], ["cases.id"], name="fk_case_units_case_pk_cases"),
    )
    op.create_index("ix_case_units_unit_open", "case_units", ["unit_id", "until", "case_pk"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_pk", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("from_state", sa.String(20)),
        sa.Column("to_state", sa.String(20), nullable=False),
        sa.Column("actor_id", sa.Integer()),
        sa.Column("by_role", sa.String(20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("due_at", UTCDateTime()),
        sa.Column("unit_id", sa.String(200)),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.ForeignKeyConstraint(["case_pk"], ["cases.id"], name="fk_events_case_pk_cases"),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name="fk_events_actor_id_users"),
    )
    op.create_index("ix_events_case_seq", "events", ["case_pk", "seq"], unique=True)
    op.create_index("ix_events_at", "events", ["at"])
