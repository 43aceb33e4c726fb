"""Point files (api.point_files): columns never move, width is bounded, one reader for CLI and HTTP.

Issue 15, items 2 and 3: rows ending with a comma (Excel writes them) made pandas
take the first column as the index, so names vanished, lon/lat shifted and every
row was answered "latitude is missing" with a 200; a CSV with 200,000 empty columns
took 53 s of CPU. Here every row keeps its columns, a row that cannot be placed says
why while the others are answered, and a too-wide file is refused before parsing.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from pyproj import Transformer

from api.app import create_app
from api.cli import main
from api.point_files import MAX_COLUMNS, MAX_HEADER_BYTES, TooWideError, open_points
from api.settings import Settings
from geo import Dataset

DATA = Path(__file__).resolve().parents[1] / "data"
MINI = str(DATA / "mini")
DAY = "2026-03-01"
TO_LONLAT = Transformer.from_crs("EPSG:4545", "EPSG:4326", always_xy=True)
# Compound C3 of the mini dataset (nobody holds it) and the second stretch of street S1.
C3 = TO_LONLAT.transform(601550, 3618550)
S1 = TO_LONLAT.transform(600600, 3618805)


@pytest.fixture(scope="module")
def client(mini_ds: Dataset) -> TestClient:
    with TestClient(create_app(Settings(dataset=mini_ds.path), dataset=mini_ds)) as test_client:
        yield test_client


def _table(content: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(content), dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _upload(client: TestClient, text: str) -> tuple[int, bytes]:
    answer = client.post("/lookup/csv", params={"date": DAY}, files={"file": ("p.csv", text.encode(), "text/csv")})
    return answer.status_code, answer.content


def test_rows_ending_with_a_comma_keep_their_columns_over_http(client: TestClient) -> None:
    text = f"name,lon,lat\nA,{C3[0]:.9f},{C3[1]:.9f},\nB,{S1[0]:.9f},{S1[1]:.9f},\n"
    status, content = _upload(client, text)
    assert status == 200
    table = _table(content)
    assert table["name"].tolist() == ["A", "B"]  # the first column is data, not the index
    assert table["feature_id"].tolist() == ["C3", "S1"] and table["error"].tolist() == ["", ""]
    assert table.columns[:3].tolist() == ["name", "lon", "lat"]


def test_the_cli_reads_the_same_file_the_same_way(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "p.csv"
    source.write_text(f"name,lon,lat\nA,{C3[0]:.9f},{C3[1]:.9f},\n", encoding="utf-8")
    code = main(["--dataset", MINI, "assign", str(source), "-o", str(tmp_path / "out.csv"), "--date", DAY])
    assert code == 0, capsys.readouterr().err
    table = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert table[["name", "feature_id"]].values.tolist() == [["A", "C3"]]


@pytest.mark.parametrize("chunk_rows", [1, 2, 1000])  # the bad row in the first chunk, a later one, or the only one
def test_a_row_with_values_past_the_header_gets_an_error_and_the_others_are_answered(
    tmp_path: Path, mini_ds: Dataset, chunk_rows: int
) -> None:
    good = f"{C3[0]:.9f},{C3[1]:.9f}"
    lines = [
        "name,lon,lat",
        f"A,{good}",
        f"B,{good},stray",  # one value too many: the C parser's extra column
        f"C,{good}",
        f"D,{good},x,y,z",  # several too many: read on exactly by the csv module
        f"E,{good},,",  # only empty fields past the header: a trailing separator, fine
        f'"F, with a comma",{good}',  # a quoted separator is part of the value
        f"G,{good}",
    ]
    source = tmp_path / "p.csv"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    reader = open_points(source, chunk_rows=chunk_rows)
    rows = []
    for chunk in reader.chunks():
        table = mini_ds.lookup_many(chunk.lon, chunk.lat, date=DAY)
        for i, name in enumerate(chunk.frame["name"]):
            rows.append((name, chunk.frame["lon"][i], table["feature_id"][i], chunk.errors.get(i, "")))
    assert [r[0] for r in rows] == ["A", "B", "C", "D", "E", "F, with a comma", "G"]
    assert all(r[1] == f"{C3[0]:.9f}" for r in rows)  # no value moved to another column
    answered = {r[0]: r[2] for r in rows}
    assert answered == {"A": "C3", "B": "", "C": "C3", "D": "", "E": "C3", "F, with a comma": "C3", "G": "C3"}
    errors = {r[0]: r[3] for r in rows if r[3]}
    assert set(errors) == {"B", "D"}
    assert "4 fields but the header has 3 columns" in errors["B"]
    assert "6 fields but the header has 3 columns" in errors["D"]


def test_a_row_past_the_header_is_reported_in_the_answer_csv(client: TestClient) -> None:
    status, content = _upload(client, f"name,lon,lat\nA,{C3[0]},{C3[1]},oops\nB,{C3[0]},{C3[1]}\n")
    table = _table(content)
    assert status == 200 and table["name"].tolist() == ["A", "B"]
    assert "cannot be placed" in table["error"][0] and table["feature_id"][0] == ""
    assert table["error"][1] == "" and table["feature_id"][1] == "C3"


def test_a_header_of_too_many_columns_is_refused_before_parsing(client: TestClient, tmp_path: Path) -> None:
    text = "lon,lat" + "," * 5000 + f"\n{C3[0]},{C3[1]}\n"
    status, content = _upload(client, text)
    assert status == 413
    assert f"more than a points table may have ({MAX_COLUMNS})" in content.decode()
    source = tmp_path / "wide.csv"
    source.write_text(text, encoding="utf-8")
    with pytest.raises(TooWideError, match=r"wide\.csv: the header has 5002 columns"):
        open_points(source)


def test_a_header_line_too_long_is_refused(client: TestClient) -> None:
    status, content = _upload(client, "lon,lat," + "x" * (MAX_HEADER_BYTES + 10) + f"\n{C3[0]},{C3[1]},1\n")
    assert status == 413 and "header line is longer than" in content.decode()


def test_wide_rows_under_a_short_header_are_each_an_error(client: TestClient) -> None:
    """200,000 empty fields in rows under a 2-column header: trailing separators, answered at once."""
    wide_row = f"{C3[0]},{C3[1]}" + "," * 200_000
    status, content = _upload(client, f"lon,lat\n{wide_row}\n{C3[0]},{C3[1]},9\n")
    table = _table(content)
    assert status == 200 and table["feature_id"].tolist() == ["C3", ""]
    assert table["error"][0] == "" and "3 fields but the header has 2" in table["error"][1]


def test_xlsx_points_in_and_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from openpyxl import Workbook, load_workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["名称", "经度", "纬度", None])
    sheet.append(["甲", C3[0], C3[1]])
    sheet.append([None, None, None])  # an empty row Excel keeps: skipped
    sheet.append(["-北门", S1[0], S1[1]])  # text a spreadsheet could take for a formula stays text
    sheet.append(["乙", "abc", S1[1]])
    source = tmp_path / "points.xlsx"
    workbook.save(source)
    target = tmp_path / "out.xlsx"
    code = main(["--dataset", MINI, "assign", str(source), "-o", str(target), "--date", DAY])
    assert code == 0, capsys.readouterr().err
    rows = list(load_workbook(target, read_only=True).worksheets[0].iter_rows(values_only=True))
    header = list(rows[0])
    by_name = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    assert [r["名称"] for r in by_name] == ["甲", "-北门", "乙"]
    assert [r["feature_id"] for r in by_name] == ["C3", "S1", None]
    assert by_name[2]["error"] == "longitude 'abc' is not a number"
