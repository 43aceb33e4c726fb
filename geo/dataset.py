"""The Dataset: an immutable snapshot of one dataset folder, loaded and joined.

``load_dataset(path)`` reads the catalog, the layers and the tables, validates
everything (findings, never exceptions, for bad data), and joins them into
duty zones. A Dataset is never mutated after it is built; derived things that
are costly (the lookup index, coverage per date) are computed on first use and
cached behind a lock (bounded per kind), so a server can share one Dataset
between threads and swap it for a new one atomically on reload. Two threads
asking for the same value at once may both compute it; the first to finish is
kept and both get that one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from geo.catalog import Catalog, LayerSpec, read_catalog
from geo.datums import WGS84_CRS
from geo.findings import Finding, Findings
from geo.layer_checks import normalise_layer, parse_crs, property_hint, source_crs_text
from geo.layer_files import read_layer_file
from geo.table_checks import check_standards, check_units, units_from_values
from geo.tables import read_table
from geo.zones import (
    HOLDING_ROLES,
    ROLES,
    build_duty_zones,
    feature_index,
    resolve_standards,
    typed_assignments,
    zones_on,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMO_DATASET = REPO_ROOT / "layers" / "ankang"
DATASET_ENV = "RESPMAP_DATASET"
MAX_FILE_MB_ENV = "RESPMAP_MAX_FILE_MB"
# Derived values kept per kind (e.g. per date) before the least recently used goes.
DEFAULT_CACHE_LIMIT = 16


def default_dataset_path() -> Path:
    """``RESPMAP_DATASET`` when set, else the bundled Ankang demo."""
    configured = os.environ.get(DATASET_ENV, "").strip()
    return Path(configured) if configured else DEMO_DATASET


class Dataset:
    """Everything respmap knows about one dataset, frozen at load time.

    Attributes:
        path: the dataset folder.
        catalog: the parsed ``catalog.toml``.
        layers: layer id -> GeoDataFrame of its usable features (WGS-84), with
            ``feature_id``, ``name``, ``width_m``, ``standard_id``, ``grade``
            beside the source properties.
        frame: the campaign districts (``district_id``, ``name``,
            ``fallback_unit``, geometry in WGS-84), or None without a frame.
        units, standards, assignments: the typed tables.
        findings: every problem found while loading.
        duty_zones: one row per (feature, assignment) for all dates; see
            :func:`geo.zones.build_duty_zones`. ``zones_on(date)`` gives a date.
        metric_crs: the CRS in which lengths, areas and tolerances are measured.
    """

    def __init__(
        self,
        *,
        path: Path,
        catalog: Catalog | None,
        layers: dict[str, gpd.GeoDataFrame],
        frame: gpd.GeoDataFrame | None,
        units: pd.DataFrame,
        standards: pd.DataFrame,
        assignments: pd.DataFrame,
        findings: tuple[Finding, ...],
        duty_zones: gpd.GeoDataFrame,
        metric_crs: CRS,
        content_hash: str,
        status_date: pd.Timestamp | None = None,
    ) -> None:
        self.path = path
        self.catalog = catalog
        self.layers = layers
        self.frame = frame
        self.units = units
        self.standards = standards
        self.assignments = assignments
        self.findings = findings
        self.duty_zones = duty_zones
        self.metric_crs = metric_crs
        self.content_hash = content_hash
        # A date asked for at load (``respmap ... --date``): it overrides the catalog's status_date.
        self._status_date = None if status_date is None else pd.Timestamp(status_date).normalize()
        self.loaded_at = dt.datetime.now(dt.UTC)
        self._cache: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    # -- plain facts ---------------------------------------------------------
    @property
    def ok(self) -> bool:
        """True when loading found no errors (warnings are fine)."""
        return not any(f.level == "error" for f in self.findings)

    @property
    def name(self) -> str:
        return self.catalog.title if self.catalog else self.path.name

    @property
    def lang(self) -> str:
        return self.catalog.lang if self.catalog else "zh"

    @property
    def reference_date(self) -> pd.Timestamp:
        """The one date every answer is for when none is asked (see :func:`reference_date_of`).

        The date given at load (``--date``), else the catalog's ``[dataset] status_date``,
        else today, resolved at each call (a server running past midnight moves on).
        """
        return reference_date_of(self.catalog, self._status_date)

    @property
    def reference_date_source(self) -> str:
        """Where :attr:`reference_date` comes from: ``"given"``, ``"status_date"`` or ``"today"``."""
        if self._status_date is not None:
            return "given"
        return "status_date" if self.catalog is not None and self.catalog.status_date else "today"

    def layer_spec(self, layer_id: str) -> LayerSpec:
        assert self.catalog is not None
        return self.catalog.layer(layer_id)

    def feature_counts(self) -> dict[str, int]:
        return {layer_id: len(layer) for layer_id, layer in self.layers.items()}

    def zones_on(self, date: dt.date | str | pd.Timestamp | None = None) -> gpd.GeoDataFrame:
        """Duty zones in force on ``date`` (default today); cached per date."""
        when = self.reference_date if date is None else pd.Timestamp(date).normalize()
        return self.cached(("zones_on", when), lambda: zones_on(self.duty_zones, when))

    def held_zones_on(self, date: dt.date | str | pd.Timestamp | None = None) -> gpd.GeoDataFrame:
        """Zones in force on ``date`` held by a lead or sharing unit."""
        zones = self.zones_on(date)
        return zones[zones["role"].isin(HOLDING_ROLES)]

    def cached(self, key: Any, build: Callable[[], Any], *, limit: int = DEFAULT_CACHE_LIMIT) -> Any:
        """Compute a derived value once per Dataset (thread-safe), bounded per kind.

        A tuple key's first item is its kind (``("zones_on", date)``); at most
        ``limit`` values of one kind are kept, the least recently used going
        first, because some keys come from requests (a date, a unit) and an
        unbounded cache would let clients use up the server's memory.
        """
        kind = key[0] if isinstance(key, tuple) and key else key
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        value = build()
        with self._lock:
            if key in self._cache:
                return self._cache[key]
            self._cache[key] = value
            same_kind = [k for k in self._cache if (k[0] if isinstance(k, tuple) and k else k) == kind]
            for stale in same_kind[: max(0, len(same_kind) - limit)]:
                del self._cache[stale]
            return value

    # -- questions answered elsewhere in geo/ --------------------------------
    def lookup(self, lon: float, lat: float, crs: str = "wgs84", date: Any = None) -> Any:
        """Every zone that covers a point, most specific first: see :mod:`geo.lookup`."""
        from geo.lookup import lookup

        return lookup(self, lon, lat, crs=crs, date=date)

    def lookup_many(
        self, lons: Any, lats: Any, crs: str = "wgs84", date: Any = None, *, all_matches: bool = False
    ) -> pd.DataFrame:
        """Best match per point (or all matches, long form): see :mod:`geo.lookup`."""
        from geo.lookup import lookup_many

        return lookup_many(self, lons, lats, crs=crs, date=date, all_matches=all_matches)

    def coverage(self, date: Any = None, **options: Any) -> Any:
        """Gaps, conflicts, unheld places and workload: see :mod:`geo.coverage`."""
        from geo.coverage import compute_coverage

        return compute_coverage(self, date=date, **options)

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in self.feature_counts().items())
        errors = sum(1 for f in self.findings if f.level == "error")
        return f"<Dataset {self.name!r} {counts}; {len(self.duty_zones)} zones; {errors} errors>"


def reference_date_of(catalog: Catalog | None, given: Any = None) -> pd.Timestamp:
    """The date rule, one for every command and route: ``given``, else the catalog's status_date, else today."""
    if given is not None:
        return pd.Timestamp(given).normalize()
    if catalog is not None and catalog.status_date:
        return pd.Timestamp(catalog.status_date)
    return pd.Timestamp(dt.date.today())


