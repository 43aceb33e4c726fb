"""A server's start reads the lookup index an earlier start or another worker wrote (issue 14, item 9).

``respmap serve --workers N`` built the fine lookup grid in every worker at every start.
The index now lives on disk (geo/index_cache.py) under ``RESPMAP_CACHE_DIR`` or the data
folder's ``cache/``: these tests check where, that a start writes it and the next one
reads it (without building), that reloads use it too, and that a real two-worker server
started twice answers the same from the file it wrote once.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import httpx
import pytest
from pyproj import Transformer

import geo.index_cache as index_cache
from api.settings import Settings
from api.state import DatasetHolder, build_dataset, index_cache_dir
from geo import load_dataset
from geo.index_cache import CACHE_DIR_ENV
from geo.lookup import lookup
from tests.api.http_server import REPO, running_server
from tests.conftest import MINI_DIR

TO_LONLAT = Transformer.from_crs("EPSG:4545", "EPSG:4326", always_xy=True)
# A compound, two overlapping ones, near a street, on a stretch cut, past a line's end, outside every district.
MINI_POINTS_M = [(600102, 3618102), (600107, 3618107), (600200, 3618810), (600400, 3618800), (601205, 3618800)]


def _no_build(ds: object, **options: object) -> object:
    raise AssertionError("the index was built, not read")


def test_the_cache_folder_is_in_the_data_folder_unless_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CACHE_DIR_ENV, raising=False)
    assert index_cache_dir(Settings(dataset=MINI_DIR, data_dir=tmp_path / "data")) == tmp_path / "data" / "cache"
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "elsewhere"))
    assert index_cache_dir(Settings(dataset=MINI_DIR, data_dir=tmp_path / "data")) == tmp_path / "elsewhere"


def test_a_start_writes_the_index_and_the_next_reads_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CACHE_DIR_ENV, raising=False)
    settings = Settings(dataset=MINI_DIR, data_dir=tmp_path / "data")
    first = DatasetHolder(settings)
    asyncio.run(first.start())
    written = sorted((tmp_path / "data" / "cache").glob("lookup-grid-*.npz"))
    assert len(written) == 1
    monkeypatch.setattr(index_cache, "build_geometry_index", _no_build)
    second = DatasetHolder(settings)
    asyncio.run(second.start())  # would fail in _no_build had it not read the file
    assert sorted((tmp_path / "data" / "cache").glob("lookup-grid-*.npz")) == written
    for x, y in MINI_POINTS_M:
        lon, lat = TO_LONLAT.transform(x, y)
        assert second.current.lookup(lon, lat).to_dict() == first.current.lookup(lon, lat).to_dict()
        assert second.current.lookup(lon, lat).to_dict() == lookup(load_dataset(MINI_DIR), lon, lat).to_dict()


def test_a_reload_of_changed_data_builds_a_new_index_and_keeps_the_old(tmp_path: Path) -> None:
    data = tmp_path / "mini"
    shutil.copytree(MINI_DIR, data)
    cache = tmp_path / "cache"
    build_dataset(data, cache)
    units = data / "units.csv"
    units.write_text(units.read_text(encoding="utf-8").replace("西片区指挥部", "西片区指挥部（新）"), encoding="utf-8")
    changed = build_dataset(data, cache)
    assert changed.ok
    assert len(list(cache.glob("lookup-grid-*.npz"))) == 2  # the hash changed: its own file, the old one kept


def _answers(base: str) -> list[dict]:
    answers = []
    for x, y in MINI_POINTS_M:
        lon, lat = TO_LONLAT.transform(x, y)
        reply = httpx.get(f"{base}/lookup", params={"lon": lon, "lat": lat, "date": "2026-03-01"}, timeout=30)
        assert reply.status_code == 200, reply.text
        answers.append(reply.json())
    return answers


def test_two_workers_started_twice_write_the_index_once(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = {CACHE_DIR_ENV: str(cache), "RESPMAP_DATA_DIR": str(tmp_path / "data")}
    with running_server(MINI_DIR, workers=2, env=env) as base:
        first = _answers(base)
    files = sorted(cache.glob("lookup-grid-*.npz"))
    assert len(files) == 1
    inode = files[0].stat().st_ino
    with running_server(MINI_DIR, workers=2, env=env) as base:
        second = _answers(base)
    assert files[0].stat().st_ino == inode  # read by both workers, never written again
    assert second == first
    assert all(answer["matches"] for answer in first)  # every point is inside some zone: answers worth comparing


def test_discovering_the_routes_does_not_import_folium_or_pillow() -> None:
    """folium (with branca, jinja2) and Pillow cost a worker a few tenths of a second at start; only drawing a map
    and storing a photo need them."""
    import subprocess
    import sys

    script = (
        "import sys, api.app\n"
        "app = api.app.create_app()\n"
        "assert '/map' in app.openapi()['paths'], 'the map route is discovered'\n"
        "print(sorted(m for m in ('folium', 'branca', 'jinja2', 'PIL', 'pillow_heif') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
