"""``POST /assignments/changes`` and ``GET /history`` on a copy of the mini dataset, on each store backend.

A planner reassigns a stretch of S1 (U2 led 400-1000 m; U4 takes 400-700 m from 2027-01-01):
the dry run shows the difference and changes nothing; applying switches the tables, records the
change with the planner as author, reloads the server, and the lookup at a point on that stretch
names U2 the day before and U4 from the effective date on.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from cases.users import add_user
from geo import load_dataset
from maps.tables import export_table

MINI = Path(__file__).resolve().parents[1] / "data" / "mini"
M = "EPSG:4545"
ON_S1_AT_450_M = {"lon": 600450.0, "lat": 3618800.0, "crs": M}
RECUT = {
    "layer": "streets",
    "feature_id": "S1",
    "assignments": [
        {"unit_id": "U1", "role": "lead", "from_m": 0, "to_m": 400},
        {"unit_id": "U4", "role": "lead", "from_m": 400, "to_m": 700},
        {"unit_id": "U2", "role": "lead", "from_m": 700, "to_m": 1000},
        {"unit_id": "U3", "role": "supervisor"},
    ],
}


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    folder = tmp_path / "mini"
    shutil.copytree(MINI, folder, ignore=shutil.ignore_patterns("data"))
    return folder


@pytest.fixture
def client(store: Any, dataset: Path) -> Iterator[TestClient]:
    app = create_app(Settings(dataset=dataset), store=store)
    with TestClient(app) as test_client:
        tokens = {}
        for name, role, unit in [
            ("规划科 王芳", "planner", None),
            ("inspector", "inspector", None),
            ("unit_u1", "unit", "U1"),
        ]:
            tokens[role] = add_user(store, name, role, unit)[1]
        test_client.tokens = tokens  # type: ignore[attr-defined]
        yield test_client


def _auth(client: TestClient, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.tokens[role]}"}  # type: ignore[attr-defined]


def _units_at(client: TestClient, date: str) -> list[tuple[str, str]]:
    answer = client.get("/lookup", params={**ON_S1_AT_450_M, "date": date})
    assert answer.status_code == 200, answer.text
    return [(u["unit_id"], u["role"]) for m in answer.json()["matches"] if not m["fallback"] for u in m["units"]]


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()
    }


def _change(**extra: Any) -> dict[str, Any]:
    return {"effective": "2027-01-01", "reason": "路段调整", "places": [RECUT], **extra}


def test_a_planner_reassigns_a_stretch_dry_run_then_applied(client: TestClient, dataset: Path) -> None:
    before = _hashes(dataset)
    dry = client.post("/assignments/changes", json=_change(dry_run=True), headers=_auth(client, "planner"))
    assert dry.status_code == 200, dry.text
    answer = dry.json()
    assert answer["ok"] and not answer["applied"]
    assert [
        (c["before"]["unit_id"], c["after"]["unit_id"], c["after"]["from_m"], c["after"]["to_m"])
        for c in answer["diff"]["changed"]
    ] == [("U2", "U2", 700.0, 1000.0)]
    assert [(r["unit_id"], r["from_m"], r["to_m"]) for r in answer["diff"]["opened"]] == [("U4", 400.0, 700.0)]
    assert "+ 幸福巷 (S1) 400–700 米：空闲单位 (U4) 牵头" in answer["text"]
    assert _hashes(dataset) == before

    applied = client.post("/assignments/changes", json=_change(), headers=_auth(client, "planner"))
    assert applied.status_code == 200, applied.text
    result = applied.json()
    assert result["applied"] and result["reloaded"] and result["change"]["by"] == "规划科 王芳"
    assert client.get("/healthz").json().get("content_hash", result["hash_after"]) == result["hash_after"]
    assert ("U2", "lead") in _units_at(client, "2026-12-31")
    assert ("U4", "lead") in _units_at(client, "2027-01-01") and ("U2", "lead") not in _units_at(client, "2027-01-01")

    history = client.get("/history", params={"feature_id": "S1"}, headers=_auth(client, "inspector"))
    assert history.status_code == 200
    changes = history.json()["changes"]
    assert [(c["by"], c["reason"], c["effective"]) for c in changes] == [("规划科 王芳", "路段调整", "2027-01-01")]
    one = client.get(f"/history/{changes[0]['id']}", headers=_auth(client, "inspector"))
    assert one.status_code == 200 and one.json()["diff"]["opened"][0]["unit_id"] == "U4"
    assert client.get("/history", params={"unit_id": "U1"}, headers=_auth(client, "inspector")).json()["count"] == 0
    assert client.get("/history/999", headers=_auth(client, "inspector")).status_code == 404
    assert client.get("/history").status_code == 401
    # Who held S1 on a date after the change, since when, and who decided it.
    place = client.get(
        "/history/place",
        params={"layer": "streets", "feature_id": "S1", "date": "2027-02-01"},
        headers=_auth(client, "inspector"),
    )
    assert place.status_code == 200, place.text
    holders = {h["unit_id"]: h for h in place.json()["holders"]}
    assert holders["U4"]["since"] == "2027-01-01" and holders["U4"]["unit_name"] == "空闲单位"
    assert holders["U4"]["change"]["by"] == "规划科 王芳" and holders["U4"]["change"]["reason"] == "路段调整"
    assert holders["U2"]["since"] is None and holders["U2"]["row_from"] == "2027-01-01"  # re-cut, never let go
    assert holders["U1"]["change"] is None  # its row was not touched
    missing = {"layer": "streets", "feature_id": "S99"}
    assert client.get("/history/place", params=missing, headers=_auth(client, "inspector")).status_code == 404


@pytest.mark.parametrize(("role", "status"), [("unit", 403), ("inspector", 403), (None, 401)])
def test_only_planners_edit(client: TestClient, dataset: Path, role: str | None, status: int) -> None:
    before = _hashes(dataset)
    headers = _auth(client, role) if role else {}
    assert client.post("/assignments/changes", json=_change(), headers=headers).status_code == status
    assert _hashes(dataset) == before


def test_errors_refuse_with_the_findings(client: TestClient, dataset: Path) -> None:
    before = _hashes(dataset)
    gap = {**RECUT, "assignments": [a for a in RECUT["assignments"] if a["unit_id"] != "U4"]}  # 400-700 m left bare
    refused = client.post("/assignments/changes", json=_change(places=[gap]), headers=_auth(client, "planner"))
    assert refused.status_code == 422
    details = refused.json()["details"]
    assert [(f["code"], f["feature_id"]) for f in details["findings"] if f["level"] == "error"] == [
        ("change_stretch_gap", "S1")
    ]
    assert _hashes(dataset) == before


def test_a_change_against_an_older_view_is_refused(client: TestClient, dataset: Path) -> None:
    old_hash = client.get("/healthz").json()["content_hash"]
    first = client.post("/assignments/changes", json=_change(base_hash=old_hash), headers=_auth(client, "planner"))
    assert first.status_code == 200, first.text
    other = {"layer": "compounds", "feature_id": "C2", "assignments": [{"unit_id": "U3"}]}
    second = client.post(
        "/assignments/changes", json=_change(places=[other], base_hash=old_hash), headers=_auth(client, "planner")
    )
    assert second.status_code == 409 and "the data changed since your view" in second.json()["message"]
    # The same change made on the current view goes through.
    current = client.get("/healthz").json()["content_hash"]
    third = client.post(
        "/assignments/changes", json=_change(places=[other], base_hash=current), headers=_auth(client, "planner")
    )
    assert third.status_code == 200, third.text


def test_files_changed_behind_the_servers_back_are_a_conflict(client: TestClient, dataset: Path) -> None:
    with open(dataset / "assignments.csv", "a", encoding="utf-8") as handle:
        handle.write("C3,U4,lead,,,,\n")  # someone edits the file while the server serves the old one
    refused = client.post("/assignments/changes", json=_change(), headers=_auth(client, "planner"))
    assert refused.status_code == 409
    assert "assignments.csv" in refused.json()["message"]
    # The server now serves what is on disk: the retry is made against it and goes through.
    retry = client.post("/assignments/changes", json=_change(), headers=_auth(client, "planner"))
    assert retry.status_code == 200, retry.text


def test_a_planner_uploads_the_edited_workbook(client: TestClient, dataset: Path, tmp_path: Path) -> None:
    exported = tmp_path / "责任分工表.xlsx"
    export_table(load_dataset(dataset), exported, date="2026-03-01")
    workbook = openpyxl.load_workbook(exported)
    sheet = workbook["无物业管理小区"]
    sheet["G2"], sheet["H2"] = None, "U4"  # C1 to U4
    workbook.save(exported)
    form = {"effective": "2027-01-01", "reason": "机构调整", "dry_run": "true"}
    files = {
        "workbook": (
            "责任分工表.xlsx",
            exported.read_bytes(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    }
    before = _hashes(dataset)
    dry = client.post("/assignments/changes/workbook", data=form, files=files, headers=_auth(client, "planner"))
    assert dry.status_code == 200, dry.text
    assert [(c["before"]["unit_id"], c["after"]["unit_id"]) for c in dry.json()["diff"]["changed"]] == [("U1", "U4")]
    assert dry.json()["source"] == "责任分工表.xlsx" and _hashes(dataset) == before
    applied = client.post(
        "/assignments/changes/workbook",
        data={**form, "dry_run": "false"},
        files=files,
        headers=_auth(client, "planner"),
    )
    assert applied.status_code == 200 and applied.json()["applied"]
    inside_c1 = {"lon": 600102.0, "lat": 3618102.0, "crs": M, "date": "2027-01-01"}
    matches = client.get("/lookup", params=inside_c1).json()["matches"]
    assert [u["unit_id"] for m in matches if not m["fallback"] for u in m["units"]] == ["U4"]
    assert (
        client.post("/assignments/changes/workbook", data=form, files=files, headers=_auth(client, "unit")).status_code
        == 403
    )
    bad = client.post(
        "/assignments/changes/workbook",
        data=form,
        files={"workbook": ("x.xlsx", b"not a workbook", "application/octet-stream")},
        headers=_auth(client, "planner"),
    )
    assert bad.status_code == 422 and "x.xlsx cannot be read as an Excel .xlsx workbook" in bad.json()["message"]


def test_a_place_that_does_not_exist_is_named_by_its_path_in_the_body(client: TestClient, dataset: Path) -> None:
    nowhere = {"layer": "streets", "feature_id": "S99", "assignments": [{"unit_id": "U1"}]}
    answer = client.post(
        "/assignments/changes", json=_change(places=[RECUT, nowhere], dry_run=True), headers=_auth(client, "planner")
    )
    assert answer.status_code == 200 and not answer.json()["ok"]
    errors = [f for f in answer.json()["findings"] if f["level"] == "error"]
    assert [(f["code"], f["message"]) for f in errors] == [
        ("unknown_feature", "places[1]: no feature 'S99' in layer 'streets'")
    ]
    bad_role = {**RECUT, "assignments": [{"unit_id": "U1", "role": "boss"}]}
    refused = client.post("/assignments/changes", json=_change(places=[bad_role]), headers=_auth(client, "planner"))
    assert refused.status_code == 422  # the body's schema: lead, shared or supervisor


def test_a_full_disk_leaves_the_previous_version_and_a_retry_goes_through(
    client: TestClient, dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import geo.table_versions as versions

    def disk_full(path: Path, data: bytes) -> None:
        raise OSError(28, "No space left on device")

    before = (dataset / "assignments.csv").read_bytes()
    monkeypatch.setattr(versions, "write_file", disk_full)
    answer = client.post("/assignments/changes", json=_change(), headers=_auth(client, "planner"))
    # A fault of the server's disk is the server's: 500 without internals, the reason in the server's log.
    assert answer.status_code == 500 and answer.json()["error"] == "internal_error"
    assert (dataset / "assignments.csv").read_bytes() == before
    assert ("U2", "lead") in _units_at(client, "2027-01-01")
    monkeypatch.undo()
    again = client.post("/assignments/changes", json=_change(), headers=_auth(client, "planner"))
    assert again.status_code == 200 and again.json()["applied"]
