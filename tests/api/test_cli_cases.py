"""``respmap db``, ``users`` and ``cases`` run in-process against a fresh store of each backend.

The store is chosen as users choose it: ``RESPMAP_DATABASE_URL`` (SQLite file or a throw-away
PostgreSQL database from ``store_url``) and ``RESPMAP_DATA_DIR`` for photos. The dataset is
``tests/data/mini`` (drawn in EPSG:4545 metres, with known holders: see tests/conftest.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyproj import Transformer

from api.cli import main
from cases.migrate import head_revision
from cases.store import open_store, store_config
from cases.users import authenticate
from geo.datums import from_wgs84
from tests import demo_points

MINI = str(Path(__file__).resolve().parents[1] / "data" / "mini")
TO_LONLAT = Transformer.from_crs("EPSG:4545", "EPSG:4326", always_xy=True)
# 2026-03-02 10:00 Beijing time: inside every assignment of the mini dataset.
AT = "2026-03-02T10:00"


def lonlat(x: float, y: float) -> tuple[float, float]:
    lon, lat = TO_LONLAT.transform(x, y)
    return round(lon, 9), round(lat, 9)


ON_S1_FIRST_STRETCH = lonlat(600200.0, 3618800.0)  # street S1, 0-400 m: U1 leads
ON_S1_SECOND_STRETCH = lonlat(600700.0, 3618800.0)  # street S1, 400-1000 m: U2 leads
IN_C1_ONLY = lonlat(600102.0, 3618102.0)  # compound C1: U1
UNHELD_C3 = lonlat(601550.0, 3618550.0)  # compound C3: nobody, so D2's HQ (HQ2)
OUTSIDE = lonlat(605000.0, 3618500.0)  # east of every district: nearest is D2


@pytest.fixture
def cli_store(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The command line pointed at a fresh store of each backend; yields the database URL."""
    monkeypatch.setenv("RESPMAP_DATABASE_URL", store_url)
    monkeypatch.setenv("RESPMAP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("USER", "office-clerk")
    yield store_url


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["--dataset", MINI, *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code, out, err = run(capsys, *argv, "--json")
    assert out, err
    return code, json.loads(out)


def add_case(capsys: pytest.CaptureFixture[str], point: tuple[float, float], *extra: str) -> dict:
    code, case = run_json(capsys, "cases", "add", str(point[0]), str(point[1]), "--at", AT, *extra)
    assert code == 0
    return case


# ----------------------------------------------------------------------------- db


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_store_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database with no schema yet (``store_url`` comes migrated), the command line pointed at it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'new' / 'store.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_cluster").new_database()
    monkeypatch.setenv("RESPMAP_DATABASE_URL", url)
    monkeypatch.setenv("RESPMAP_DATA_DIR", str(tmp_path / "data"))
    return url


def test_db_status_then_upgrade_then_status(empty_store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, before = run_json(capsys, "db", "status")
    assert code == 1 and before["up_to_date"] is False and before["revision"] is None
    code, out, _ = run(capsys, "db", "upgrade")
    assert code == 0
    assert f"created, schema revision {head_revision()}" in out
    code, out, _ = run(capsys, "db", "upgrade")
    assert code == 0 and "already up to date" in out
    code, after = run_json(capsys, "db", "status")
    assert code == 0 and after["up_to_date"] is True and after["revision"] == head_revision()
    assert after["backend"] == ("sqlite" if empty_store_url.startswith("sqlite") else "postgresql")


def test_db_upgrade_brings_a_previous_schema_forward(empty_store_url: str, capsys, tmp_path: Path) -> None:
    from cases.migrate import upgrade
    from cases.store import make_engine

    engine = make_engine(store_config(url=empty_store_url, data_dir=tmp_path / "data"))
    try:
        upgrade(engine, "0001")  # a store left by the first release with cases
    finally:
        engine.dispose()
    code, status = run_json(capsys, "db", "status")
    assert code == 1 and status["revision"] == "0001" and status["exists"] is True
    code, out, _ = run(capsys, "db", "upgrade")
    assert code == 0 and f"upgraded from 0001, schema revision {head_revision()}" in out


def test_db_with_an_unusable_url_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("RESPMAP_DATABASE_URL", "mysql://nobody@127.0.0.1/x")
    code, out, err = run(capsys, "db", "upgrade")
    assert code == 1 and out == ""
    assert err.startswith("respmap: unsupported database 'mysql'") and "Traceback" not in err


# ----------------------------------------------------------------------------- users


def test_users_add_prints_a_token_once_that_signs_in(cli_store: str, capsys, tmp_path: Path) -> None:
    code, out, _ = run(capsys, "users", "add", "张明", "--role", "inspector")
    assert code == 0
    token = next(line.removeprefix("token: ") for line in out.splitlines() if line.startswith("token: "))
    assert "will not be shown again" in out
    code, added = run_json(capsys, "users", "add", "住建局值班", "--role", "unit", "--unit", "U2")
    assert code == 0 and added["unit_id"] == "U2"
    store = open_store(config=store_config(url=cli_store, data_dir=tmp_path / "data"))
    try:
        actor = authenticate(store, token)
        assert actor is not None and (actor.name, actor.role) == ("张明", "inspector")
        unit = authenticate(store, added["token"])
        assert unit is not None and (unit.role, unit.unit_id) == ("unit", "U2")
        # list: names and roles, never a token nor its hash
        code, out, _ = run(capsys, "users", "list")
        assert code == 0 and "张明" in out and "住建局值班" in out and "unit U2" in out
        code, listed = run_json(capsys, "users", "list")
        assert [u["name"] for u in listed["users"]] == ["张明", "住建局值班"]
        text = out + json.dumps(listed)
        assert token not in text and added["token"] not in text and "rm_" not in text
        assert not any("token" in key for user in listed["users"] for key in user)
        # disable: the token stops working
        code, out, _ = run(capsys, "users", "disable", "张明")
        assert code == 0 and "disabled 张明" in out
        assert authenticate(store, token) is None
    finally:
        store.dispose()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        # a unit that is not in units.csv (nor a district HQ) cannot be bound
        (("users", "add", "x", "--role", "unit", "--unit", "NOPE"), "unknown unit 'NOPE'"),
        # a unit user needs its unit
        (("users", "add", "x", "--role", "unit"), "a unit user needs --unit"),
        # --unit means nothing for an inspector
        (("users", "add", "x", "--role", "inspector", "--unit", "U1"), "--unit is only for role unit"),
        # disabling somebody who is not there
        (("users", "disable", "ghost"), "no user named 'ghost'"),
    ],
)
def test_users_refusals_are_one_line(cli_store: str, capsys, argv: tuple[str, ...], message: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 1 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1


def test_a_district_hq_may_have_a_unit_user(cli_store: str, capsys) -> None:
    code, added = run_json(capsys, "users", "add", "西片区指挥部值班", "--role", "unit", "--unit", "HQ1")
    assert code == 0 and added["unit_id"] == "HQ1"


def test_unknown_role_is_a_usage_error(cli_store: str, capsys) -> None:
    code, _, err = run(capsys, "users", "add", "x", "--role", "boss")
    assert code == 2 and "invalid choice" in err


# ----------------------------------------------------------------------------- cases


def test_categories_text_and_json(cli_store: str, capsys) -> None:
    code, out, _ = run(capsys, "cases", "categories")
    assert code == 0 and "exposed_garbage" in out and "暴露垃圾" in out and "within 2 h" in out
    code, data = run_json(capsys, "cases", "categories")
    assert data["source"] == "built-in" and data["categories"][0]["code"] == "exposed_garbage"


def test_add_list_show_event(cli_store: str, capsys) -> None:
    first = add_case(capsys, ON_S1_FIRST_STRETCH, "--category", "exposed_garbage", "--note", "路口堆放")
    assert first["state"] == "dispatched"
    assert [(u["unit_id"], u["role"]) for u in first["units"]] == [("U1", "lead")]
    assert first["feature"]["feature_id"] == "S1" and first["reported_at"] == "2026-03-02T10:00:00+08:00"
    gx, gy = from_wgs84(*ON_S1_SECOND_STRETCH, "gcj02")
    second = add_case(capsys, (gx, gy), "--category", "dirty_road", "--crs", "gcj02")
    assert [u["unit_id"] for u in second["units"]] == ["U2"] and second["given"]["crs"] == "gcj02"
    fallback = add_case(capsys, UNHELD_C3, "--category", "illegal_ads")
    # the answer to add is the case as stored: shown again, it is the same in every key
    assert run_json(capsys, "cases", "show", fallback["case_id"])[1] == fallback
    assert fallback["fallback"] is True and [u["unit_id"] for u in fallback["units"]] == ["HQ2"]

    code, listed = run_json(capsys, "cases", "list", "--unit", "U1")
    assert code == 0 and [c["case_id"] for c in listed["cases"]] == [first["case_id"]]
    code, listed = run_json(capsys, "cases", "list", "--district", "D2")
    assert listed["total"] == 1 and listed["cases"][0]["case_id"] == fallback["case_id"]
    code, out, _ = run(capsys, "cases", "list")
    assert code == 0 and "1-3 of 3 case(s)" in out
    assert f"{first['case_id']}  dispatched 已派遣  暴露垃圾  2026-03-02 10:00" in out
    assert "市民政局 (U1, lead)" in out

    code, out, _ = run(capsys, "cases", "event", first["case_id"], "rectify", "--note", "已清理")
    assert code == 0 and out.startswith("rectify (处置反馈): ") and "next: close, send_back, comment" in out
    code, closed = run_json(capsys, "cases", "event", first["case_id"], "close")
    assert closed["state"] == "closed"
    assert [e["action"] for e in closed["events"]] == ["report", "dispatch", "rectify", "close"]
    code, out, _ = run(capsys, "cases", "show", first["case_id"])
    assert code == 0
    assert (
        "note: 路口堆放" in out
        and "rectify 处置反馈 by office-clerk (admin): 已清理" in out
        and "next: nothing (final)" in out
    )
    code, listed = run_json(capsys, "cases", "list", "--state", "closed")
    assert [c["case_id"] for c in listed["cases"]] == [first["case_id"]]


def test_office_user_named_by_by_is_recorded(cli_store: str, capsys) -> None:
    code, _boss = run_json(capsys, "users", "add", "主任", "--role", "admin")
    case = add_case(capsys, IN_C1_ONLY, "--category", "dirty_green", "--by", "主任")
    code, shown = run_json(capsys, "cases", "show", case["case_id"])
    assert shown["events"][0]["by_user_id"] is not None and shown["reporter_id"] == shown["events"][0]["by_user_id"]
    # a unit's clerk cannot act as the office under their own name
    run_json(capsys, "users", "add", "clerk", "--role", "unit", "--unit", "U1")
    code, _out, err = run(capsys, "cases", "event", case["case_id"], "comment", "--note", "x", "--by", "clerk")
    assert code == 1 and "is a unit; the command line acts as the office" in err


def test_a_by_name_that_is_nobodys_account_is_kept_on_the_record(cli_store: str, capsys) -> None:
    case = add_case(capsys, IN_C1_ONLY, "--category", "dirty_green", "--by", "王科长")
    run_json(capsys, "cases", "event", case["case_id"], "comment", "--note", "电话督办", "--by", "李干事")
    _code, shown = run_json(capsys, "cases", "show", case["case_id"])
    assert [(e["by_name"], e["by_user_id"]) for e in shown["events"]] == [
        ("王科长", None),
        ("王科长", None),
        ("李干事", None),
    ]
    _code, out, _err = run(capsys, "cases", "show", case["case_id"])
    assert "comment 备注 by 李干事 (admin): 电话督办" in out


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        # a state that does not allow the step: 409 over HTTP, one line and exit 1 here
        (("event", "{case}", "close"), 1, "a dispatched case cannot be close: allowed now: rectify"),
        # a step that needs a note
        (("event", "{case}", "dispute"), 1, "dispute needs a note"),
        # postpone to a time in the past
        (("event", "{case}", "postpone", "--due", "2020-01-01T00:00"), 1, "the new deadline must be later"),
        # a time that is not a time: usage error
        (("event", "{case}", "postpone", "--due", "tomorrow"), 2, "--due: expected an ISO 8601 time"),
        # reassign to a unit the dataset does not have
        (("event", "{case}", "reassign", "--unit", "U99"), 1, "unknown unit 'U99'"),
        # a case that does not exist
        (("show", "20990101-999999"), 1, "no case '20990101-999999'"),
        # an unknown step
        (("event", "{case}", "sweep"), 1, "unknown action 'sweep'"),
        # outside every district: names the nearest district and the option to force it
        (("add", *map(str, OUTSIDE), "--category", "dirty_road", "--at", AT), 1, "nearest district is 东片区 (D2)"),
        # unknown category
        (("add", *map(str, IN_C1_ONLY), "--category", "dirt"), 1, "unknown category 'dirt'"),
        # a photo that is really HTML
        (("add", *map(str, IN_C1_ONLY), "--category", "dirty_road", "--photo", "{html}"), 1, "not a picture"),
        # a photo file that is not there
        (("add", *map(str, IN_C1_ONLY), "--category", "dirty_road", "--photo", "/nonexistent.jpg"), 2, "no such file"),
        # a malformed state filter
        (("list", "--state", "open"), 2, "--state 'open': states are"),
        # period and from/to together
        (("list", "--period", "2026-03", "--from", "2026-03-01"), 2, "either --period or --from/--to"),
    ],
)
def test_refusals_are_one_line(cli_store: str, capsys, tmp_path: Path, argv, code, message) -> None:
    case = add_case(capsys, IN_C1_ONLY, "--category", "exposed_garbage")
    html = tmp_path / "photo.png"
    html.write_text("<html><script>alert(1)</script></html>")
    argv = [a.replace("{case}", case["case_id"]).replace("{html}", str(html)) for a in argv]
    got, out, err = run(capsys, "cases", *argv)
    assert got == code and out == "" and message in err, err
    assert "Traceback" not in err


