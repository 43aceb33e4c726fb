"""The one Dataset a server answers from, and its atomic replacement on reload.

A request reads :attr:`DatasetHolder.current` once (through the
``current_dataset`` dependency, or directly on the lookup hot path) and keeps
that reference to the end, so it
answers wholly from one snapshot even if a reload lands meanwhile. A reload
builds the new Dataset completely off the event loop (load, validate, then
:func:`warm_up`: the lookup index and the caches the routes register), and
only then swaps a single attribute: no request ever sees a half-built dataset,
and a dataset with errors is refused while the old one keeps serving.

Several workers (``respmap serve --workers N``) are separate processes, each
with its own holder. When ``Settings.reload_signal_file`` is set (``serve``
sets it), a successful reload bumps a generation number in that file and every
other worker, polling it every ``reload_poll_s`` seconds (one ``stat`` call),
reloads from the same folder on its own. Until they have, workers may answer
from different snapshots for about a second; /healthz shows each one's hash.

With a case store attached, the reload generation is also kept in the store, so servers on other
machines follow; and before every load (start-up, own reload, announced reload) the worker thread
first takes the store's newest responsibility tables into this machine's dataset folder
(:func:`cases.dataset_tables.materialize`), so an edit made on another machine is answered here
too. Tables only this folder has (an edit whose publication did not commit, a table edited by hand)
are published once they load without errors, and the others told to reload; a folder that diverged
from the store is never overwritten: it keeps serving its own tables and an error is logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import datetime as dt
import fcntl
import gc
import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread

from api.errors import DatasetUnavailableError, ReloadRefusedError
from api.settings import Settings
from cases.dataset_tables import SyncResult
from cases.store import Store, store_config
from geo import Dataset, load_dataset
from geo.index_cache import CACHE_DIR_ENV
from geo.lookup_dates import geometry_index

log = logging.getLogger("respmap.api")

# The shared counter of dataset reloads in the case store (table server_state).
STORE_GENERATION_KEY = "dataset_generation"
# Findings returned with a refused reload, at most (errors first).
MAX_FINDINGS_SHOWN = 1000

WarmUp = Callable[[Dataset], None]
_WARM_UPS: list[tuple[str, WarmUp]] = []


def warm_up_step(name: str) -> Callable[[WarmUp], WarmUp]:
    """Register a cache a route module wants built before a Dataset starts serving.

    The step runs in a worker thread on every new Dataset (startup and
    reload), so the first request after a swap is as fast as any other.
    """

    def register(step: WarmUp) -> WarmUp:
        for position, (existing, _) in enumerate(_WARM_UPS):
            if existing == name:  # a re-imported module replaces its step
                _WARM_UPS[position] = (name, step)
                return step
        _WARM_UPS.append((name, step))
        return step

    return register


def warm_up(ds: Dataset, cache_dir: Path | None = None) -> None:
    """Build the lookup index and every registered cache of ``ds`` (blocking).

    ``cache_dir``: where the lookup grid is kept between processes (:func:`index_cache_dir`);
    a second worker, and every later start, read it instead of building it.
    """
    ds.zones_on(None)
    if cache_dir is not None:
        geometry_index(ds, cache_dir=cache_dir)
    _warm_lookup(ds)
    for _, step in _WARM_UPS:
        step(ds)


def _warm_lookup(ds: Dataset) -> None:
    """Answer one single and one batch lookup at the centre of the data: builds the index."""
    if not ds.layers:
        return
    frame = ds.frame if ds.frame is not None and len(ds.frame) else next(iter(ds.layers.values()))
    if not len(frame):
        return
    min_x, min_y, max_x, max_y = frame.total_bounds
    lon, lat = (min_x + max_x) / 2, (min_y + max_y) / 2
    ds.lookup(lon, lat)
    ds.lookup_many([lon], [lat])


def build_dataset(path: Path, cache_dir: Path | None = None) -> Dataset:
    """Load and validate ``path``; warm it up only when it has no errors (blocking)."""
    ds = load_dataset(path)
    if ds.ok and ds.catalog is not None:
        warm_up(ds, cache_dir)
    return ds


def _sync_folder(store: Store | None, path: Path) -> SyncResult | None:
    """Take up the store's newest tables into ``path`` (blocking); None without a store or when it fails.

    The store unreachable is not a reason to stop serving: the folder's own tables are loaded, and a
    warning says so.
    """
    if store is None:
        return None
    from cases.dataset_tables import materialize

    try:
        result = materialize(store, path)
    except Exception:
        log.warning("cannot take the responsibility tables up from the store; loading %s as it is", path, exc_info=True)
        return None
    if result.status == "diverged":
        log.error("%s", result.message)
    elif result.status == "unusable" and result.message:
        log.warning("%s", result.message)
    return result


def sync_and_build(
    store: Store | None,
    path: Path,
    cache_dir: Path | None = None,
    on_sync: Callable[[SyncResult | None], None] | None = None,
) -> tuple[Dataset, bool]:
    """Take up the store's newest tables, load ``path``; publish tables only this folder has (blocking).

    Returns the dataset and whether something was published (the other servers must then reload).
    Tables this folder has and the store lacks are published only when they load without errors.
    ``on_sync`` hears where the folder stood against the store (``/healthz`` shows it).
    """
    sync = _sync_folder(store, path)
    if on_sync is not None:
        on_sync(sync)
    ds = build_dataset(path, cache_dir)
    published = False
    if store is not None and sync is not None and sync.status == "ahead" and ds.ok:
        from cases.dataset_tables import publish_local

        try:
            after = publish_local(store, path)
        except Exception:
            log.warning(
                "cannot publish the tables of %s to the store; trying again on the next reload", path, exc_info=True
            )
        else:
            published = after.status == "in_sync"
            if after.status == "diverged":
                log.error("%s", after.message)
    return ds, published


def index_cache_dir(settings: Settings) -> Path:
    """Where the server keeps its lookup index on disk: ``RESPMAP_CACHE_DIR``, else ``cache/`` in the data folder."""
    configured = os.environ.get(CACHE_DIR_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    return store_config(settings.dataset, data_dir=settings.data_dir).data_dir / "cache"


@dataclass(frozen=True, slots=True)
class ReloadOutcome:
    """What a successful reload changed."""

    previous_hash: str
    content_hash: str
    generation: int
    dataset: Dataset

    def to_dict(self) -> dict[str, object]:
        return {
            "reloaded": True,
            "changed": self.previous_hash != self.content_hash,
            "previous_hash": self.previous_hash,
            "content_hash": self.content_hash,
            "generation": self.generation,
            "loaded_at": self.dataset.loaded_at.isoformat(),
            "feature_counts": self.dataset.feature_counts(),
            "warnings": sum(1 for f in self.dataset.findings if f.level == "warning"),
        }


class DatasetHolder:
    """Holds the serving Dataset; swaps it atomically on reload."""

    def __init__(self, settings: Settings, dataset: Dataset | None = None, *, freeze_heap: bool = False) -> None:
        self.settings = settings
        self._dataset = dataset
        self.freeze_heap = freeze_heap  # a served process: see freeze_survivors
        self.tables_sync: SyncResult | None = None  # the folder's tables against the store's, last checked
        self.cache_dir = index_cache_dir(settings)
        self.generation = 0
        # Made in start(): an asyncio lock belongs to the loop that first uses it.
        self._reload_lock: asyncio.Lock | None = None
        self._seen_signal = 0
        self._signal_stat: tuple[int, int] | None = None
        self._watcher: asyncio.Task[None] | None = None
        # The case store, when attached: reloads are announced through it to every server process
        # using the same database (other machines included), not only to this machine's workers.
        self._store: Store | None = None
        self._seen_store = 0
        self._store_watcher: asyncio.Task[None] | None = None

    @property
    def current(self) -> Dataset:
        """The serving snapshot; read it once per request and keep the reference."""
        ds = self._dataset
        if ds is None:
            raise DatasetUnavailableError("no dataset is loaded yet")
        return ds

    # -- life cycle ---------------------------------------------------------------
    async def start(self) -> None:
        """Load (unless given one) and warm the dataset; start watching the signal file."""
        self._reload_lock = asyncio.Lock()
        if self._dataset is None:
            ds = await anyio.to_thread.run_sync(build_dataset, self.settings.dataset, self.cache_dir)
            if not ds.ok or ds.catalog is None:
                raise RuntimeError(_refusal_message(ds, None))
            self._dataset = ds
        else:
            await anyio.to_thread.run_sync(warm_up, self._dataset, self.cache_dir)
        if self.settings.reload_signal_file is not None:
            self._seen_signal = read_signal(self.settings.reload_signal_file)
            self._watcher = asyncio.create_task(self._watch_signal(), name="respmap-reload-signal")
        if self.freeze_heap:
            freeze_survivors()

    async def attach_store(self, store: Store) -> None:
        """Announce reloads through ``store`` and follow those announced by other servers on it."""
        self._store = store
        self._seen_store = int(await anyio.to_thread.run_sync(store.get_state, STORE_GENERATION_KEY) or 0)
        await _cancel(self._store_watcher)  # a lifespan run twice (tests) keeps one watcher
        # The dataset was loaded from this machine's folder before the store was open: if the store holds
        # newer tables (an edit made on another server), or the folder holds changes the store lacks,
        # reload now, before the first request (the reload takes the tables up, or publishes them).
        sync = await anyio.to_thread.run_sync(_sync_folder, store, self.settings.dataset)
        self.tables_sync = sync
        if sync is not None and sync.status in ("written", "ahead"):
            try:
                await self.reload(announce=False)
            except ReloadRefusedError as exc:
                log.error("the tables taken from the store do not load here: %s", exc.message)
        self._store_watcher = asyncio.create_task(self._watch_store(), name="respmap-reload-store")

    def _remember_sync(self, sync: SyncResult | None) -> None:
        if sync is not None:
            self.tables_sync = sync

    async def _watch_store(self) -> None:
        assert self._store is not None
        while True:
            await asyncio.sleep(self.settings.reload_poll_s)
            try:
                generation = int(await anyio.to_thread.run_sync(self._store.get_state, STORE_GENERATION_KEY) or 0)
            except Exception:  # the database may be briefly away; keep serving and try again
                log.warning("cannot read the reload generation from the store", exc_info=True)
                continue
            if generation <= self._seen_store:
                continue
            self._seen_store = generation
            try:
                await self.reload(announce=False)
            except ReloadRefusedError as exc:
                log.error("reload announced by another server refused here: %s", exc.message)
            except Exception:
                log.exception("reload announced by another server failed")

    async def stop(self) -> None:
        await _cancel(self._store_watcher)
        self._store_watcher = None
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None

    # -- reload -------------------------------------------------------------------
    async def reload(self, *, announce: bool = True) -> ReloadOutcome:
        """Load the dataset folder again and swap it in, or raise ReloadRefusedError.

        Reloads are serialised; the build runs in a worker thread so the event
        loop keeps answering from the old snapshot meanwhile.
        """
        if self._reload_lock is None:
            self._reload_lock = asyncio.Lock()
        async with self._reload_lock:
            previous = self.current
            try:
                ds, published = await anyio.to_thread.run_sync(
                    sync_and_build, self._store, self.settings.dataset, self.cache_dir, self._remember_sync
                )
            except Exception as exc:  # a bug met by the new data must not cost the old snapshot
                log.exception("building the new dataset failed")
                raise ReloadRefusedError(
                    f"building the new dataset failed ({type(exc).__name__}: {str(exc)[:300]}); "
                    f"the previous dataset ({previous.content_hash}) keeps serving",
                    {"serving": previous.content_hash, "errors": 1, "findings": []},
                ) from None
            if not ds.ok or ds.catalog is None:
                errors = [f for f in ds.findings if f.level == "error"]
                others = [f for f in ds.findings if f.level != "error"]
                raise ReloadRefusedError(
                    _refusal_message(ds, previous),
                    {
                        "serving": previous.content_hash,
                        "errors": len(errors),
                        "findings": [f.to_dict() for f in (errors + others)[:MAX_FINDINGS_SHOWN]],
                    },
                )
            self._dataset = ds  # the swap: one reference, atomic for every reader
            self.generation += 1
            if announce and self.settings.reload_signal_file is not None:
                self._seen_signal = bump_signal(self.settings.reload_signal_file, ds.content_hash)
            if (announce or published) and self._store is not None:
                try:
                    self._seen_store = await anyio.to_thread.run_sync(self._store.bump_counter, STORE_GENERATION_KEY)
                except Exception:  # served here already; the others follow on their next reload
                    log.warning("cannot announce the reload through the store", exc_info=True)
            previous_hash = previous.content_hash
            log.info("dataset reloaded: %s -> %s", previous_hash, ds.content_hash)
            del previous  # freed now, unless a request in flight still reads it
            await anyio.to_thread.run_sync(release_free_memory)
            if self.freeze_heap:
                freeze_survivors()
            return ReloadOutcome(previous_hash, ds.content_hash, self.generation, ds)

    async def _watch_signal(self) -> None:
        """Reload when another worker announces a new generation in the signal file."""
        path = self.settings.reload_signal_file
        assert path is not None
        while True:
            await asyncio.sleep(self.settings.reload_poll_s)
            try:
                stat = os.stat(path)
            except OSError:
                continue
            key = (stat.st_mtime_ns, stat.st_size)
            if key == self._signal_stat:
                continue
            self._signal_stat = key
            generation = read_signal(path)
            if generation <= self._seen_signal:
                continue
            self._seen_signal = generation
            try:
                await self.reload(announce=False)
            except ReloadRefusedError as exc:
                log.error("reload announced by another worker refused here: %s", exc.message)
            except Exception:  # keep watching: the old dataset still serves
                log.exception("reload announced by another worker failed")


async def _cancel(task: asyncio.Task[None] | None) -> None:
    """Cancel a watcher task, waiting for it only when it runs on this event loop.

    A lifespan can start on one loop and stop on another (test clients each run their own);
    a task of another loop is cancelled through that loop and not awaited here.
    """
    if task is None or task.done():
        return
    loop = task.get_loop()
    if loop is asyncio.get_running_loop():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    elif not loop.is_closed():
        loop.call_soon_threadsafe(task.cancel)


def release_free_memory() -> None:
    """Give the heap pages the old snapshot left free back to the system (glibc ``malloc_trim``).

    The old Dataset is freed at once (no reference cycles, see tests/api/test_reload_memory.py),
    but glibc keeps freed pages in the arena of the thread that built it, so RSS would stay at
    its high-water mark and wander by tens of MB from reload to reload. A few milliseconds, in
    a worker thread; nothing where the C library has no ``malloc_trim``.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)


