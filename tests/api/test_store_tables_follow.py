"""A server and ``respmap import-assignments`` take up tables published by another machine, on each store backend.

Folder ``a`` stands for the machine that edits, folder ``b`` for another one with its own copy of
the mini dataset; the store is shared. ``b``'s files are never touched by the test: whatever ``b``
answers differently comes from the store (:mod:`cases.dataset_tables`, :mod:`api.state`).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.assignment_changes import apply_and_record
from api.cli import main
from api.settings import Settings
from api.state import STORE_GENERATION_KEY
from cases.dataset_tables import latest
from cases.history import list_changes
from geo.table_versions import versions
from tests.api.test_import_assignments import C1_INSIDE, EFFECTIVE, _set_unit, _units_at
from tests.cases.test_dataset_tables import RECUT, _copy, _prepared, _tables

WAIT_S = 30.0
C2_INSIDE = (600112.0, 3618112.0)  # inside C2 only


def _lead_on_s1(client: TestClient, date: str) -> list[str]:
    params = {"lon": 600450.0, "lat": 3618800.0, "crs": "EPSG:4545", "date": date}
    answer = client.get("/lookup", params=params)
    assert answer.status_code == 200, answer.text
    return [
        u["unit_id"] for m in answer.json()["matches"] if not m["fallback"] for u in m["units"] if u["role"] == "lead"
    ]


def test_a_server_starts_with_the_tables_published_meanwhile(store: Any, tmp_path: Path) -> None:
    a, b = _copy(tmp_path, "a"), _copy(tmp_path, "b")
    applied, _ = apply_and_record(_prepared(a, RECUT), store, by="规划科 王芳", reason="路段调整")
    with TestClient(create_app(Settings(dataset=b), store=store)) as client:
        assert client.get("/healthz").json()["content_hash"] == applied.hash_after
        assert _lead_on_s1(client, "2026-12-31") == ["U2"] and _lead_on_s1(client, EFFECTIVE) == ["U4"]
    assert _tables(b) == _tables(a)


def test_a_running_server_follows_an_edit_announced_through_the_store(store: Any, tmp_path: Path) -> None:
    a, b = _copy(tmp_path, "a"), _copy(tmp_path, "b")
    with TestClient(create_app(Settings(dataset=b, reload_poll_s=0.1), store=store)) as client:
        assert _lead_on_s1(client, EFFECTIVE) == ["U2"]
        applied, _ = apply_and_record(_prepared(a, RECUT), store, by="规划科 王芳", reason="路段调整")
        store.bump_counter(STORE_GENERATION_KEY)  # as the editing server's reload announces it
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline and client.get("/healthz").json()["content_hash"] != applied.hash_after:
            time.sleep(0.1)
        assert client.get("/healthz").json()["content_hash"] == applied.hash_after
        assert _lead_on_s1(client, EFFECTIVE) == ["U4"]


def test_import_assignments_takes_up_the_store_first_and_publishes(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = _copy(tmp_path, "a"), _copy(tmp_path, "b")
    monkeypatch.setenv("RESPMAP_DATABASE_URL", store_url)
    exported = tmp_path / "责任分工表.xlsx"
    assert main(["--dataset", str(b), "export", "-o", str(exported), "--date", "2026-03-01"]) == 0
    _set_unit(exported, tmp_path / "a.xlsx", "C1", "U4")
    _set_unit(exported, tmp_path / "b.xlsx", "C2", "U3")
    capsys.readouterr()

    def import_on(folder: Path, workbook: str, by: str) -> int:
        options = ["--effective", EFFECTIVE, "--by", by, "--reason", "调整", "--json"]
        return main(["--dataset", str(folder), "import-assignments", str(tmp_path / workbook), *options])

    assert import_on(a, "a.xlsx", "张伟") == 0
    first = json.loads(capsys.readouterr().out)
    assert first["applied"] and first["change_id"] is not None

    # On b (its files as exported), the same command first takes a's version up, then applies on top of it.
    code = import_on(b, "b.xlsx", "李娜")
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "took up 1 newer version(s) of the tables from the store" in captured.err
    second = json.loads(captured.out)
    assert [(c["before"]["feature_id"], c["after"]["unit_id"]) for c in second["diff"]["changed"]] == [("C2", "U3")]
    assert _units_at(b, C1_INSIDE, EFFECTIVE) == [("U4", "lead")] and _units_at(b, C2_INSIDE, EFFECTIVE) == [
        ("U3", "lead")
    ]
    from cases.store import open_store, store_config

    opened = open_store(config=store_config(url=store_url, data_dir=tmp_path / "data"))
    try:
        assert latest(opened, "迷你测试数据").seq == 3  # type: ignore[union-attr]
        assert [c["by"] for c in list_changes(opened, a)] == ["李娜", "张伟"]
    finally:
        opened.dispose()


def test_tables_command_shows_a_diverged_folder_and_takes_the_store_version(
    store: Any, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = _copy(tmp_path, "a"), _copy(tmp_path, "b")
    monkeypatch.setenv("RESPMAP_DATABASE_URL", store_url)
    assert main(["--dataset", str(b), "tables"]) == 0
    assert capsys.readouterr().out.startswith("no_store_versions:")
    apply_and_record(_prepared(a, RECUT), store, by="规划科 王芳", reason="路段调整")
    assert main(["--dataset", str(b), "tables", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "behind"

    # b changes its own tables meanwhile: diverged, and a server would not overwrite them.
    assignments = b / "assignments.csv"
    own = assignments.read_text(encoding="utf-8") + "C3,U4,lead,,,,\n"
    assignments.write_text(own, encoding="utf-8")
    assert main(["--dataset", str(b), "tables", "--take"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("diverged:") and "规划科 王芳" in out and assignments.read_text(encoding="utf-8") == own
    assert main(["--dataset", str(b), "tables", "--discard-local"]) == 2

    assert main(["--dataset", str(b), "tables", "--take", "--discard-local", "--json"]) == 0
    taken = json.loads(capsys.readouterr().out)
    assert taken["status"] == "written" and taken["latest_seq"] == 2
    assert _tables(b) == _tables(a)
    kept = [v for v in versions(b) if (v / "assignments.csv").read_text(encoding="utf-8") == own]
    assert len(kept) == 1  # b's own tables are kept in history/
    assert main(["--dataset", str(b), "tables"]) == 0 and capsys.readouterr().out.startswith("in_sync:")


def test_healthz_says_where_the_folder_stands_against_the_store(store: Any, tmp_path: Path) -> None:
    a, b = _copy(tmp_path, "a"), _copy(tmp_path, "b")
    with TestClient(create_app(Settings(dataset=b), store=store)) as client:
        assert client.get("/healthz").json()["tables"]["status"] == "no_store_versions"
    apply_and_record(_prepared(a, RECUT), store, by="规划科 王芳", reason="路段调整")
    assignments = b / "assignments.csv"  # b goes its own way meanwhile
    own = assignments.read_text(encoding="utf-8") + "C3,U4,lead,,,,\n"
    assignments.write_text(own, encoding="utf-8")
    with TestClient(create_app(Settings(dataset=b), store=store)) as client:
        tables = client.get("/healthz").json()["tables"]
        assert tables["status"] == "diverged" and "规划科 王芳" in tables["message"]
        assert tables["dataset_key"] == "迷你测试数据" and tables["version"] == 2
    assert assignments.read_text(encoding="utf-8") == own  # served as it is, never overwritten
    with TestClient(create_app(Settings(dataset=a), store=store)) as client:
        assert client.get("/healthz").json()["tables"]["status"] == "in_sync"
