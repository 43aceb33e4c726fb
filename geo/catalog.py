"""The dataset catalog: ``catalog.toml`` read into typed, immutable specs.

A dataset is data, not code: the catalog tells respmap which files hold which
kind of place, which properties carry the id, name, standard, width and unit,
and how the files were digitised (datum and CRS). A foreign dataset with other
property names therefore needs a catalog, never a code change.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from geo.findings import Findings

GeometryKind = Literal["point", "line", "polygon"]
GEOMETRY_KINDS: tuple[str, ...] = ("point", "line", "polygon")
DATUMS: tuple[str, ...] = ("wgs84", "cgcs2000", "gcj02", "bd09")
TABLE_NAMES: tuple[str, ...] = ("units", "standards", "assignments")
TABLE_SUFFIXES: tuple[str, ...] = (".csv", ".xlsx")
LAYER_ID_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$")
DEFAULT_MAX_FILE_MB = 512.0


@dataclass(frozen=True, slots=True)
class LayerSpec:
    """How one layer file maps onto respmap's notion of a place."""

    id: str
    file: str
    geometry: GeometryKind
    title: dict[str, str] = field(default_factory=dict)
    tolerance_m: float = 0.0
    width_field: str | None = None
    default_width_m: float = 0.0
    id_field: str = "id"
    name_field: str = "name"
    standard_field: str | None = None
    default_standard: str | None = None
    unit_field: str | None = None
    priority: int = 50
    crs: str | None = None
    datum: str | None = None
    # the layer inside a file that holds several (GeoPackage, zipped Shapefiles)
    layer_name: str | None = None

    def title_in(self, lang: str) -> str:
        """The layer's title in ``lang``, falling back to any title, then the id."""
        return self.title.get(lang) or next(iter(self.title.values()), "") or self.id


@dataclass(frozen=True, slots=True)
class FrameSpec:
    """The layer whose areas together must leave no gap (the campaign districts)."""

    layer: str
    fallback_unit_field: str | None = None
    # optional polygon layer with the city boundary the frame must cover
    boundary_layer: str | None = None


@dataclass(frozen=True, slots=True)
class Catalog:
    """Everything ``catalog.toml`` declares, with defaults filled in."""

    root: Path
    name: str
    name_en: str = ""
    lang: str = "zh"
    datum: str = "wgs84"
    crs: str = "EPSG:4326"
    metric_crs: str | None = None
    data_date: str | None = None
    # The day answers are for when none is asked (ISO date); None: today. See Dataset.reference_date.
    status_date: str | None = None
    max_file_mb: float = DEFAULT_MAX_FILE_MB
    tables: dict[str, str] = field(default_factory=dict)
    frame: FrameSpec | None = None
    layers: tuple[LayerSpec, ...] = ()

    def layer(self, layer_id: str) -> LayerSpec:
        for spec in self.layers:
            if spec.id == layer_id:
                return spec
        raise KeyError(layer_id)

    @property
    def title(self) -> str:
        """Dataset title in its own language."""
        if self.lang == "en" and self.name_en:
            return self.name_en
        return self.name


CATALOG_FILE = "catalog.toml"