def test_forced_unit_outside_every_district(cli_store: str, capsys) -> None:
    case = add_case(capsys, OUTSIDE, "--category", "dirty_road", "--unit", "U4")
    assert case["forced"] is True and [(u["unit_id"], u["role"]) for u in case["units"]] == [("U4", "manual")]


def test_control_characters_from_data_are_escaped_in_text(cli_store: str, capsys) -> None:
    # U+202E would print the rest of the line backwards; text output shows it as an escape
    case = add_case(capsys, IN_C1_ONLY, "--category", "dirty_road", "--note", "left\u202eright")
    _code, out, _ = run(capsys, "cases", "show", case["case_id"])
    assert "left\\u202eright" in out and "\u202e" not in out


def test_photo_is_stored_and_shown(cli_store: str, capsys, tmp_path: Path) -> None:
    from PIL import Image

    picture = tmp_path / "scene.jpg"
    Image.new("RGB", (64, 48), (200, 30, 30)).save(picture)
    case = add_case(capsys, IN_C1_ONLY, "--category", "exposed_garbage", "--photo", str(picture))
    assert len(case["photos"]) == 1 and case["photos"][0]["width"] == 64
    sha = case["photos"][0]["sha256"]
    assert (tmp_path / "data" / "photos" / sha[:2] / f"{sha}.jpg").is_file()
    assert run_json(capsys, "cases", "show", case["case_id"])[1] == case


