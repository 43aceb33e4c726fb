"""The lookup grid index kept on disk, so a server starts without building it again.

Building the fine grid index (:func:`geo.lookup_index.build_geometry_index`) is most
of a server worker's start: about 0.75 s on the demo, far more on detailed real
boundaries, and every worker of ``respmap serve --workers N`` built its own. The
index depends on geometry only, so its arrays (grid, cell codes, signatures, the
candidate segments of mixed cells) are written once to a file and read back by
the next worker and every later start.

What is stored, and how it is trusted:

* An uncompressed ``.npz`` read with ``allow_pickle=False``: plain numeric arrays,
  never pickled objects (the folder is writable by whoever runs the server). The
  zip member CRCs catch damaged bytes; every array is checked for dtype, shape and
  the ranges the lookup relies on (no index can point outside its table), so a
  damaged or hand-made file is refused rather than answered from.
* The file name and the stored key are a SHA-256 over :data:`FORMAT_VERSION`,
  respmap's version, the sources of the ``geo`` package, numpy / shapely / GEOS /
  pyproj / PROJ versions, the dataset's content hash, its metric CRS and the grid
  size limit. A changed dataset, a changed index builder or another PROJ therefore
  never meets an old file.
* The cheap parts are rebuilt from the Dataset, never read: features (with their
  prepared metric geometries), segments, the WGS-84 to metric projection and the
  nearest-zone tree. Digests of the features and of every segment coordinate are
  stored and compared, so a file only serves the very geometry it was built from.
* Written to a temporary file and moved into place (``os.replace``): a reader sees
  the old file, no file, or the whole new one. Workers starting together take an
  exclusive lock per key: the first builds and writes, the others wait (at most
  :data:`LOCK_WAIT_S`) and read.

Any problem (missing folder, no write permission, damaged or stale file) costs a
log line and a rebuild, never an error: the cache only ever saves time.

The folder is passed in (``geo`` knows nothing of the case store): the server uses
``RESPMAP_CACHE_DIR`` or ``cache/`` in its data folder (:mod:`api.state`).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import pyproj
import shapely
from pyproj import CRS

from geo.atomic_files import replace_file
from geo.lookup_index import (
    MAX_CELLS,
    MAX_INTERPOLATION_ERROR_M,
    Features,
    GeometryIndex,
    Grid,
    LocalProjection,
    Segments,
    _features,
    _segments,
    _transformers,
    build_geometry_index,
)

log = logging.getLogger("respmap.geo")

# Bump when the stored arrays or their meaning change: old files are then never read.
FORMAT_VERSION = 1
CACHE_DIR_ENV = "RESPMAP_CACHE_DIR"
FILE_PREFIX = "lookup-grid-"
# Index files kept in a folder (most recently used first); each is a few MB to a few tens of MB.
KEEP_FILES = 4
# How long a worker waits for another one building the same index before building its own.
LOCK_WAIT_S = 120.0
LOCK_POLL_S = 0.05
# Temporary files older than this were left by a process that died while writing.
STALE_TEMPORARY_S = 3600.0

_GRID_FLOATS = ("lon0", "lat0", "dlon", "dlat", "cell_m", "half_diagonal_m", "metres_per_cell_min")
_INT32_ARRAYS = ("sig_district", "sig_features", "mixed_sig", "mixed_segments", "cell_values")
_INT64_ARRAYS = ("sig_ptr", "mixed_ptr", "cell_run_lengths", "grid_size")

Origin = Literal["cache", "built"]


class CacheMismatch(ValueError):
    """A cache file that cannot serve this dataset (damaged, stale, or of other geometry)."""


@dataclass(frozen=True, slots=True)
class CachedIndex:
    """The index and where it came from: read from ``path``, or built (and written there when possible)."""

    index: GeometryIndex
    origin: Origin
    path: Path | None


# ---------------------------------------------------------------------------------------------
# Keys
# ---------------------------------------------------------------------------------------------


def cache_key(ds: Any, *, max_cells: int = MAX_CELLS) -> str:
    """The SHA-256 (hex) naming the index of ``ds``: data, code and library versions (module docstring)."""
    from geo import __version__

    digest = hashlib.sha256()
    parts = {
        "format": FORMAT_VERSION,
        "respmap": __version__,
        "sources": _sources_digest(),
        "numpy": np.__version__,
        "shapely": shapely.__version__,
        "geos": shapely.geos_version_string,
        "pyproj": pyproj.__version__,
        "proj": pyproj.proj_version_str,
        "content_hash": ds.content_hash,
        "metric_crs": CRS.from_user_input(ds.metric_crs).to_wkt(),
        "max_cells": max_cells,
    }
    digest.update(json.dumps(parts, sort_keys=True).encode())
    return digest.hexdigest()


_SOURCES: str | None = None


def _sources_digest() -> str:
    """SHA-256 of the ``geo`` package's sources: an edited index builder never reads old files."""
    global _SOURCES
    if _SOURCES is None:
        digest = hashlib.sha256()
        for source in sorted(Path(__file__).resolve().parent.glob("*.py")):
            digest.update(source.name.encode())
            digest.update(source.read_bytes())
        _SOURCES = digest.hexdigest()
    return _SOURCES


