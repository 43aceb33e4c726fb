"""The responsibility tables kept in the store, so that an edit made on one server reaches every server.

A change of responsibility rewrites the dataset's assignments and units tables
(:mod:`geo.assignment_edit`, :mod:`geo.table_versions`). On one machine those files are the truth.
With several machines on one database (PostgreSQL) each has its own copy of the dataset folder, so
the tables of every applied change are also written to the store (``dataset_tables``), and every
server writes the newest version into its own folder before it loads (:func:`materialize`).

Which dataset: ``dataset_key`` is the catalog's dataset name (``[dataset] name`` in
``catalog.toml``, else the folder's name), never the absolute path, so two machines holding the same
dataset in different folders agree. Two different datasets on one database must have different names.

Versions: ``seq`` counts the versions of one dataset from 1. Every version holds every edited table
(assignments and units; an unchanged one is repeated, a few tens of KB), so a version is complete on
its own and two servers publishing against the same version always collide on the unique
``(dataset_key, seq, table_name)``. The first change published also publishes the tables it was
made against, as version 1 (no change): a server whose folder still has the original tables then
knows it is merely behind.

Where a server's folder stands is decided by content (SHA-256 of the table files), not by
bookkeeping that could drift: equal to the newest version (in sync), equal to an older one
(behind: the missing versions are written, each with its change's note, so ``history/`` gets
them too), or equal to none. Equal to none means the folder holds changes the store lacks:

* made on top of the newest version (an edit whose publication did not commit, a table edited by
  hand): **ahead** -- published by :func:`publish_local` once the server has loaded it cleanly
  (never a table that does not load), so the other servers take it up;
* made on top of an older version while others published meanwhile: **diverged** -- nothing is
  overwritten; the server logs an error naming both, keeps serving its own tables and refuses
  edits until someone resolves it: ``respmap tables --take --discard-local`` writes the store's
  version (the folder's own tables stay in ``history/``), and the local change is made again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cases.models import AssignmentChange, DatasetTable
from cases.store import Store
from geo.catalog import Catalog, read_catalog
from geo.findings import Findings
from geo.table_versions import CHANGE_FILE, VERSION_PATTERN, current_version, switch_tables, versions

log = logging.getLogger("respmap.store")

# The tables an edit rewrites (geo.assignment_edit.EDITED_TABLES), in the order they are published.
TABLE_NAMES = ("assignments", "units")
# The longest dataset_key the column holds; longer names keep a prefix and a hash of the whole.
MAX_KEY_CHARS = 200
# How many times materialize starts again when another process switched the folder meanwhile.
MAX_ATTEMPTS = 5

Shas = dict[str, str]  # table name -> SHA-256 of its file


class PublishConflict(Exception):
    """Another server published a version after the one this edit was prepared against.

    ``seq_seen`` is the version the edit was made against, ``latest`` the newest in the store, and
    ``changes`` the recorded changes in between (newest first, as :func:`cases.history.change_dict`).
    """

    def __init__(self, message: str, seq_seen: int | None, latest: int, changes: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.seq_seen = seq_seen
        self.latest = latest
        self.changes = changes


@dataclasses.dataclass(frozen=True)
class TableFile:
    """One table of a version: its file name in the dataset folder and its bytes."""

    file_name: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclasses.dataclass(frozen=True)
class PublishedVersion:
    """The newest version of a dataset's tables in the store."""

    dataset_key: str
    seq: int
    change_id: int | None
    created_at: dt.datetime
    tables: dict[str, TableFile]


@dataclasses.dataclass(frozen=True)
class SyncResult:
    """What :func:`materialize` found and did.

    ``status``: ``no_store_versions`` (nothing published for this dataset yet), ``in_sync``,
    ``behind`` (only when asked not to write), ``written`` (``versions`` were written into the folder), ``ahead`` (the folder has changes made
    on the newest version: publish them after a clean load), ``diverged`` (see the module docstring),
    ``unusable`` (no catalog or tables to compare). ``message`` says it for a log line.
    """

    status: str
    dataset_key: str = ""
    latest_seq: int = 0
    versions: tuple[str, ...] = ()
    message: str = ""