def freeze_survivors() -> None:
    """Collect once, then keep what survives (the dataset, its index, the modules) out of later collections.

    Python's full (oldest-generation) collections walk every tracked object. With a dataset in
    memory that is a pause of 55-73 ms (the demo, a list request's worth of garbage triggering it
    every few dozen requests): the p99 of GET /cases was the collector's, not the query's (8 ms
    p50). ``gc.freeze`` moves the survivors to a generation collections skip; they are still
    freed by reference counting when a reload drops them, and each reload unfreezes and collects
    first, so cyclic garbage of the old snapshot is not kept.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def _refusal_message(ds: Dataset, previous: Dataset | None) -> str:
    errors = [f for f in ds.findings if f.level == "error"]
    first = "; ".join(f.message for f in errors[:3])
    keeps = f"; the previous dataset ({previous.content_hash}) keeps serving" if previous is not None else ""
    return f"the dataset in {ds.path} has {len(errors)} error(s): {first}{keeps}"


def read_signal(path: Path) -> int:
    """The generation written in the signal file, 0 when absent or unreadable."""
    try:
        return int(json.loads(Path(path).read_text(encoding="utf-8")).get("generation", 0))
    except (OSError, ValueError, AttributeError, TypeError):
        return 0


def bump_signal(path: Path, content_hash: str) -> int:
    """Write generation + 1 to the signal file atomically; return the new generation.

    An exclusive lock on a sidecar file makes read-increment-write one step, so
    two workers reloading at the same instant still give two generations.
    """
    path = Path(path)
    with open(path.with_name(path.name + ".lock"), "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return _write_generation(path, read_signal(path) + 1, content_hash)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write_generation(path: Path, generation: int, content_hash: str) -> int:
    payload = {
        "generation": generation,
        "content_hash": content_hash,
        "pid": os.getpid(),
        "at": dt.datetime.now(dt.UTC).isoformat(),
    }
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        json.dump(payload, stream)
    os.replace(temporary, path)
    return generation
