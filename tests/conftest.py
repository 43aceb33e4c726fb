"""Fixtures shared by every test package: the demo and the mini dataset.

Loading is done once per session; a Dataset is immutable, so sharing it
between tests is safe.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from geo import Dataset, load_dataset

# Servers and commands started by tests keep their case store here, never inside a dataset folder.
os.environ.setdefault("RESPMAP_DATA_DIR", tempfile.mkdtemp(prefix="respmap-test-data-"))

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
DEMO_DIR = REPO / "layers" / "ankang"
MINI_DIR = TESTS / "data" / "mini"


@pytest.fixture(scope="session")
def demo_ds() -> Dataset:
    """The bundled Ankang demo (synthetic), loaded once."""
    return load_dataset(DEMO_DIR)


@pytest.fixture(scope="session")
def mini_ds() -> Dataset:
    """tests/data/mini: two 1 km districts drawn in EPSG:4545 metres.

    D1 = x 600000..601000, D2 = x 601000..602000, both y 3618000..3619000.
    C1 and C2 are 10 m squares overlapping by 25 m² (units U1 and U2); C3 is
    held by nobody. Street S1 is 1200 m long: U1 holds 0-400 m, U2 400-1000 m,
    1000-1200 m nobody; U3 supervises all of it. S2 changed from U1 to U3 on
    2026-01-01.
    """
    return load_dataset(MINI_DIR)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[object]:
    """A throw-away PostgreSQL cluster for the whole session (tests/postgres.py)."""
    from tests.postgres import PostgresCluster

    cluster = PostgresCluster()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store migrated once; each test copies it (migrations have their own tests)."""
    from cases.store import open_store, store_config

    folder = tmp_path_factory.mktemp("sqlite-template")
    opened = open_store(config=store_config(data_dir=folder))
    opened.dispose()
    return folder / "respmap.sqlite3"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database of each backend, already at the newest schema: the store's tests run on both."""
    if request.param == "sqlite":
        target = tmp_path / "store.sqlite3"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), target)
        return f"sqlite:///{target}"
    cluster = request.getfixturevalue("postgres_cluster")
    return cluster.new_database(template=cluster.migrated_template())


@pytest.fixture
def store(store_url: str, tmp_path: Path) -> Iterator[object]:
    """An open, migrated case store on each backend, photos under ``tmp_path``."""
    from cases.store import open_store, store_config

    opened = open_store(config=store_config(url=store_url, data_dir=tmp_path / "data"))
    try:
        yield opened
    finally:
        opened.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Debian Chromium driven by Playwright, one per test module (tests/maps, tests/qa)."""
    from playwright.sync_api import sync_playwright

    from tests.maps.test_browser_map import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
