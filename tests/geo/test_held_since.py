"""Since when a unit has held a place: unbroken holdings through re-cuts (geo.held_since)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from geo import Dataset, load_dataset
from geo.held_since import holders_since

MINI = Path(__file__).resolve().parents[1] / "data" / "mini"


def test_a_unit_that_took_over_holds_since_the_takeover(mini_ds: Dataset) -> None:
    # S2: U1 until 2025-12-31, U3 from 2026-01-01: U3's holding begins then, not before.
    assert [h.to_dict() for h in holders_since(mini_ds, "streets", "S2", dt.date(2026, 3, 1))] == [
        {"unit_id": "U3", "role": "lead", "from_m": None, "to_m": None, "since": "2026-01-01", "row_from": "2026-01-01"}
    ]
    assert [(h.unit_id, h.since) for h in holders_since(mini_ds, "streets", "S2", dt.date(2025, 6, 1))] == [
        ("U1", None)  # since the data begins
    ]


def test_a_recut_stretch_keeps_its_unit_since_the_first_row(tmp_path: Path) -> None:
    folder = tmp_path / "mini"
    shutil.copytree(MINI, folder, ignore=shutil.ignore_patterns("data"))
    text = (folder / "assignments.csv").read_text(encoding="utf-8")
    text = text.replace("S1,U1,lead,0,400,,", "S1,U1,lead,0,400,2025-05-01,2026-12-31")
    text += "S1,U1,lead,0,500,2027-01-01,\n"
    (folder / "assignments.csv").write_text(text, encoding="utf-8")
    ds = load_dataset(folder)
    held = {h.unit_id: h for h in holders_since(ds, "streets", "S1", dt.date(2027, 2, 1))}
    assert (held["U1"].since, held["U1"].row_from, held["U1"].to_m) == (dt.date(2025, 5, 1), dt.date(2027, 1, 1), 500.0)
    assert held["U2"].since is None and held["U3"].role == "supervisor"
    # The day before the re-cut: the old row, the same beginning.
    before = {h.unit_id: h for h in holders_since(ds, "streets", "S1", dt.date(2026, 12, 31))}
    assert (before["U1"].since, before["U1"].to_m) == (dt.date(2025, 5, 1), 400.0)
