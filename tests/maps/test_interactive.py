"""The interactive map without a browser: pieces, colours, legend, page data, escaping, CLI.

Answers are checked against the mini dataset's known layout (see
tests/conftest.py): street S1 is U1's for 0-400 m, U2's for 400-1000 m and
nobody's for 1000-1200 m, U3 supervising all of it; S2 moved from U1 to U3
on 2026-01-01; compounds C1 (U1) and C2 (U2) overlap; C3 is nobody's.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from api.cli import main
from geo import Dataset, load_dataset
from geo.datums import wgs84_to_gcj02
from maps import encoding
from maps.interactive import MapOptions, TilesError, render_map
from maps.palette import UNHELD_COLOUR, colour_graph, neighbour_pairs, unit_colours
from maps.payload import UnknownFocusError, build_payload, layer_counts
from maps.pieces import duty_pieces
from maps.popups import phone_href, script_json
from maps.vendor import Asset, AssetsMissingError, check_assets, resolve_served

DAY = pd.Timestamp("2026-03-01")
HOSTILE_DIR = Path(__file__).resolve().parents[1] / "data" / "hostile"


def decode_flat(values: list[int]) -> np.ndarray:
    """The page's delta-coded integers back to lon/lat (what respmap.js does)."""
    return np.cumsum(np.asarray(values, dtype=np.int64).reshape(-1, 2), axis=0) / encoding.SCALE


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value or "" for name, value in attrs if name in ("src", "href")]


def linked_urls(html: str) -> list[str]:
    """Every src/href of the page's tags (script bodies are not tags and are not searched)."""
    parser = _Links()
    parser.feed(html)
    return parser.urls


def feature(payload: dict, layer_id: str, feature_id: str, stretch_start: str = "") -> dict:
    layer = next(layer for layer in payload["layers"] if layer["id"] == layer_id)
    return next(f for f in layer["features"] if f["f"] == feature_id and f.get("t", "").startswith(stretch_start))


def unit_names(payload: dict, f: dict) -> dict[str, str]:
    """role code -> unit name for a feature of the payload."""
    return {payload["units"][u][1]: role for u, role, _ in f["u"]}


# -- pieces ---------------------------------------------------------------------------
def test_street_in_stretches_becomes_three_pieces_with_the_supervisor_on_each(mini_ds: Dataset) -> None:
    pieces = duty_pieces(mini_ds, DAY)
    s1 = pieces[pieces["feature_id"] == "S1"].sort_values("from_m")
    assert s1[["from_m", "to_m"]].to_numpy().round(1).tolist() == [[0.0, 400.0], [400.0, 1000.0], [1000.0, 1200.0]]
    assert s1["lead_unit"].tolist() == ["U1", "U2", ""]
    assert s1["status"].tolist() == ["held", "held", "unheld"]
    assert all(("U3", "supervisor", "", "") in holders for holders in s1["holders"])
    # Each piece is the stretch itself: lengths add up to the street.
    assert s1.geometry.length.round(1).tolist() == [400.0, 600.0, 200.0]


@pytest.mark.parametrize(
    ("day", "unit"),
    [
        ("2025-06-01", "U1"),  # before the hand-over S2 is U1's
        ("2026-03-01", "U3"),  # after it, U3's: the map follows --date
    ],
)
def test_pieces_follow_the_date(mini_ds: Dataset, day: str, unit: str) -> None:
    pieces = duty_pieces(mini_ds, pd.Timestamp(day))
    assert pieces.loc[pieces["feature_id"] == "S2", "lead_unit"].tolist() == [unit]


# -- page data ----------------------------------------------------------------------------
def test_payload_has_every_layer_with_its_features_and_the_coverage_layers(mini_ds: Dataset) -> None:
    payload = build_payload(mini_ds, MapOptions(date=DAY))
    counts = layer_counts(payload)
    assert counts["districts"] == 2 and counts["compounds"] == 3 and counts["streets"] == 4
    assert counts["respmap-conflicts"] >= 1 and counts["respmap-gaps"] == 0
    assert [layer["title"] for layer in payload["layers"]][:3] == ["双创片区", "无物业管理小区", "背街小巷"]
    conflict_names = " ".join(f["n"] for f in next(x for x in payload["layers"] if x["kind"] == "conflict")["features"])
    assert "幸福小区" in conflict_names and "和平小区" in conflict_names