def test_a_photo_with_gps_places_the_case(cli_store: str, capsys, tmp_path: Path) -> None:
    from PIL import Image

    lon, lat = IN_C1_ONLY
    image = Image.new("RGB", (40, 30), (90, 90, 90))
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "N", 2: _dms(lat), 3: "E", 4: _dms(lon)})  # the phone's GPS
    picture = tmp_path / "gps.jpg"
    image.save(picture, "JPEG", exif=exif)
    code, case = run_json(capsys, "cases", "add", "--category", "dirty_road", "--photo", str(picture), "--at", AT)
    assert code == 0 and case["location_source"] == "photo_exif" and case["feature"]["feature_id"] == "C1"
    assert case["lon"] == pytest.approx(lon, abs=1e-4) and case["lat"] == pytest.approx(lat, abs=1e-4)
    # neither a place nor a photo: usage error
    code, _, err = run(capsys, "cases", "add", "--category", "dirty_road")
    assert code == 2 and "give LON LAT, or a --photo" in err


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = (value - degrees) * 60
    return (float(degrees), float(int(minutes)), round((minutes - int(minutes)) * 60, 4))


# ----------------------------------------------------------------------------- import


def _round_csv(rows: list[str]) -> str:
    """A round as Excel on Chinese Windows saves it: a title line, Chinese headers, trailing commas."""
    header = "经度,纬度,问题类型,备注,发现时间,坐标系,"
    return "\r\n".join(["2026年3月第一轮暗访问题清单,,,,,,", header, *rows]) + "\r\n"


