"""Tests for layers/generate_demo.py, the deterministic demo-dataset generator.

What: run the generator into temporary folders (scale 1 and 2) and check the
dataset contract (counts, ids, valid geometry, a gap-free district frame,
assignments that point at real features and units, stretches within their
line), the believable layout (districts between the winding river and the main
roads, every back street part of one network with the main roads, compounds
beside their alleys), that exactly the four planted problems are present and
that respmap's own validate and coverage find them, that the demo holds on any
day it is tried, that two runs give the same bytes, and that the output equals
the committed ``layers/ankang`` byte for byte.

Why: other parts of respmap code against this data; a silent change in the
generator (or non-determinism) would break them in confusing ways, and a
planner's first look at the demo decides whether they trust the tool.
"""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import io
import itertools
import sys
import tomllib
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "layers" / "generate_demo.py"
COMMITTED = REPO / "layers" / "ankang"
LAYERS = [
    "districts",
    "urban_villages",
    "back_streets",
    "unmanaged_compounds",
    "city_entrances",
    "riverbank_segments",
    "facilities",
]
COUNTS = {
    "districts": 16,
    "urban_villages": 24,
    "back_streets": 177,
    "unmanaged_compounds": 65,
    "city_entrances": 6,
    "facilities": 150,
}
GEOM_TYPE = {
    "districts": "Polygon",
    "urban_villages": "Polygon",
    "back_streets": "LineString",
    "unmanaged_compounds": "Polygon",
    "city_entrances": "LineString",
    "riverbank_segments": "LineString",
    "facilities": "Point",
}
TOLERANCE = {"back_streets": 15, "city_entrances": 30, "riverbank_segments": 25, "facilities": 10}


def _load_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_demo", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def _generate(out: Path, *args: str) -> Path:
    """Run the generator's main() quietly into out."""
    module = _load_module()
    with contextlib.redirect_stdout(io.StringIO()):
        assert module.main(["--out", str(out), *args]) == 0
    return out


def _build(scale: int = 1) -> Any:
    """The generator's in-memory result (what it planted and noted), without writing."""
    module = _load_module()
    return module.build(scale, module.DEFAULT_SEED)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


