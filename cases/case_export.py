"""Cases out: a table (CSV, XLSX) or a GeoJSON file of the cases a caller may see, filtered.

The office hands the month's cases to a report writer or to another system: one row per
case with its state, kind, times, place, the units it went to and the note. Headers are
Chinese when the dataset's ``lang`` is ``zh`` (English otherwise). The writers of the
responsibility table are reused (:mod:`maps.tables`): CSV is UTF-8 with a byte-order mark so
Excel on Chinese Windows opens it, and no cell that starts with ``= + - @`` becomes a
formula in either format (a note such as ``=HYPERLINK(...)`` stays text).

GeoJSON is RFC 7946: WGS-84 longitude/latitude (as stored), no ``crs`` member, flat
properties keyed by the English field names below.

Rows are read with the engine's own visibility rules and filters (:class:`cases.service.CaseService`),
in one query read in batches, oldest report first; "overdue" is judged at one instant for the
whole file.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import and_, select
from sqlalchemy.orm import selectinload

from cases.models import Case
from cases.service import CaseFilter, CaseService
from cases.users import Actor

EXPORT_BATCH = 2000
FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".geojson": "geojson", ".json": "geojson"}

# field -> (Chinese header, English header, Excel number format or None)
CASE_COLUMNS: dict[str, tuple[str, str, str | None]] = {
    "case_id": ("案件编号", "Case ID", None),
    "state_name": ("状态", "State", None),
    "category_name": ("问题类型", "Category", None),
    "category": ("类别代码", "Category code", None),
    "reported_at": ("发现时间", "Reported at", None),
    "due_at": ("处置期限", "Due at", None),
    "overdue": ("是否超期", "Overdue", None),
    "district_id": ("片区编号", "District ID", None),
    "district_name": ("所属片区", "District", None),
    "place": ("责任区域", "Place", None),
    "feature_id": ("区域编号", "Place ID", None),
    "stretch": ("路段（米）", "Stretch (m)", None),
    "unit_names": ("责任单位", "Responsible units", None),
    "unit_ids": ("单位编号", "Unit IDs", None),
    "fallback": ("属地兜底", "Territorial fallback", None),
    "note": ("问题描述", "Note", None),
    "lon": ("经度（WGS-84）", "Longitude (WGS-84)", "0.000000"),
    "lat": ("纬度（WGS-84）", "Latitude (WGS-84)", "0.000000"),
    "given": ("上报坐标", "Position as given", None),
    "photos": ("照片（张）", "Photos", "0"),
    "source": ("来源", "Source", None),
}
YES_NO = {"zh": ("是", "否"), "en": ("yes", "no")}
STATE_EN = {
    "reported": "reported",
    "dispatched": "dispatched",
    "rejected": "rejected",
    "rectified": "rectified (to check)",
    "postponed": "postponed",
    "closed": "closed",
}
SOURCE_ZH = {"inspector": "督查", "office": "办公室", "public": "群众"}
SHEET_TITLE = {"zh": "案件", "en": "Cases"}


class ExportError(ValueError):
    """An export that cannot be written as asked (unknown format); names the file."""


def export_format(path: Path) -> str:
    """The format for ``path`` from its extension, or :class:`ExportError`."""
    found = FORMATS.get(Path(path).suffix.lower())
    if found is None:
        raise ExportError(f"{Path(path).name}: cases are exported as .csv, .xlsx or .geojson")
    return found


def collect_cases(service: CaseService, actor: Actor, filters: CaseFilter) -> list[dict[str, Any]]:
    """Every case ``actor`` may see that passes ``filters``, oldest report first, overdue judged at one instant.

    One query read in batches (the engine's visibility rules and filters, not its paged list:
    paging a year of cases 1,000 at a time would count and sort the whole set a hundred times).
    """
    now = service.clock()
    conditions = service.case_conditions(actor, filters, now)
    query = select(Case).order_by(Case.reported_at, Case.id)
    if conditions:
        query = query.where(and_(*conditions))
    query = query.options(selectinload(Case.units), selectinload(Case.photos)).execution_options(yield_per=EXPORT_BATCH)
    with service.store.reading() as session:
        return [service.summary(case, actor, now) for case in session.execute(query).scalars()]


def case_rows(cases: list[dict[str, Any]], lang: str) -> pd.DataFrame:
    """The cases as a flat table, columns keyed by field name (see :data:`CASE_COLUMNS`)."""
    yes, no = YES_NO["en" if lang == "en" else "zh"]
    rows = []
    for case in cases:
        feature = case.get("feature") or {}
        stretch = feature.get("stretch") or None
        given = case.get("given") or {}
        units = case.get("units") or []
        rows.append(
            {
                "case_id": case["case_id"],
                "state_name": STATE_EN.get(case["state"], case["state"]) if lang == "en" else case["state_name"],
                "category_name": case["category_name"],
                "category": case["category"],
                "reported_at": _shown_time(case["reported_at"]),
                "due_at": _shown_time(case.get("due_at")),
                "overdue": yes if case.get("overdue") else no,
                "district_id": case.get("district_id") or "",
                "district_name": case.get("district_name") or "",
                "place": feature.get("name") or "",
                "feature_id": feature.get("feature_id") or "",
                "stretch": "" if not stretch else f"{stretch['from_m']:g}-{stretch['to_m']:g}",
                "unit_names": "、".join(str(u["name"]) for u in units)
                if lang != "en"
                else "; ".join(str(u["name"]) for u in units),
                "unit_ids": ";".join(str(u["unit_id"]) for u in units),
                "fallback": yes if case.get("fallback") else no,
                "note": case.get("note") or "",
                "lon": case["lon"],
                "lat": case["lat"],
                "given": f"{given.get('lon')}, {given.get('lat')} ({given.get('crs')})" if given else "",
                "photos": len(case.get("photos") or []),
                "source": _source(case.get("source"), lang),
            }
        )
    return pd.DataFrame(rows, columns=list(CASE_COLUMNS))


def write_cases(cases: list[dict[str, Any]], path: Path, *, lang: str) -> int:
    """Write ``cases`` to ``path`` in the format its extension names; returns the number written.

    ``path`` is written directly: callers that must not leave a half-written file write to a
    temporary name and rename (``api.commands.common.write_atomically``).
    """
    from maps.tables import Sheet, write_csv, write_xlsx

    kind = export_format(path)
    if kind == "geojson":
        Path(path).write_text(json.dumps(case_geojson(cases, lang), ensure_ascii=False), encoding="utf-8")
        return len(cases)
    table = case_rows(cases, lang)
    headers = {f: (spec[1] if lang == "en" else spec[0]) for f, spec in CASE_COLUMNS.items()}
    shown = table.rename(columns=headers)
    if kind == "csv":
        # write_csv keeps two decimals of a float (lengths, areas); a position needs six (0.1 m).
        # Decimals are written as they print and, not being text, are never taken for formulas.
        for field in ("lon", "lat"):
            shown[headers[field]] = [Decimal(f"{v:.6f}") for v in table[field]]
        write_csv(shown, path)
    else:
        formats = {headers[f]: spec[2] for f, spec in CASE_COLUMNS.items()}
        write_xlsx([Sheet(SHEET_TITLE["en" if lang == "en" else "zh"], shown, formats)], path)
    return len(cases)


def case_geojson(cases: list[dict[str, Any]], lang: str) -> dict[str, Any]:
    """An RFC 7946 FeatureCollection of the cases (WGS-84 points, flat properties)."""
    table = case_rows(cases, lang)
    features = []
    for case, row in zip(cases, table.to_dict("records"), strict=True):
        properties = {k: v for k, v in row.items() if k not in ("lon", "lat")}
        properties["state"] = case["state"]
        properties["overdue"] = bool(case.get("overdue"))
        properties["fallback"] = bool(case.get("fallback"))
        properties["reported_at"] = case["reported_at"]
        properties["due_at"] = case.get("due_at")
        features.append(
            {
                "type": "Feature",
                "id": case["case_id"],
                "geometry": {"type": "Point", "coordinates": [case["lon"], case["lat"]]},
                "properties": properties,
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _shown_time(value: str | None) -> str:
    """``2026-11-03T09:15:00+08:00`` as a spreadsheet reader wants it: ``2026-11-03 09:15``."""
    if not value:
        return ""
    try:
        return dt.datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return value


def _source(source: str | None, lang: str) -> str:
    if not source:
        return ""
    return source if lang == "en" else SOURCE_ZH.get(source, source)