GOOD_AND_BAD_ROWS = [
    # row 3: Chinese category name, Excel's own time format
    f"{ON_S1_FIRST_STRETCH[0]},{ON_S1_FIRST_STRETCH[1]},暴露垃圾,路口堆放,2026/3/2 9:15,,",
    # row 4: latitude is not a number
    f"{IN_C1_ONLY[0]},北边,道路不洁,x,2026/3/2 9:20,,",
    # row 5: unknown category
    f"{IN_C1_ONLY[0]},{IN_C1_ONLY[1]},乱停车,x,2026/3/2 9:25,,",
    # row 6: outside every district
    f"{OUTSIDE[0]},{OUTSIDE[1]},道路不洁,x,2026/3/2 9:30,,",
    # row 7: blank (skipped, but row numbers stay the spreadsheet's)
    ",,,,,,",
    # row 8: a GCJ-02 position, as a Chinese map app gives it, by the 坐标系 column
    '{gcj_lon},{gcj_lat},dirty_road,=HYPERLINK("http://x"),2026-03-02 09:40,火星坐标,',
    # row 9: a time that does not exist
    f"{IN_C1_ONLY[0]},{IN_C1_ONLY[1]},道路不洁,x,2026/2/30 9:00,,",
    # row 10: a datum nobody knows
    f"{IN_C1_ONLY[0]},{IN_C1_ONLY[1]},道路不洁,x,2026/3/2 9:50,mercator,",
    # row 11: a cell past the last column of the header (a note split by a hand-typed separator)
    f"{IN_C1_ONLY[0]},{IN_C1_ONLY[1]},道路不洁,a,2026/3/2 9:55,,,多出来的一格",
    # row 12: good, compound C1
    f"{IN_C1_ONLY[0]},{IN_C1_ONLY[1]},绿地脏乱,草坪有垃圾,2026/3/2 10:00,,",
]


