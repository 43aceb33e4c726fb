"""Tests for layers/generate_demo.py, the deterministic demo-dataset generator.

What: run the generator into temporary folders (scale 1 and 2) and check the
dataset contract (counts, ids, valid geometry, a gap-free district frame,
assignments that point at real features and units, stretches within their
line), that exactly the four planted problems are present and nothing else of
their kind, and that the output equals the committed ``layers/ankang`` byte for
byte.

Why: other parts of respmap code against this data; a silent change in the
generator (or non-determinism) would break them in confusing ways.
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
from datetime import date
from pathlib import Path
from types import ModuleType

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
    assert nv.min() >= 2 and nv.max() <= 6
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
        geoms = df.geometry.values
        if name in TOLERANCE:
            geoms = shapely.buffer(geoms, TOLERANCE[name])
        tree = shapely.STRtree(geoms)
        left, right = tree.query(geoms, predicate="intersects")
        for a, b in zip(left, right, strict=True):
            if a < b:
                area = float(shapely.area(shapely.intersection(geoms[a], geoms[b])))
                overlaps.append((name, df["id"].iloc[a], df["id"].iloc[b], area))
    # riverbank neighbours touch end to end (their round caps overlap); ignore those
    real = [o for o in overlaps if o[0] != "riverbank_segments"]
    assert len(real) == 1
    name, a, b, area = real[0]
    assert name == "unmanaged_compounds" and 200 <= area <= 700
    lead_a = {r["unit_id"] for r in demo.rows_by_feature[a] if r["role"] == "lead"}
    lead_b = {r["unit_id"] for r in demo.rows_by_feature[b] if r["role"] == "lead"}
    assert lead_a and lead_b and not lead_a & lead_b


def test_output_matches_committed_demo_byte_for_byte(demo: Demo) -> None:
    produced = sorted(p.name for p in demo.folder.iterdir())
    committed = sorted(p.name for p in COMMITTED.iterdir())
    assert produced == committed
    for name in produced:
        assert (demo.folder / name).read_bytes() == (COMMITTED / name).read_bytes(), name


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
