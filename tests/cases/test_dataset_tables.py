"""Responsibility tables published in the store and taken up by other folders, on each store backend.

Two copies of the mini dataset stand for two machines (``a`` edits, ``b`` follows); the store is
shared. An edit is applied as ``POST /assignments/changes`` and ``respmap import-assignments`` apply it
(:func:`api.assignment_changes.apply_and_record`); a folder catches up as a server does before it
loads (:func:`cases.dataset_tables.materialize`, :func:`api.state.sync_and_build`).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

import api.assignment_changes as assignment_changes
from api.assignment_changes import apply_and_record, edited_from_places
from api.state import sync_and_build
from cases.dataset_tables import dataset_key, key_of_folder, latest, materialize, version_index
from cases.history import list_changes, sync_versions
from geo import load_dataset
from geo.assignment_edit import ChangedMeanwhile, PreparedEdit, prepare_edit
from geo.table_versions import CHANGE_FILE, current_version, versions
from tests.api.test_http_assignment_changes import MINI, ON_S1_AT_450_M, RECUT

EFFECTIVE = "2027-01-01"
# C2 (held by U2) goes to U3: a second, independent change.
C2_TO_U3 = {"layer": "compounds", "feature_id": "C2", "assignments": [{"unit_id": "U3"}]}
TABLES = ("assignments.csv", "units.csv")


def _copy(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name / "mini"
    shutil.copytree(MINI, folder, ignore=shutil.ignore_patterns("data"))
    return folder


def _prepared(folder: Path, place: dict[str, Any]) -> PreparedEdit:
    import datetime as dt

    ds = load_dataset(folder)
    prepared = prepare_edit(ds, edited_from_places(ds, [place], None), dt.date.fromisoformat(EFFECTIVE))
    assert prepared.ok, [f.message for f in prepared.errors]
    return prepared


def _tables(folder: Path) -> dict[str, str]:
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in TABLES}


def _lead_at_s1(folder: Path, date: str) -> list[str]:
    ds = load_dataset(folder)
    answer = ds.lookup(ON_S1_AT_450_M["lon"], ON_S1_AT_450_M["lat"], crs=ON_S1_AT_450_M["crs"], date=date).to_dict()
    return [u["unit_id"] for m in answer["matches"] if not m["fallback"] for u in m["units"] if u["role"] == "lead"]


def test_the_key_is_the_catalog_name_not_the_folder(tmp_path: Path) -> None:
    a, b = _copy(tmp_path, "a"), _copy(tmp_path, "b")
    assert key_of_folder(a) == key_of_folder(b) == "迷你测试数据"
    assert dataset_key(load_dataset(a).catalog) == "迷你测试数据"  # type: ignore[arg-type]


def test_an_edit_is_published_and_another_folder_takes_it_up(store: Any, tmp_path: Path) -> None:
    a, b = _copy(tmp_path, "a"), _copy(tmp_path, "b")
    original = _tables(b)
    assert materialize(store, b).status == "no_store_versions"  # nothing published: nothing touched
    applied, change = apply_and_record(_prepared(a, RECUT), store, by="规划科 王芳", reason="路段调整")
    assert change is not None and change["version"] == applied.version.name

    newest = latest(store, "迷你测试数据")
    assert newest is not None and newest.seq == 2 and newest.change_id == change["id"]
    assert {n: t.sha256 for n, t in newest.tables.items()} == {
        "assignments": _tables(a)["assignments.csv"],
        "units": _tables(a)["units.csv"],
    }
    with store.reading() as session:  # version 1: the tables the change was made against
        assert version_index(session, "迷你测试数据")[1] == {
            "assignments": original["assignments.csv"],
            "units": original["units.csv"],
        }
    assert json.loads((applied.version / CHANGE_FILE).read_text(encoding="utf-8"))["store"]["seq"] == 2

    synced = materialize(store, b)
    assert synced.status == "written" and len(synced.versions) == 1
    assert _tables(b) == _tables(a)
    note = json.loads((current_version(b) / CHANGE_FILE).read_text(encoding="utf-8"))  # type: ignore[operator]
    assert (note["by"], note["reason"], note["effective"]) == ("规划科 王芳", "路段调整", EFFECTIVE)
    assert note["store"]["materialized"] and note["store"]["change_id"] == change["id"]
    assert versions(b)[0].name == "v0001-original"  # b's own tables kept too
    assert _lead_at_s1(b, "2026-12-31") == ["U2"] and _lead_at_s1(b, EFFECTIVE) == ["U4"]

    assert materialize(store, b).status == "in_sync"
    # b's history lists the change made in a, and recording b's notes adds nothing (it is there already).
    assert [c["id"] for c in list_changes(store, b)] == [change["id"]]
    assert sync_versions(store, b) == 0 and len(list_changes(store, a)) == 1


def test_two_edits_against_the_same_version_the_second_is_refused_naming_the_first(store: Any, tmp_path: Path) -> None:
    a, b = _copy(tmp_path, "a"), _copy(tmp_path, "b")
    first, second = _prepared(a, RECUT), _prepared(b, C2_TO_U3)  # both made against the original tables
    apply_and_record(first, store, by="规划科 王芳", reason="路段调整")
    before = _tables(b)
    with pytest.raises(ChangedMeanwhile) as refused:
        apply_and_record(second, store, by="规划科 李娜", reason="小区移交")
    message = str(refused.value)
    assert "规划科 王芳" in message and "路段调整" in message and "nothing was changed" in message
    assert refused.value.latest_change is not None and refused.value.latest_change["by"] == "规划科 王芳"
    assert _tables(b) == before and versions(b) == []  # no version written
    assert latest(store, "迷你测试数据").seq == 2  # type: ignore[union-attr]
    assert [c["by"] for c in list_changes(store, b)] == ["规划科 王芳"]
    # Made again on the tables b now has, it goes through.
    assert materialize(store, b).status == "written"
    _, change = apply_and_record(_prepared(b, C2_TO_U3), store, by="规划科 李娜", reason="小区移交")
    assert change is not None and latest(store, "迷你测试数据").seq == 3  # type: ignore[union-attr]
    assert materialize(store, a).status == "written" and _tables(a) == _tables(b)


def test_a_full_disk_changes_neither_the_files_nor_the_store(
    store: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import geo.table_versions as table_versions

    a = _copy(tmp_path, "a")
    before = _tables(a)

    def disk_full(path: Path, data: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(table_versions, "write_file", disk_full)
    with pytest.raises(OSError):
        apply_and_record(_prepared(a, RECUT), store, by="规划科 王芳", reason="路段调整")
    assert _tables(a) == before
    assert latest(store, "迷你测试数据") is None and list_changes(store) == []


def test_a_commit_that_fails_after_the_switch_is_published_by_the_next_load(
    store: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = _copy(tmp_path, "a"), _copy(tmp_path, "b")

    def connection_lost(session: Any) -> None:
        raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(assignment_changes, "_commit", connection_lost)
    applied, change = apply_and_record(_prepared(a, RECUT), store, by="规划科 王芳", reason="路段调整")
    monkeypatch.undo()
    # The files switched, the store has nothing: the change stands here only.
    assert change is None and current_version(a) == applied.version.resolve()
    assert latest(store, "迷你测试数据") is None and list_changes(store) == []
    assert materialize(store, b).status == "no_store_versions"

    # Another edit published meanwhile would make a diverge; here nobody did: a's next load publishes it.
    ds, published = sync_and_build(store, a)
    assert published and ds.ok
    newest = latest(store, "迷你测试数据")
    assert newest is not None and newest.tables["assignments"].sha256 == _tables(a)["assignments.csv"]
    changes = list_changes(store, a)
    assert [(c["by"], c["reason"], c["version"]) for c in changes] == [
        ("规划科 王芳", "路段调整", applied.version.name)
    ]
    assert newest.change_id == changes[0]["id"]
    assert sync_versions(store, a) == 0  # recorded once
    assert sync_and_build(store, a)[1] is False  # nothing more to publish
    assert materialize(store, b).status == "written" and _lead_at_s1(b, EFFECTIVE) == ["U4"]


def test_tables_edited_by_hand_are_published_only_when_they_load(store: Any, tmp_path: Path) -> None:
    a, b = _copy(tmp_path, "a"), _copy(tmp_path, "b")
    apply_and_record(_prepared(a, RECUT), store, by="规划科 王芳", reason="路段调整")
    units = a / "units.csv"
    text = units.read_text(encoding="utf-8")
    units.unlink()  # an editor saving a plain file over the link
    units.write_text(text + "U9,\u5e02\u6c34\u52a1\u5c40,department,,,,,D1\n", encoding="utf-8")
    assert materialize(store, a).status == "ahead"
    _, published = sync_and_build(store, a)
    assert published and latest(store, "迷你测试数据").seq == 3  # type: ignore[union-attr]
    assert materialize(store, b).status == "written" and (b / "units.csv").read_text(encoding="utf-8").endswith("D1\n")
    note = json.loads((current_version(b) / CHANGE_FILE).read_text(encoding="utf-8"))  # type: ignore[operator]
    assert "edited by hand" in note["reason"]

    # A broken table is not published: the others keep the last good version.
    units.unlink()
    units.write_text(text + "U1,duplicate id,department,,,,,D1\n", encoding="utf-8")
    ds, published = sync_and_build(store, a)
    assert not ds.ok and not published and latest(store, "迷你测试数据").seq == 3  # type: ignore[union-attr]


def test_a_folder_that_diverged_is_not_overwritten(store: Any, tmp_path: Path) -> None:
    a, b = _copy(tmp_path, "a"), _copy(tmp_path, "b")
    apply_and_record(_prepared(a, RECUT), store, by="规划科 王芳", reason="路段调整")
    # b changed its own tables on the original version (as if the store had been away) ...
    assignments = b / "assignments.csv"
    assignments.write_text(assignments.read_text(encoding="utf-8") + "C3,U4,lead,,,,\n", encoding="utf-8")
    local = _tables(b)
    # ... and its folder has never been versioned: nothing ties it to a version the store knows.
    result = materialize(store, b)
    assert (
        result.status == "diverged" and "规划科 王芳" in result.message and "nothing was overwritten" in result.message
    )
    assert _tables(b) == local
    ds, published = sync_and_build(store, b)
    assert ds.ok and not published and _tables(b) == local
    # An edit on b is refused (409 / exit 1), naming the change the store has.
    with pytest.raises(ChangedMeanwhile, match="规划科 王芳"):
        apply_and_record(_prepared(b, C2_TO_U3), store, by="规划科 李娜", reason="小区移交")
    assert _tables(b) == local and latest(store, "迷你测试数据").seq == 2  # type: ignore[union-attr]


# A process that applies RECUT to the folder in argv[1] with the store at argv[2], and dies (SIGKILL-like
# os._exit) when the files have switched and the transaction holding the change's tables is not committed.
KILLED_BEFORE_COMMIT = """
import os, sys
from pathlib import Path
import api.assignment_changes as changes
from cases.store import open_store, store_config
from tests.cases.test_dataset_tables import RECUT, _prepared

changes._commit = lambda session: os._exit(9)
store = open_store(config=store_config(url=sys.argv[2], data_dir=Path(sys.argv[1]).parent / "data"))
changes.apply_and_record(_prepared(Path(sys.argv[1]), RECUT), store, by="规划科 王芳", reason="路段调整")
"""


def test_a_process_killed_before_the_commit_leaves_the_change_to_be_published_on_start(
    store: Any, store_url: str, tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys

    a, b = _copy(tmp_path, "a"), _copy(tmp_path, "b")
    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", KILLED_BEFORE_COMMIT, str(a), store_url],
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(repo)},
        capture_output=True,
        timeout=300,
    )
    assert done.returncode == 9, done.stderr.decode()[-2000:]
    # The dead process's transaction is gone: the store has neither the change nor its tables ...
    assert latest(store, "迷你测试数据") is None and list_changes(store) == []
    # ... while a's files switched: a server starting on a publishes them once they load.
    assert _lead_at_s1(a, EFFECTIVE) == ["U4"]
    ds, published = sync_and_build(store, a)
    assert published and ds.ok
    assert [c["by"] for c in list_changes(store, b)] == ["规划科 王芳"]
    assert materialize(store, b).status == "written" and _tables(b) == _tables(a)