def _str(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def read_catalog(root: Path, findings: Findings) -> Catalog | None:
    """Read ``root/catalog.toml``; return None (with findings) when unusable.

    Unknown keys are reported as warnings (a typo such as ``tolerence_m`` would
    otherwise be silently ignored); missing or malformed required keys are errors.
    """
    path = root / CATALOG_FILE
    if not root.is_dir():
        findings.error("dataset_missing", f"dataset folder {root} does not exist", file=str(root))
        return None
    if not path.is_file():
        findings.error(
            "catalog_missing",
            f"{CATALOG_FILE} not found in {root}: every dataset folder needs one "
            "(see layers/ankang/catalog.toml for an example)",
            file=CATALOG_FILE,
        )
        return None
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        findings.error(
            "catalog_encoding",
            f"{CATALOG_FILE} is not UTF-8 (byte {exc.start}): save it as UTF-8",
            file=CATALOG_FILE,
        )
        return None
    except tomllib.TOMLDecodeError as exc:
        findings.error("catalog_invalid", f"{CATALOG_FILE} is not valid TOML: {exc}", file=CATALOG_FILE)
        return None

    dataset = raw.get("dataset", {})
    if not isinstance(dataset, dict):
        findings.error("catalog_invalid", "[dataset] must be a table", file=CATALOG_FILE)
        return None
    name = _str(dataset.get("name")) or root.name
    datum = (_str(dataset.get("datum")) or "wgs84").lower().replace("-", "")
    if datum not in DATUMS:
        findings.error(
            "datum_unknown",
            f"{CATALOG_FILE}: [dataset] datum = {datum[:40]!r} is not one of {', '.join(DATUMS)}",
            file=CATALOG_FILE,
            field="datum",
        )
        datum = "wgs84"
    lang = (_str(dataset.get("lang")) or "zh").lower()
    if lang not in ("zh", "en"):
        findings.warning(
            "lang_unknown",
            f"{CATALOG_FILE}: lang {lang[:20]!r} is not zh or en; using zh",
            file=CATALOG_FILE,
            field="lang",
        )
        lang = "zh"
    try:
        max_file_mb = float(dataset.get("max_file_mb", DEFAULT_MAX_FILE_MB))
    except (TypeError, ValueError):
        findings.error("catalog_invalid", "max_file_mb must be a number", file=CATALOG_FILE, field="max_file_mb")
        max_file_mb = DEFAULT_MAX_FILE_MB

    tables = _read_tables(root, raw.get("tables", {}), findings)
    layers = _read_layers(raw.get("layer", []), findings)
    frame = _read_frame(raw.get("frame"), layers, findings)
    known = {"dataset", "tables", "frame", "layer", "assessment", "cases"}  # the last two: cases/, geo.assessment_rules
    for key in raw:
        if key not in known:
            findings.warning(
                "catalog_unknown_key",
                f"{CATALOG_FILE}: unknown section [{key}] ignored",
                file=CATALOG_FILE,
                field=key,
            )
    return Catalog(
        root=root,
        name=name,
        name_en=_str(dataset.get("name_en")) or "",
        lang=lang,
        datum=datum,
        crs=_str(dataset.get("crs")) or "EPSG:4326",
        metric_crs=_str(dataset.get("metric_crs")),
        data_date=_str(dataset.get("data_date")),
        status_date=_status_date(dataset.get("status_date"), findings),
        max_file_mb=max_file_mb,
        tables=tables,
        frame=frame,
        layers=tuple(layers),
    )


def _status_date(value: object, findings: Findings) -> str | None:
    """``[dataset] status_date`` as an ISO date (TOML date or text); an error naming it when malformed."""
    if value is None:
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    text = _str(value) or ""
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        findings.error(
            "catalog_invalid",
            f"{CATALOG_FILE}: [dataset] status_date = {text[:40]!r} is not a date (use YYYY-MM-DD, e.g. 2026-03-01); "
            "leave it out to evaluate on today's date",
            file=CATALOG_FILE,
            field="status_date",
        )
        return None


def _read_tables(root: Path, declared: object, findings: Findings) -> dict[str, str]:
    """Table files: as declared, else found by name (units.csv / units.xlsx ...)."""
    tables: dict[str, str] = {}
    if not isinstance(declared, dict):
        findings.error("catalog_invalid", "[tables] must be a table", file=CATALOG_FILE)
        declared = {}
    for key, value in declared.items():
        if key not in TABLE_NAMES:
            findings.warning(
                "catalog_unknown_key",
                f"{CATALOG_FILE}: [tables] {key} is not one of {', '.join(TABLE_NAMES)}",
                file=CATALOG_FILE,
                field=key,
            )
            continue
        text = _str(value)
        if text:
            tables[key] = text
    for key in TABLE_NAMES:
        if key in tables:
            continue
        for suffix in TABLE_SUFFIXES:
            # exists, not is_file: a directory or FIFO by that name is read, and reported as what it is
            if (root / f"{key}{suffix}").exists():
                tables[key] = f"{key}{suffix}"
                break
    return tables


_LAYER_KEYS = {
    "id",
    "title",
    "file",
    "geometry",
    "tolerance_m",
    "width_field",
    "default_width_m",
    "id_field",
    "name_field",
    "standard_field",
    "default_standard",
    "unit_field",
    "priority",
    "crs",
    "datum",
    "layer_name",
}


def _read_layers(raw_layers: object, findings: Findings) -> list[LayerSpec]:
    if not isinstance(raw_layers, list) or not raw_layers:
        findings.error("catalog_no_layers", f"{CATALOG_FILE} declares no [[layer]]", file=CATALOG_FILE)
        return []
    layers: list[LayerSpec] = []
    seen: set[str] = set()
    for position, entry in enumerate(raw_layers, start=1):
        where = f"{CATALOG_FILE} [[layer]] #{position}"
        if not isinstance(entry, dict):
            findings.error("catalog_invalid", f"{where} must be a table", file=CATALOG_FILE)
            continue
        layer_id = _str(entry.get("id"))
        if not layer_id or not LAYER_ID_PATTERN.match(layer_id):
            findings.error(
                "layer_id_invalid",
                f"{where}: id {str(layer_id)[:40]!r} must start with a letter and use only "
                "letters, digits, _ and - (at most 64)",
                file=CATALOG_FILE,
                field="id",
            )
            continue
        where = f"{CATALOG_FILE} layer {layer_id}"
        if layer_id in seen:
            findings.error("layer_duplicate", f"{where} is declared twice", file=CATALOG_FILE, field="id")
            continue
        for key in entry:
            if key not in _LAYER_KEYS:
                findings.warning(
                    "catalog_unknown_key",
                    f"{where}: unknown key {key!r} ignored",
                    file=CATALOG_FILE,
                    feature_id=layer_id,
                    field=key,
                )
        file_name = _str(entry.get("file"))
        if not file_name:
            findings.error("catalog_invalid", f"{where}: file is missing", file=CATALOG_FILE, field="file")
            continue
        kind = (_str(entry.get("geometry")) or "").lower()
        if kind not in GEOMETRY_KINDS:
            findings.error(
                "catalog_invalid",
                f"{where}: geometry {kind[:20]!r} must be point, line or polygon",
                file=CATALOG_FILE,
                feature_id=layer_id,
                field="geometry",
            )
            continue
        numbers: dict[str, float] = {}
        for key, default in (("tolerance_m", 0.0), ("default_width_m", 0.0), ("priority", 50)):
            value = entry.get(key, default)
            try:
                number = float(value)
            except (TypeError, ValueError):
                findings.error(
                    "catalog_invalid",
                    f"{where}: {key} must be a number, not {str(value)[:20]!r}",
                    file=CATALOG_FILE,
                    feature_id=layer_id,
                    field=key,
                )
                number = float(default)
            if number < 0 or number != number or number > 1e6:
                findings.error(
                    "catalog_invalid",
                    f"{where}: {key} = {number} is out of range",
                    file=CATALOG_FILE,
                    feature_id=layer_id,
                    field=key,
                )
                number = float(default)
            numbers[key] = number
        title = entry.get("title", {})
        if isinstance(title, str):
            title = {"zh": title, "en": title}
        if not isinstance(title, dict):
            title = {}
        datum = _str(entry.get("datum"))
        if datum is not None and datum.lower().replace("-", "") not in DATUMS:
            findings.error(
                "datum_unknown",
                f"{where}: datum {datum[:40]!r} is not one of {', '.join(DATUMS)}",
                file=CATALOG_FILE,
                feature_id=layer_id,
                field="datum",
            )
            datum = None
        layers.append(
            LayerSpec(
                id=layer_id,
                file=file_name,
                geometry=kind,  # type: ignore[arg-type]
                title={str(k): str(v) for k, v in title.items()},
                tolerance_m=numbers["tolerance_m"],
                width_field=_str(entry.get("width_field")),
                default_width_m=numbers["default_width_m"],
                id_field=_str(entry.get("id_field")) or "id",
                name_field=_str(entry.get("name_field")) or "name",
                standard_field=_str(entry.get("standard_field")),
                default_standard=_str(entry.get("default_standard")),
                unit_field=_str(entry.get("unit_field")),
                priority=int(numbers["priority"]),
                crs=_str(entry.get("crs")),
                datum=None if datum is None else datum.lower().replace("-", ""),
                layer_name=_str(entry.get("layer_name")),
            )
        )
        seen.add(layer_id)
    return layers


def _read_frame(raw: object, layers: list[LayerSpec], findings: Findings) -> FrameSpec | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        findings.error("catalog_invalid", "[frame] must be a table", file=CATALOG_FILE)
        return None
    layer_id = _str(raw.get("layer"))
    if not layer_id or layer_id not in {spec.id for spec in layers}:
        findings.error(
            "frame_layer_unknown",
            f"{CATALOG_FILE}: [frame] layer {str(layer_id)[:40]!r} is not a declared layer",
            file=CATALOG_FILE,
            field="layer",
        )
        return None
    boundary = _str(raw.get("boundary_layer"))
    if boundary is not None and boundary not in {spec.id for spec in layers if spec.geometry == "polygon"}:
        findings.error(
            "frame_layer_unknown",
            f"{CATALOG_FILE}: [frame] boundary_layer {boundary[:40]!r} is not a declared polygon layer",
            file=CATALOG_FILE,
            field="boundary_layer",
        )
        boundary = None
    return FrameSpec(layer=layer_id, fallback_unit_field=_str(raw.get("fallback_unit_field")), boundary_layer=boundary)