def test_popup_data_names_lead_supervisor_contact_and_standard(mini_ds: Dataset) -> None:
    payload = build_payload(mini_ds, MapOptions(date=DAY))
    first = feature(payload, "streets", "S1", "0")
    assert first["t"] == "0–400米"
    assert unit_names(payload, first) == {"市民政局": "l", "老城街道办事处": "v"}
    u1 = next(u for u in payload["units"] if u[0] == "U1")
    assert u1[2:] == ["张强", "0915-3200003", "tel:09153200003"]
    title, figures = payload["standards"][first["s"]]
    assert title.endswith("(S-2)") or title.endswith("(S-1)") or title.endswith("(S-3)")
    assert any(label.startswith("每日普扫") for label, _ in figures)
    tail = feature(payload, "streets", "S1", "1000")
    assert tail["x"] == 1 and payload["colours"][tail["c"]] == UNHELD_COLOUR


def test_english_labels_when_asked(mini_ds: Dataset) -> None:
    payload = build_payload(mini_ds, MapOptions(date=DAY, lang="en"))
    assert payload["labels"]["lead"] == "Lead unit"
    assert feature(payload, "streets", "S1", "0")["t"] == "0–400 m"


def test_unit_view_is_strong_only_where_the_unit_is_and_fits_its_extent(mini_ds: Dataset) -> None:
    payload = build_payload(mini_ds, MapOptions(unit="U2", date=DAY))
    strong = {
        (f["f"], f.get("t", ""))
        for layer in payload["layers"][1:]
        for f in layer["features"]
        if "w" not in f and layer["kind"] != "conflict"
    }
    assert strong == {("C2", ""), ("S1", "400–1000米")}
    (south, west), (north, east) = payload["view"]["bounds"]
    c3 = mini_ds.layers["compounds"].set_index("feature_id").geometry["C3"]
    assert not (west <= c3.centroid.x <= east and south <= c3.centroid.y <= north)  # C3 is not U2's: outside the view
    assert payload["view"] == {**payload["view"], "kind": "unit", "id": "U2", "name": "市住建局"}


def test_district_view_is_strong_inside_the_district(mini_ds: Dataset) -> None:
    payload = build_payload(mini_ds, MapOptions(district="D2", date=DAY))
    strong = {f["f"] for layer in payload["layers"][1:3] for f in layer["features"] if "w" not in f}
    assert strong == {"C3", "S2"}
    districts = payload["layers"][0]["features"]
    assert [d["f"] for d in districts if "w" not in d] == ["D2"]


@pytest.mark.parametrize(
    "options",
    [
        MapOptions(unit="NOPE"),  # unknown unit id
        MapOptions(district="D99"),  # unknown district id
    ],
)
def test_unknown_focus_names_the_id(mini_ds: Dataset, options: MapOptions) -> None:
    with pytest.raises(UnknownFocusError, match=options.unit or options.district):
        build_payload(mini_ds, options)


def test_unit_legend_lists_the_units_on_the_map_and_nobody(mini_ds: Dataset) -> None:
    legend = build_payload(mini_ds, MapOptions(date=DAY, colour_by="unit"))["legend"]
    labels = [label for _, label, _ in legend["entries"]]
    assert {"市民政局", "市住建局", "老城街道办事处", "无人负责", "片区边界"} <= set(labels)
    assert "空闲单位" not in labels  # U4 holds nothing: no swatch for it


def test_coverage_legend_has_all_four_statuses_and_districts_filled_as_fallback(mini_ds: Dataset) -> None:
    payload = build_payload(mini_ds, MapOptions(date=DAY, colour_by="coverage"))
    labels = [label for _, label, _ in payload["legend"]["entries"]]
    assert labels[:4] == ["有单位负责", "无人负责", "重复认领", "仅属地兜底"]
    assert payload["layers"][0]["fill"] is True


def test_standard_colouring_follows_grades(mini_ds: Dataset) -> None:
    payload = build_payload(mini_ds, MapOptions(date=DAY, colour_by="standard"))
    labels = [label for _, label, swatch in payload["legend"]["entries"] if swatch == "fill"]
    assert labels == [g for g in ["一级", "二级", "三级"] if g in labels] and len(labels) >= 2
    grades = {f["f"]: payload["colours"][f["c"]] for f in payload["layers"][1]["features"]}
    by_grade = mini_ds.layers["compounds"].set_index("feature_id")["grade"]
    assert (grades["C1"] == grades["C2"]) == (by_grade["C1"] == by_grade["C2"])


