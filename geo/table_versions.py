"""Switching a dataset's assignments and units tables to a new version, both or neither.

A change of responsibility rewrites two files (assignments and units) that must never be seen
half-changed: new assignments naming a unit the old units table lacks would make the dataset
fail to load. Two renames cannot be made atomic together, so the tables live in versions and the
top-level files point into the version in force through one symbolic link:

    assignments.csv -> history/current/assignments.csv
    units.csv       -> history/current/units.csv
    history/current -> v0003-20261203T181502Z        (the one link a switch replaces)
    history/v0001-original/    the tables as they were before respmap first edited them
    history/v0003-20261203T181502Z/assignments.csv, units.csv, change.json

A switch writes the new version into a temporary folder (every file fsynced), renames it into
place, then replaces ``history/current`` with ``os.replace`` (atomic on POSIX) and fsyncs the
folder. A failure or a killed process at any earlier point leaves ``current`` on the previous
version; the leftovers (``history/.tmp-*``) are removed by the next switch. Every previous
version is kept. Readers need nothing special: ``assignments.csv`` is a file to them, and
:func:`geo.tables.read_table` accepts it because the link resolves inside the dataset folder.

Version files are read-only, so that a kept version is not changed by writing through the link;
a table saved by hand over the link (a plain file) is the truth: the next switch keeps it as a
version of its own (``vNNNN-edited-by-hand-...``) before anything else.

Switches are serialised by an exclusive lock (``history/.lock``, ``fcntl.flock``); the caller
checks, under the lock, that the data is still what its change was made against.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HISTORY_DIR = "history"
CURRENT_LINK = "current"
LOCK_FILE = ".lock"
CHANGE_FILE = "change.json"
VERSION_PATTERN = re.compile(r"^v(\d{4,})-")


class VersioningError(Exception):
    """The tables cannot be put under versions (message names the file and why)."""


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file and fsync it (the one place bytes reach the disk: tests fail it)."""
    with open(path, "xb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


@contextlib.contextmanager
def locked(root: Path) -> Iterator[None]:
    """Hold the dataset's edit lock (exclusive, released when the block ends or the process dies)."""
    history = root / HISTORY_DIR
    history.mkdir(exist_ok=True)
    with open(history / LOCK_FILE, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def versions(root: Path) -> list[Path]:
    """Every kept version folder, oldest first."""
    history = root / HISTORY_DIR
    if not history.is_dir():
        return []
    return sorted((p for p in history.iterdir() if p.is_dir() and VERSION_PATTERN.match(p.name)), key=_number)


def current_version(root: Path) -> Path | None:
    """The version folder in force, None before respmap first edited the tables."""
    link = root / HISTORY_DIR / CURRENT_LINK
    return link.resolve() if link.is_symlink() and link.resolve().is_dir() else None


def _number(folder: Path) -> int:
    match = VERSION_PATTERN.match(folder.name)
    return int(match.group(1)) if match else 0


def _is_linked(root: Path, file_name: str) -> bool:
    """The top-level table is our link into ``history/current``."""
    path = root / file_name
    if not path.is_symlink():
        return False
    expected = os.path.relpath(root / HISTORY_DIR / CURRENT_LINK / Path(file_name).name, path.parent)
    return os.readlink(path) == expected


def _clean_leftovers(history: Path) -> None:
    """Remove what an interrupted switch left (never a version in force or kept)."""
    for leftover in history.glob(".tmp-*"):
        if leftover.is_symlink() or leftover.is_file():
            leftover.unlink(missing_ok=True)
        else:
            shutil.rmtree(leftover, ignore_errors=True)


def _new_version(history: Path, label: str, files: dict[str, bytes | Path], note: dict[str, Any] | None) -> Path:
    """Write a complete version folder (temporary name, fsynced, renamed) and return it."""
    existing = [_number(p) for p in history.iterdir() if p.is_dir() and VERSION_PATTERN.match(p.name)]
    number = max(existing, default=0) + 1
    final = history / f"v{number:04d}-{label}"
    staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=history))
    try:
        for name, content in files.items():
            target = staging / name
            write_file(target, content.read_bytes() if isinstance(content, Path) else content)
            # Read-only: an editor writing through the link in place would change a kept version;
            # refused, it saves beside it (a plain file over the link), which the next switch keeps.
            os.chmod(target, 0o444)
        if note is not None:
            write_file(staging / CHANGE_FILE, json.dumps(note, ensure_ascii=False, indent=1, default=str).encode())
        # mkdtemp makes the folder private (0700): give it a plain folder's permissions.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(staging, 0o777 & ~umask)
        _fsync_dir(staging)
        os.rename(staging, final)
        _fsync_dir(history)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


