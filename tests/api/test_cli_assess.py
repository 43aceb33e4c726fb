"""``respmap assess`` and ``respmap bulletin`` on a store filled through the engine (SQLite)."""

# ruff: noqa: F811 - the filled_store fixture is imported, then used by name
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import docx
import openpyxl
import pytest
from pypdf import PdfReader

from api.cli import main
from api.commands.assess import last_complete_month, write_period_kit
from geo import Dataset
from geo.periods import parse_period
from tests.api.assessment_store import MINI, FilledStore, filled_store  # noqa: F401 - the fixture

pytestmark = pytest.mark.usefixtures("cli_env")


@pytest.fixture
def cli_env(filled_store: FilledStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESPMAP_DATABASE_URL", filled_store.url)
    monkeypatch.setenv("RESPMAP_DATA_DIR", str(filled_store.data_dir))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["--dataset", str(MINI), *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_assess_json_figures_from_the_store(filled_store: FilledStore, capsys) -> None:
    code, out, err = run(capsys, "assess", "--period", "2026-11", "--json")
    assert code == 0, err
    data = json.loads(out)
    ids = filled_store.ids
    units = {u["id"]: u for u in data["units"]}
    u1, u2, hq2 = units["U1"], units["U2"], units["HQ2"]
    assert sorted(u1["cases"]["attributed"]) == sorted([ids["A"], ids["C"]])
    assert u1["cases"]["closed_on_time"] == [ids["A"]]  # closed exactly at the 2-hour deadline
    assert u1["cases"]["overdue_open"] == [ids["C"]]
    assert u1["on_time_rate"] == 0.5 and u1["close_rate"] == 0.5
    assert u2["cases"]["late"] == [ids["B"]] and u2["on_time_rate"] == 0.0  # one minute late
    assert hq2["cases"]["closed_on_time"] == [ids["D"]]  # the fallback HQ answers for unheld ground
    assert data["city"]["attributed"] == 4 and data["period"]["label"] == "2026-11"
    assert data["overdue"][0]["case_id"] == ids["C"]
    assert [u["id"] for u in data["units"] if u["ranked"]][-1] == "U2"


def test_assess_text_and_files(filled_store: FilledStore, capsys, tmp_path: Path) -> None:
    code, out, err = run(capsys, "assess", "--from", "2026-11-01", "--to", "2026-11-30", "-o", str(tmp_path / "out"))
    assert code == 0, err
    assert "assessment 2026-11-01..2026-11-30" in out and "cases attributed 4" in out
    assert "worst:" in out and "市住建局 (U2)" in out
    folder = tmp_path / "out"
    saved = json.loads((folder / "assessment.json").read_text(encoding="utf-8"))
    workbook = openpyxl.load_workbook(folder / "assessment.xlsx", read_only=True)
    assert workbook.sheetnames == ["单位 units", "片区 districts", "全市 city", "案件明细 cases"]
    rows = list(workbook["单位 units"].iter_rows(values_only=True))
    header = rows[0]
    by_id = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert by_id["U1"]["立案数 attributed"] == 2 and by_id["U1"]["按期结案率 on_time_rate"] == 0.5
    assert by_id["U1"]["得分 score"] == next(u["score"] for u in saved["units"] if u["id"] == "U1")
    cases = list(workbook["案件明细 cases"].iter_rows(values_only=True))
    assert ("unit", "U1", "市民政局", "overdue_open", "超期未结", filled_store.ids["C"]) in cases
    districts = json.loads((folder / "assessment_districts.geojson").read_text(encoding="utf-8"))
    d1 = next(f for f in districts["features"] if f["properties"]["id"] == "D1")
    assert d1["geometry"]["type"] == "Polygon" and d1["properties"]["attributed"] == 3
    points = json.loads((folder / "assessment_cases.geojson").read_text(encoding="utf-8"))
    overdue = [f["properties"]["case_id"] for f in points["features"] if f["properties"]["overdue_open"]]
    assert overdue == [filled_store.ids["C"]]


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (("assess",), 2, "give --period"),  # no period at all
        (("assess", "--period", "2026-13"), 2, "month 13 is not 1-12"),
        (("assess", "--from", "2026-11-05"), 2, "--from and --to go together"),
        (("assess", "--period", "2026-11", "--from", "2026-11-01", "--to", "2026-11-02"), 2, "not both"),
        (("bulletin", "--period", "2026-11", "-o", "x.txt"), 2, "must end in .pdf or .docx"),
    ],
)
def test_usage_mistakes_are_one_line(capsys, argv: tuple[str, ...], code: int, message: str) -> None:
    got, _out, err = run(capsys, *argv)
    assert got == code and message in err and "Traceback" not in err