# -- palette -----------------------------------------------------------------------------
def test_neighbouring_units_never_share_a_colour_on_the_demo(demo_ds: Dataset) -> None:
    pieces = duty_pieces(demo_ds, None)
    geometries = np.asarray(pieces.geometry.values, dtype=object)
    owners = pieces["lead_unit"].tolist()
    colours = unit_colours(geometries, owners)
    pairs = neighbour_pairs(geometries, owners, 150.0)
    assert len(pairs) > 50  # the demo is dense: the test means something
    assert [(a, b) for a, b in pairs if colours[a] == colours[b]] == []


@pytest.mark.parametrize(
    ("palette", "clashes"),
    [
        (("r", "g", "b"), 0),  # a triangle needs three colours and gets them
        (("r", "g"), 1),  # two colours for a triangle: exactly one edge must clash, not more
    ],
)
def test_colour_graph_on_a_triangle(palette: tuple[str, ...], clashes: int) -> None:
    edges = {("a", "b"), ("b", "c"), ("a", "c")}
    colours = colour_graph(["a", "b", "c"], edges, palette)
    assert sum(colours[x] == colours[y] for x, y in edges) == clashes


# -- geometry -----------------------------------------------------------------------------
def test_encoding_round_trips_to_a_micro_degree() -> None:
    ring = shapely.Polygon([(109.0123456, 32.6854321), (109.0223456, 32.6854321), (109.0223456, 32.6954321)])
    encoded = encoding.encode(ring)
    back = decode_flat(encoded[0][0])
    assert np.abs(back - np.asarray(ring.exterior.coords)[:3]).max() <= 0.6e-6
    line = shapely.LineString([(109.0, 32.0), (109.0, 32.0), (109.001, 32.001)])  # repeated vertex dropped
    assert encoding.encode(line) == [[109_000_000, 32_000_000, 1000, 1000]]
    assert encoding.encode(shapely.Point(109.5, 32.25)) == [109_500_000, 32_250_000]


def test_districts_simplified_together_still_tile(demo_ds: Dataset) -> None:
    metric = np.asarray(demo_ds.frame.geometry.to_crs(demo_ds.metric_crs).values, dtype=object)
    simplified = encoding.simplify_coverage(metric)
    assert bool(shapely.coverage_is_valid(simplified))
    assert shapely.get_num_coordinates(simplified).sum() < shapely.get_num_coordinates(metric).sum()
    area_change = abs(shapely.area(simplified).sum() - shapely.area(metric).sum()) / shapely.area(metric).sum()
    assert area_change < 0.01


def test_amap_tiles_shift_overlays_to_gcj02(mini_ds: Dataset) -> None:
    plain = feature(build_payload(mini_ds, MapOptions(date=DAY)), "compounds", "C3")
    shifted = feature(build_payload(mini_ds, MapOptions(date=DAY, tiles="amap")), "compounds", "C3")
    lon, lat = decode_flat(plain["g"][0][0])[0]
    expected = wgs84_to_gcj02(lon, lat)
    got = decode_flat(shifted["g"][0][0])[0]
    assert abs(got[0] - expected[0]) < 2e-6 and abs(got[1] - expected[1]) < 2e-6
    assert abs(got[0] - lon) > 0.002  # several hundred metres: the shift really happened


# -- the HTML file --------------------------------------------------------------------------
def test_file_is_self_contained_and_small_on_the_demo(demo_ds: Dataset) -> None:
    html = render_map(demo_ds, MapOptions(colour_by="coverage"))
    assert len(html.encode("utf-8")) <= 2 * 1024 * 1024
    assert [url for url in linked_urls(html) if not url.startswith(("data:", "#"))] == []
    assert not any(host in html for host in ("jsdelivr", "cdnjs", "unpkg", "code.jquery", "bootstrapcdn"))
    # The page forbids itself any connection (meta CSP, attribute-escaped).
    assert "default-src &#x27;none&#x27;" in html and "connect-src &#x27;none&#x27;" in html
    assert "L.Control.FullScreen" in html and "leaflet-control-locate" in html  # plugins inlined


def test_hostile_text_never_appears_as_markup_in_the_file() -> None:
    ds = load_dataset(HOSTILE_DIR)
    assert ds.ok
    html = render_map(ds, MapOptions(date=DAY))
    for raw in (
        "<img src=x onerror",
        "</script><script>alert",
        "<b onmouseover",
        "<svg onload",
        "<svg/onload",
        "<!-- </script>",
    ):
        assert raw not in html, raw
    data = html.split('id="respmap-data">', 1)[1].split("</script>", 1)[0]
    payload = json.loads(data)
    assert payload["title"].startswith("Hostile </script><script>alert(1)</script>")
    # Layer control labels are HTML (Leaflet uses innerHTML): escaped, then JSON-escaped by folium.
    assert "\\u0026lt;img src=x onerror=alert(\\u0026#x27;title\\u0026#x27;)\\u0026gt;" in html


