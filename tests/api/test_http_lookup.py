"""Point lookup over HTTP: GET /lookup (one point) and POST /lookup (batches), in process.

The mini dataset is drawn in EPSG:4545 metres, so points are given there
(``crs=EPSG:4545``) where the answer is known exactly: C1 is the square
600100..600110 x 3618100..3618110 (unit U1), C2 overlaps it from 600105
(unit U2), S1 runs along y = 3618800 (U1 holds 0-400 m), D1 is x < 601000.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.cli import main
from api.responses import dumps
from api.settings import Settings
from geo import Dataset
from geo.datums import from_wgs84

DAY = "2026-03-01"
IN_C1 = (600102, 3618102)
IN_C1_AND_C2 = (600107, 3618107)
EMPTY_D1 = (600500, 3618500)
ON_S1 = (600200, 3618800)
WEST_OF_ALL = (590000, 3618500)
BATCH_LIMIT = 10
BODY_LIMIT = 4096


@pytest.fixture(scope="module")
def client(mini_ds: Dataset) -> TestClient:
    settings = Settings(dataset=mini_ds.path, batch_limit=BATCH_LIMIT, body_limit_bytes=BODY_LIMIT)
    with TestClient(create_app(settings, dataset=mini_ds)) as test_client:
        yield test_client


def _get(client: TestClient, x: float, y: float, **params: str):
    return client.get("/lookup", params={"lon": x, "lat": y, "crs": "EPSG:4545", "date": DAY, **params})


def _best(answer: dict) -> tuple[str, list[str]]:
    first = answer["matches"][0]
    return first["feature_id"], [unit["unit_id"] for unit in first["units"]]


# -- GET /lookup ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "point",
    [
        IN_C1,  # one compound, then the district fallback
        IN_C1_AND_C2,  # two overlapping compounds: both answer
        ON_S1,  # a stretch of a street, with its supervisor
        EMPTY_D1,  # nobody but the district HQ
        WEST_OF_ALL,  # outside every district: no match, the nearest zone instead
    ],
)
def test_get_answers_what_respmap_lookup_json_prints(
    client: TestClient, mini_ds: Dataset, point: tuple[float, float], capsys: pytest.CaptureFixture[str]
) -> None:
    answer = _get(client, *point)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    argv = ["--dataset", str(mini_ds.path), "lookup", str(point[0]), str(point[1]), "--crs", "EPSG:4545", "--date", DAY]
    assert main([*argv, "--json"]) == 0
    assert answer.json() == json.loads(capsys.readouterr().out)
    assert answer.json() == json.loads(dumps(mini_ds.lookup(*point, crs="EPSG:4545", date=DAY).to_dict()))


def test_get_known_answers(client: TestClient) -> None:
    assert _best(_get(client, *IN_C1).json()) == ("C1", ["U1"])
    both = _get(client, *IN_C1_AND_C2).json()
    assert [m["feature_id"] for m in both["matches"]] == ["C1", "C2", "D1"]
    assert both["matches"][-1]["fallback"] is True and both["district"]["district_id"] == "D1"
    outside = _get(client, *WEST_OF_ALL).json()
    assert outside["inside_frame"] is False and outside["matches"] == []
    assert outside["nearest"]["feature_id"] == "S1" and outside["nearest"]["distance_m"] == pytest.approx(9989.5, abs=1)


@pytest.mark.parametrize("datum", ["gcj02", "bd09"])  # the two Chinese map-app datums
def test_chinese_map_coordinates_reach_the_same_zone(client: TestClient, mini_ds: Dataset, datum: str) -> None:
    wgs84 = _get(client, *IN_C1).json()["point"]["wgs84"]
    lon, lat = from_wgs84(wgs84["lon"], wgs84["lat"], datum)
    answer = client.get("/lookup", params={"lon": lon, "lat": lat, "crs": datum, "date": DAY}).json()
    assert _best(answer) == ("C1", ["U1"])
    assert answer["point"]["crs"] == datum
    assert answer["point"]["wgs84"]["lon"] == pytest.approx(wgs84["lon"], abs=1e-7)


def test_the_date_changes_the_answer(client: TestClient) -> None:
    # S2 passed from U1 to U3 on 2026-01-01; its line runs through D2.
    s2 = client.get("/ogc/collections/streets/items/S2").json()["geometry"]["coordinates"]
    lon, lat = s2[0]
    before = client.get("/lookup", params={"lon": lon, "lat": lat, "date": "2025-12-31"}).json()
    after = client.get("/lookup", params={"lon": lon, "lat": lat, "date": "2026-01-01"}).json()
    assert _best(before) == ("S2", ["U1"]) and before["date"] == "2025-12-31"
    assert _best(after) == ("S2", ["U3"])


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"lat": "32.6"}, "bad_parameter"),  # lon missing
        ({"lon": "abc", "lat": "32.6"}, "bad_parameter"),  # not a number
        ({"lon": "nan", "lat": "32.6"}, "bad_parameter"),  # not finite
        ({"lon": "109", "lat": "inf"}, "bad_parameter"),  # not finite
        ({"lon": "109", "lat": "95"}, "bad_coordinates"),  # latitude past the pole (geo.lookup refuses it)
        ({"lon": "190", "lat": "32"}, "bad_coordinates"),  # longitude out of range
        ({"lon": "109", "lat": "32", "crs": "mars2000"}, "unknown_crs"),  # no such datum
        ({"lon": "109", "lat": "32", "crs": "EPSG:999999"}, "unknown_crs"),  # no such EPSG code
        ({"lon": "109", "lat": "32", "crs": "x" * 65}, "bad_parameter"),  # absurdly long crs
        ({"lon": "109", "lat": "32", "date": "2026-02-30"}, "bad_parameter"),  # no such day
        ({"lon": "109", "lat": "32", "date": "0001-01-01"}, "bad_parameter"),  # outside the range pandas can hold
    ],
)
def test_get_errors_are_400(client: TestClient, params: dict[str, str], code: str) -> None:
    answer = client.get("/lookup", params=params)
    assert answer.status_code == 400
    body = answer.json()
    assert body["error"] == code and body["message"]


# -- POST /lookup --------------------------------------------------------------------
def _post(client: TestClient, body, *, crs: str | None = "EPSG:4545", **params: str):
    query = {"date": DAY, **params}
    if crs:
        query["crs"] = crs
    return client.post("/lookup", params=query, content=json.dumps(body), headers={"content-type": "application/json"})


def test_batch_of_objects_answers_in_input_order(client: TestClient) -> None:
    points = [IN_C1, EMPTY_D1, ON_S1, IN_C1]
    body = _post(client, [{"lon": x, "lat": y, "id": f"p{i}"} for i, (x, y) in enumerate(points)]).json()
    assert body["count"] == 4 and body["errors"] == 0 and body["date"] == DAY and body["crs"] == "EPSG:4545"
    rows = body["results"]
    assert [r["index"] for r in rows] == [0, 1, 2, 3]
    assert [r["id"] for r in rows] == ["p0", "p1", "p2", "p3"]
    assert [(r["feature_id"], r["unit_id"]) for r in rows] == [("C1", "U1"), ("D1", "HQ1"), ("S1", "U1"), ("C1", "U1")]
    assert rows[1]["fallback"] is True and rows[0]["error"] is None
    assert (rows[0]["lon"], rows[0]["lat"]) == (600102.0, 3618102.0)  # as sent


def test_batch_agrees_with_single_lookups(client: TestClient) -> None:
    points = [IN_C1, IN_C1_AND_C2, ON_S1, EMPTY_D1]
    rows = _post(client, [[x, y] for x, y in points]).json()["results"]
    for row, point in zip(rows, points, strict=True):
        feature_id, unit_ids = _best(_get(client, *point).json())
        assert (row["feature_id"], row["unit_id"]) == (feature_id, unit_ids[0])


def test_points_object_carries_crs_and_date(client: TestClient) -> None:
    body = {"points": [{"lon": IN_C1[0], "lat": IN_C1[1]}], "crs": "EPSG:4545", "date": DAY}
    answer = client.post("/lookup", json=body).json()
    assert answer["crs"] == "EPSG:4545" and answer["date"] == DAY
    assert answer["results"][0]["feature_id"] == "C1"


def test_geojson_feature_collection(client: TestClient) -> None:
    wgs84 = _get(client, *IN_C1).json()["point"]["wgs84"]
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "id": 7, "geometry": {"type": "Point", "coordinates": [wgs84["lon"], wgs84["lat"]]}},
            {
                "type": "Feature",
                "properties": {"id": "line"},
                "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
            },
        ],
    }
    answer = client.post(
        "/lookup",
        params={"date": DAY},
        content=json.dumps(collection),
        headers={"content-type": "application/geo+json"},
    )
    rows = answer.json()["results"]
    assert (rows[0]["id"], rows[0]["feature_id"], rows[0]["error"]) == (7, "C1", None)
    assert rows[1]["id"] == "line" and "Point" in rows[1]["error"] and rows[1]["feature_id"] is None


def test_bad_points_get_their_own_error_and_the_rest_are_answered(client: TestClient) -> None:
    body = [
        {"lon": IN_C1[0], "lat": IN_C1[1]},
        {"lon": IN_C1[0]},  # no lat
        {"lon": "600102", "lat": 3618102},  # a string, not a number
        [1, 2, 3, 4],  # not a pair
        "here",  # not a point at all
        {"lon": True, "lat": 3618102},  # a boolean is not a coordinate
        {"lon": IN_C1[0], "lat": IN_C1[1]},
    ]
    answer = _post(client, body).json()
    errors = [row["error"] for row in answer["results"]]
    assert errors[0] is None and errors[-1] is None and all(errors[1:-1])
    assert answer["errors"] == 5 and answer["count"] == 7
    assert answer["results"][-1]["feature_id"] == "C1"


def test_out_of_range_points_are_reported_by_the_lookup(client: TestClient) -> None:
    answer = _post(client, [{"lon": 109.0, "lat": 95.0}, {"lon": 109.07, "lat": 32.685}], crs="wgs84").json()
    first, second = answer["results"]
    assert first["error"] and "95" in first["error"] and first["feature_id"] in (None, "")
    assert second["error"] is None and second["district_id"] == "D1"
    assert answer["errors"] == 1


def test_all_matches_gives_every_zone_per_point(client: TestClient) -> None:
    rows = _post(client, [list(IN_C1_AND_C2), list(EMPTY_D1)], all_matches="true").json()["results"]
    assert [(r["index"], r["feature_id"]) for r in rows] == [(0, "C1"), (0, "C2"), (0, "D1"), (1, "D1")]


def test_empty_batch(client: TestClient) -> None:
    answer = _post(client, [])
    assert answer.status_code == 200 and answer.json()["results"] == []


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"{not json", 422, "invalid_body"),  # not JSON
        (b"42", 422, "invalid_body"),  # JSON, but not a list of points
        (b'{"points": 5}', 422, "invalid_body"),  # points is not a list
        (b'{"type": "FeatureCollection"}', 422, "invalid_body"),  # a collection without features
        (b'{"points": [], "crs": 4326}', 422, "invalid_body"),  # crs must be text
        (b'{"points": [], "date": "yesterday"}', 400, "bad_parameter"),  # a date that is not a date
        (json.dumps([[1, 2]] * (BATCH_LIMIT + 1)).encode(), 413, "too_large"),  # one point over the limit
    ],
)
def test_batch_errors(client: TestClient, content: bytes, status: int, code: str) -> None:
    answer = client.post("/lookup", content=content, headers={"content-type": "application/json"})
    assert answer.status_code == status
    assert answer.json()["error"] == code


def test_unknown_crs_fails_the_whole_batch(client: TestClient) -> None:
    answer = _post(client, [[1, 2]], crs="nowhere")
    assert answer.status_code == 400 and answer.json()["error"] == "unknown_crs"


def test_body_over_the_size_limit_is_413_declared_or_streamed(client: TestClient) -> None:
    big = json.dumps([[109.0, 32.0]] * 400).encode()
    assert len(big) > BODY_LIMIT
    declared = client.post("/lookup", content=big, headers={"content-type": "application/json"})
    assert declared.status_code == 413 and declared.json()["details"] == {"limit_bytes": BODY_LIMIT}

    def chunks():  # no Content-Length: the server must count as it reads
        for start in range(0, len(big), 1000):
            yield big[start : start + 1000]

    streamed = client.post("/lookup", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413 and streamed.json()["error"] == "too_large"


# -- POST /lookup/csv ----------------------------------------------------------------
POINTS_CSV = "编号,经度,纬度\nA,109.0673,32.6831\nB,abc,32\nC,109.07,32.685\n"


def test_csv_upload_gives_what_respmap_assign_writes(client: TestClient, mini_ds: Dataset, tmp_path) -> None:
    source, target = tmp_path / "points.csv", tmp_path / "assigned.csv"
    source.write_text(POINTS_CSV, encoding="utf-8")
    assert main(["--dataset", str(mini_ds.path), "assign", str(source), "-o", str(target), "--date", DAY]) == 0
    answer = client.post(
        "/lookup/csv", params={"date": DAY}, files={"file": ("points.csv", POINTS_CSV.encode(), "text/csv")}
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.content == target.read_bytes()  # byte for byte
    assert (answer.headers["x-respmap-rows"], answer.headers["x-respmap-errors"]) == ("3", "1")
    lines = answer.content.decode("utf-8-sig").splitlines()
    assert lines[1].startswith("A,109.0673,32.6831,compounds,") and ",C1," in lines[1]
    assert "is not a number" in lines[2]


def test_csv_in_gbk_with_named_columns(client: TestClient) -> None:
    csv = "名称,X坐标,Y坐标\n甲,109.0673,32.6831\n".encode("gbk")
    answer = client.post(
        "/lookup/csv",
        params={"date": DAY, "lon_col": "X坐标", "lat_col": "Y坐标"},
        files={"file": ("gbk.csv", csv, "text/csv")},
    )
    assert answer.status_code == 200
    assert answer.content.decode("utf-8-sig").splitlines()[1].startswith("甲,109.0673,32.6831,compounds")


@pytest.mark.parametrize(
    ("files", "params", "status"),
    [
        ({"file": ("p.csv", b"a,b\n1,2\n", "text/csv")}, {}, 422),  # no coordinate columns
        ({"file": ("p.csv", b"lon,lat\n1,2\n", "text/csv")}, {"lon_col": "nope"}, 422),  # named column missing
        ({"file": ("p.csv", b"", "text/csv")}, {}, 422),  # empty file
        ({"file": ("p.csv", "lon,lat\n1,2\n".encode("utf-16"), "text/csv")}, {}, 422),  # neither UTF-8 nor GBK
        (None, {}, 422),  # no file at all
        ({"file": ("p.csv", b"lon,lat\n" + b"1,2\n" * (BATCH_LIMIT + 1), "text/csv")}, {}, 413),  # too many rows
        ({"file": ("p.csv", b"lon,lat\n1,2\n", "text/csv")}, {"crs": "nowhere"}, 400),  # unknown CRS
    ],
)
def test_csv_errors(client: TestClient, files, params: dict[str, str], status: int) -> None:
    answer = client.post("/lookup/csv", params=params, files=files)
    assert answer.status_code == status
    body = answer.json()
    assert body["message"] and "--lon-col" not in body["message"]
