"""The report kit: every file linked from index.html, data escaped, swapped in whole, old kits kept on failure."""

from __future__ import annotations

import html
import re
import shutil
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook
from PIL import Image
from pypdf import PdfReader

import maps.report as report
from api.cli import main
from geo import Dataset, load_dataset
from maps.report import KIT_MARKER, ReportFolderError, build_report, safe_file_name

DATE = "2026-03-01"
MINI = Path(__file__).resolve().parents[1] / "data" / "mini"
SCRIPT_UNIT = "<img src=x onerror=alert(1)>"
MATH_DISTRICT = "$x^2$ 片区 <b>"


@pytest.fixture(scope="module")
def hostile_ds(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """The mini dataset with names that are HTML and mathtext, and a unit id that is no file name."""
    folder = tmp_path_factory.mktemp("hostile") / "mini"
    shutil.copytree(MINI, folder)
    units = (folder / "units.csv").read_text(encoding="utf-8").replace("市民政局", SCRIPT_UNIT.replace(",", " "))
    units = units.replace("U4,空闲单位", "U/4 ..,空闲单位")
    (folder / "units.csv").write_text(units, encoding="utf-8")
    districts = (folder / "districts.geojson").read_text(encoding="utf-8").replace("西片区", MATH_DISTRICT)
    (folder / "districts.geojson").write_text(districts, encoding="utf-8")
    ds = load_dataset(folder)
    assert ds.ok, ds.findings
    return ds


@pytest.fixture(scope="module")
def kit(hostile_ds: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("kits") / "kit"
    build_report(hostile_ds, folder, date=DATE, progress=False)
    return folder


def _links(index: Path) -> list[str]:
    return [unquote(html.unescape(href)) for href in re.findall(r'(?:href|src)="([^"]+)"', index.read_text("utf-8"))]


def test_index_links_every_file_and_every_link_resolves(kit: Path):
    links = _links(kit / "index.html")
    assert links
    for link in links:
        assert (kit / link).is_file(), link
    files = {p.relative_to(kit).as_posix() for p in kit.rglob("*") if p.is_file()}
    assert files - {"index.html", KIT_MARKER} <= set(links)
    for expected in (
        "city.png",
        "city.pdf",
        "atlas.pdf",
        "atlas_districts.pdf",
        "responsibility.xlsx",
        "responsibility.csv",
        "duty_zones.geojson",
        "duty_zones.gpkg",
        "units/U1.png",
        "districts/D1.png",
        "coverage/coverage.json",
        "coverage/unheld.geojson",
    ):
        assert expected in files


def test_index_escapes_every_data_value(kit: Path):
    text = (kit / "index.html").read_text(encoding="utf-8")
    assert "<img src=x" not in text and "<b>" not in text
    assert html.escape(SCRIPT_UNIT.replace(",", " ")) in text
    assert html.escape(MATH_DISTRICT) in text


def test_kit_contents_are_real_outputs(kit: Path, hostile_ds: Dataset):
    with Image.open(kit / "city.png") as image:
        assert image.size[0] > 500
    assert len(PdfReader(kit / "atlas.pdf").pages) == 1 + len(hostile_ds.units)
    assert len(PdfReader(kit / "atlas_districts.pdf").pages) == 1 + 2
    # Names that look like mathtext print as typed.
    assert any("$x^2$ 片区" in page.extract_text() for page in PdfReader(kit / "atlas_districts.pdf").pages)
    sheets = load_workbook(kit / "responsibility.xlsx").sheetnames
    assert sheets[-2:] == ["责任单位", "保洁标准"]
    assert (kit / "units" / f"{safe_file_name('U/4 ..')}.png").is_file()


def test_unit_ids_become_safe_distinct_file_names():
    assert safe_file_name("U12") == "U12"
    odd = safe_file_name("../etc/passwd")
    assert "/" not in odd and not odd.startswith(".")
    assert safe_file_name("a/b") != safe_file_name("a_b")  # a hash keeps ids apart


def test_a_failed_build_leaves_the_previous_kit_whole(hostile_ds: Dataset, tmp_path: Path, monkeypatch):
    folder = tmp_path / "kit"
    folder.mkdir()
    (folder / KIT_MARKER).write_text("respmap report kit\n", encoding="utf-8")
    (folder / "index.html").write_text("the previous kit", encoding="utf-8")

    def broken(kit):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(report, "_zones", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        build_report(hostile_ds, folder, date=DATE, progress=False, unit_maps=False)
    assert (folder / "index.html").read_text(encoding="utf-8") == "the previous kit"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kit"]  # the staging folder is gone


def test_a_successful_build_replaces_the_previous_kit(tmp_path: Path, mini_ds: Dataset, monkeypatch):
    monkeypatch.setattr(report, "_atlases", lambda kit: None)  # keep this test quick
    folder = tmp_path / "kit"
    folder.mkdir()
    (folder / KIT_MARKER).write_text("respmap report kit\n", encoding="utf-8")
    (folder / "stale.png").write_bytes(b"old")
    result = build_report(mini_ds, folder, date=DATE, progress=False, unit_maps=False)
    assert not (folder / "stale.png").exists()
    assert (folder / "index.html").is_file() and (folder / KIT_MARKER).is_file()
    assert "city.png" in result.files
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kit"]


def test_a_folder_that_is_not_a_kit_is_never_replaced(mini_ds: Dataset, tmp_path: Path):
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "report.docx").write_bytes(b"a week of work")
    with pytest.raises(ReportFolderError, match="not an earlier report kit"):
        build_report(mini_ds, folder, date=DATE, progress=False)
    assert (folder / "report.docx").read_bytes() == b"a week of work"


def test_index_says_when_the_interactive_map_is_not_available(mini_ds: Dataset, tmp_path: Path, monkeypatch):
    monkeypatch.setitem(sys.modules, "maps.interactive", None)  # import fails as if the module were absent
    for step in ("_atlases", "_coverage", "_zones", "_tables"):
        monkeypatch.setattr(report, step, lambda kit: None)
    result = build_report(mini_ds, tmp_path / "kit", date=DATE, progress=False, unit_maps=False)
    assert any("interactive map not available" in note for note in result.notes)
    text = (tmp_path / "kit" / "index.html").read_text(encoding="utf-8")
    assert "interactive map not available" in text
    assert "city.html" not in _links(tmp_path / "kit" / "index.html")


def test_build_command_refuses_a_folder_of_other_files(tmp_path: Path, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me", encoding="utf-8")
    assert main(["--dataset", str(MINI), "build", "-o", str(folder)]) == 2
    assert "not an earlier report kit" in capsys.readouterr().err
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_build_command_shows_no_progress_bar_off_a_terminal(tmp_path: Path, capsys, monkeypatch):
    for step in ("_atlases", "_unit_maps", "_district_maps", "_interactive", "_coverage"):
        monkeypatch.setattr(report, step, lambda kit: None)
    assert main(["--dataset", str(MINI), "build", "-o", str(tmp_path / "kit"), "--date", DATE, "--dpi", "50"]) == 0
    captured = capsys.readouterr()
    assert "report kit written" in captured.out
    assert "%|" not in captured.err  # tqdm draws only on a terminal