# -- which dataset, which tables --------------------------------------------------------------------


def dataset_key(catalog: Catalog) -> str:
    """The store's name for a dataset: its catalog name (the folder's name when the catalog has none)."""
    name = catalog.name.strip() or "dataset"
    if len(name) <= MAX_KEY_CHARS:
        return name
    return name[: MAX_KEY_CHARS - 17] + "~" + hashlib.sha256(name.encode()).hexdigest()[:16]


def _catalog(dataset_path: Path) -> Catalog | None:
    return read_catalog(Path(dataset_path), Findings())


def key_of_folder(dataset_path: Path) -> str | None:
    """``dataset_key`` of the dataset in ``dataset_path``; None without a readable catalog."""
    catalog = _catalog(dataset_path)
    return None if catalog is None else dataset_key(catalog)


def edited_table_files(catalog: Catalog) -> dict[str, str]:
    """Table name -> file name of the tables an edit rewrites, as this catalog names them."""
    return {name: catalog.tables[name] for name in TABLE_NAMES if name in catalog.tables}


def local_shas(dataset_path: Path, files: dict[str, str]) -> Shas:
    """SHA-256 of each table file in the folder (through the links into ``history/``); "" when missing."""
    shas = {}
    for name, file_name in files.items():
        path = Path(dataset_path) / file_name
        shas[name] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
    return shas


# -- reading the store ------------------------------------------------------------------------------


def version_index(session: Session, key: str) -> dict[int, Shas]:
    """seq -> {table name: SHA-256} of every version of ``key`` (no contents: cheap)."""
    rows = session.execute(
        select(DatasetTable.seq, DatasetTable.table_name, DatasetTable.sha256).where(DatasetTable.dataset_key == key)
    )
    index: dict[int, Shas] = {}
    for seq, table_name, sha in rows:
        index.setdefault(seq, {})[table_name] = sha
    return index


def seq_of(index: dict[int, Shas], shas: Shas) -> int | None:
    """The newest version whose tables are exactly ``shas``; 0 when the store has none; None if unknown."""
    if not index:
        return 0
    matching = [seq for seq, tables in index.items() if tables == shas]
    return max(matching) if matching else None


def _version(session: Session, key: str, seq: int) -> PublishedVersion | None:
    rows = session.execute(
        select(DatasetTable).where(DatasetTable.dataset_key == key, DatasetTable.seq == seq)
    ).scalars()
    tables, change_id, created = {}, None, None
    for row in rows:
        tables[row.table_name] = TableFile(row.file_name, bytes(row.content))
        change_id = row.change_id
        created = row.created_at
    if not tables or created is None:
        return None
    return PublishedVersion(key, seq, change_id, created, tables)


def latest(store: Store, key: str) -> PublishedVersion | None:
    """The newest published version of ``key`` with its tables' contents, None when nothing was published."""
    with store.reading() as session:
        index = version_index(session, key)
        return _version(session, key, max(index)) if index else None


def changes_after(session: Session, key: str, seq: int) -> list[dict[str, Any]]:
    """The recorded changes of the versions after ``seq``, newest first."""
    from cases.history import change_dict

    ids = (
        select(DatasetTable.change_id)
        .where(DatasetTable.dataset_key == key, DatasetTable.seq > seq, DatasetTable.change_id.is_not(None))
        .distinct()
    )
    rows = session.execute(
        select(AssignmentChange).where(AssignmentChange.id.in_(ids)).order_by(AssignmentChange.id.desc())
    ).scalars()
    return [change_dict(row) for row in rows]


def describe_changes(changes: list[dict[str, Any]]) -> str:
    """ "2 changes: by 王芳 at ... (路段调整); ..." for a refusal message."""
    if not changes:
        return "tables published without a recorded change (edited by hand on another server)"
    shown = "; ".join(
        f"change #{c['id']} by {c['by']} at {c['at']} ({c['reason'][:120]}) from {c['effective']}" for c in changes[:3]
    )
    more = f" and {len(changes) - 3} more" if len(changes) > 3 else ""
    return shown + more