def load_dataset(
    path: str | Path | None = None,
    *,
    fix: bool = False,
    max_file_mb: float | None = None,
    status_date: Any = None,
    progress: Callable[[str], None] | None = None,
) -> Dataset:
    """Load, validate and join a dataset folder; never raises on bad data.

    Args:
        path: the dataset folder; None means ``RESPMAP_DATASET`` or the demo.
        fix: repair invalid geometries (reported as warnings, not errors).
        max_file_mb: refuse files bigger than this (default from the catalog,
            ``RESPMAP_MAX_FILE_MB`` or 512 MB).
        status_date: the date answers are for when none is asked (a date or
            ISO text), overriding the catalog's ``status_date``; the load's
            warnings about unheld places and idle units are for this date too.
        progress: called with the name of each stage as it starts (a layer id,
            ``tables``, ``assignments``, ``zones``, ``checks``), for a progress
            line on a terminal.

    Example:
        >>> ds = load_dataset()
        >>> ds.duty_zones[["layer", "feature_id", "unit_id"]].head()
    """
    root = Path(path) if path is not None else default_dataset_path()
    given = None if status_date is None else pd.Timestamp(status_date).normalize()
    stage = progress or (lambda _name: None)
    findings = Findings()
    catalog = read_catalog(root, findings)
    if catalog is None:
        return _empty_dataset(root, None, findings)
    limit = max_file_mb or _env_float(MAX_FILE_MB_ENV) or catalog.max_file_mb

    layers: dict[str, gpd.GeoDataFrame] = {}
    drawn_in: dict[str, str] = {}
    for spec in catalog.layers:
        stage(spec.id)
        layer_file = read_layer_file(root, spec, limit, findings)
        if layer_file is None:
            continue
        layer = normalise_layer(spec, layer_file, catalog, findings, fix=fix)
        if layer is not None:
            layers[spec.id] = layer
            drawn_in[spec.id] = source_crs_text(spec, layer_file, catalog)

    metric_crs = _metric_crs(catalog, layers, findings, drawn_in)
    layers_metric = {layer_id: layer.geometry.to_crs(metric_crs) for layer_id, layer in layers.items()}

    stage("tables")
    tables = {name: read_table(root, name, file_name, limit, findings) for name, file_name in catalog.tables.items()}
    unit_values = [
        v for spec in catalog.layers if spec.unit_field and spec.id in layers for v in layers[spec.id]["unit_value"]
    ]
    if tables.get("units") is not None:
        units = check_units(tables["units"], findings)
    else:
        # Without a units table the data names its own units: the layers' unit_field
        # values, and the district offices the frame's fallback_unit_field names.
        hq_values = _fallback_values(catalog, layers)
        if "units" not in catalog.tables and not unit_values and not hq_values:
            findings.warning(
                "table_missing", "the dataset has no units table (units.csv or units.xlsx)", file="units.csv"
            )
        units = units_from_values(unit_values, hq_values)
    standards = check_standards(tables["standards"], findings) if tables.get("standards") is not None else None
    unit_ids = set(units["unit_id"])

    for spec in catalog.layers:
        if spec.id not in layers:
            continue
        standard_ids, grades = resolve_standards(spec, layers[spec.id], standards, findings)
        layers[spec.id] = layers[spec.id].assign(standard_id=standard_ids, grade=grades)
        if spec.unit_field and tables.get("units") is not None:
            for fid, value in zip(layers[spec.id]["feature_id"], layers[spec.id]["unit_value"], strict=True):
                if value and value not in unit_ids:
                    findings.error(
                        "unknown_unit",
                        f"{spec.file}: feature {fid} names unit {value[:60]!r}, which is not in the units table",
                        file=spec.file,
                        feature_id=fid,
                        field=spec.unit_field,
                    )

    stage("assignments")
    index = feature_index(catalog, layers, findings)
    if tables.get("assignments") is not None:
        typed = typed_assignments(tables["assignments"], index, catalog, layers_metric, unit_ids, findings)
    else:
        typed = typed_assignments(
            pd.DataFrame(
                columns=["feature_id", "unit_id", "layer", "role", "from_m", "to_m", "valid_from", "valid_until"]
            ),
            index,
            catalog,
            layers_metric,
            unit_ids,
            findings,
        )

    frame, frame_metric = _frame(catalog, layers, layers_metric, unit_ids, findings)
    stage("zones")
    duty_zones = build_duty_zones(
        catalog,
        layers,
        layers_metric,
        typed,
        units,
        metric_crs,
        None if frame is None else frame_metric,
        None if frame is None else frame["district_id"].to_numpy(dtype=object),
    )
    stage("checks")
    _report_unheld_and_idle(catalog, duty_zones, units, frame, findings, reference_date_of(catalog, given))

    return Dataset(
        path=root,
        catalog=catalog,
        layers=layers,
        frame=frame,
        units=units,
        standards=standards if standards is not None else pd.DataFrame(columns=["standard_id", "applies_to", "grade"]),
        assignments=typed,
        findings=findings.items,
        duty_zones=duty_zones,
        metric_crs=metric_crs,
        content_hash=_content_hash(root, catalog),
        status_date=given,
    )