def test_script_json_cannot_close_the_script_element() -> None:
    value = {"name": "</script><script>alert(1)</script><!-- \u2028 & ${x}"}
    encoded = script_json(value)
    assert "<" not in encoded and ">" not in encoded and "&" not in encoded
    assert json.loads(encoded) == value


@pytest.mark.parametrize(
    ("phone", "href"),
    [
        ("0915-3200001", "tel:09153200001"),  # an ordinary landline
        ("+86 138 0000 0000", "tel:+8613800000000"),  # international form keeps its plus
        ("javascript:alert(1)", ""),  # not a number: no link at all
    ],
)
def test_phone_links(phone: str, href: str) -> None:
    assert phone_href(phone) == href


def test_tianditu_needs_a_key(mini_ds: Dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RESPMAP_TIANDITU_KEY", raising=False)
    with pytest.raises(TilesError, match="RESPMAP_TIANDITU_KEY"):
        render_map(mini_ds, MapOptions(tiles="tianditu"))
    monkeypatch.setenv("RESPMAP_TIANDITU_KEY", "abc123def456")
    html = render_map(mini_ds, MapOptions(tiles="tianditu"))
    assert "tk=abc123def456" in html and "https://*.tianditu.gov.cn" in html


def test_missing_leaflet_is_a_clear_error(tmp_path: Path) -> None:
    missing = (Asset(tmp_path / "node_modules" / "leaflet" / "dist" / "leaflet.js", "/x", "js"),)
    with pytest.raises(AssetsMissingError, match="npm ci --prefix maps"):
        check_assets(missing)


@pytest.mark.parametrize(
    ("path", "served"),
    [
        ("vendor/leaflet/dist/leaflet.js", True),  # Leaflet itself
        ("respmap/respmap.js", True),  # our own script
        ("vendor/leaflet/dist/../package.json", False),  # climbing out of the folder
        ("vendor/leaflet/dist/leaflet.js.map", False),  # source maps are not needed
        ("vendor/leaflet/package.json", False),  # only dist/ is served
    ],
)
def test_only_asset_folders_are_served(path: str, served: bool) -> None:
    assert (resolve_served(path) is not None) == served


# -- the command --------------------------------------------------------------------------
def test_cli_writes_a_unit_map(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "u1.html"
    code = main(["--dataset", str(Path(__file__).resolve().parents[1] / "data" / "mini"), "map", "-o", str(target),
                 "--unit", "U1", "--date", "2026-03-01", "--color-by", "standard"])  # fmt: skip
    assert code == 0 and target.stat().st_size > 100_000
    payload = json.loads(target.read_text(encoding="utf-8").split('id="respmap-data">', 1)[1].split("</script>", 1)[0])
    assert payload["view"]["id"] == "U1" and payload["colourBy"] == "standard"
    assert "map written" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--unit", "NOPE"], "unknown unit id 'NOPE'"),  # the id is named
        (["--district", "D9"], "unknown district id 'D9'"),  # same for districts
        (["--unit", "U1", "--district", "D1"], "not allowed with"),  # one focus at a time
        (["--date", "2026-02-30"], "is not a date"),  # an impossible day
        (["--tiles", "google"], "invalid choice"),  # tiles we do not know
    ],
)
def test_cli_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    target = tmp_path / "m.html"
    mini = str(Path(__file__).resolve().parents[1] / "data" / "mini")
    assert main(["--dataset", mini, "map", "-o", str(target), *arguments]) == 2
    assert message in capsys.readouterr().err
    assert not target.exists()


def test_cli_without_leaflet_says_to_run_the_setup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import maps.interactive

    gone = (Asset(tmp_path / "node_modules" / "leaflet" / "dist" / "leaflet.js", "/x", "js"),)
    monkeypatch.setattr(maps.interactive, "MAP_ASSETS", gone)
    target = tmp_path / "m.html"
    mini = str(Path(__file__).resolve().parents[1] / "data" / "mini")
    assert main(["--dataset", mini, "map", "-o", str(target)]) == 1
    error = capsys.readouterr().err
    assert "leaflet.js not found" in error and "npm ci --prefix maps" in error
    assert not target.exists()  # no half-working page that would reach for a CDN