# -- publishing -------------------------------------------------------------------------------------


def publish(
    session: Session,
    key: str,
    seq_seen: int,
    files: dict[str, TableFile],
    change_id: int | None,
    *,
    base_files: dict[str, TableFile] | None = None,
) -> int:
    """Add ``files`` as the next version of ``key`` in the caller's transaction; return its seq.

    ``seq_seen`` is the version the edit was prepared against (0: the store had none). When another
    server published since (the newest version is not ``seq_seen``, or a concurrent transaction takes
    the same seq first: the unique constraint), :class:`PublishConflict` is raised and the caller's
    transaction must be rolled back. ``base_files`` (the tables the change was made against) are
    published first as version 1 when the store has no version of ``key`` yet.
    """
    index = version_index(session, key)
    newest = max(index, default=0)
    if seq_seen != newest:
        raise PublishConflict(f"version {newest} of {key} was published after version {seq_seen}", seq_seen, newest, [])
    now = dt.datetime.now(dt.UTC)
    seq = newest
    try:
        if newest == 0 and base_files:
            seq += 1
            _add_version(session, key, seq, base_files, None, now)
        seq += 1
        _add_version(session, key, seq, files, change_id, now)
        session.flush()  # PostgreSQL waits here for a concurrent publisher, then raises if it took the seq
    except IntegrityError:
        raise PublishConflict(f"version {seq} of {key} was published meanwhile", seq_seen, seq, []) from None
    return seq


def _add_version(
    session: Session, key: str, seq: int, files: dict[str, TableFile], change_id: int | None, at: dt.datetime
) -> None:
    for name in TABLE_NAMES:
        if name not in files:
            continue
        table = files[name]
        session.add(
            DatasetTable(
                dataset_key=key,
                seq=seq,
                table_name=name,
                file_name=table.file_name,
                content=table.content,
                sha256=table.sha256,
                change_id=change_id,
                created_at=at,
            )
        )


def conflict_message(store: Store, key: str, seq_seen: int | None) -> PublishConflict:
    """A :class:`PublishConflict` naming who published after ``seq_seen`` (read in a fresh transaction).

    ``seq_seen`` None: the edit was made on tables the store does not know, and the store moved on.
    """
    with store.reading() as session:
        index = version_index(session, key)
        newest = max(index, default=0)
        changes = changes_after(session, key, seq_seen or 0)
    if seq_seen is None:
        changes = changes[:1]
        made_on = "on tables of this server that are no version in the store"
    else:
        made_on = f"against version {seq_seen}"
    message = (
        f"another server published a change of {key} meanwhile (version {newest}; this change was made "
        f"{made_on}): {describe_changes(changes)}"
    )
    return PublishConflict(message, seq_seen, newest, changes)


# -- the folder catches up --------------------------------------------------------------------------


class _FolderMoved(Exception):
    """Another process switched the folder's tables between our look and our switch."""


def materialize(store: Store, dataset_path: Path, *, discard_local: bool = False, write: bool = True) -> SyncResult:
    """Write the store's newest tables into ``dataset_path`` if the folder is behind; say where it stands.

    Every missing version is written in order through :func:`geo.table_versions.switch_tables`, with
    its change's note (who, when, why; ``store`` names the key, seq and change id), so the folder's
    ``history/`` has them too. Blocking (files and the database): call it from a worker thread.

    ``discard_local`` (``respmap tables --take --discard-local``): a folder that is ahead or diverged
    takes the store's newest version too; its own tables stay in ``history/`` as a version.
    ``write=False`` only says where the folder stands (``behind`` instead of writing).
    """
    root = Path(dataset_path)
    catalog = _catalog(root)
    if catalog is None:
        return SyncResult("unusable", message=f"{root}: no readable catalog.toml; nothing taken from the store")
    key = dataset_key(catalog)
    files = edited_table_files(catalog)
    if "assignments" not in files:
        return SyncResult("unusable", key, message=f"{root}: the catalog names no assignments table")
    for _ in range(MAX_ATTEMPTS):
        try:
            return _materialize_once(store, root, key, files, discard_local, write)
        except _FolderMoved:
            continue
    return SyncResult("in_sync", key, message=f"{root}: other processes kept switching the tables; left as they are")