def _write_round(path: Path, encoding: str = "gb18030") -> Path:
    gx, gy = from_wgs84(*ON_S1_SECOND_STRETCH, "gcj02")
    rows = [r.replace("{gcj_lon}", f"{gx:.9f}").replace("{gcj_lat}", f"{gy:.9f}") for r in GOOD_AND_BAD_ROWS]
    path.write_bytes(_round_csv(rows).encode(encoding))
    return path


def test_import_keeps_good_rows_and_names_bad_ones(cli_store: str, capsys, tmp_path: Path) -> None:
    sheet = _write_round(tmp_path / "第一轮.csv")
    code, out, _err = run(capsys, "cases", "import", str(sheet))
    assert code == 1
    lines = out.splitlines()
    assert "第一轮.csv row 4, lat: '北边' is not a number (decimal degrees or metres)" in lines
    assert any(line.startswith("第一轮.csv row 5, category: unknown category '乱停车'") for line in lines)
    assert any(line.startswith("第一轮.csv row 6, lon/lat: ") and "东片区 (D2)" in line for line in lines)
    assert any(line.startswith("第一轮.csv row 9, time: ") for line in lines)
    assert any(line.startswith("第一轮.csv row 10, crs: ") for line in lines)
    assert any(line.startswith("第一轮.csv row 11, row: ") for line in lines)
    assert "第一轮.csv: 9 row(s): 3 case(s) created, 0 already imported, 6 row(s) failed" in lines
    code, listed = run_json(capsys, "cases", "list")
    by_note = {c["note"]: c for c in listed["cases"]}
    assert set(by_note) == {"路口堆放", '=HYPERLINK("http://x")', "草坪有垃圾"}
    assert [u["unit_id"] for u in by_note["路口堆放"]["units"]] == ["U1"]
    assert by_note["路口堆放"]["reported_at"] == "2026-03-02T09:15:00+08:00"
    assert by_note["路口堆放"]["category"] == "exposed_garbage"
    gcj = by_note['=HYPERLINK("http://x")']
    assert [u["unit_id"] for u in gcj["units"]] == ["U2"] and gcj["given"]["crs"] == "gcj02"
    assert by_note["草坪有垃圾"]["feature"]["feature_id"] == "C1"

    # the same file again: nothing new
    code, again = run_json(capsys, "cases", "import", str(sheet))
    assert code == 1 and again["created"] == 0 and again["already_imported"] == 3 and again["failed"] == 6
    assert run_json(capsys, "cases", "list")[1]["total"] == 3

    # the bad rows fixed (Excel saves the file anew): only they are created
    fixed = sheet.read_bytes().decode("gb18030")
    fixed = fixed.replace(",北边,", f",{IN_C1_ONLY[1]},").replace("乱停车", "道路不洁")
    sheet.write_bytes(fixed.encode("gb18030"))
    code, third = run_json(capsys, "cases", "import", str(sheet))
    assert third["created"] == 2 and third["already_imported"] == 3 and third["failed"] == 4
    assert {c["row"] for c in third["cases"]} == {4, 5}
    assert run_json(capsys, "cases", "list")[1]["total"] == 5


