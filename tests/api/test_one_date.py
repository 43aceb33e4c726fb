"""One date rule for every command and route: ``--date``, else ``[dataset] status_date``, else today.

A new user saw ``validate`` count on the catalog's data date while coverage and
export used today: validate said 1 idle unit and coverage 2, validate counted
620 duty zones and export wrote 615. Here the same dataset is asked through
validate, coverage, export and the served figures, and every figure must agree;
two dates whose figures differ make sure no command quietly uses another date.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.cli import main
from api.settings import Settings
from geo import load_dataset

MINI = Path(__file__).resolve().parents[1] / "data" / "mini"
BEFORE = "2026-03-01"  # U4 idle (its compound starts later); C1 shared by U1 and U2
AFTER = "2027-02-01"  # U4 holds C3; U2's share of C1 has ended


@pytest.fixture(scope="module")
def dated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mini dataset with assignments that start and end, so the figures depend on the date."""
    folder = tmp_path_factory.mktemp("dated") / "mini"
    shutil.copytree(MINI, folder)
    with (folder / "assignments.csv").open("a", encoding="utf-8") as handle:
        handle.write("C3,U4,lead,,,2027-01-01,\nC1,U2,shared,,,,2026-06-30\n")
    return folder


def with_status_date(dataset: Path, tmp_path: Path, status_date: str | None) -> Path:
    folder = tmp_path / "ds"
    shutil.copytree(dataset, folder)
    if status_date is not None:
        catalog = (folder / "catalog.toml").read_text(encoding="utf-8")
        catalog = catalog.replace("[dataset]\n", f'[dataset]\nstatus_date = "{status_date}"\n', 1)
        (folder / "catalog.toml").write_text(catalog, encoding="utf-8")
    return folder


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    code = main(list(argv))
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


def figures(capsys: pytest.CaptureFixture[str], folder: Path, tmp_path: Path, date: str | None) -> dict[str, tuple]:
    """(date, idle units, zones in force) as each way in reports them."""
    extra = [] if date is None else ["--date", date]
    validate = run_json(capsys, "--dataset", str(folder), "validate", "--json", *extra)
    idle_warnings = sum(1 for f in validate["findings"] if f["code"] == "unit_unused")
    coverage = run_json(capsys, "--dataset", str(folder), "coverage", "--json", *extra)
    out_csv = tmp_path / f"zones-{date}.csv"
    assert main(["--dataset", str(folder), "export", "-o", str(out_csv), *extra]) == 0
    export_text = capsys.readouterr().out
    with out_csv.open(encoding="utf-8-sig") as handle:
        export_rows = sum(1 for _ in csv.DictReader(handle))
    out_geojson = tmp_path / f"zones-{date}.geojson"
    assert main(["--dataset", str(folder), "export", "-o", str(out_geojson), *extra]) == 0
    capsys.readouterr()
    export_zones = len(json.loads(out_geojson.read_text(encoding="utf-8"))["features"])
    shown = {
        "validate": (validate["date"], idle_warnings, validate["zones"]),
        "coverage": (coverage["date"], len(coverage["idle_units"]), None),
        "export": (None, None, export_rows),
        "export_zones": (None, None, export_zones),
    }
    assert (validate["date"] in export_text) and "status on" in export_text  # the date printed beside the figure
    if date is None:  # the server takes no --date: it serves the dataset's own rule
        ds = load_dataset(folder)
        with TestClient(create_app(Settings(dataset=folder), dataset=ds)) as client:
            health = client.get("/healthz").json()
            served = client.get("/coverage").json()
        shown["healthz"] = (health["date"], None, health["zones_in_force"])
        shown["served coverage"] = (served["date"], len(served["idle_units"]), None)
    return shown


def agree(shown: dict[str, tuple]) -> tuple:
    """One value per column across every way in (None: that way does not report it)."""
    columns = list(zip(*shown.values(), strict=True))
    values = []
    for name, column in zip(("date", "idle units", "zones"), columns, strict=True):
        seen = {value for value in column if value is not None}
        assert len(seen) == 1, f"{name} differs: {shown}"
        values.append(seen.pop())
    return tuple(values)


def test_declared_status_date_is_used_everywhere(
    dated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = agree(figures(capsys, with_status_date(dated, tmp_path / "b", BEFORE), tmp_path, None))
    after = agree(figures(capsys, with_status_date(dated, tmp_path / "a", AFTER), tmp_path, None))
    assert before[0] == BEFORE and after[0] == AFTER
    assert before[1] == after[1] + 1  # U4 idle before its compound starts, busy after
    assert before[2] == after[2] + 1  # C1's shared row ends on 2026-06-30


def test_date_flag_overrides_the_status_date_in_every_command(
    dated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = with_status_date(dated, tmp_path, BEFORE)
    assert agree(figures(capsys, folder, tmp_path, AFTER))[0] == AFTER


def test_without_a_status_date_every_way_in_uses_today(
    dated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    date, _, _ = agree(figures(capsys, with_status_date(dated, tmp_path, None), tmp_path, None))
    assert date == dt.date.today().isoformat()


def test_malformed_status_date_names_the_file_and_field(
    dated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = with_status_date(dated, tmp_path, "next tuesday")
    assert main(["--dataset", str(folder), "validate"]) == 1
    out = capsys.readouterr().out
    assert "catalog.toml: [dataset] status_date = 'next tuesday' is not a date" in out
    assert "Traceback" not in out


def test_validate_prints_the_date_and_where_it_comes_from(
    dated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = with_status_date(dated, tmp_path, BEFORE)
    main(["--dataset", str(folder), "validate"])
    out = capsys.readouterr().out
    assert f"status on {BEFORE} (the dataset's status_date)" in out
    main(["--dataset", str(folder), "coverage"])
    assert f"状态日期 {BEFORE}（数据集声明的 status_date）" in capsys.readouterr().out