def _materialize_once(
    store: Store, root: Path, key: str, files: dict[str, str], discard_local: bool, write: bool
) -> SyncResult:
    with store.reading() as session:
        index = version_index(session, key)
    if not index:
        if _unpublished_edit(root, files):  # the first change made here did not reach the store
            return SyncResult("ahead", key, 0, message=f"{root}: a change made here is not in the store yet")
        return SyncResult("no_store_versions", key)
    newest = max(index)
    local = local_shas(root, files)
    base = seq_of(index, local)
    if base == newest:
        return SyncResult("in_sync", key, newest)
    if base is None:
        if not discard_local:
            return _unknown_tables(store, root, key, files, index, local)
        base = newest - 1  # only the newest version: the ones between never were this folder's
    if not write:
        return SyncResult("behind", key, newest, message=f"{root}: behind the store's version {newest} of {key}")
    written = []
    expected = local
    for seq in range(base + 1, newest + 1):
        with store.reading() as session:
            version = _version(session, key, seq)
            if version is None:
                continue
            note = _note_of(session, version)
        mismatched = [
            n for n, t in version.tables.items() if n in files and Path(t.file_name).suffix != Path(files[n]).suffix
        ]
        if mismatched:
            return SyncResult(
                "unusable",
                key,
                newest,
                message=f"{root}: the store keeps {', '.join(version.tables[n].file_name for n in mismatched)} "
                f"but this folder's catalog names {', '.join(files[n] for n in mismatched)}; not taken up",
            )
        new_tables = {files[n]: t.content for n, t in version.tables.items() if n in files}
        folder = switch_tables(root, new_tables, list(files.values()), note, check=_unchanged(root, files, expected))
        written.append(folder.name)
        expected = {n: version.tables[n].sha256 for n in files if n in version.tables}
    log.info("%s: took up version %d of %s from the store (%s)", root, newest, key, ", ".join(written))
    return SyncResult("written", key, newest, tuple(written), f"wrote {len(written)} version(s) from the store")


def _unchanged(root: Path, files: dict[str, str], expected: Shas) -> Callable[[], None]:
    def check() -> None:
        if local_shas(root, files) != expected:
            raise _FolderMoved

    return check


def _note_of(session: Session, version: PublishedVersion) -> dict[str, Any]:
    """The change.json a written version carries: its change's note plus where it came from."""
    from cases.history import change_note

    store_info = {"key": version.dataset_key, "seq": version.seq, "change_id": version.change_id, "materialized": True}
    row = session.get(AssignmentChange, version.change_id) if version.change_id is not None else None
    if row is None:
        return {
            "at": version.created_at.isoformat(),
            "by": "",
            "reason": "tables published without a recorded change (edited by hand on another server)",
            "store": store_info,
        }
    return {**change_note(row), "store": {**store_info, "from": row.dataset_path}}


def _unknown_tables(
    store: Store, root: Path, key: str, files: dict[str, str], index: dict[int, Shas], local: Shas
) -> SyncResult:
    """The folder's tables are no version in the store: ahead of the newest, or diverged from an older one."""
    newest = max(index)
    base = _local_base(root, files, index)
    if base == newest:
        return SyncResult(
            "ahead",
            key,
            newest,
            message=f"{root}: the tables hold changes made on version {newest} of {key} that the store lacks",
        )
    with store.reading() as session:
        since = changes_after(session, key, base or 0)
    message = (
        f"{root}: the tables ({', '.join(files.values())}) hold changes the store lacks, made on "
        + (f"version {base}" if base else "no version the store knows")
        + f", while the store moved on to version {newest} ({describe_changes(since)}); nothing was overwritten "
        "and this server keeps its own tables. To take the store's version (the folder's own stays in history/): "
        "`respmap tables --take --discard-local`, then reload; to keep a local change, make it again through "
        "respmap afterwards."
    )
    return SyncResult("diverged", key, newest, message=message)