def cache_path(folder: Path, key: str) -> Path:
    """Where the index of ``key`` lives in ``folder``."""
    return Path(folder) / f"{FILE_PREFIX}{key[:32]}.npz"


def _features_digest(features: Features) -> str:
    digest = hashlib.sha256()
    digest.update("\x1f".join(map(str, features.layer.tolist())).encode())
    digest.update(b"\x1e")
    digest.update("\x1f".join(map(str, features.feature_id.tolist())).encode())
    for array in (features.kind, features.priority, features.radius_m):
        digest.update(np.ascontiguousarray(array).tobytes())
    digest.update(str(features.n_zone).encode())
    return digest.hexdigest()


def _segments_digest(segments: Segments) -> str:
    digest = hashlib.sha256()
    for name in ("ax", "ay", "vx", "vy", "along_m", "feature"):
        digest.update(np.ascontiguousarray(getattr(segments, name)).tobytes())
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------
# The one entry point
# ---------------------------------------------------------------------------------------------


def load_or_build(
    ds: Any, folder: Path | None, *, max_cells: int = MAX_CELLS, lock_wait_s: float = LOCK_WAIT_S
) -> CachedIndex:
    """The fine grid index of ``ds``: read from ``folder`` when a valid file is there, else built and written.

    ``folder`` None, or a Dataset without a content hash, builds without a cache.
    Never raises for cache trouble: it is logged and the index is built.
    """
    if folder is None or not getattr(ds, "content_hash", ""):
        return CachedIndex(build_geometry_index(ds, max_cells=max_cells), "built", None)
    folder = Path(folder)
    key = cache_key(ds, max_cells=max_cells)
    path = cache_path(folder, key)
    found = _read_logged(ds, path, key)
    if found is not None:
        return CachedIndex(found, "cache", path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock = open(path.with_suffix(".lock"), "a+b")  # closed in the finally below
    except OSError as exc:
        log.warning("lookup index cache folder %s unusable (%s); building without it", folder, exc)
        return CachedIndex(build_geometry_index(ds, max_cells=max_cells), "built", None)
    try:
        locked = _lock(lock, lock_wait_s)
        if not locked:
            log.warning("lookup index cache %s: still locked after %.0f s; building here", path, lock_wait_s)
        else:
            # Another worker may have written it while this one waited for the lock.
            found = _read_logged(ds, path, key)
            if found is not None:
                return CachedIndex(found, "cache", path)
        index = build_geometry_index(ds, max_cells=max_cells)
        if locked:
            try:
                write_index(path, index, key)
            except OSError as exc:
                log.warning("lookup index cache %s not written (%s)", path, exc)
            else:
                _prune(folder, keep=path)
        return CachedIndex(index, "built", path)
    finally:
        try:
            fcntl.flock(lock, fcntl.LOCK_UN)
        finally:
            lock.close()


def _lock(lock: IO[bytes], wait_s: float) -> bool:
    """Take the exclusive lock on ``lock``, waiting at most ``wait_s`` seconds."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(LOCK_POLL_S)


# What np.load raises on a file that is not (or no longer) what write_index wrote: a truncated zip
# (BadZipFile, EOFError), a missing array (KeyError), a bad header (ValueError), a zip entry stored
# with a compression method zipfile does not implement (NotImplementedError), the disk (OSError).
UNREADABLE = (OSError, ValueError, KeyError, EOFError, NotImplementedError, zipfile.BadZipFile)


def _read_logged(ds: Any, path: Path, key: str) -> GeometryIndex | None:
    """:func:`read_index`, with a missing file silent and any other problem logged."""
    if not path.is_file():
        return None
    started = time.perf_counter()
    try:
        index = read_index(ds, path, key)
    except UNREADABLE as exc:
        log.warning("lookup index cache %s ignored (%s: %s); rebuilding", path, type(exc).__name__, exc)
        return None
    try:
        os.utime(path)  # the most recently used files are the ones kept
    except OSError:
        pass
    log.info("lookup index read from %s in %.2f s", path, time.perf_counter() - started)
    return index


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def write_index(path: Path, index: GeometryIndex, key: str) -> None:
    """Write the arrays of ``index`` to ``path`` atomically (a temporary file, then ``os.replace``)."""
    cells = index.cells
    starts = np.flatnonzero(np.r_[True, cells[1:] != cells[:-1]]) if len(cells) else np.empty(0, np.int64)
    run_lengths = np.diff(np.append(starts, len(cells)))
    grid = index.grid
    meta = {
        "format": FORMAT_VERSION,
        "key": key,
        "features": _features_digest(index.features),
        "segments": _segments_digest(index.segments),
        "n_features": len(index.features),
        "n_zone": index.features.n_zone,
        "n_segments": len(index.segments),
    }
    arrays = {
        "meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
        "grid_floats": np.array([getattr(grid, name) for name in _GRID_FLOATS], dtype=np.float64),
        "grid_size": np.array([grid.nx, grid.ny], dtype=np.int64),
        "cell_values": cells[starts].astype(np.int32),
        "cell_run_lengths": run_lengths.astype(np.int64),
        "sig_district": index.sig_district.astype(np.int32),
        "sig_ptr": index.sig_ptr.astype(np.int64),
        "sig_features": index.sig_features.astype(np.int32),
        "mixed_sig": index.mixed_sig.astype(np.int32),
        "mixed_ptr": index.mixed_ptr.astype(np.int64),
        "mixed_segments": index.mixed_segments.astype(np.int32),
    }
    replace_file(path, lambda stream: np.savez(stream, **arrays), prefix=f".{path.name}.", suffix=".tmp")


def _prune(folder: Path, *, keep: Path) -> None:
    """Leave the ``KEEP_FILES`` most recently used index files (``keep`` among them) and no dead temporaries."""
    try:
        files = sorted(folder.glob(f"{FILE_PREFIX}*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)
        for stale in [p for p in files if p != keep][KEEP_FILES - 1 :]:
            stale.unlink(missing_ok=True)
            stale.with_suffix(".lock").unlink(missing_ok=True)
        now = time.time()
        for temporary in folder.glob(f".{FILE_PREFIX}*.tmp"):
            if now - temporary.stat().st_mtime > STALE_TEMPORARY_S:
                temporary.unlink(missing_ok=True)
    except OSError as exc:  # another process pruning at the same time, or a read-only folder
        log.info("lookup index cache %s not pruned (%s)", folder, exc)


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def read_index(ds: Any, path: Path, key: str) -> GeometryIndex:
    """The index of ``ds`` from ``path``; the cheap parts are rebuilt from ``ds``.

    Raises:
        CacheMismatch: the file is of another key, another geometry, or its arrays do not hold together.
        any of :data:`UNREADABLE`: a damaged, truncated or foreign file.
    """
    started = time.perf_counter()
    with np.load(path, allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    meta = _meta(arrays, key)
    to_metric, to_wgs84 = _transformers(CRS.from_user_input(ds.metric_crs).to_wkt())
    features, _ = _features(ds, to_wgs84)
    segments = _segments(features)
    if (
        meta.get("n_features") != len(features)
        or meta.get("n_zone") != features.n_zone
        or meta.get("features") != _features_digest(features)
    ):
        raise CacheMismatch("built from other features")
    if meta.get("n_segments") != len(segments) or meta.get("segments") != _segments_digest(segments):
        raise CacheMismatch("built from other geometry")
    grid = _grid(arrays)
    cells = _cells(arrays, grid)
    tables = _tables(arrays, cells, features, segments)
    projection: LocalProjection | None = LocalProjection(grid, to_metric)
    if not projection.max_error_m <= MAX_INTERPOLATION_ERROR_M:
        projection = None
    zone_geoms = features.geometry[: features.n_zone]
    return GeometryIndex(
        features=features,
        segments=segments,
        grid=grid,
        cells=cells,
        to_metric=to_metric,
        projection=projection,
        tree=shapely.STRtree(zone_geoms) if len(zone_geoms) else None,
        build_s=time.perf_counter() - started,
        **tables,
    )


def _meta(arrays: dict[str, np.ndarray], key: str) -> dict[str, Any]:
    for name in ("meta", "grid_floats", *_INT32_ARRAYS, *_INT64_ARRAYS):
        if name not in arrays:
            raise CacheMismatch(f"no array {name!r}")
    for name in _INT32_ARRAYS:
        _expect(arrays[name], name, np.int32)
    for name in _INT64_ARRAYS:
        _expect(arrays[name], name, np.int64)
    _expect(arrays["grid_floats"], "grid_floats", np.float64)
    _expect(arrays["meta"], "meta", np.uint8)
    try:
        meta = json.loads(arrays["meta"].tobytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CacheMismatch(f"unreadable metadata ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_VERSION:
        raise CacheMismatch("another format version")
    if meta.get("key") != key:
        raise CacheMismatch("another key (dataset, respmap or library versions)")
    return meta


def _expect(array: np.ndarray, name: str, dtype: Any) -> None:
    if array.dtype != np.dtype(dtype) or array.ndim != 1:
        raise CacheMismatch(f"array {name!r} is {array.dtype} with {array.ndim} dimension(s)")


def _grid(arrays: dict[str, np.ndarray]) -> Grid:
    floats = arrays["grid_floats"]
    size = arrays["grid_size"]
    if len(floats) != len(_GRID_FLOATS) or len(size) != 2 or not np.isfinite(floats).all():
        raise CacheMismatch("a damaged grid")
    nx, ny = int(size[0]), int(size[1])
    values = dict(zip(_GRID_FLOATS, floats.tolist(), strict=True))
    if not (1 <= nx and 1 <= ny and (nx + 2) * (ny + 2) <= 4 * MAX_CELLS + 1_000_000):
        raise CacheMismatch(f"a grid of {nx} x {ny} cells")
    if values["dlon"] <= 0 or values["dlat"] <= 0:
        raise CacheMismatch("a grid with empty cells")
    return Grid(nx=nx, ny=ny, **values)


def _cells(arrays: dict[str, np.ndarray], grid: Grid) -> np.ndarray:
    values, run_lengths = arrays["cell_values"], arrays["cell_run_lengths"]
    n_padded = (grid.nx + 2) * (grid.ny + 2)
    if len(values) != len(run_lengths) or (len(run_lengths) and run_lengths.min() < 1):
        raise CacheMismatch("damaged cell runs")
    if int(run_lengths.sum()) != n_padded:
        raise CacheMismatch("cell runs of another grid")
    return np.repeat(values, run_lengths)


def _tables(
    arrays: dict[str, np.ndarray], cells: np.ndarray, features: Features, segments: Segments
) -> dict[str, np.ndarray]:
    """The signature and mixed-cell tables, checked so that no lookup can index outside them."""
    sig_district, sig_ptr, sig_features = arrays["sig_district"], arrays["sig_ptr"], arrays["sig_features"]
    mixed_sig, mixed_ptr, mixed_segments = arrays["mixed_sig"], arrays["mixed_ptr"], arrays["mixed_segments"]
    n_sig, n_mixed = len(sig_district), len(mixed_sig)
    n_districts = len(features) - features.n_zone
    _csr(sig_ptr, n_sig, len(sig_features), "signature")
    _csr(mixed_ptr, n_mixed, len(mixed_segments), "mixed cell")
    if n_sig < n_districts + 1 or (n_sig and (sig_district.min() < -1 or sig_district.max() >= n_districts)):
        raise CacheMismatch("signatures of other districts")
    if len(sig_features) and (sig_features.min() < 0 or sig_features.max() >= features.n_zone):
        raise CacheMismatch("signatures of other features")
    if n_mixed and (mixed_sig.min() < 0 or mixed_sig.max() >= n_sig):
        raise CacheMismatch("mixed cells of other signatures")
    if len(mixed_segments) and (mixed_segments.min() < 0 or mixed_segments.max() >= len(segments)):
        raise CacheMismatch("mixed cells of other segments")
    if len(cells) and (cells.max() >= n_sig or cells.min() < -n_mixed):
        raise CacheMismatch("cell codes out of range")
    return {
        "sig_district": sig_district,
        "sig_ptr": sig_ptr,
        "sig_features": sig_features,
        "mixed_sig": mixed_sig,
        "mixed_ptr": mixed_ptr,
        "mixed_segments": mixed_segments,
    }


def _csr(ptr: np.ndarray, n_rows: int, n_values: int, what: str) -> None:
    """A CSR pointer array: n_rows + 1 entries from 0 to n_values, never decreasing."""
    if len(ptr) != n_rows + 1 or ptr[0] != 0 or ptr[-1] != n_values or (np.diff(ptr) < 0).any():
        raise CacheMismatch(f"damaged {what} table")