def test_bulletin_pdf_and_docx_from_the_store(filled_store: FilledStore, capsys, tmp_path: Path) -> None:
    code, out, err = run(capsys, "bulletin", "--period", "2026-11", "-o", str(tmp_path / "b.docx"), "--json")
    assert code == 0, err
    info = json.loads(out)
    assert info["number"] == 11 and info["overdue_listed"] == 1 and info["notes"] == []
    document = docx.Document(str(tmp_path / "b.docx"))
    text = "\n".join(p.text for p in document.paragraphs)
    # the ranking rows, in order, with the figures `respmap assess --json` prints
    code, out, _ = run(capsys, "assess", "--period", "2026-11", "--json", "--no-cases")
    printed = json.loads(out)
    assert code == 0 and "cases" not in printed["units"][0]
    ranking = next(t for t in document.tables if t.rows[0].cells[1].text == "单位")
    rows = [[c.text for c in row.cells][:4] for row in ranking.rows[1:]]
    assert rows == [
        [str(u["rank"]), u["name"], f"{u['score']:.2f}", str(u["attributed"])] for u in printed["units"] if u["ranked"]
    ]
    assert "关于2026年11月环境卫生责任考核情况的通报" in text and f"案件 {filled_store.ids['C']}" in text
    assert len(document.inline_shapes) == 3  # map, charts, C's photo from the store
    code, out, err = run(
        capsys, "bulletin", "--period", "2026-11", "-o", str(tmp_path / "b.pdf"), "--kind", "快报", "--number", "7"
    )
    assert code == 0, err and "wrote" in out
    text = "".join(page.extract_text() for page in PdfReader(tmp_path / "b.pdf").pages)
    assert "快报" in text and "第 7 期" in text


def test_the_kit_of_a_period_for_respmap_build(filled_store: FilledStore, mini_ds: Dataset, tmp_path: Path) -> None:
    november = parse_period("2026-11", "Asia/Shanghai")
    written = write_period_kit(filled_store.store, mini_ds, tmp_path / "kit", november)
    assert sorted(p.name for p in written) == [
        "assessment.json",
        "assessment.xlsx",
        "assessment_cases.geojson",
        "assessment_districts.geojson",
        "bulletin-2026-11.docx",
        "bulletin-2026-11.pdf",
    ]
    assert all(p.stat().st_size > 0 for p in written)
    # a month without cases: no assessment in the kit
    assert write_period_kit(filled_store.store, mini_ds, tmp_path / "empty", parse_period("2026-09")) == []


@pytest.mark.parametrize(
    ("day", "label"),
    [("2026-12-03", "2026-11"), ("2027-01-01", "2026-12"), ("2026-03-31", "2026-02")],  # mid-month, new year, month end
)
def test_last_complete_month(day: str, label: str) -> None:
    assert last_complete_month(dt.date.fromisoformat(day), "Asia/Shanghai").label == label


def test_a_past_period_counts_a_case_closed_since(migrated_sqlite: Path, tmp_path: Path, mini_ds: Dataset) -> None:
    """Reported in August, overdue and untouched through November, closed in December: November's backlog."""
    import shutil

    from pyproj import Transformer

    from api.assessment_source import assess_period
    from cases.categories import load_categories
    from cases.service import CaseService
    from cases.store import open_store, store_config
    from cases.users import Actor

    target = tmp_path / "past.sqlite3"  # beside, not over, the module's filled store
    shutil.copyfile(migrated_sqlite, target)
    store = open_store(config=store_config(url=f"sqlite:///{target}", data_dir=tmp_path / "past-data"))
    try:
        now = [dt.datetime(2026, 8, 3, 1, 0, tzinfo=dt.UTC)]
        service = CaseService(store, mini_ds, load_categories(mini_ds.path), clock=lambda: now[0])
        office = Actor(None, "office", "admin")
        lon, lat = Transformer.from_crs("EPSG:4545", "EPSG:4326", always_xy=True).transform(600102.0, 3618102.0)
        case = service.create(office, lon=lon, lat=lat, category="exposed_garbage", at=now[0])
        now[0] = dt.datetime(2026, 12, 2, 1, 0, tzinfo=dt.UTC)
        service.act(office, case["case_id"], "rectify", note="done")
        service.act(office, case["case_id"], "close", note="ok")
        november = assess_period(store, mini_ds, parse_period("2026-11", "Asia/Shanghai"))
        assert november.unit("U1").case_ids["overdue_open"].tolist() == [case["case_id"]]
        december = assess_period(store, mini_ds, parse_period("2026-12", "Asia/Shanghai"))
        assert december.unit("U1").figures["overdue_open"] == 0
    finally:
        store.dispose()
