"""Switching the assignments and units tables together, keeping every version (geo.table_versions)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from geo.table_versions import VersioningError, current_version, switch_tables, versions

TABLES = ["assignments.csv", "units.csv"]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "assignments.csv").write_text("feature_id,unit_id\nS1,U1\n", encoding="utf-8")
    (tmp_path / "units.csv").write_text("unit_id,name\nU1,甲\n", encoding="utf-8")
    return tmp_path


def test_each_switch_keeps_the_previous_versions(folder: Path) -> None:
    first = switch_tables(folder, {"assignments.csv": b"feature_id,unit_id\nS1,U2\n"}, TABLES, {"by": "张伟"})
    second = switch_tables(folder, {"units.csv": "unit_id,name\nU2,乙\n".encode()}, TABLES, {"by": "李娜"})
    assert [v.name.split("-")[0] for v in versions(folder)] == ["v0001", "v0002", "v0003"]
    assert versions(folder)[0].name == "v0001-original" and current_version(folder) == second
    # What readers see: the newest of each table, the units carried over unchanged in the first switch.
    assert (folder / "assignments.csv").read_text(encoding="utf-8") == "feature_id,unit_id\nS1,U2\n"
    assert (folder / "units.csv").read_text(encoding="utf-8") == "unit_id,name\nU2,乙\n"
    assert (first / "units.csv").read_text(encoding="utf-8") == "unit_id,name\nU1,甲\n"
    assert (versions(folder)[0] / "assignments.csv").read_text(encoding="utf-8") == "feature_id,unit_id\nS1,U1\n"
    assert json.loads((second / "change.json").read_text(encoding="utf-8")) == {"by": "李娜"}
    assert all(os.readlink(folder / name) == f"history/current/{name}" for name in TABLES)
    mode = stat.S_IMODE((second / "units.csv").stat().st_mode)
    assert mode == 0o444  # a kept version is not edited through the link


def test_a_table_saved_by_hand_over_the_link_is_kept_as_its_own_version(folder: Path) -> None:
    switch_tables(folder, {"assignments.csv": b"feature_id,unit_id\nS1,U2\n"}, TABLES, {"by": "张伟"})
    (folder / "assignments.csv").unlink()  # an editor saving a new file where the link was
    (folder / "assignments.csv").write_text("feature_id,unit_id\nS1,U3\n", encoding="utf-8")
    switch_tables(folder, {"units.csv": "unit_id,name\nU3,丙\n".encode()}, TABLES, {"by": "李娜"})
    names = [v.name for v in versions(folder)]
    assert names[2].startswith("v0003-edited-by-hand-") and names[3].startswith("v0004-")
    # The hand edit was not lost: it is in force, with the new units.
    assert (folder / "assignments.csv").read_text(encoding="utf-8") == "feature_id,unit_id\nS1,U3\n"
    assert (folder / "units.csv").read_text(encoding="utf-8") == "unit_id,name\nU3,丙\n"
    assert (folder / "assignments.csv").is_symlink()


def test_a_check_that_refuses_writes_nothing(folder: Path) -> None:
    def refuse() -> None:
        raise RuntimeError("changed meanwhile")

    with pytest.raises(RuntimeError):
        switch_tables(folder, {"assignments.csv": b"x\n"}, TABLES, {}, check=refuse)
    assert not (folder / "assignments.csv").is_symlink() and versions(folder) == []


def test_tables_in_a_subfolder_are_refused_with_a_message(tmp_path: Path) -> None:
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "assignments.csv").write_text("feature_id,unit_id\n", encoding="utf-8")
    with pytest.raises(VersioningError, match=r"tables/assignments\.csv: respmap keeps versions"):
        switch_tables(tmp_path, {"tables/assignments.csv": b"x\n"}, ["tables/assignments.csv"], {})