def _env_float(name: str) -> float | None:
    try:
        return float(os.environ[name])
    except (KeyError, ValueError):
        return None


def _metric_crs(
    catalog: Catalog, layers: dict[str, gpd.GeoDataFrame], findings: Findings, drawn_in: dict[str, str]
) -> CRS:
    """The catalog's metric CRS; else the grid the data was drawn in, if true to scale; else a UTM zone.

    Stretches (from_m, to_m) and areas in a foreign dataset were measured in the
    user's own grid (British National Grid, Swiss LV95 ...): measured again in
    UTM they differ by up to 0.1 %, enough to leave phantom unheld tails at the
    end of a split street or to refuse a stretch that ends where the street does.
    """
    if catalog.metric_crs:
        crs = parse_crs(catalog.metric_crs, "catalog.toml", findings, field="metric_crs")
        if crs is not None:
            if crs.is_geographic:
                findings.error(
                    "crs_not_metric",
                    f"catalog.toml: metric_crs {catalog.metric_crs} is geographic, not in metres",
                    file="catalog.toml",
                    field="metric_crs",
                )
            else:
                return crs
    non_empty = [layer_id for layer_id, layer in layers.items() if len(layer)]
    if not non_empty:
        return CRS.from_epsg(3857)
    bounds = np.array([layers[layer_id].total_bounds for layer_id in non_empty])
    lon = (bounds[:, 0].min() + bounds[:, 2].max()) / 2
    lat = (bounds[:, 1].min() + bounds[:, 3].max()) / 2
    own = _true_scale_grid({drawn_in[layer_id] for layer_id in non_empty if layer_id in drawn_in}, lon, lat)
    if own is not None:
        return own
    return gpd.GeoSeries.from_xy([lon], [lat], crs=WGS84_CRS).estimate_utm_crs()


