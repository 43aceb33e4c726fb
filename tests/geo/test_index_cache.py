"""The lookup grid index on disk (geo/index_cache.py; issue 14, item 9): read back, it answers exactly as built.

A server worker reads the index another worker (or an earlier start) wrote instead of
building it. These tests check that the arrays come back identical and that answers
from a read index equal answers from a freshly built one, point by point, on the demo
and the mini dataset and on dates whose assignments differ; that a damaged, stale or
foreign file is ignored with a log line and rebuilt; that a changed dataset never
meets the old file; and that workers starting together build once.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

import geo.index_cache as index_cache
from geo import Dataset, load_dataset
from geo.index_cache import cache_key, cache_path, load_or_build, write_index
from geo.lookup import lookup, lookup_many
from geo.lookup_dates import geometry_index
from geo.lookup_index import GeometryIndex, build_geometry_index
from tests.conftest import DEMO_DIR, MINI_DIR

TABLES = ("cells", "sig_district", "sig_ptr", "sig_features", "mixed_sig", "mixed_ptr", "mixed_segments")
# S2 of the mini dataset passes from U1 to U3 on 2026-01-01; the demo changes five holders that day too.
DATES = ("2025-06-01", "2026-03-01")


def _assert_same_index(built: GeometryIndex, read: GeometryIndex) -> None:
    for name in TABLES:
        expected, got = getattr(built, name), getattr(read, name)
        assert got.dtype == expected.dtype and np.array_equal(got, expected), name
    assert vars(read.grid) == vars(built.grid)
    assert (read.projection is None) == (built.projection is None)
    if built.projection is not None:
        assert np.array_equal(read.projection.coefficients, built.projection.coefficients)
    for name in ("ax", "ay", "vx", "vy", "inv_len2", "length_m", "along_m", "feature"):
        assert np.array_equal(getattr(read.segments, name), getattr(built.segments, name)), name
    assert np.array_equal(read.features.feature_id, built.features.feature_id)
    assert read.features.n_zone == built.features.n_zone


def _points(ds: Dataset, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Random points over the frame (some outside every district), then vertices of zones and districts."""
    min_x, min_y, max_x, max_y = ds.frame.total_bounds
    rng = np.random.default_rng(9)
    pad = 0.2 * max(max_x - min_x, max_y - min_y)
    lon = rng.uniform(min_x - pad, max_x + pad, n)
    lat = rng.uniform(min_y - pad, max_y + pad, n)
    vertices = [shapely.get_coordinates(np.asarray(ds.frame.geometry.values))]
    for layer in ds.layers.values():
        vertices.append(shapely.get_coordinates(np.asarray(layer.geometry.values)))
    corners = np.vstack(vertices)
    corners = corners[:: max(1, len(corners) // n)]
    return np.concatenate([lon, corners[:, 0]]), np.concatenate([lat, corners[:, 1]])


@pytest.mark.parametrize("folder", [DEMO_DIR, MINI_DIR], ids=["demo", "mini"])
def test_a_read_index_holds_the_same_arrays(folder: Path, tmp_path: Path) -> None:
    first = load_or_build(load_dataset(folder), tmp_path)
    assert first.origin == "built" and first.path is not None and first.path.is_file()
    second = load_or_build(load_dataset(folder), tmp_path)
    assert second.origin == "cache" and second.path == first.path
    _assert_same_index(first.index, second.index)


def _no_build(ds: Dataset, **options: object) -> GeometryIndex:
    raise AssertionError("built, not read")


@pytest.mark.parametrize("folder", [DEMO_DIR, MINI_DIR], ids=["demo", "mini"])
def test_answers_from_a_read_index_equal_a_fresh_build(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_or_build(load_dataset(folder), tmp_path)  # writes the file
    fresh, cached = load_dataset(folder), load_dataset(folder)
    geometry_index(fresh)
    with monkeypatch.context() as patch:
        patch.setattr(index_cache, "build_geometry_index", _no_build)
        geometry_index(cached, cache_dir=tmp_path)  # the index ``cached`` answers from is the read one
    lon, lat = _points(fresh, 3000)
    per_date = []
    for day in DATES:
        expected = lookup_many(fresh, lon, lat, date=day, all_matches=True)
        got = lookup_many(cached, lon, lat, date=day, all_matches=True)
        pd.testing.assert_frame_equal(got, expected)
        per_date.append(expected)
        for x, y in zip(lon[::10], lat[::10], strict=True):
            assert lookup(cached, x, y, date=day).to_dict() == lookup(fresh, x, y, date=day).to_dict(), (x, y, day)
    assert not per_date[0]["unit_id"].equals(per_date[1]["unit_id"])  # the dates do answer differently


def test_the_read_index_is_the_one_a_dataset_answers_from(tmp_path: Path) -> None:
    load_or_build(load_dataset(MINI_DIR), tmp_path)
    ds = load_dataset(MINI_DIR)
    used = geometry_index(ds, cache_dir=tmp_path)
    assert geometry_index(ds) is used  # later callers, without the folder, get the same index
    read = load_or_build(load_dataset(MINI_DIR), tmp_path)
    assert read.origin == "cache"
    _assert_same_index(read.index, used)


def _flip_middle_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])


def _garbage(path: Path) -> None:
    path.write_bytes(b"not an index at all" * 100)


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _rewrite(path: Path, change: dict) -> None:
    """Save the file again with some arrays replaced: CRCs valid, contents wrong."""
    with np.load(path, allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    for name, replace in change.items():
        arrays[name] = replace(arrays[name])
    with path.open("wb") as stream:
        np.savez(stream, **arrays)


def _other_key(path: Path) -> None:
    def meta(array: np.ndarray) -> np.ndarray:
        data = json.loads(array.tobytes())
        data["key"] = "0" * 64
        return np.frombuffer(json.dumps(data).encode(), dtype=np.uint8)

    _rewrite(path, {"meta": meta})


def _other_format(path: Path) -> None:
    def meta(array: np.ndarray) -> np.ndarray:
        data = json.loads(array.tobytes())
        data["format"] = -1
        return np.frombuffer(json.dumps(data).encode(), dtype=np.uint8)

    _rewrite(path, {"meta": meta})


def _segment_out_of_range(path: Path) -> None:
    _rewrite(path, {"mixed_segments": lambda a: np.where(np.arange(len(a)) == 0, 10**9, a).astype(np.int32)})


def _cell_code_out_of_range(path: Path) -> None:
    _rewrite(path, {"cell_values": lambda a: np.where(a == a.max(), 10**6, a).astype(np.int32)})


def _missing_array(path: Path) -> None:
    with np.load(path, allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files if name != "sig_ptr"}
    with path.open("wb") as stream:
        np.savez(stream, **arrays)


def _wrong_dtype(path: Path) -> None:
    _rewrite(path, {"cell_values": lambda a: a.astype(np.float64)})


def _pickled_object(path: Path) -> None:
    _rewrite(path, {"cell_values": lambda a: np.array([{"x": 1}], dtype=object)})


def _runs_of_another_grid(path: Path) -> None:
    _rewrite(path, {"cell_run_lengths": lambda a: a + 1})


@pytest.mark.parametrize(
    "damage",
    [
        _flip_middle_byte,  # a bad disk block: the zip CRC
        _truncate,  # a copy cut short
        _garbage,  # not a zip at all
        _empty,  # a zero-length file (a full disk)
        _other_key,  # stale: another dataset, version or library under this name
        _other_format,  # written by another format version
        _segment_out_of_range,  # valid file, an index outside its table: would crash or answer wrongly
        _cell_code_out_of_range,
        _missing_array,
        _wrong_dtype,
        _pickled_object,  # never unpickled
        _runs_of_another_grid,
    ],
)
def test_a_damaged_or_stale_file_is_ignored_and_rebuilt(
    damage, mini_ds: Dataset, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = load_or_build(load_dataset(MINI_DIR), tmp_path).path
    assert path is not None
    damage(path)
    with caplog.at_level(logging.WARNING, logger="respmap.geo"):
        again = load_or_build(load_dataset(MINI_DIR), tmp_path)
    assert again.origin == "built"
    assert any(str(path) in r.getMessage() and "rebuilding" in r.getMessage() for r in caplog.records)
    _assert_same_index(build_geometry_index(mini_ds), again.index)
    assert load_or_build(load_dataset(MINI_DIR), tmp_path).origin == "cache"  # the rebuilt file replaced it


def _copy_mini(target: Path) -> Path:
    shutil.copytree(MINI_DIR, target)
    return target


def _move_compound(folder: Path, feature_id: str, dx_m: float) -> None:
    path = folder / "compounds.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    for feature in data["features"]:
        if feature["properties"].get("id") == feature_id:
            geometry = shapely.geometry.shape(feature["geometry"])
            moved = shapely.transform(geometry, lambda xy: xy + np.array([dx_m, 0.0]))
            feature["geometry"] = shapely.geometry.mapping(moved)
            break
    else:
        raise AssertionError(f"no feature {feature_id} in {path}")
    path.write_text(json.dumps(data), encoding="utf-8")


def test_a_changed_dataset_never_uses_the_old_file(tmp_path: Path) -> None:
    data = _copy_mini(tmp_path / "mini")
    cache = tmp_path / "cache"
    before = load_dataset(data)
    old = load_or_build(before, cache)
    _move_compound(data, "C3", 300.0)
    after = load_dataset(data)
    assert after.ok and after.content_hash != before.content_hash
    new = load_or_build(after, cache)
    assert new.origin == "built" and new.path != old.path
    _assert_same_index(build_geometry_index(load_dataset(data)), new.index)
    # Both files stay: going back to the old data reads the old file.
    assert load_or_build(load_dataset(data), cache).origin == "cache"


def test_the_same_hash_over_other_geometry_is_refused(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Belt and braces: were the content hash ever blind to a change, the stored geometry digests are not."""
    data = _copy_mini(tmp_path / "mini")
    cache = tmp_path / "cache"
    before = load_dataset(data)
    load_or_build(before, cache)
    _move_compound(data, "C3", 300.0)
    after = load_dataset(data)
    after.content_hash = before.content_hash  # what a blind hash would give
    with caplog.at_level(logging.WARNING, logger="respmap.geo"):
        again = load_or_build(after, cache)
    assert again.origin == "built"
    assert any("other geometry" in r.getMessage() for r in caplog.records)
    _assert_same_index(build_geometry_index(after), again.index)


def test_the_key_follows_what_the_index_depends_on(mini_ds: Dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    key = cache_key(mini_ds)
    assert cache_key(mini_ds) == key
    assert cache_key(mini_ds, max_cells=10_000) != key
    monkeypatch.setattr(mini_ds, "content_hash", "0" * 16)
    assert cache_key(mini_ds) != key
    monkeypatch.undo()
    monkeypatch.setattr(index_cache, "FORMAT_VERSION", index_cache.FORMAT_VERSION + 1)
    assert cache_key(mini_ds) != key
    monkeypatch.undo()
    monkeypatch.setattr(index_cache, "_SOURCES", "an edited geo package")
    assert cache_key(mini_ds) != key


def test_an_unusable_folder_still_answers(mini_ds: Dataset, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    with caplog.at_level(logging.WARNING, logger="respmap.geo"):
        result = load_or_build(load_dataset(MINI_DIR), blocker / "cache")
    assert result.origin == "built" and result.path is None
    assert any("unusable" in r.getMessage() for r in caplog.records)
    _assert_same_index(build_geometry_index(mini_ds), result.index)


def test_no_folder_or_no_content_hash_builds_without_a_file(tmp_path: Path) -> None:
    assert load_or_build(load_dataset(MINI_DIR), None).path is None
    ds = load_dataset(MINI_DIR)
    ds.content_hash = ""
    assert load_or_build(ds, tmp_path).path is None
    assert not list(tmp_path.iterdir())


def test_a_worker_waits_for_the_one_building_then_reads(
    mini_ds: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = cache_key(mini_ds)
    path = cache_path(tmp_path, key)
    builds = []
    real_build, real_lock = index_cache.build_geometry_index, index_cache._lock
    waiting = threading.Event()

    def counting_build(ds, **options):
        builds.append(ds)
        return real_build(ds, **options)

    def announcing_lock(lock, wait_s):
        waiting.set()
        return real_lock(lock, wait_s)

    monkeypatch.setattr(index_cache, "build_geometry_index", counting_build)
    monkeypatch.setattr(index_cache, "_lock", announcing_lock)
    # This test plays the first worker: it holds the lock while "building".
    with open(path.with_suffix(".lock"), "a+b") as held:
        index_cache.fcntl.flock(held, index_cache.fcntl.LOCK_EX)
        results = []
        second = threading.Thread(target=lambda: results.append(load_or_build(load_dataset(MINI_DIR), tmp_path)))
        second.start()
        assert waiting.wait(30)
        write_index(path, real_build(mini_ds), key)
        index_cache.fcntl.flock(held, index_cache.fcntl.LOCK_UN)
        second.join(60)
    assert results and results[0].origin == "cache"
    assert builds == []  # the second worker never built


def test_a_lock_held_too_long_builds_without_writing(mini_ds: Dataset, tmp_path: Path) -> None:
    path = cache_path(tmp_path, cache_key(mini_ds))
    with open(path.with_suffix(".lock"), "a+b") as held:
        index_cache.fcntl.flock(held, index_cache.fcntl.LOCK_EX)
        result = load_or_build(load_dataset(MINI_DIR), tmp_path, lock_wait_s=0.1)
    assert result.origin == "built" and not path.exists()
    _assert_same_index(build_geometry_index(mini_ds), result.index)


def test_old_files_are_pruned_to_the_most_recent(mini_ds: Dataset, tmp_path: Path) -> None:
    import os

    old = []
    for n in range(6):
        stale = tmp_path / f"lookup-grid-{n:032d}.npz"
        stale.write_bytes(b"old")
        os.utime(stale, (1_000_000 + n, 1_000_000 + n))
        old.append(stale)
    leftover = tmp_path / ".lookup-grid-x.npz.123.tmp"
    leftover.write_bytes(b"half written")
    os.utime(leftover, (1_000_000, 1_000_000))
    written = load_or_build(load_dataset(MINI_DIR), tmp_path).path
    remaining = sorted(tmp_path.glob("lookup-grid-*.npz"))
    assert written in remaining and len(remaining) == index_cache.KEEP_FILES
    assert set(remaining) - {written} == set(old[-(index_cache.KEEP_FILES - 1) :])  # the newest old ones
    assert not leftover.exists()
