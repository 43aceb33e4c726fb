"""Photos, responsibility changes, shared server state; where the photo came from; PostGIS points.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cases.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("location_source", sa.String(20), nullable=False, server_default="given"))
    op.create_table(
        "photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_pk", sa.Integer(), nullable=False),
        sa.Column("event_seq", sa.Integer()),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("media_type", sa.String(40), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("original_name", sa.String(255), nullable=False),
        sa.Column("uploaded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_photos"),
        sa.ForeignKeyConstraint(["case_pk"], ["cases.id"], name="fk_photos_case_pk_cases"),
    )
    op.create_index("ix_photos_sha256", "photos", ["sha256"])
    op.create_table(
        "assignment_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("by_name", sa.String(200), nullable=False),
        sa.Column("by_user_id", sa.Integer()),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("effective", sa.Date(), nullable=False),
        sa.Column("dataset_path", sa.Text(), nullable=False),
        sa.Column("hash_before", sa.String(80), nullable=False),
        sa.Column("hash_after", sa.String(80), nullable=False),
        sa.Column("diff", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_assignment_changes"),
        sa.ForeignKeyConstraint(["by_user_id"], ["users.id"], name="fk_assignment_changes_by_user_id_users"),
    )
    op.create_table(
        "server_state",
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_server_state"),
    )
    _postgis_points()


def _postgis_points() -> None:
    """On PostgreSQL with PostGIS available, a generated point column and a GiST index for GIS clients.

    Lon/lat stay the columns respmap itself reads (the same queries on every backend); the
    geometry is for QGIS and SQL users. Without PostGIS nothing is added.
    """
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    available = bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")).first()
    if available is None:
        return
    try:
        with bind.begin_nested():  # a savepoint: without the right to create it, go on without
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
    except sa.exc.DBAPIError:
        return
    bind.execute(
        sa.text(
            "ALTER TABLE cases ADD COLUMN geom geometry(Point, 4326) "
            "GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED"
        )
    )
    bind.execute(sa.text("CREATE INDEX ix_cases_geom ON cases USING gist (geom)"))
