"""The shared vocabulary of the demo generator: constants, records and the build state.

What: the counts and dates of the demo, the layer titles and id styles, the records the
steps fill in (``Feature``, ``Unit``, ``Row``), the ``Demo`` state every step reads and
writes, and the EPSG:4545 <-> WGS-84 helpers (files hold lon/lat rounded to 7 decimals).

Why: the steps (geometry, organisation, staffing, writers) live in their own modules;
they share one explicit state object rather than one large class, and all randomness
flows through ``Demo.rng`` in a fixed call order, which keeps the output byte-identical.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Transformer

DEFAULT_SEED = 20260301
DATA_DATE = "2026-03-01"
CHANGE_END = "2025-12-31"
CHANGE_START = "2026-01-01"

CENTRE_LON, CENTRE_LAT = 109.03, 32.69
TILE_W_M, TILE_H_M = 9000.0, 6000.0  # one town tile; --scale N lays N tiles side by side
BANK_OFFSET_M = 150.0

# Counts per town tile (scale 1); --scale N multiplies every one.
N_DISTRICTS = 16
N_VILLAGES = 24
N_STREETS = 177
N_COMPOUNDS = 65
N_ENTRANCES = 6
N_FACILITIES = 150
N_SPLIT_STREETS = 14
N_LEAD_CHANGES = 5

# (layer id, id prefix, id digits at scale 1)
ID_STYLE = {
    "districts": ("D", 2),
    "urban_villages": ("UV", 3),
    "back_streets": ("BS", 3),
    "unmanaged_compounds": ("UC", 3),
    "city_entrances": ("CE", 2),
    "riverbank_segments": ("RB", 2),
    "facilities": ("FA", 3),
}

TO_LONLAT = Transformer.from_crs("EPSG:4545", "EPSG:4326", always_xy=True)
TO_METRIC = Transformer.from_crs("EPSG:4326", "EPSG:4545", always_xy=True)

LAYER_TITLES = {
    "districts": ("双创片区", "Campaign districts"),
    "urban_villages": ("城中村", "Urban villages"),
    "back_streets": ("背街小巷", "Back streets and alleys"),
    "unmanaged_compounds": ("无物业管理小区", "Residential compounds without property management"),
    "city_entrances": ("城市出入口", "City entrances"),
    "riverbank_segments": ("沿江河", "Riverbanks"),
    "facilities": ("环卫设施", "Sanitation facilities"),
}
LAYER_ORDER = list(LAYER_TITLES)


def make_ids(layer: str, n: int, scale: int) -> list[str]:
    """Feature ids like BS001; the zero padding widens with --scale so ids stay sortable."""
    prefix, digits = ID_STYLE[layer]
    width = max(digits, len(str(n)))
    return [f"{prefix}{i + 1:0{width}d}" for i in range(n)]


def unit_ids(prefix: str, n: int, digits: int) -> list[str]:
    """Unit ids like HQ01 or CM001, padded to fit n."""
    width = max(digits, len(str(n)))
    return [f"{prefix}{i + 1:0{width}d}" for i in range(n)]


def _lonlat_coords(coords: np.ndarray) -> np.ndarray:
    lon, lat = TO_LONLAT.transform(coords[:, 0], coords[:, 1])
    return np.round(np.column_stack([lon, lat]), 7)


def _metric_coords(coords: np.ndarray) -> np.ndarray:
    x, y = TO_METRIC.transform(coords[:, 0], coords[:, 1])
    return np.column_stack([x, y])


def to_lonlat(geoms: np.ndarray) -> np.ndarray:
    """EPSG:4545 metres -> WGS-84 lon/lat rounded to 7 decimals (what the files hold)."""
    return shapely.transform(geoms, _lonlat_coords)


def to_metric(geoms: np.ndarray) -> np.ndarray:
    """WGS-84 lon/lat -> EPSG:4545 metres (how consumers measure stretches)."""
    return shapely.transform(geoms, _metric_coords)


def floor_decimetre(length: float) -> float:
    """Round a length DOWN to 0.1 m (with 1 µm slack) so a stretch never exceeds its line."""
    return math.floor((length - 1e-6) * 10.0) / 10.0


def fmt_m(value: float) -> str:
    """Metres for the CSV: 250 -> '250', 512.3 -> '512.3'."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


@dataclass
class Feature:
    """One generated feature: metric geometry, properties and bookkeeping for assignments."""

    layer: str
    geom: shapely.Geometry
    props: dict[str, object]
    district: int = -1
    length_floor: float = 0.0  # lines: EPSG:4545 length of the written line, floored to 0.1 m
    workload_m2: float = 0.0
    tag: str = ""


@dataclass
class Unit:
    """One row of units.csv."""

    unit_id: str
    name: str
    kind: str
    parent: str
    contact: str
    phone: str
    staff: int
    district: str
    copy: int


@dataclass
class Row:
    """One row of assignments.csv."""

    feature_id: str
    unit_id: str
    role: str
    from_m: float | None = None
    to_m: float | None = None
    valid_from: str = ""
    valid_until: str = ""


class Demo:
    """Everything the steps build, in memory; the writers put it on disk.

    Set up here: the frame (in EPSG:4545 metres), the seeded generator, empty layers and
    tables.  Each step of ``builder.build`` fills in more attributes (declared below).
    """

    # set by plan
    water: np.ndarray
    road_edges: list[list[np.ndarray]]  # per district: main-road stretches of its boundary (CCW order)
    district_geoms: np.ndarray
    district_tree: shapely.STRtree
    district_edges: np.ndarray  # district boundaries as lines (main roads, the river, the frame)
    entrance_lines: list[shapely.Geometry]
    entrance_sides: list[str]  # W, E, N or S: the side of the town each entrance leaves by
    # set by places
    village_geoms: np.ndarray
    street_geoms: np.ndarray
    overlap_pairs: list[tuple[str, str]]
    # set by organisation
    dept: list[dict[str, str]]
    county: list[list[str]]
    so_of_district: list[str]
    cm_of_district: list[list[str]]
    hq: list[str]
    company: list[list[str]]
    unit_by_id: dict[str, Unit]
    idle: set[str]

    def __init__(self, scale: int, seed: int) -> None:
        if scale < 1:
            raise ValueError("scale must be >= 1")
        self.scale = scale
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        # Tiles row by row from the north-west; the whole frame centred on Ankang's centre.
        self.n_cols = math.ceil(math.sqrt(scale))
        self.n_rows = math.ceil(scale / self.n_cols)
        cx, cy = TO_METRIC.transform(CENTRE_LON, CENTRE_LAT)
        self.x0 = float(round(cx) - round(self.n_cols * TILE_W_M / 2))
        self.y1 = float(round(cy) + round(self.n_rows * TILE_H_M / 2))
        self.tile_origins = [
            (self.x0 + (c % self.n_cols) * TILE_W_M, self.y1 - (c // self.n_cols + 1) * TILE_H_M) for c in range(scale)
        ]
        self.frame = shapely.union_all([shapely.box(x, y, x + TILE_W_M, y + TILE_H_M) for x, y in self.tile_origins])
        self.layers: dict[str, list[Feature]] = {name: [] for name in LAYER_ORDER}
        self.units: list[Unit] = []
        self.rows: dict[str, list[Row]] = {}
        self.planted: dict[str, list[str]] = {"unheld": [], "overlap": [], "gap": [], "idle": []}
        self.notes: dict[str, list[str]] = {"split": [], "change": [], "short": []}
