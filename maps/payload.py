"""The data an interactive map page carries: layers, pieces, units, standards, legend.

Everything a popup, tooltip, legend or search box shows travels as plain
strings in one JSON object that the page's own script reads and turns into
DOM text nodes. Nothing here is HTML. Geometry is compact (see
:mod:`maps.encoding`); units and standards are listed once and referenced by
position, so a unit holding 40 stretches is written once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from geo import Dataset
from maps import encoding
from maps.legend import Legend, finish, grade_legend, status_legend, unit_legend
from maps.palette import (
    CONFLICT_COLOUR,
    DISTRICT_OUTLINE,
    FALLBACK_COLOUR,
    GAP_COLOUR,
    STATUS_COLOURS,
    UNHELD_COLOUR,
    grade_colours,
    unit_colours,
)
from maps.pieces import duty_pieces
from maps.popups import labels, phone_href, standard_rows, stretch_text, text, valid_text
from maps.wording import standard_figure_labels

ColourBy = Literal["unit", "standard", "coverage"]
Tiles = Literal["none", "osm", "amap", "tianditu"]
COLOUR_BY: tuple[str, ...] = ("unit", "standard", "coverage")
TILES: tuple[str, ...] = ("none", "osm", "amap", "tianditu")
# Pieces of other units in a unit's or a district's view: present but quiet.
FAINT_COLOUR = "#8f9aa3"
STATUS_CODES = {"held": 0, "unheld": 1, "conflict": 2}
ROLE_CODES = {"lead": "l", "shared": "s", "supervisor": "v", "fallback": "f"}


class UnknownFocusError(LookupError):
    """The unit or district a view asks for is not in the dataset."""


@dataclass(frozen=True, slots=True)
class MapOptions:
    """What one map shows and how.

    Attributes:
        unit: show this unit's zones strong and the rest faint (a unit id).
        district: show this district (a district id); at most one of unit/district.
        colour_by: unit | standard | coverage.
        tiles: none | osm | amap | tianditu; amap shifts every overlay to GCJ-02.
        date: whose assignments (None: the dataset's reference date, see Dataset.reference_date).
        lang: zh | en (None: the dataset's language).
        lookup_url: where a click asks who is responsible (served pages), None in a file.
    """

    unit: str | None = None
    district: str | None = None
    colour_by: ColourBy = "coverage"  # what a planner reads first: held, nobody, claimed twice
    tiles: Tiles = "none"
    date: pd.Timestamp | None = None
    lang: str | None = None
    lookup_url: str | None = None

    @property
    def datum(self) -> str:
        """The datum overlays are drawn in: GCJ-02 to sit on AMap tiles, WGS-84 otherwise."""
        return "gcj02" if self.tiles == "amap" else "wgs84"


class _Table:
    """Values listed once in the page and referenced by position."""

    def __init__(self) -> None:
        self.index: dict[Any, int] = {}
        self.rows: list[Any] = []

    def ref(self, key: Any, build: Any) -> int:
        if key not in self.index:
            self.index[key] = len(self.rows)
            self.rows.append(build())
        return self.index[key]


def _shift(options: MapOptions) -> encoding.Shift | None:
    if options.datum != "gcj02":
        return None
    from geo.datums import wgs84_to_gcj02

    return wgs84_to_gcj02


def check_focus(ds: Dataset, options: MapOptions) -> None:
    """Raise :class:`UnknownFocusError` naming an unknown unit or district id."""
    if options.unit is not None and options.unit not in set(ds.units["unit_id"]):
        raise UnknownFocusError(f"unknown unit id {options.unit[:80]!r} (see the units table of {ds.path.name})")
    if options.district is not None:
        if ds.frame is None:
            raise UnknownFocusError(
                f"{ds.path.name} has no districts (catalog.toml declares no [frame]): show a unit or the whole city"
            )
        if options.district not in set(ds.frame["district_id"]):
            raise UnknownFocusError(
                f"unknown district id {options.district[:80]!r} (see the districts layer of {ds.path.name})"
            )


def coverage_report(ds: Dataset, date: pd.Timestamp | None) -> Any | None:
    """``ds.coverage(date)``, or None while the coverage module is not installed."""
    try:
        return ds.coverage(date if date is not None else ds.reference_date)
    except ModuleNotFoundError:
        return None


def build_payload(ds: Dataset, options: MapOptions) -> dict[str, Any]:
    """The page data for ``options`` (raises :class:`UnknownFocusError` for an unknown id)."""
    check_focus(ds, options)
    lang = options.lang or ds.lang
    words = labels(lang)
    shift = _shift(options)
    pieces = duty_pieces(ds, options.date)
    report = coverage_report(ds, options.date)

    holders = pieces["holders"].to_numpy(dtype=object)
    frame = ds.frame if ds.frame is not None and len(ds.frame) else None
    if options.unit is not None:
        strong = np.array([any(h[0] == options.unit for h in hs) for hs in holders], dtype=bool)
        strong_districts = (frame["fallback_unit"] == options.unit).to_numpy() if frame is not None else np.array([])
    elif options.district is not None:
        strong = (pieces["district_id"] == options.district).to_numpy()
        strong_districts = (frame["district_id"] == options.district).to_numpy() if frame is not None else np.array([])
    else:
        strong = np.ones(len(pieces), dtype=bool)
        strong_districts = np.ones(len(frame), dtype=bool) if frame is not None else np.array([])

    metric = np.asarray(pieces.geometry.values, dtype=object)
    colours, legend = _colouring(ds, pieces, strong, options, lang, report)

    units = _Table()
    standards = _Table()
    districts = _Table()
    unit_rows = ds.units.set_index("unit_id", drop=False)
    standard_rows_by_id = ds.standards.set_index("standard_id", drop=False) if len(ds.standards) else None

    def unit_ref(unit_id: str) -> int:
        def build() -> list[str]:
            if unit_id in unit_rows.index:
                row = unit_rows.loc[unit_id]
                phone = text(row["phone"])
                return [unit_id, text(row["name"]) or unit_id, text(row["contact"]), phone, phone_href(phone)]
            return [unit_id, unit_id, "", "", ""]

        return units.ref(unit_id, build)

    def standard_ref(standard_id: str, grade: str) -> int:
        def build() -> list[Any]:
            if standard_rows_by_id is not None and standard_id in standard_rows_by_id.index:
                row = standard_rows_by_id.loc[standard_id]
                title = f"{text(row['grade'])} ({standard_id})" if text(row["grade"]) else standard_id
                return [title, standard_rows(row, lang)]
            return [grade or standard_id, []]

        return standards.ref(standard_id or grade, build)

    district_names = dict(zip(frame["district_id"], frame["name"], strict=True)) if frame is not None else {}

    def district_ref(district_id: str) -> int:
        return districts.ref(district_id, lambda: [district_id, text(district_names.get(district_id, district_id))])

    colour_table = _Table()
    layers: list[dict[str, Any]] = []
    if frame is not None:
        layers.append(
            _district_layer(ds, frame, strong_districts, options, words, unit_ref, district_ref, colour_table, shift)
        )

    wgs = encoding.to_wgs84(encoding.simplify_features(metric), ds.metric_crs, shift) if len(metric) else metric
    specs = (
        [s for s in ds.catalog.layers if not (ds.catalog.frame and s.id == ds.catalog.frame.layer)]
        if ds.catalog
        else []
    )
    layer_of = pieces["layer"].to_numpy(dtype=object)
    column = {
        name: pieces[name].to_numpy(dtype=object)
        for name in ("name", "feature_id", "standard_id", "grade", "district_id", "status")
    }
    from_m = pieces["from_m"].to_numpy(dtype=float)
    to_m = pieces["to_m"].to_numpy(dtype=float)
    for spec in specs:
        positions = np.flatnonzero(layer_of == spec.id)
        # Faint pieces first so the strong ones are drawn over them.
        positions = positions[np.argsort(strong[positions], kind="stable")]
        features = []
        for p in positions:
            geometry = encoding.encode(wgs[p])
            if geometry is None:
                continue
            feature: dict[str, Any] = {"g": geometry, "n": text(column["name"][p]), "f": text(column["feature_id"][p])}
            stretch = stretch_text(float(from_m[p]), float(to_m[p]), lang)
            if stretch:
                feature["t"] = stretch
            if column["standard_id"][p] or column["grade"][p]:
                feature["s"] = standard_ref(column["standard_id"][p], column["grade"][p])
            feature["u"] = [
                [unit_ref(h[0]), ROLE_CODES.get(h[1], "v"), valid_text(h[2] or None, h[3] or None, lang)]
                for h in holders[p]
            ]
            if column["district_id"][p]:
                feature["d"] = district_ref(column["district_id"][p])
            feature["c"] = colour_table.ref(colours[p], lambda p=p: colours[p])
            feature["x"] = STATUS_CODES[column["status"][p]]
            if not strong[p]:
                feature["w"] = 1
            features.append(feature)
        layers.append(
            {
                "id": spec.id,
                "title": spec.title_in(lang),
                "kind": spec.geometry,
                "z": spec.priority,
                "features": features,
            }
        )

    gaps = _report_layer(report, "gaps", "gap", words, colour_table, shift, ds) if report is not None else None
    conflicts = (
        _report_layer(report, "conflicts", "conflict", words, colour_table, shift, ds) if report is not None else None
    )
    for extra in (conflicts, gaps):
        if extra is not None:
            layers.append(extra)

    finish(
        legend,
        lang,
        has_districts=frame is not None,
        has_gaps=bool(gaps and gaps["features"]),
        has_conflicts=bool(conflicts and conflicts["features"]),
    )
    bounds = _view_bounds(ds, pieces, strong, frame, strong_districts, options, shift)
    view_kind = "unit" if options.unit is not None else "district" if options.district is not None else "city"
    focus_name = ""
    if options.unit is not None:
        focus_name = units.rows[unit_ref(options.unit)][1]
    elif options.district is not None:
        focus_name = text(district_names.get(options.district, options.district))
    date = options.date if options.date is not None else ds.reference_date
    return {
        "version": 1,
        "lang": lang,
        "labels": words,
        "figures": standard_figure_labels(lang),
        "title": _title(ds, lang),
        "view": {"kind": view_kind, "id": options.unit or options.district or "", "name": focus_name, "bounds": bounds},
        "date": pd.Timestamp(date).date().isoformat(),
        "colourBy": options.colour_by,
        "datum": options.datum,
        "colours": colour_table.rows,
        "legend": legend.to_json(),
        "units": units.rows,
        "standards": standards.rows,
        "districts": districts.rows,
        "layers": layers,
        "lookup": {
            "url": options.lookup_url,
            "crs": options.datum,
            # Without districts every answer is "outside the frame": not worth saying on each click.
            "has_districts": ds.frame is not None and len(ds.frame) > 0,
        }
        if options.lookup_url
        else None,
    }


def _title(ds: Dataset, lang: str) -> str:
    """The dataset's name in the map's language when the catalog has one."""
    if ds.catalog is not None and lang == "en" and ds.catalog.name_en:
        return ds.catalog.name_en
    if ds.catalog is not None and lang == "zh":
        return ds.catalog.name
    return ds.name


def _colouring(
    ds: Dataset, pieces: Any, strong: np.ndarray, options: MapOptions, lang: str, report: Any
) -> tuple[list[str], Legend]:
    """A colour per piece and the legend that explains them."""
    n = len(pieces)
    status = pieces["status"].to_numpy(dtype=object)
    if options.colour_by == "standard":
        order = [text(g) for g in ds.standards["grade"]] if len(ds.standards) else []
        grades = pieces["grade"].map(text).to_numpy(dtype=object)
        palette = grade_colours(order + sorted(set(grades) - set(order) - {""}))
        colours = [palette.get(g, palette[""]) if strong[i] else FAINT_COLOUR for i, g in enumerate(grades)]
        used = {grades[i] for i in range(n) if strong[i]}
        legend = grade_legend(lang, [(c, g) for g, c in palette.items() if g in used], has_unheld=False)
        if not strong.all():
            legend.add(FAINT_COLOUR, labels(lang)["others_faint"])
        return colours, legend
    if options.colour_by == "coverage":
        colours = [STATUS_COLOURS[s] if strong[i] else FAINT_COLOUR for i, s in enumerate(status)]
        legend = status_legend(
            lang, set(status[strong]) | ({"conflict"} if report is not None and len(report.conflicts) else set())
        )
        if not strong.all():
            legend.add(FAINT_COLOUR, labels(lang)["others_faint"])
        return colours, legend
    leads = pieces["lead_unit"].to_numpy(dtype=object)
    palette = unit_colours(np.asarray(pieces.geometry.values, dtype=object), leads)
    colours = [(palette[leads[i]] if leads[i] else UNHELD_COLOUR) if strong[i] else FAINT_COLOUR for i in range(n)]
    names = dict(zip(ds.units["unit_id"], ds.units["name"], strict=True))
    shown = sorted({leads[i] for i in range(n) if strong[i] and leads[i]}, key=lambda u: (text(names.get(u, u)), u))
    legend = unit_legend(
        lang,
        [(palette[u], text(names.get(u, u)) or u) for u in shown],
        has_unheld=bool(((status == "unheld") & strong).any()),
        faint_colour=FAINT_COLOUR if not strong.all() else None,
        faint_label=labels(lang)["other_units" if options.unit is not None else "others_faint"],
    )
    return colours, legend


def _district_layer(
    ds: Dataset,
    frame: Any,
    strong: np.ndarray,
    options: MapOptions,
    words: dict[str, str],
    unit_ref: Any,
    district_ref: Any,
    colour_table: _Table,
    shift: encoding.Shift | None,
) -> dict[str, Any]:
    """The campaign districts, simplified together so shared borders still meet."""
    metric = np.asarray(frame.geometry.to_crs(ds.metric_crs).values, dtype=object)
    simplified = encoding.simplify_coverage(metric)
    wgs = encoding.to_wgs84(simplified, ds.metric_crs, shift)
    colour = FALLBACK_COLOUR if options.colour_by == "coverage" else DISTRICT_OUTLINE
    features = []
    for i, (district_id, name, fallback) in enumerate(
        zip(frame["district_id"], frame["name"], frame["fallback_unit"], strict=True)
    ):
        geometry = encoding.encode(wgs[i])
        if geometry is None:
            continue
        feature: dict[str, Any] = {
            "g": geometry,
            "n": text(name),
            "f": text(district_id),
            "d": district_ref(district_id),
        }
        feature["u"] = [[unit_ref(fallback), ROLE_CODES["fallback"], ""]] if fallback else []
        feature["c"] = colour_table.ref(colour, lambda: colour)
        if not strong[i]:
            feature["w"] = 1
        features.append(feature)
    spec_title = words["district"]
    if ds.catalog and ds.catalog.frame:
        spec_title = ds.catalog.layer(ds.catalog.frame.layer).title_in(options.lang or ds.lang)
    return {
        "id": ds.catalog.frame.layer if ds.catalog and ds.catalog.frame else "districts",
        "title": spec_title,
        "kind": "district",
        "z": 1000,
        "fill": options.colour_by == "coverage",
        "features": features,
    }


def _joined(value: Any) -> str:
    if isinstance(value, list | tuple | np.ndarray):
        return " / ".join(text(v) for v in value if text(v))
    return text(value)


def _report_layer(
    report: Any,
    attribute: str,
    kind: str,
    words: dict[str, str],
    colour_table: _Table,
    shift: encoding.Shift | None,
    ds: Dataset,
) -> dict[str, Any] | None:
    """Gaps or conflicts of the coverage report as a layer of their own."""
    frame = getattr(report, attribute, None)
    if frame is None:
        return None
    colour = GAP_COLOUR if kind == "gap" else CONFLICT_COLOUR
    geometries = np.asarray(frame.geometry.values, dtype=object) if len(frame) else np.array([], dtype=object)
    if shift is not None and len(geometries):
        geometries = encoding.to_wgs84(geometries, frame.crs or "EPSG:4326", shift)
    features = []
    for i in range(len(frame)):
        geometry = encoding.encode(geometries[i])
        if geometry is None:
            continue
        row = frame.iloc[i]
        area = row.get("area_m2")
        facts: list[list[str]] = []
        if area is not None and text(area):
            facts.append(["m²", f"{float(area):,.1f}"])
        if kind == "conflict":
            name = _joined(row.get("feature_names")) or words["conflict"]
            units = _joined(row.get("unit_names")) or _joined(row.get("unit_ids"))
            if units:
                facts.append([words["units"], units])
            note = words["conflict_note"]
        else:
            name = words["gap"]
            districts = _joined(row.get("district_ids"))
            if districts:
                facts.append([words["district"], districts])
            note = words["gap_note"]
        features.append(
            {
                "g": geometry,
                "n": name,
                "f": words.get("coverage_" + text(row.get("kind")), text(row.get("kind"))),
                "k": facts,
                "o": note,
                "c": colour_table.ref(colour, lambda: colour),
            }
        )
    title = words["conflict"] if kind == "conflict" else words["gap"]
    return {"id": f"respmap-{attribute}", "title": title, "kind": kind, "z": -1, "features": features}


def _view_bounds(
    ds: Dataset,
    pieces: Any,
    strong: np.ndarray,
    frame: Any,
    strong_districts: np.ndarray,
    options: MapOptions,
    shift: encoding.Shift | None,
) -> list[list[float]] | None:
    """What the view is fitted to: the focus (unit or district), else the whole city."""
    parts: list[object] = []
    if len(pieces):
        chosen = np.asarray(pieces.geometry.values, dtype=object)[strong]
        parts.extend(encoding.to_wgs84(chosen, ds.metric_crs, shift))
    if frame is not None and strong_districts.any():
        chosen = np.asarray(frame.geometry.values, dtype=object)[strong_districts]
        parts.extend(encoding.to_wgs84(chosen, frame.crs, shift) if shift is not None else chosen)
    if not parts and len(pieces):  # a unit holding nothing: show the city
        parts.extend(encoding.to_wgs84(np.asarray(pieces.geometry.values, dtype=object), ds.metric_crs, shift))
    return encoding.bounds_latlng(np.asarray(parts, dtype=object))


def parse_date(value: str | dt.date | None) -> pd.Timestamp | None:
    """A date from the command line or a query string ('YYYY-MM-DD'); raises ValueError."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return pd.Timestamp(value)
    try:
        return pd.Timestamp(dt.date.fromisoformat(str(value).strip()))
    except ValueError as exc:
        raise ValueError(f"date {str(value)[:40]!r} is not a date (use YYYY-MM-DD)") from exc


def layer_counts(payload: dict[str, Any]) -> dict[str, int]:
    """Features per layer id in a payload, as the page should draw them (for tests and the bench)."""
    return {layer["id"]: len(layer["features"]) for layer in payload["layers"]}
