"""``respmap assign``: every row kept in order and answered, CSV (UTF-8, GBK), GeoJSON, Parquet, atomic."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from pyproj import Transformer

import geo.lookup
from api.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"
MINI = str(DATA / "mini")
TO_LONLAT = Transformer.from_crs("EPSG:4545", "EPSG:4326", always_xy=True)
# (x, y) in EPSG:4545 and the feature expected there on 2026-03-01.
PLACES = [
    ((600600, 3618805), "S1"),  # the second stretch of S1
    ((601550, 3618550), "C3"),  # a compound nobody holds
    ((600500, 3618500), "D1"),  # only the district: its fallback
    ((603000, 3618300), ""),  # outside every district
]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["--dataset", MINI, *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _points_csv(path: Path, *, lon: str = "Lng", lat: str = "LAT", encoding: str = "utf-8") -> Path:
    rows = [f"id,{lon},{lat},note"]
    for i, ((x, y), _) in enumerate(PLACES):
        lo, la = TO_LONLAT.transform(x, y)
        rows.append(f"p{i},{lo:.9f},{la:.9f},地点{i}")
    rows += ["bad1,abc,32.68,not a number", "bad2,,32.68,missing", "bad3,109.07,95,out of range"]
    path.write_bytes(("\n".join(rows) + "\n").encode(encoding))
    return path


EXPECTED_IDS = ["S1", "C3", "D1", "", "", "", ""]
EXPECTED_ERRORS = [
    "",
    "",
    "",
    "",
    "longitude 'abc' is not a number",
    "longitude is missing",
    "latitude 95.0 is out of range (-90 to 90)",
]


def test_csv_rows_kept_in_order_with_answers_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _points_csv(tmp_path / "points.csv")
    code, out, err = _run(capsys, "assign", str(source), "-o", str(tmp_path / "out.csv"), "--date", "2026-03-01")
    assert code == 0, err
    table = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert table["id"].tolist() == ["p0", "p1", "p2", "p3", "bad1", "bad2", "bad3"]
    assert table["note"].tolist()[:2] == ["地点0", "地点1"]  # input columns untouched
    assert table["feature_id"].tolist() == EXPECTED_IDS
    assert table["error"].tolist() == EXPECTED_ERRORS
    assert table["unit_id"].tolist()[:3] == ["U2", "", "HQ1"] and table["role"].tolist()[2] == "fallback"
    assert (table["from_m"].iat[0], table["to_m"].iat[0], table["distance_m"].iat[0]) == ("400.0", "1000.0", "5.0")
    assert "7 rows" in err and "1 outside every district" in err and "3 with unusable coordinates" in err
    assert "\r" not in err  # no progress bar when stderr is not a terminal
    assert out == ""


def test_gbk_csv_with_chinese_column_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _points_csv(tmp_path / "points.csv", lon="经度", lat="纬度", encoding="gbk")
    code, _, err = _run(capsys, "assign", str(source), "-o", str(tmp_path / "out.parquet"), "--date", "2026-03-01")
    assert code == 0, err
    table = pd.read_parquet(tmp_path / "out.parquet")
    assert table["note"].tolist()[0] == "地点0"
    assert table["feature_id"].tolist() == EXPECTED_IDS


def test_named_columns_in_a_projected_crs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "survey.csv"
    source.write_text("E,N\n600107,3618107\n601505,3618400\n", encoding="utf-8")
    code, _, err = _run(
        capsys,
        "assign",
        str(source),
        "-o",
        str(tmp_path / "out.csv"),
        "--lon-col",
        "E",
        "--lat-col",
        "N",
        "--crs",
        "EPSG:4545",
        "--date",
        "2025-06-01",
    )
    assert code == 0, err
    table = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert table["feature_id"].tolist() == ["C1", "S2"]
    assert table["unit_id"].tolist() == ["U1", "U1"]  # S2 was still U1's on that date


def test_geojson_in_and_out_keeps_geometry_and_flags_non_points(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    features = []
    for i, ((x, y), _) in enumerate(PLACES):
        lon, lat = TO_LONLAT.transform(x, y)
        features.append(
            {"type": "Feature", "properties": {"id": f"p{i}"}, "geometry": {"type": "Point", "coordinates": [lon, lat]}}
        )
    features.append(
        {
            "type": "Feature",
            "properties": {"id": "area"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[109.0, 32.6], [109.1, 32.6], [109.1, 32.7], [109.0, 32.6]]],
            },
        }
    )
    source = tmp_path / "points.geojson"
    source.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    code, _, err = _run(capsys, "assign", str(source), "-o", str(tmp_path / "out.geojson"), "--date", "2026-03-01")
    assert code == 0, err
    result = json.loads((tmp_path / "out.geojson").read_text(encoding="utf-8"))
    props = [f["properties"] for f in result["features"]]
    assert [p["id"] for p in props] == ["p0", "p1", "p2", "p3", "area"]
    assert [p["feature_id"] for p in props] == ["S1", "C3", "D1", "", ""]
    assert props[-1]["error"] == "geometry is a Polygon, not a point"
    assert result["features"][0]["geometry"] == features[0]["geometry"]
    assert props[0]["distance_m"] == 5.0 and props[3]["distance_m"] is None


def test_parquet_in_chunks_gives_the_same_rows_as_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _points_csv(tmp_path / "points.csv")
    pd.read_csv(source, dtype=str, keep_default_na=False).to_parquet(tmp_path / "points.parquet")
    whole = tmp_path / "whole.parquet"
    chunked = tmp_path / "chunked.geojson"
    assert _run(capsys, "assign", str(tmp_path / "points.parquet"), "-o", str(whole), "--date", "2026-03-01")[0] == 0
    code, _, _ = _run(
        capsys,
        "assign",
        str(tmp_path / "points.parquet"),
        "-o",
        str(chunked),
        "--date",
        "2026-03-01",
        "--chunk-rows",
        "2",
    )
    assert code == 0
    at_once = pd.read_parquet(whole)
    in_chunks = [f["properties"] for f in json.loads(chunked.read_text(encoding="utf-8"))["features"]]
    assert at_once["id"].tolist() == [p["id"] for p in in_chunks]
    assert at_once["feature_id"].tolist() == [p["feature_id"] for p in in_chunks] == EXPECTED_IDS
    assert at_once["error"].tolist() == [p["error"] for p in in_chunks] == EXPECTED_ERRORS


def test_gcj02_points(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from geo.datums import wgs84_to_gcj02

    lon, lat = wgs84_to_gcj02(*TO_LONLAT.transform(601550, 3618550))
    source = tmp_path / "amap.csv"
    source.write_text(f"lng,lat\n{lon},{lat}\n", encoding="utf-8")
    code, _, _ = _run(capsys, "assign", str(source), "-o", str(tmp_path / "out.csv"), "--crs", "gcj02")
    assert code == 0
    assert pd.read_csv(tmp_path / "out.csv", encoding="utf-8-sig")["feature_id"].tolist() == ["C3"]


def test_refuses_to_overwrite_its_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _points_csv(tmp_path / "points.csv")
    before = source.read_bytes()
    code, _, err = _run(capsys, "assign", str(source), "-o", str(tmp_path / "." / "points.csv"))
    assert code == 2 and "refusing to overwrite the input" in err
    assert source.read_bytes() == before


@pytest.mark.parametrize(
    ("content", "flags", "message"),
    [
        ("a,b\n1,2\n", [], "no longitude column found"),  # no usual coordinate names
        ("lon,lat\n1,2\n", ["--lon-col", "E"], "--lon-col 'E' is not a column"),  # a named column that is not there
        ("", [], "the file is empty"),  # nothing at all
    ],
)
def test_unusable_files_get_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, flags: list[str], message: str
) -> None:
    source = tmp_path / "points.csv"
    source.write_text(content, encoding="utf-8")
    code, _, err = _run(capsys, "assign", str(source), "-o", str(tmp_path / "out.csv"), *flags)
    assert code in (1, 2) and message in err and "Traceback" not in err
    assert not (tmp_path / "out.csv").exists()


def test_unknown_output_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _points_csv(tmp_path / "points.csv")
    code, _, err = _run(capsys, "assign", str(source), "-o", str(tmp_path / "out.kml"))
    assert code == 2 and "use a .csv, .xlsx, .geojson or .parquet file" in err


def test_a_failed_run_leaves_the_old_output_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _points_csv(tmp_path / "points.csv")
    target = tmp_path / "out.csv"
    target.write_text("the previous answers\n", encoding="utf-8")
    calls = []
    real = geo.lookup.lookup_many

    def failing(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("disk trouble")
        return real(*args, **kwargs)

    monkeypatch.setattr(geo.lookup, "lookup_many", failing)
    code, _, err = _run(capsys, "assign", str(source), "-o", str(target), "--chunk-rows", "3")
    assert code == 1 and "disk trouble" in err
    assert target.read_text(encoding="utf-8") == "the previous answers\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "points.csv"]  # no temporary file left


def test_geoparquet_points(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import geopandas as gpd

    lon, lat = TO_LONLAT.transform([600600, 601550], [3618805, 3618550])
    gpd.GeoDataFrame({"id": ["a", "b"]}, geometry=gpd.points_from_xy(lon, lat), crs=4326).to_parquet(
        tmp_path / "points.parquet"
    )
    code, _, err = _run(
        capsys, "assign", str(tmp_path / "points.parquet"), "-o", str(tmp_path / "out.csv"), "--date", "2026-03-01"
    )
    assert code == 0, err
    table = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert table["id"].tolist() == ["a", "b"] and table["feature_id"].tolist() == ["S1", "C3"]


def test_progress_bar_only_on_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    source = _points_csv(tmp_path / "points.csv")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, _, err = _run(capsys, "assign", str(source), "-o", str(tmp_path / "out.csv"))
    assert code == 0 and "assign" in err and "\r" in err  # tqdm redraws its line