def _point_current(history: Path, version: Path) -> None:
    """Make ``history/current`` name ``version``: one atomic rename of a fresh link."""
    temporary = history / f".tmp-current-{os.getpid()}"
    temporary.unlink(missing_ok=True)
    os.symlink(version.name, temporary)
    os.replace(temporary, history / CURRENT_LINK)
    _fsync_dir(history)


def _link_top_level(root: Path, file_name: str) -> None:
    """Replace the top-level table by a link into ``history/current`` (same content: nobody sees a change)."""
    path = root / file_name
    target = os.path.relpath(root / HISTORY_DIR / CURRENT_LINK / Path(file_name).name, path.parent)
    temporary = path.parent / f".{path.name}.tmp-link-{os.getpid()}"
    temporary.unlink(missing_ok=True)
    os.symlink(target, temporary)
    os.replace(temporary, path)
    _fsync_dir(path.parent)


def ensure_versioned(root: Path, table_files: list[str]) -> None:
    """Put the tables under versions if they are not (yet, or any more); call under :func:`locked`.

    The first time, the tables as they are become ``v0001-original``. A table someone replaced by
    hand since (an editor saving a plain file over the link) is taken as the truth: the present
    contents become a new version before anything else happens.
    """
    history = root / HISTORY_DIR
    _clean_leftovers(history)
    if all(_is_linked(root, name) for name in table_files) and current_version(root) is not None:
        return
    for name in table_files:
        if Path(name).name != name:
            raise VersioningError(
                f"{name}: respmap keeps versions of tables in the dataset folder itself, not in a subfolder"
            )
        if not (root / name).is_file():
            raise VersioningError(f"{name}: not found in {root}")
    label = "original" if current_version(root) is None else "edited-by-hand-" + _stamp()
    files: dict[str, bytes | Path] = {name: (root / name).read_bytes() for name in table_files}
    version = _new_version(history, label, files, None)
    _point_current(history, version)
    for name in table_files:
        if not _is_linked(root, name):
            _link_top_level(root, name)


def _stamp(at: dt.datetime | None = None) -> str:
    return (at or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")


def switch_tables(
    root: Path,
    new_tables: dict[str, bytes],
    table_files: list[str],
    note: dict[str, Any],
    *,
    check: Callable[[], None] | None = None,
) -> Path:
    """Make ``new_tables`` (file name -> content) the tables in force, all together; return the version.

    ``table_files`` are every table kept in versions (those not in ``new_tables`` are carried over
    unchanged); ``note`` is written beside them as ``change.json``. ``check`` runs under the lock
    before anything is written (the caller's "is the data still what I read?"); it raises to stop.
    """
    root = Path(root)
    with locked(root):
        if check is not None:
            check()
        ensure_versioned(root, table_files)
        history = root / HISTORY_DIR
        current = current_version(root)
        assert current is not None
        files: dict[str, bytes | Path] = {}
        for name in table_files:
            files[name] = new_tables[name] if name in new_tables else current / name
        version = _new_version(history, _stamp(), files, note)
        _point_current(history, version)
        return version
