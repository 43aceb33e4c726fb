"""Reloads free the Dataset they replace (issue 15, item 1: each reload kept ~45 MB).

The old snapshot was only reachable through reference cycles (the lookup's date
cache pointed back at its Dataset, the encoded-answer pieces back at their answer
index). Nothing leaked for good, but only Python's cyclic collector could free
them, and on a server holding millions of objects its full passes are rare: RSS
climbed with every reload. These tests switch the collector off, so an old Dataset
(and its lookup index) must be freed by reference counting alone, the moment the
swap drops the last reference; then they check that the collector finds none of
respmap's objects either. The RSS figure is in ``bench/reload.py``.
"""

from __future__ import annotations

import gc
import shutil
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from geo.lookup import lookup_index
from tests.api.http_server import REPO

MINI = REPO / "tests" / "data" / "mini"
TOKEN = "reload-memory-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# Every route that builds something per Dataset: lookup caches (single, batch, CSV, another datum and
# date, outside the frame), coverage, map payloads, OGC items, the unit and district tables, search.
TOUCHED = (
    "/lookup?lon=109.0292&lat=32.6853",
    "/lookup?lon=109.0292&lat=32.6853&crs=gcj02&date=2026-01-15",
    "/lookup?lon=100.0&lat=30.0",
    "/coverage",
    "/map",
    "/here",
    "/ogc/collections",
    "/ogc/collections/duty_zones/items?limit=5",
    "/units",
    "/districts",
    "/search?q=市",
)


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[TestClient]:
    folder = tmp_path / "mini"
    shutil.copytree(MINI, folder)
    with TestClient(create_app(Settings(dataset=folder, admin_token=TOKEN))) as test_client:
        yield test_client


@pytest.fixture()
def collector_off() -> Iterator[None]:
    """The cyclic collector paused: what is freed is freed by reference counting."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _use_everything(client: TestClient) -> None:
    for path in TOUCHED:
        assert client.get(path).status_code == 200, path
    assert client.post("/lookup", json=[{"lon": 109.0292, "lat": 32.6853, "id": "p1"}]).status_code == 200
    upload = {"file": ("points.csv", b"name,lon,lat\nA,109.0292,32.6853\n", "text/csv")}
    assert client.post("/lookup/csv", files=upload).status_code == 200


@pytest.mark.usefixtures("collector_off")
def test_a_reloaded_away_dataset_is_freed_at_once_with_its_lookup_index(client: TestClient) -> None:
    _use_everything(client)
    holder = client.app.state.datasets
    old_dataset = weakref.ref(holder.current)
    old_index = weakref.ref(lookup_index(holder.current))
    old_geometry = weakref.ref(lookup_index(holder.current).geometry)
    for _ in range(3):
        assert client.post("/admin/reload", headers=AUTH).status_code == 200
        _use_everything(client)
    assert old_dataset() is None, "the old Dataset is still referenced (or only cyclic garbage)"
    assert old_index() is None and old_geometry() is None
    assert holder.current is not None and lookup_index(holder.current) is not None


@pytest.mark.usefixtures("collector_off")
def test_reloads_leave_no_respmap_object_for_the_cyclic_collector(client: TestClient) -> None:
    _use_everything(client)
    assert client.post("/admin/reload", headers=AUTH).status_code == 200
    _use_everything(client)
    gc.collect()  # what the first round left (the TestClient's own cycles)
    assert client.post("/admin/reload", headers=AUTH).status_code == 200
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        left = {f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.garbage}
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    ours = sorted(name for name in left if name.split(".")[0] in ("geo", "api"))
    assert ours == [], f"freed only by the cyclic collector: {ours}"


def test_many_reloads_keep_one_dataset_alive(client: TestClient) -> None:
    """With the collector on, as in a server: after 10 reloads exactly one Dataset is alive."""
    from geo import Dataset

    _use_everything(client)
    for _ in range(10):
        assert client.post("/admin/reload", headers=AUTH).status_code == 200
        client.get(TOUCHED[0])
    alive = [o for o in gc.get_objects() if isinstance(o, Dataset) and o.path == client.app.state.datasets.current.path]
    assert len(alive) == 1


def test_a_served_process_freezes_the_dataset_and_reloads_still_free_the_old_one(tmp_path: Path) -> None:
    """``respmap serve`` keeps the loaded dataset out of full collections (api.state.freeze_survivors);
    a reload unfreezes, collects and freezes again, so old snapshots do not pile up in the frozen set."""
    folder = tmp_path / "mini"
    shutil.copytree(MINI, folder)
    app = create_app(Settings(dataset=folder, admin_token=TOKEN), freeze_heap=True)
    try:
        with TestClient(app) as client:
            holder = client.app.state.datasets
            assert gc.get_freeze_count() > 0
            frozen_at_start = gc.get_freeze_count()
            # frozen objects are in no generation the collector walks
            assert not any(o is holder.current for o in gc.get_objects())
            olds = []
            for _ in range(5):
                olds.append(weakref.ref(holder.current))
                assert client.post("/admin/reload", headers=AUTH).status_code == 200
                client.get(TOUCHED[0])
            assert all(old() is None for old in olds), "a reloaded-away Dataset survives in the frozen generation"
            # the frozen set is the serving snapshot's, not one more snapshot per reload
            assert gc.get_freeze_count() < 2 * frozen_at_start
    finally:
        gc.unfreeze()