class Demo:
    """A generated dataset folder read back with the real stack (pyogrio, csv)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.layers = {name: gpd.read_file(folder / f"{name}.geojson", engine="pyogrio") for name in LAYERS}
        self.metric = {name: df.to_crs("EPSG:4545") for name, df in self.layers.items()}
        self.units = _read_csv(folder / "units.csv")
        self.standards = _read_csv(folder / "standards.csv")
        self.assignments = _read_csv(folder / "assignments.csv")
        self.rows_by_feature: dict[str, list[dict[str, str]]] = defaultdict(list)
        for row in self.assignments:
            self.rows_by_feature[row["feature_id"]].append(row)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return Demo(_generate(tmp_path_factory.mktemp("demo1")))


@pytest.fixture(scope="module")
def demo2(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return Demo(_generate(tmp_path_factory.mktemp("demo2"), "--scale", "2"))


def test_counts(demo: Demo) -> None:
    for name, n in COUNTS.items():
        assert len(demo.layers[name]) == n, name
    assert len(demo.layers["riverbank_segments"]) == 8  # 2 banks x 4 districts on the river
    assert 140 <= len(demo.units) <= 170


def test_catalog_names_every_file(demo: Demo) -> None:
    catalog = tomllib.loads((demo.folder / "catalog.toml").read_text(encoding="utf-8"))
    assert catalog["dataset"]["crs"] == "EPSG:4326"
    assert catalog["dataset"]["metric_crs"] == "EPSG:4545"
    assert catalog["frame"] == {"layer": "districts", "fallback_unit_field": "hq_unit"}
    assert [layer["id"] for layer in catalog["layer"]] == LAYERS
    for layer in catalog["layer"]:
        assert (demo.folder / layer["file"]).is_file()
        if layer["id"] in TOLERANCE:
            assert layer["tolerance_m"] == TOLERANCE[layer["id"]]
    for table in catalog["tables"].values():
        assert (demo.folder / table).is_file()


def test_geometries_valid_and_ccw(demo: Demo) -> None:
    for name, df in demo.layers.items():
        geoms = df.geometry.values
        assert shapely.is_valid(geoms).all(), name
        assert not shapely.is_empty(geoms).any(), name
        assert set(df.geom_type) == {GEOM_TYPE[name]}, name
        if GEOM_TYPE[name] == "Polygon":
            assert shapely.is_ccw(shapely.get_exterior_ring(geoms)).all(), name
    text = (demo.folder / "districts.geojson").read_text(encoding="utf-8")
    assert '"crs"' not in text


def test_districts_tile_without_gap_or_overlap(demo: Demo) -> None:
    for df in (demo.layers["districts"], demo.metric["districts"]):
        geoms = df.geometry.values
        total = float(shapely.area(geoms).sum())
        union = float(shapely.area(shapely.union_all(geoms)))
        assert abs(union - total) <= 1e-6 * total
        tree = shapely.STRtree(geoms)
        left, right = tree.query(geoms, predicate="intersects")
        pairs = left < right
        areas = shapely.area(shapely.intersection(geoms[left[pairs]], geoms[right[pairs]]))
        assert float(np.max(areas, initial=0.0)) <= 1e-9 * total
    frame = shapely.union_all(demo.metric["districts"].geometry.values)
    assert frame.geom_type == "Polygon" and shapely.get_num_interior_rings(frame) == 0


def test_features_inside_frame_and_out_of_the_river(demo: Demo) -> None:
    frame = shapely.union_all(demo.layers["districts"].geometry.values).buffer(1e-9)
    for name in LAYERS[1:]:
        assert shapely.covered_by(demo.layers[name].geometry.values, frame).all(), name
    banks = demo.metric["riverbank_segments"]
    north = shapely.line_merge(shapely.union_all(banks[banks["bank"] == "北岸"].geometry.values))
    south = shapely.line_merge(shapely.union_all(banks[banks["bank"] == "南岸"].geometry.values))
    assert north.geom_type == south.geom_type == "LineString"
    water = shapely.Polygon(np.vstack([shapely.get_coordinates(north), shapely.get_coordinates(south)[::-1]]))
    assert 0.25e6 * 9 <= water.area <= 0.35e6 * 9  # ~300 m wide, ~9 km long
    for name in ("urban_villages", "unmanaged_compounds", "back_streets", "facilities", "city_entrances"):
        assert not shapely.intersects(demo.metric[name].geometry.values, water).any(), name


def test_riverbanks_one_per_bank_and_district(demo: Demo) -> None:
    banks = demo.layers["riverbank_segments"]
    districts = demo.layers["districts"].set_index("id").geometry
    assert not banks.duplicated(["bank", "district"]).any()
    assert set(banks["bank"]) == {"北岸", "南岸"}
    for geom, district in zip(banks.geometry, banks["district"], strict=True):
        assert shapely.covered_by(geom, districts[district].buffer(1e-9))


def test_entrances_reach_the_frame_edge(demo: Demo) -> None:
    frame = shapely.union_all(demo.metric["districts"].geometry.values)
    for geom in demo.metric["city_entrances"].geometry:
        assert frame.exterior.distance(shapely.Point(geom.coords[0])) < 0.05
        assert 590 <= geom.length <= 1510


def test_sizes(demo: Demo) -> None:
    lengths = demo.metric["back_streets"].length
    assert lengths.between(150, 900).all()
    nv = shapely.get_num_coordinates(demo.layers["back_streets"].geometry.values)
    assert nv.min() >= 2 and nv.max() <= 8  # start, bend, end and the junctions of alleys meeting it
    assert demo.layers["back_streets"]["width_m"].between(3, 12).all()
    across = 2 * shapely.minimum_bounding_radius(demo.metric["urban_villages"].geometry.values)
    assert across.min() >= 195 and across.max() <= 605
    across = 2 * shapely.minimum_bounding_radius(demo.metric["unmanaged_compounds"].geometry.values)
    assert across.min() >= 55 and across.max() <= 255
    assert set(demo.layers["facilities"]["kind"]) == {"公厕", "垃圾转运站", "果皮箱"}


def test_ids_unique_and_names_unique_per_layer(demo: Demo) -> None:
    ids = [i for df in demo.layers.values() for i in df["id"]]
    assert len(ids) == len(set(ids))
    for name, df in demo.layers.items():
        assert df["name"].is_unique, name
    unit_ids = [u["unit_id"] for u in demo.units]
    assert len(unit_ids) == len(set(unit_ids))
    assert not set(unit_ids) & set(ids)


def test_units_table(demo: Demo) -> None:
    kinds = {"department", "street office", "community", "county", "company", "district HQ"}
    ids = {u["unit_id"] for u in demo.units}
    district_ids = set(demo.layers["districts"]["id"])
    for u in demo.units:
        assert u["kind"] in kinds
        assert u["parent"] == "" or u["parent"] in ids
        assert u["district"] == "" or u["district"] in district_ids
        assert int(u["staff"]) >= 0
        assert u["name"] and u["contact"] and u["phone"]
    hq = {u["unit_id"] for u in demo.units if u["kind"] == "district HQ"}
    assert set(demo.layers["districts"]["hq_unit"]) == hq
    assert set(demo.layers["districts"]["street_office"]) <= ids


def test_grades_resolve_to_standards(demo: Demo) -> None:
    keys = {(s["applies_to"], s["grade"]) for s in demo.standards}
    for name in LAYERS[1:]:
        df = demo.layers[name]
        if "grade" not in df:
            continue
        for grade in df["grade"]:
            assert (name, grade) in keys or ("*", grade) in keys, (name, grade)
    catalog = tomllib.loads((demo.folder / "catalog.toml").read_text(encoding="utf-8"))
    default = next(x for x in catalog["layer"] if x["id"] == "facilities")["default_standard"]
    assert default in {s["standard_id"] for s in demo.standards}


def test_assignments_reference_real_features_and_units(demo: Demo) -> None:
    features = {i for df in demo.layers.values() for i in df["id"]}
    districts = set(demo.layers["districts"]["id"])
    units = {u["unit_id"] for u in demo.units}
    for row in demo.assignments:
        assert row["feature_id"] in features and row["feature_id"] not in districts
        assert row["unit_id"] in units
        assert row["role"] in {"lead", "shared", "supervisor"}
        for key in ("valid_from", "valid_until"):
            if row[key]:
                date.fromisoformat(row[key])


def test_stretches_within_line_length(demo: Demo) -> None:
    length = {}
    for name in ("back_streets", "city_entrances", "riverbank_segments"):
        df = demo.metric[name]
        length.update(zip(df["id"], df.length, strict=True))
    n = 0
    for row in demo.assignments:
        if row["from_m"] or row["to_m"]:
            start, end = float(row["from_m"]), float(row["to_m"])
            assert 0 <= start < end <= length[row["feature_id"]]
            n += 1
    assert n >= 25


def _leads_at(rows: list[dict[str, str]], day: str) -> list[dict[str, str]]:
    return [
        r
        for r in rows
        if r["role"] == "lead"
        and (not r["valid_from"] or r["valid_from"] <= day)
        and (not r["valid_until"] or day <= r["valid_until"])
    ]


def test_planted_problems_and_nothing_else(demo: Demo) -> None:
    rows = demo.rows_by_feature
    streets = demo.metric["back_streets"].set_index("id")
    unheld, gaps, splits = [], [], []
    for name in LAYERS[1:]:
        for fid in demo.layers[name]["id"]:
            for day in ("2025-06-01", "2026-03-01"):
                leads = _leads_at(rows.get(fid, []), day)
                if not leads:
                    unheld.append(fid)
                    break
                if any(r["from_m"] for r in leads):
                    spans = sorted((float(r["from_m"]), float(r["to_m"])) for r in leads)
                    assert spans[0][0] == 0
                    for (_, a_end), (b_start, _) in itertools.pairwise(spans):
                        assert a_end == b_start, fid
                    if streets.length[fid] - spans[-1][1] > 0.1 + 1e-6:
                        gaps.append(fid)
                    elif day == "2026-03-01":
                        splits.append(fid)
                        assert len({r["unit_id"] for r in leads}) == len(leads)
                else:
                    assert len(leads) == 1, (fid, day)
    assert len(unheld) == 1 and unheld[0].startswith("UC")
    assert len(set(gaps)) == 1
    assert len(splits) >= 12
    changes = [
        fid for fid, rs in rows.items() if any(r["role"] == "lead" and r["valid_until"] == "2025-12-31" for r in rs)
    ]
    assert len(changes) >= 4
    for fid in changes:
        old = _leads_at(rows[fid], "2025-12-31")[0]["unit_id"]
        new = _leads_at(rows[fid], "2026-01-01")[0]["unit_id"]
        assert old != new
    holding = {r["unit_id"] for r in demo.assignments}
    idle = [u["unit_id"] for u in demo.units if u["unit_id"] not in holding]
    assert len(idle) == 1


def test_only_the_planted_overlap_at_equal_priority(demo: Demo) -> None:
    overlaps = []
    for name in LAYERS[1:]:
        df = demo.metric[name]
        lines = df.geometry.values
        geoms = shapely.buffer(lines, TOLERANCE[name]) if name in TOLERANCE else lines
        tree = shapely.STRtree(geoms)
        left, right = tree.query(geoms, predicate="intersects")
        for a, b in zip(left, right, strict=True):
            if a >= b:
                continue
            if name in ("back_streets", "riverbank_segments", "city_entrances"):
                # Lines meeting at a junction (T, end to end) run together only there: no
                # more of either centre line lies within one zone width of the other.
                reach = TOLERANCE[name] + 1.0
                together = min(
                    shapely.length(shapely.intersection(lines[a], shapely.buffer(lines[b], reach))),
                    shapely.length(shapely.intersection(lines[b], shapely.buffer(lines[a], reach))),
                )
                assert together <= 2 * reach + 1.0, (name, df["id"].iloc[a], df["id"].iloc[b], together)
                continue
            area = float(shapely.area(shapely.intersection(geoms[a], geoms[b])))
            overlaps.append((name, df["id"].iloc[a], df["id"].iloc[b], area))
    assert len(overlaps) == 1
    name, a, b, area = overlaps[0]
    assert name == "unmanaged_compounds" and 200 <= area <= 700
    lead_a = {r["unit_id"] for r in demo.rows_by_feature[a] if r["role"] == "lead"}
    lead_b = {r["unit_id"] for r in demo.rows_by_feature[b] if r["role"] == "lead"}
    assert lead_a and lead_b and not lead_a & lead_b


def _main_roads(demo: Demo) -> shapely.Geometry:
    """District boundaries that are roads: not the town's outline, not the river's centre line."""
    districts = demo.layers["districts"].geometry.values
    edges = shapely.union_all(shapely.boundary(districts))
    outline = shapely.union_all(districts).exterior
    return shapely.difference(edges, shapely.union_all([shapely.buffer(outline, 1e-7), _water(demo, lonlat=True)]))


def _water(demo: Demo, lonlat: bool = False) -> shapely.Geometry:
    """The river between its two banks, from the riverbank segments."""
    banks = demo.layers["riverbank_segments"] if lonlat else demo.metric["riverbank_segments"]
    north = shapely.line_merge(shapely.union_all(banks[banks["bank"] == "北岸"].geometry.values))
    south = shapely.line_merge(shapely.union_all(banks[banks["bank"] == "南岸"].geometry.values))
    return shapely.Polygon(np.vstack([shapely.get_coordinates(north), shapely.get_coordinates(south)[::-1]]))


def test_back_streets_form_one_network_with_the_main_roads(demo: Demo) -> None:
    # Every alley touches a main road or another alley at a shared vertex (exactly, in the
    # files' lon/lat), and following those contacts reaches every alley from the main roads.
    streets = demo.layers["back_streets"].geometry.values
    roads = _main_roads(demo)
    n = len(streets)
    parent = list(range(n + 1))  # node n: the main roads (one network: bridges join the banks)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    left, right = shapely.STRtree(streets).query(streets, predicate="intersects")
    touches = np.zeros(n, dtype=bool)
    for a, b in zip(left, right, strict=True):
        if a != b:
            parent[find(int(a))] = find(int(b))
            touches[a] = True
    on_road = shapely.intersects(streets, roads)
    for i in np.flatnonzero(on_road):
        parent[find(int(i))] = find(n)
    assert (touches | on_road).all(), list(demo.layers["back_streets"]["id"][~(touches | on_road)])
    assert {find(i) for i in range(n + 1)} == {find(n)}
    assert on_road.sum() >= n // 4  # alleys hang off the roads, not only off each other
    assert 0.2 * n <= (touches & ~on_road).sum()  # and branch off each other


def test_districts_lie_between_the_winding_river_and_the_roads(demo: Demo) -> None:
    water = _water(demo)
    banks = demo.metric["riverbank_segments"]
    north = shapely.line_merge(shapely.union_all(banks[banks["bank"] == "北岸"].geometry.values))
    # The river winds: its bank swings over 600 m north and south and is longer than its span.
    ys = shapely.get_coordinates(north)[:, 1]
    xs = shapely.get_coordinates(north)[:, 0]
    assert ys.max() - ys.min() >= 600
    assert north.length >= 1.03 * (xs.max() - xs.min())
    # No district reaches across the river: each holds water on one side of the centre line only.
    districts = demo.metric["districts"]
    touching = [g for g in districts.geometry if shapely.area(shapely.intersection(g, water)) > 1.0]
    assert len(touching) == len(banks)
    for g in touching:
        on_north = shapely.length(shapely.intersection(g, north)) > 1.0
        on_south = any(
            shapely.length(shapely.intersection(g, s)) > 1.0 for s in banks[banks["bank"] == "南岸"].geometry
        )
        assert on_north != on_south
    # Main roads bound the districts: every district touches one, and they cross the river on bridges.
    roads = _main_roads(demo)
    assert shapely.intersects(demo.layers["districts"].geometry.values, roads).all()
    assert shapely.intersects(roads, _water(demo, lonlat=True))


def test_compounds_stand_beside_an_alley(demo: Demo) -> None:
    compounds = demo.metric["unmanaged_compounds"]
    streets = shapely.union_all(demo.metric["back_streets"].geometry.values)
    gap = shapely.distance(compounds.geometry.values, streets)
    planted = set(_build().overlap_pairs[0])
    beside = gap <= 30.0
    assert beside[~compounds["id"].isin(planted)].all()
    assert (gap >= 7.9).all()  # beside it, not across it


def test_output_matches_committed_demo_byte_for_byte(demo: Demo) -> None:
    produced = sorted(p.name for p in demo.folder.iterdir())
    committed = sorted(p.name for p in COMMITTED.iterdir() if p.is_file())  # a case store may sit in data/
    assert produced == committed
    for name in produced:
        assert (demo.folder / name).read_bytes() == (COMMITTED / name).read_bytes(), name


def test_two_runs_give_the_same_bytes_and_another_seed_other_places(demo: Demo, tmp_path: Path) -> None:
    again = _generate(tmp_path / "again")
    for path in demo.folder.iterdir():
        assert (again / path.name).read_bytes() == path.read_bytes(), path.name
    other = _generate(tmp_path / "other", "--seed", "7")
    assert (other / "districts.geojson").read_bytes() == (demo.folder / "districts.geojson").read_bytes()
    assert (other / "back_streets.geojson").read_bytes() != (demo.folder / "back_streets.geojson").read_bytes()


def test_the_demo_holds_on_any_day_it_is_tried(demo: Demo) -> None:
    # Rows that end have ended before today and are followed the next day by another lead;
    # every row in force has begun and has no end, so today and in ten years answer alike.
    today = date.today()
    for fid, rows in demo.rows_by_feature.items():
        for row in rows:
            assert not row["valid_from"] or date.fromisoformat(row["valid_from"]) <= today, (fid, row)
            if row["valid_until"]:
                end = date.fromisoformat(row["valid_until"])
                assert end < today, (fid, row)
                after = (end + timedelta(days=1)).isoformat()
                assert any(r["role"] == row["role"] and r["valid_from"] == after for r in rows), (fid, row)
    later = (today + timedelta(days=3653)).isoformat()  # ten years on (no 29 February trap)
    for rows in demo.rows_by_feature.values():
        assert _leads_at(rows, today.isoformat()) == _leads_at(rows, later)


def test_validate_and_coverage_find_exactly_the_planted_problems(demo: Demo) -> None:
    from geo import load_dataset

    built = _build()
    ds = load_dataset(demo.folder)
    assert ds.ok and all(f.level != "error" for f in ds.findings)
    today = date.today().isoformat()
    report = ds.coverage(today)
    gap_street = built.planted["gap"][0].split(":")[0]
    unheld = {(r.feature_id, r.reason) for r in report.unheld.itertuples(index=False)}
    assert unheld == {(built.planted["unheld"][0], "no_assignment"), (gap_street, "stretch_uncovered")}
    pairs = {tuple(sorted(ids)) for ids in report.conflicts["feature_ids"]}
    assert pairs == {tuple(sorted(built.planted["overlap"][0].split("+")))}
    assert report.gaps.empty and report.frame_overlaps.empty
    assert set(report.idle_units) == set(built.planted["idle"])
    short = set(report.units.loc[report.units["shortfall"] > 0, "unit_id"])
    assert short == {s.split(":")[0] for s in built.notes["short"]}
    warnings = {(f.code, f.feature_id) for f in ds.findings if f.level == "warning"}
    assert ("feature_unheld", built.planted["unheld"][0]) in warnings
    assert ("unit_unused", built.planted["idle"][0]) in warnings


def test_scale_two_doubles_the_counts(demo: Demo, demo2: Demo) -> None:
    for name, n in COUNTS.items():
        assert len(demo2.layers[name]) == 2 * n, name
    assert len(demo2.units) == 2 * len(demo.units)
    assert len(demo2.layers["riverbank_segments"]) > len(demo.layers["riverbank_segments"])
    ids = [i for df in demo2.layers.values() for i in df["id"]]
    assert len(ids) == len(set(ids))
    geoms = demo2.metric["districts"].geometry.values
    total = float(shapely.area(geoms).sum())
    assert abs(float(shapely.area(shapely.union_all(geoms))) - total) <= 1e-6 * total
    assert abs(total - 2 * float(shapely.area(demo.metric["districts"].geometry.values).sum())) <= 0.01 * total


def test_demo_points_mean_what_they_say() -> None:
    # tests/demo_points.py names places of the committed demo; each must still mean what it says.
    from geo import load_dataset
    from tests import demo_points as points

    ds = load_dataset(COMMITTED)
    assert ds.feature_counts() == points.COUNTS

    def matches(point: Any, crs: str = "wgs84") -> dict[str, Any]:
        return ds.lookup(point.lon, point.lat, crs=crs).to_dict()

    for answer in (matches(points.ON_SPLIT_STRETCH), matches(points.ON_SPLIT_STRETCH_GCJ02, "gcj02")):
        first = answer["matches"][0]
        assert first["feature_id"] == points.SPLIT_STREET
        assert first["stretch"]["number"] == 1 and first["stretch"]["to_m"] == points.SPLIT_STREET_CUT_M
        assert [u["unit_id"] for u in first["units"] if u["role"] == "lead"] == [points.SPLIT_STREET_UNITS[0]]
        assert answer["district"]["district_id"] == points.SPLIT_STREET_DISTRICT
    wgs84 = matches(points.ON_SPLIT_STRETCH_GCJ02, "gcj02")["point"]["wgs84"]
    assert (
        abs(wgs84["lon"] - points.ON_SPLIT_STRETCH.lon) < 2e-6
        and abs(wgs84["lat"] - points.ON_SPLIT_STRETCH.lat) < 2e-6
    )
    leads = [
        (r["unit_id"], r["from_m"])
        for r in _read_csv(COMMITTED / "assignments.csv")
        if r["feature_id"] == points.SPLIT_STREET and r["role"] == "lead"
    ]
    assert leads == [
        (points.SPLIT_STREET_UNITS[0], "0"),
        (points.SPLIT_STREET_UNITS[1], fmt(points.SPLIT_STREET_CUT_M)),
    ]

    village = matches(points.IN_VILLAGE)["matches"]
    assert [(m["layer"], m["feature_id"]) for m in village][:1] == [("urban_villages", points.VILLAGE)]
    assert [m["layer"] for m in village] == ["urban_villages", "districts"]
    assert village[0]["units"][0] == {**village[0]["units"][0], "unit_id": points.VILLAGE_LEAD, "role": "lead"}

    fallback = matches(points.FALLBACK_ONLY)
    assert [(m["feature_id"], m["units"][0]["unit_id"]) for m in fallback["matches"]] == [
        (points.FALLBACK_DISTRICT, points.FALLBACK_UNIT)
    ]

    outside = matches(points.OUTSIDE_FRAME)
    assert not outside["inside_frame"] and not outside["matches"] and outside["nearest"]

    unheld = matches(points.ON_UNHELD_STRETCH)["matches"]
    assert [m["layer"] for m in unheld] == ["back_streets", "districts"]
    assert unheld[0]["feature_id"] == points.GAP_STREET and unheld[0]["units"] == []
    assert unheld[0]["stretch"]["from_m"] == points.GAP_HELD_TO_M

    built = _build()
    assert built.planted["unheld"] == [points.UNHELD_COMPOUND]
    assert sorted(built.planted["overlap"][0].split("+")) == sorted(points.OVERLAP_PAIR)
    assert built.planted["gap"] == [f"{points.GAP_STREET}:0-{fmt(points.GAP_HELD_TO_M)}-{fmt(points.GAP_LENGTH_M)}"]
    assert built.planted["idle"] == [points.IDLE_UNIT]
    assert {s.split(":")[0] for s in built.notes["short"]} == points.SHORT_UNITS
    rows = _read_csv(COMMITTED / "assignments.csv")
    leads = [
        next(r["unit_id"] for r in rows if r["feature_id"] == f and r["role"] == "lead") for f in points.OVERLAP_PAIR
    ]
    assert tuple(leads) == points.OVERLAP_LEADS
    units = sorted({r["unit_id"] for r in rows if r["feature_id"] in points.OVERLAP_PAIR and r["role"] != "supervisor"})
    assert tuple(units) == points.OVERLAP_UNITS


def fmt(value: float) -> str:
    """Metres as the generator writes them: 270 -> '270', 494.6 -> '494.6'."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