# A grid whose scale at the data is further from 1 than this (Web Mercator: 1/cos(latitude)) is no
# place to measure in; UTM's own is at most 0.1 %.
MAX_SCALE_ERROR = 0.002


def _true_scale_grid(crs_texts: set[str], lon: float, lat: float) -> CRS | None:
    """The one projected CRS in metres every layer was drawn in, if its scale at (lon, lat) is near 1."""
    from pyproj import Proj
    from pyproj.exceptions import CRSError, ProjError

    try:
        crs_set = {CRS.from_user_input(text) for text in crs_texts}
    except (CRSError, TypeError, ValueError):
        return None
    if len(crs_set) != 1:
        return None
    crs = crs_set.pop()
    if not crs.is_projected or not crs.axis_info or crs.axis_info[0].unit_conversion_factor != 1.0:
        return None
    try:
        factors = Proj(crs).get_factors(lon, lat)
    except (CRSError, ProjError, RuntimeError):
        return None
    scales = np.array([factors.meridional_scale, factors.parallel_scale], dtype=float)
    if not np.all(np.isfinite(scales)) or np.any(np.abs(scales - 1.0) > MAX_SCALE_ERROR):
        return None
    return crs


def _fallback_values(catalog: Catalog, layers: dict[str, gpd.GeoDataFrame]) -> list[str]:
    """The fallback units the frame layer names (its ``fallback_unit_field`` values), as text."""
    frame = catalog.frame
    if frame is None or not frame.fallback_unit_field or frame.layer not in layers:
        return []
    layer = layers[frame.layer]
    if frame.fallback_unit_field not in layer.columns:
        return []
    return [_as_text(v) for v in layer[frame.fallback_unit_field]]


def _as_text(value: object) -> str:
    """A property value as the text an id is compared with: '' for null/NaN."""
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value).strip()