def test_import_utf8_bom_semicolons_and_crs_for_all(cli_store: str, capsys, tmp_path: Path) -> None:
    gx, gy = from_wgs84(*ON_S1_SECOND_STRETCH, "gcj02")
    # a title line without any separator above a semicolon-separated table
    text = f"第三轮暗访\nlng;lat;category;note;time\n{gx};{gy};dirty_road;a;{AT}\n{gx};{gy};dirty_road;a;{AT}\n"
    sheet = tmp_path / "round.csv"
    sheet.write_bytes(text.encode("utf-8-sig"))
    code, report = run_json(capsys, "cases", "import", str(sheet), "--crs", "gcj02")
    # two identical rows are two findings (the second one is the second occurrence)
    assert code == 0 and report["encoding"] == "utf-8-sig" and report["created"] == 2
    assert all(c["units"] == ["U2"] for c in report["cases"]) and [c["row"] for c in report["cases"]] == [3, 4]
    code, report = run_json(capsys, "cases", "import", str(sheet), "--crs", "gcj02")
    assert code == 0 and report["created"] == 0 and report["already_imported"] == 2


def test_import_xlsx_with_excel_dates(cli_store: str, capsys, tmp_path: Path) -> None:
    import datetime as dt

    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["经度(°)", "纬度(°)", "类别", "描述", "时间"])
    sheet.append(
        [ON_S1_SECOND_STRETCH[0], ON_S1_SECOND_STRETCH[1], "dirty_road", "路面油污", dt.datetime(2026, 3, 2, 8)]
    )
    sheet.append([UNHELD_C3[0], UNHELD_C3[1], "Illegal small ads", None, dt.datetime(2026, 3, 2, 8, 30)])
    sheet.append([UNHELD_C3[0], None, "illegal_ads", None, None])
    path = tmp_path / "round.xlsx"
    workbook.save(path)
    code, report = run_json(capsys, "cases", "import", str(path))
    assert code == 1 and report["created"] == 2
    assert report["problems"] == [{"row": 4, "field": "lat", "message": "empty"}]
    assert [c["units"] for c in report["cases"]] == [["U2"], ["HQ2"]]
    code, shown = run_json(capsys, "cases", "show", report["cases"][0]["case_id"])
    assert shown["reported_at"] == "2026-03-02T08:00:00+08:00" and shown["note"] == "路面油污"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        # no coordinates in the header
        ("a.csv", "地点,问题\n河堤,垃圾\n", "no header naming the coordinates"),
        # coordinates but no category
        ("b.csv", "lon,lat,note\n1,2,x\n", "column(s) missing (category"),
        # neither UTF-8 nor GB18030
        ("c.csv", b"lon,lat,category\n\x81\x30\xff\xff,1,x\n", "neither UTF-8 nor GBK/GB18030"),
        # not a workbook at all
        ("d.xlsx", "lon,lat,category\n", "cannot be read as an Excel workbook"),
        # another format
        ("e.json", "{}", "must be a .csv or .xlsx file"),
    ],
)
def test_import_refuses_unusable_files_in_one_line(cli_store: str, capsys, tmp_path: Path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    code, out, err = run(capsys, "cases", "import", str(path))
    assert code == 1 and out == "" and message in err and name in err
    assert len(err.strip().splitlines()) == 1


# ----------------------------------------------------------------------------- export


@pytest.fixture
def three_cases(cli_store: str, capsys) -> dict[str, dict]:
    cases = {
        "u1": add_case(capsys, ON_S1_FIRST_STRETCH, "--category", "exposed_garbage", "--note", "=1+1"),
        "u2": add_case(capsys, ON_S1_SECOND_STRETCH, "--category", "dirty_road", "--note", "@SUM(A1)"),
        "hq2": add_case(capsys, UNHELD_C3, "--category", "illegal_ads", "--note", "墙上小广告"),
    }
    run(capsys, "cases", "event", cases["u1"]["case_id"], "rectify", "--note", "done")
    return cases


def test_export_csv_is_excel_safe_and_filtered(three_cases, capsys, tmp_path: Path) -> None:
    import csv

    target = tmp_path / "cases.csv"
    code, out, _ = run(capsys, "cases", "export", "-o", str(target))
    assert code == 0 and out.strip() == f"3 case(s) written to {target}"
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert len(rows) == 3
    notes = {r["案件编号"]: r["问题描述"] for r in rows}
    # a note that looks like a formula stays text
    assert notes[three_cases["u1"]["case_id"]] == "'=1+1" and notes[three_cases["u2"]["case_id"]] == "'@SUM(A1)"
    first = next(r for r in rows if r["案件编号"] == three_cases["u1"]["case_id"])
    assert first["状态"] == "待核查" and first["责任单位"] == "市民政局" and first["单位编号"] == "U1"
    assert float(first["经度（WGS-84）"]) == pytest.approx(three_cases["u1"]["lon"], abs=1e-6)
    # filters: unit, state, district, period
    for argv, expected in [
        (("--unit", "U2"), {"u2"}),
        (("--state", "rectified"), {"u1"}),
        (("--district", "D2"), {"hq2"}),
        (("--period", "2026-03"), {"u1", "u2", "hq2"}),
        (("--from", "2026-03-03", "--to", "2026-03-31"), set()),
    ]:
        code, _, err = run(capsys, "cases", "export", "-o", str(target), *argv)
        assert code == 0, err
        ids = {r["案件编号"] for r in csv.DictReader(target.read_bytes().decode("utf-8-sig").splitlines())}
        assert ids == {three_cases[k]["case_id"] for k in expected}, argv


def test_export_xlsx_keeps_formula_looking_notes_as_text(three_cases, capsys, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    target = tmp_path / "cases.xlsx"
    code, data = run_json(capsys, "cases", "export", "-o", str(target))
    assert code == 0 and data["cases"] == 3
    sheet = load_workbook(target).worksheets[0]
    assert sheet.title == "案件"
    header = [c.value for c in sheet[1]]
    note_column = header.index("问题描述") + 1
    cells = [sheet.cell(row=r, column=note_column) for r in range(2, 5)]
    assert {c.value for c in cells} == {"=1+1", "@SUM(A1)", "墙上小广告"}
    assert all(c.data_type == "s" for c in cells)
    lon = sheet.cell(row=2, column=header.index("经度（WGS-84）") + 1).value
    assert isinstance(lon, float)


def test_export_geojson_is_rfc7946(three_cases, capsys, tmp_path: Path) -> None:
    target = tmp_path / "cases.geojson"
    code, _, _ = run(capsys, "cases", "export", "-o", str(target), "--unit", "HQ2")
    assert code == 0
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection" and "crs" not in data
    (feature,) = data["features"]
    case = three_cases["hq2"]
    assert feature["id"] == case["case_id"] and feature["geometry"]["coordinates"] == [case["lon"], case["lat"]]
    assert feature["properties"]["fallback"] is True and feature["properties"]["unit_ids"] == "HQ2"
    assert feature["properties"]["note"] == "墙上小广告"


def test_export_refuses_an_unknown_format_and_leaves_the_target(three_cases, capsys, tmp_path: Path) -> None:
    target = tmp_path / "cases.pdf"
    target.write_text("previous")
    code, _, err = run(capsys, "cases", "export", "-o", str(target))
    assert code == 1 and "exported as .csv, .xlsx or .geojson" in err
    assert target.read_text() == "previous"
    code, _, err = run(capsys, "cases", "export", "-o", str(tmp_path / "missing" / "cases.csv"))
    assert code == 2 and "output folder" in err


def test_demo_dataset_case_at_the_readme_point(cli_store: str, capsys) -> None:
    """The README's lookup point on the bundled demo: the case goes where `respmap lookup` says today."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    lon, lat = str(demo_points.ON_SPLIT_STRETCH.lon), str(demo_points.ON_SPLIT_STRETCH.lat)
    code, out, _ = run_demo(capsys, "lookup", lon, lat, "--date", today, "--json")
    answer = json.loads(out)
    code, out, err = run_demo(capsys, "cases", "add", lon, lat, "--category", "exposed_garbage", "--json")
    assert code == 0, err
    case = json.loads(out)
    place = next(m for m in answer["matches"] if not m["fallback"] and any(u["role"] == "lead" for u in m["units"]))
    assert case["feature"]["feature_id"] == place["feature_id"]
    assert [u["unit_id"] for u in case["units"]] == [
        u["unit_id"] for u in place["units"] if u["role"] in ("lead", "shared")
    ]
    assert case["district_id"] == answer["district"]["district_id"]


def run_demo(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err
