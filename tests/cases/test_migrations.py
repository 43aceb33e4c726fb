"""Schema changes go through migrations: from empty, from the previous revision, no drift from the models."""

from __future__ import annotations

import datetime as dt
import warnings

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text

from cases import unit_counts
from cases.migrate import current_revision, head_revision, upgrade
from cases.models import Base, CaseUnit
from cases.store import make_engine, open_store, store_config


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    return request.getfixturevalue("postgres_cluster").new_database()


def test_from_empty_to_head_matches_the_models(empty_url, tmp_path):
    store = open_store(config=store_config(url=empty_url, data_dir=tmp_path))
    try:
        assert current_revision(store.engine) == head_revision()
        with store.engine.connect() as connection, warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Did not recognize type 'geometry'")
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        # PostGIS adds its own tables and the generated geometry column, which the models leave out on purpose.
        differences = [d for d in differences if not _postgis_only(d)]
        assert differences == []
    finally:
        store.dispose()


POSTGIS_TABLES = {"spatial_ref_sys", "topology", "layer"}


def _postgis_only(difference: object) -> bool:
    """PostGIS's own tables, the generated ``cases.geom`` column and its index; nothing else."""
    kind = difference[0] if isinstance(difference, tuple) else None
    if kind == "remove_table":
        return difference[1].name in POSTGIS_TABLES
    if kind == "remove_column":
        return difference[2] == "cases" and difference[3].name == "geom"
    if kind == "remove_index":
        return difference[1].name == "ix_cases_geom"
    return False


def test_previous_schema_is_upgraded_and_keeps_its_rows(empty_url, tmp_path):
    engine = make_engine(store_config(url=empty_url, data_dir=tmp_path))
    upgrade(engine, "0001")  # a store written by the first version of the case loop
    now = dt.datetime(2026, 11, 3, 1, 15, tzinfo=dt.UTC)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO users (name, role, token_hash, created_at) VALUES ('old', 'inspector', :h, :t)"),
            {"h": "a" * 64, "t": now},
        )
        connection.execute(
            text(
                "INSERT INTO cases (case_id, category, category_name, severity, source, state, version, reported_at,"
                " received_at, lon, lat, given_lon, given_lat, given_crs, fallback, forced, attribution_date,"
                " dataset_hash, note, attribution) VALUES ('20261103-000001', 'dirty_road', '道路不洁', 2, 'inspector',"
                " 'dispatched', 1, :t, :t, 109.0, 32.7, 109.0, 32.7, 'wgs84', false, false, '2026-11-03', 'h', '旧', '{}')"
            ),
            {"t": now},
        )
        for unit_id, until in (("U1", None), ("U0", now)):  # held now; held before a reassignment
            connection.execute(
                text(
                    "INSERT INTO case_units (case_pk, unit_id, unit_name, role, since, until)"
                    " VALUES (1, :u, '单位', 'lead', :t, :until)"
                ),
                {"u": unit_id, "t": now, "until": until},
            )
    assert "photos" not in inspect(engine).get_table_names()
    engine.dispose()
    store = open_store(config=store_config(url=empty_url, data_dir=tmp_path))  # opening migrates to head
    try:
        assert current_revision(store.engine) == head_revision()
        with store.engine.connect() as connection:
            row = connection.execute(text("SELECT case_id, note, location_source FROM cases")).one()
        assert tuple(row) == ("20261103-000001", "旧", "given")
        with store.reading() as session:  # 0003: the case's copies on its unit rows, and the counts
            copies = session.execute(select(CaseUnit).order_by(CaseUnit.unit_id)).scalars().all()
            assert [(c.unit_id, c.case_state, c.case_open, c.reported_at) for c in copies] == [
                ("U0", "dispatched", True, now),
                ("U1", "dispatched", True, now),
            ]
            assert unit_counts.stored_counts(session) == {("U1", "dispatched"): 1}
        assert {"photos", "assignment_changes", "server_state"} <= set(inspect(store.engine).get_table_names())
    finally:
        store.dispose()


def test_postgis_point_column_when_the_extension_is_there(postgres_cluster, tmp_path):
    store = open_store(config=store_config(url=postgres_cluster.new_database(), data_dir=tmp_path))
    try:
        with store.engine.connect() as connection:
            available = connection.execute(text("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")).first()
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "Did not recognize type 'geometry'")
                columns = {c["name"] for c in inspect(connection).get_columns("cases")}
        # CI installs postgresql-postgis: the point column must be there (without it, lon/lat serve alone).
        assert available is not None, "PostGIS is not installed: bash scripts/setup.sh --test installs it"
        assert "geom" in columns
    finally:
        store.dispose()