def _frame(
    catalog: Catalog,
    layers: dict[str, gpd.GeoDataFrame],
    layers_metric: dict[str, gpd.GeoSeries],
    unit_ids: set[str],
    findings: Findings,
) -> tuple[gpd.GeoDataFrame | None, gpd.GeoSeries | None]:
    """The districts with their fallback (HQ) unit."""
    if catalog.frame is None or catalog.frame.layer not in layers:
        return None, None
    spec = catalog.layer(catalog.frame.layer)
    layer = layers[spec.id]
    if spec.geometry != "polygon":
        findings.error(
            "frame_not_polygon", f"catalog.toml: the frame layer {spec.id} must be polygons", file="catalog.toml"
        )
        return None, None
    field = catalog.frame.fallback_unit_field
    fallback = np.full(len(layer), "", dtype=object)
    if not len(layer):
        # No feature could have the fallback field: the problem to report is the empty frame itself.
        findings.warning(
            "frame_empty",
            f"{spec.file}: the frame layer {spec.id} has no districts: no fallback unit answers anywhere, "
            "and gaps between districts cannot be checked",
            file=spec.file,
        )
    elif field:
        if field not in layer.columns:
            findings.error(
                "field_missing",
                f"{spec.file}: fallback_unit_field {field!r} is not a property of the districts"
                f"{property_hint(field, layer.columns)}",
                file=spec.file,
                field=field,
            )
        else:
            values = layer[field].map(_as_text)
            for position, (fid, value) in enumerate(zip(layer["feature_id"], values, strict=True)):
                if not value:
                    findings.warning(
                        "district_without_hq",
                        f"{spec.file}: district {fid} has no {field} (no fallback unit)",
                        file=spec.file,
                        feature_id=fid,
                        field=field,
                    )
                elif value not in unit_ids:
                    findings.error(
                        "unknown_unit",
                        f"{spec.file}: district {fid} names fallback unit {value[:60]!r}, not in the units table",
                        file=spec.file,
                        feature_id=fid,
                        field=field,
                    )
                else:
                    fallback[position] = value
    frame = gpd.GeoDataFrame(
        {
            "district_id": layer["feature_id"].to_numpy(dtype=object),
            "name": layer["name"].to_numpy(dtype=object),
            "fallback_unit": fallback,
        },
        geometry=layer.geometry.values,
        crs=WGS84_CRS,
    )
    return frame, layers_metric[spec.id]


def _report_unheld_and_idle(
    catalog: Catalog,
    duty_zones: gpd.GeoDataFrame,
    units: pd.DataFrame,
    frame: gpd.GeoDataFrame | None,
    findings: Findings,
    when: pd.Timestamp,
) -> None:
    """Warnings a planner wants at once, on the dataset's reference date: places nobody holds, idle units.

    The same date and the same rules as :func:`geo.coverage.compute_coverage`: validate and
    coverage never disagree on how many places are unheld or how many units are idle.
    """
    current = zones_on(duty_zones, when)
    holding = current[current["role"].isin(HOLDING_ROLES)]
    held = set(zip(holding["layer"], holding["feature_id"], strict=True))
    for layer_id, feature_id, name in (
        current[["layer", "feature_id", "name"]].drop_duplicates(["layer", "feature_id"]).itertuples(index=False)
    ):
        if (layer_id, feature_id) not in held:
            findings.warning(
                "feature_unheld",
                f"{catalog.layer(layer_id).file}: {name} ({feature_id}) has no lead or sharing unit on {when.date()}",
                file=catalog.layer(layer_id).file,
                feature_id=feature_id,
                field="unit_id",
            )
    fallback_units = set(frame["fallback_unit"]) if frame is not None else set()
    names = dict(zip(units["unit_id"], units["name"], strict=True))
    for unit_id in idle_unit_ids(current, units["unit_id"], fallback_units):
        findings.warning(
            "unit_unused",
            f"{units.attrs.get('file') or 'units'}: unit {names[unit_id]} ({unit_id}) holds nothing on {when.date()}",
            file=units.attrs.get("file", ""),
            feature_id=unit_id,
            field="unit_id",
        )


def idle_unit_ids(zones_on_date: pd.DataFrame, unit_ids: Any, fallback_units: set[str]) -> tuple[str, ...]:
    """Units with no duty on the date: no lead, shared or supervisor row in ``zones_on_date``, and no
    district's fallback (a district HQ answers for its district, so it is never idle)."""
    busy = set(zones_on_date.loc[zones_on_date["role"].isin(ROLES), "unit_id"])
    return tuple(u for u in unit_ids if u not in busy and u not in fallback_units)


def _content_hash(root: Path, catalog: Catalog) -> str:
    """SHA-256 over the catalog and every file it names, for cache keys and /healthz."""
    digest = hashlib.sha256()
    names = ["catalog.toml", *(spec.file for spec in catalog.layers), *catalog.tables.values()]
    for name in names:
        path = root / name
        digest.update(name.encode())
        if path.is_file():
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()[:16]


def _empty_dataset(root: Path, catalog: Catalog | None, findings: Findings) -> Dataset:
    from geo.zones import _empty_zones

    crs = CRS.from_epsg(3857)
    return Dataset(
        path=root,
        catalog=catalog,
        layers={},
        frame=None,
        units=units_from_values([]),
        standards=pd.DataFrame(columns=["standard_id", "applies_to", "grade"]),
        assignments=pd.DataFrame(),
        findings=findings.items,
        duty_zones=_empty_zones(crs),
        metric_crs=crs,
        content_hash="",
    )
