"""The history of responsibility in the store, on each backend: recorded, listed, filtered, synced from notes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cases.history import get_change, list_changes, record_note, sync_versions


def _note(by: str, reason: str, effective: str, features: list[str], units: list[str], at: str) -> dict[str, Any]:
    return {
        "at": at,
        "by": by,
        "reason": reason,
        "effective": effective,
        "source": "责任分工表.xlsx",
        "hash_before": "a" * 16,
        "hash_after": "b" * 16,
        "diff": {"opened": [], "closed": [], "changed": [], "features": features, "units": units},
    }


def test_changes_are_listed_newest_first_and_filtered(store: Any, tmp_path: Path) -> None:
    dataset = tmp_path / "city"
    dataset.mkdir()
    record_note(
        store,
        _note("张伟", "机构调整", "2027-01-01", ["S1"], ["U1", "U2"], "2026-12-01T08:00:00+00:00"),
        dataset,
        "v0002-a",
    )
    record_note(
        store,
        _note("李娜", "小区移交", "2027-03-01", ["C2"], ["U2", "U3"], "2026-12-02T08:00:00+00:00"),
        dataset,
        "v0003-b",
    )
    record_note(
        store,
        _note("别人", "另一座城", "2027-01-01", ["S1"], ["U1"], "2026-12-03T08:00:00+00:00"),
        tmp_path / "other",
        "v0002-c",
    )
    listed = list_changes(store, dataset)
    assert [(c["by"], c["reason"], c["effective"], c["version"]) for c in listed] == [
        ("李娜", "小区移交", "2027-03-01", "v0003-b"),
        ("张伟", "机构调整", "2027-01-01", "v0002-a"),
    ]
    assert [c["by"] for c in list_changes(store, dataset, feature_id="S1")] == ["张伟"]
    assert [c["by"] for c in list_changes(store, dataset, unit_id="U2")] == ["李娜", "张伟"]
    assert list_changes(store, dataset, unit_id="U9") == []
    one = get_change(store, listed[0]["id"])
    assert one is not None and one["hash_after"] == "b" * 16 and one["source"] == "责任分工表.xlsx"
    assert get_change(store, 10_000) is None


def test_version_notes_the_store_missed_are_recorded_once(store: Any, tmp_path: Path) -> None:
    dataset = tmp_path / "city"
    for name, by in (("v0001-original", None), ("v0002-20270101T000000Z", "张伟"), ("v0003-20270102T000000Z", "李娜")):
        folder = dataset / "history" / name
        folder.mkdir(parents=True)
        if by:  # the original tables have no note: nobody changed anything yet
            note = _note(by, "补记", "2027-01-01", ["S1"], ["U1"], "2026-12-01T08:00:00+00:00")
            (folder / "change.json").write_text(json.dumps(note, ensure_ascii=False), encoding="utf-8")
    record_note(
        store,
        _note("张伟", "补记", "2027-01-01", ["S1"], ["U1"], "2026-12-01T08:00:00+00:00"),
        dataset,
        "v0002-20270101T000000Z",
    )
    assert sync_versions(store, dataset) == 1
    assert sync_versions(store, dataset) == 0
    assert sorted(c["version"] for c in list_changes(store, dataset)) == [
        "v0002-20270101T000000Z",
        "v0003-20270102T000000Z",
    ]