def _local_base(root: Path, files: dict[str, str], index: dict[int, Shas]) -> int | None:
    """The store version the folder's unknown tables were made on: the newest kept version the store knows.

    The version in force first (a table saved by hand over the link was made on it), then older
    ones (edits made here whose publication did not commit, or while the store was away).
    """
    current = current_version(root)
    if current is None:
        return None
    for folder in [current, *reversed([v for v in versions(root) if _number(v) < _number(current)])]:
        shas = {}
        for name, file_name in files.items():
            path = folder / Path(file_name).name
            shas[name] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
        known = seq_of(index, shas)
        if known:
            return known
    return None


def _number(folder: Path) -> int:
    match = VERSION_PATTERN.match(folder.name)
    return int(match.group(1)) if match else 0


def edit_base(root: Path, files: dict[str, str], index: dict[int, Shas], shas: Shas) -> int | None:
    """The version an edit prepared against tables ``shas`` is published on top of; None when it must not be.

    0 when the store has none; the version whose tables they are; the newest version when the folder
    is ahead of it (changes made here the store lacks: they are published with the edit); else None
    (the store moved on from what the folder was made on).
    """
    known = seq_of(index, shas)
    if known is not None:
        return known
    newest = max(index)
    return newest if _local_base(root, files, index) == newest else None


def _unpublished_edit(root: Path, files: dict[str, str]) -> bool:
    """The tables in force are a change made here through respmap (not taken from the store), unchanged since."""
    current = current_version(root)
    if current is None:
        return False
    note = _read_json(current / CHANGE_FILE)
    return (
        isinstance(note, dict)
        and "by" in note
        and not (note.get("store") or {}).get("materialized")
        and local_shas(root, files) == local_shas(current, {n: Path(f).name for n, f in files.items()})
    )


def _read_json(path: Path) -> Any:
    import json

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def publish_local(store: Store, dataset_path: Path) -> SyncResult:
    """Publish a folder that is ``ahead`` (see :func:`materialize`): its tables become the next version.

    Call it only after the folder loaded without errors. An edit made here whose publication did not
    commit is recorded from its note (once: a record ``respmap history`` made meanwhile is reused);
    tables edited by hand are published without a change. Returns the new state (``in_sync``), or
    ``diverged`` when another server published first.
    """
    from cases.history import find_recorded, note_row

    root = Path(dataset_path)
    catalog = _catalog(root)
    if catalog is None:
        return SyncResult("unusable")
    key = dataset_key(catalog)
    files = edited_table_files(catalog)
    tables = {n: TableFile(f, (root / f).read_bytes()) for n, f in files.items() if (root / f).is_file()}
    current = current_version(root)
    note = _read_json(current / CHANGE_FILE) if current is not None else None
    unpublished_edit = _unpublished_edit(root, files)
    local = local_shas(root, files)
    with store.reading() as session:
        index = version_index(session, key)
    base_files = None
    if index:
        newest = max(index)
        if seq_of(index, local) is not None or _local_base(root, files, index) != newest:
            return materialize(store, root)  # somebody moved: say where it stands now
    elif unpublished_edit:
        newest = 0  # the first change: publish the tables it was made against too, as version 1
        original = versions(root)[0]
        base_files = {n: TableFile(f, (original / Path(f).name).read_bytes()) for n, f in files.items()}
    else:
        return SyncResult("no_store_versions", key)
    try:
        with store.session() as session:
            change_id = None
            if unpublished_edit and current is not None and isinstance(note, dict):
                change_id = find_recorded(session, root, current.name)
                if change_id is None:
                    change_id = note_row(session, note, root, current.name).id
            seq = publish(session, key, newest, tables, change_id, base_files=base_files)
    except PublishConflict:
        return materialize(store, root)
    what = f"the change in {current.name}" if unpublished_edit and current else "tables edited by hand"
    log.warning(
        "%s: published %s as version %d of %s (made here while the store did not have it)", root, what, seq, key
    )
    return SyncResult("in_sync", key, seq, message=f"published {what} as version {seq}")