@pytest.fixture(scope="module")
def demo_cases(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The demo and 400 synthetic cases beside it (generate_demo.py --cases)."""
    folder = tmp_path_factory.mktemp("with_cases")
    _generate(folder / "ankang", "--cases", "400", "--cases-out", str(folder / "cases"))
    return folder / "ankang", folder / "cases"


def test_cases_are_deterministic_and_importable(demo_cases: tuple[Path, Path], tmp_path: Path) -> None:
    from cases.round_import import read_round

    dataset, cases = demo_cases
    _generate(tmp_path / "ankang", "--cases", "400", "--cases-out", str(tmp_path / "cases"))
    for name in ("cases.csv", "case_events.csv"):
        assert (tmp_path / "cases" / name).read_bytes() == (cases / name).read_bytes(), name
    # The dataset files are the same with or without cases.
    for path in dataset.iterdir():
        assert path.read_bytes() == (COMMITTED / path.name).read_bytes(), path.name
    table = read_round(cases / "cases.csv")  # what `respmap cases import` reads
    assert not table.problems and len(table.rows) == 400
    assert {"lon", "lat", "category", "note", "time", "crs"} <= set(table.columns)


def test_cases_fall_mostly_on_back_streets_and_villages_with_some_rework_and_disputes(
    demo_cases: tuple[Path, Path],
) -> None:
    from geo import load_dataset

    dataset, folder = demo_cases
    cases = _read_csv(folder / "cases.csv")
    events = _read_csv(folder / "case_events.csv")
    ds = load_dataset(dataset)
    layers = []
    for crs in ("wgs84", "gcj02"):
        rows = [c for c in cases if c["crs"] == crs]
        found = ds.lookup_many([float(c["lon"]) for c in rows], [float(c["lat"]) for c in rows], crs=crs)
        assert found["inside_frame"].all()
        layers += [str(x) for x in found["layer"]]
    share = sum(x in ("back_streets", "urban_villages") for x in layers) / len(layers)
    assert share >= 0.55
    today = date.today().isoformat()
    assert all("2026-06-01" <= c["time"][:10] < "2026-12-01" <= today for c in cases)
    assert all(c["time"] <= e["at"] for c in cases for e in events if e["ref"] == c["ref"])
    actions = [e["action"] for e in events]
    assert actions.count("send_back") >= 10 and actions.count("dispute") >= 1
    closed = {e["ref"] for e in events if e["action"] == "close"}
    assert 0.9 * len(cases) <= len(closed) < len(cases)  # the last days' cases are still open


def test_replayed_cases_keep_their_history_in_the_store(
    demo_cases: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import func, select

    from cases.models import Case, Event
    from cases.store import open_store

    dataset, folder = demo_cases
    small = tmp_path / "small"
    small.mkdir()
    cases = _read_csv(folder / "cases.csv")[:25]
    refs = {c["ref"] for c in cases}
    events = [e for e in _read_csv(folder / "case_events.csv") if e["ref"] in refs]
    for name, rows in (("cases.csv", cases), ("case_events.csv", events)):
        with (small / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    monkeypatch.setenv("RESPMAP_DATA_DIR", str(tmp_path / "store"))
    monkeypatch.delenv("RESPMAP_DATABASE_URL", raising=False)
    module = _load_module()
    with contextlib.redirect_stdout(io.StringIO()):
        assert module.main(["--out", str(dataset), "--replay-cases", str(small)]) == 0
    again = io.StringIO()
    with contextlib.redirect_stdout(again):
        assert module.main(["--out", str(dataset), "--replay-cases", str(small)]) == 0  # nothing doubled
    assert "0 cases created, 25 already there, 0 steps taken" in again.getvalue()
    store = open_store(dataset)
    with store.reading() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 25
        closed = {e["ref"] for e in events if e["action"] == "close"}
        assert session.scalar(select(func.count()).select_from(Case).where(Case.state == "closed")) == len(closed)
        # report + dispatch + every step, each at its own time
        assert session.scalar(select(func.count()).select_from(Event)) == 2 * 25 + len(events)
        first = session.scalars(select(Event).order_by(Event.at)).first()
        assert first is not None and first.at.date().isoformat() >= "2026-05-31"


@pytest.mark.parametrize(
    ("file", "column", "value", "shown"),
    [
        ("cases.csv", "lon", "109,1,2", "cases.csv row 3 (DEMO-00002): lon '109,1,2'"),  # not a number
        ("cases.csv", "time", "yesterday", "cases.csv row 3 (DEMO-00002): time 'yesterday'"),  # not a time
        ("cases.csv", "category", "graffiti", "cases.csv row 3 (DEMO-00002): unknown category"),  # the store refuses
        (
            "case_events.csv",
            "action",
            "close",
            "case_events.csv row {row} (DEMO-00002, close): a unit may not",
        ),  # order
    ],
)
def test_replay_names_the_file_row_and_field_it_cannot_use(
    demo_cases: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    file: str,
    column: str,
    value: str,
    shown: str,
) -> None:
    dataset, folder = demo_cases
    broken = tmp_path / "broken"
    broken.mkdir()
    cases = _read_csv(folder / "cases.csv")[:3]
    refs = {c["ref"] for c in cases}
    events = [e for e in _read_csv(folder / "case_events.csv") if e["ref"] in refs]
    events.sort(key=lambda e: e["ref"])
    tables = {"cases.csv": cases, "case_events.csv": events}
    # DEMO-00002's report, or its first step (a unit's rectify, made a close: the unit may not)
    position = next(i for i, r in enumerate(tables[file]) if r["ref"] == "DEMO-00002")
    tables[file][position][column] = value
    shown = shown.format(row=position + 2)  # the header is row 1
    for name, rows in tables.items():
        with (broken / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    monkeypatch.setenv("RESPMAP_DATA_DIR", str(tmp_path / "store"))
    monkeypatch.delenv("RESPMAP_DATABASE_URL", raising=False)
    module = _load_module()
    assert module.main(["--out", str(dataset), "--replay-cases", str(broken)]) == 1
    err = capsys.readouterr().err
    assert shown in err and "Traceback" not in err


def test_an_unwritable_output_folder_is_named_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    module = _load_module()
    assert module.main(["--out", str(blocker / "ankang")]) == 1
    err = capsys.readouterr().err
    assert f"cannot write {blocker / 'ankang'}" in err and "Traceback" not in err
