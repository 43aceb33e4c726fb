"""The responsibility table (责任分工表) as an Excel workbook or a CSV file.

The workbook is what a report writer hands to the director: one sheet per
layer (who holds each place, which stretch, how long or how big, to which
standard, with the unit's contact and phone), one sheet of units (what each
holds in all) and one of standards. Headers are Chinese (English when the
dataset's ``lang`` is ``en``), the header row is frozen and filtered, columns
are as wide as their content (a Chinese character counts double).

CSV is the same table flat, every layer in one, UTF-8 with a byte-order mark
so Excel on Chinese Windows opens it without mojibake.

Neither format lets a value become a formula: a name such as ``=HYPERLINK(...)``
or ``+86 915 ...`` is stored as text in the workbook and prefixed with ``'``
in the CSV (CSV / formula injection).
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo import Dataset
from geo.export import duty_zone_table
from maps.wording import role_label, unit_kind_label

# Characters that make a spreadsheet read a cell as a formula (OWASP: also tab and CR).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_SHEET_NAME = 31
MIN_COLUMN_WIDTH, MAX_COLUMN_WIDTH = 8, 60

# field -> (Chinese header, English header, number format or None)
ZONE_COLUMNS: dict[str, tuple[str, str, str | None]] = {
    "layer_title": ("类别", "Layer", None),
    "feature_id": ("编号", "Feature ID", None),
    "name": ("名称", "Name", None),
    "district_name": ("所属片区", "District", None),
    "from_m": ("路段起点（米）", "Stretch from (m)", "#,##0.0"),
    "to_m": ("路段终点（米）", "Stretch to (m)", "#,##0.0"),
    "length_m": ("长度（米）", "Length (m)", "#,##0.0"),
    "width_m": ("保洁宽度（米）", "Cleaned width (m)", "0.0"),
    "area_m2": ("面积（平方米）", "Area (m²)", "#,##0"),
    "grade": ("清扫保洁标准", "Standard grade", None),
    "standard_id": ("标准编号", "Standard ID", None),
    "unit_name": ("责任单位", "Responsible unit", None),
    "unit_id": ("单位编号", "Unit ID", None),
    "role": ("角色", "Role", None),
    "unit_contact": ("联系人", "Contact", None),
    "unit_phone": ("联系电话", "Phone", None),
    "valid_from": ("起始日期", "Valid from", None),
    "valid_until": ("截止日期", "Valid until", None),
}
UNIT_COLUMNS: dict[str, tuple[str, str, str | None]] = {
    "unit_id": ("单位编号", "Unit ID", None),
    "name": ("单位名称", "Name", None),
    "kind": ("类型", "Kind", None),
    "parent": ("上级单位", "Parent", None),
    "contact": ("联系人", "Contact", None),
    "phone": ("联系电话", "Phone", None),
    "staff": ("保洁人员（人）", "Cleaning staff", "0"),
    "district": ("所属片区", "District", None),
    "lead_zones": ("牵头区域（处）", "Zones led", "0"),
    "shared_zones": ("配合区域（处）", "Zones shared", "0"),
    "supervised_zones": ("监督区域（处）", "Zones supervised", "0"),
    "length_m": ("负责路段长度（米）", "Length held (m)", "#,##0"),
    "area_m2": ("负责面积（平方米）", "Area held (m²)", "#,##0"),
    "fallback_districts": ("属地兜底片区", "Territorial fallback for", None),
}
STANDARD_COLUMNS: dict[str, tuple[str, str, str | None]] = {
    "standard_id": ("标准编号", "Standard ID", None),
    "applies_to": ("适用类别", "Applies to", None),
    "grade": ("等级", "Grade", None),
    "sweeps_per_day": ("每日普扫（次）", "Full sweeps per day", "0.#"),
    "patrol_hours": ("巡回保洁（小时）", "Patrol cleaning (h)", "0.#"),
    "litter_max_minutes": ("垃圾滞留不超过（分钟）", "Litter gone within (min)", "0"),
    "workers_per_10000m2": ("每万平方米保洁人员（人）", "Workers per 10,000 m²", "0.0#"),
    "m2_per_worker": ("人均保洁面积（平方米）", "m² per worker", "#,##0"),
    "yuan_per_m2_year": ("保洁经费（元/平方米·年）", "Yuan per m² per year", "0.00"),
    "bin_spacing_m": ("果皮箱间距（米）", "Bin spacing (m)", "0"),
    "toilets_per_km": ("公厕（座/公里）", "Toilets per km", "0.0#"),
    "notes": ("说明", "Notes", None),
}
SHEET_UNITS = ("责任单位", "Units")
SHEET_STANDARDS = ("保洁标准", "Standards")


class Sheet:
    """A titled table with, per column, a header and an Excel number format."""

    def __init__(self, title: str, frame: pd.DataFrame, formats: dict[str, str | None]) -> None:
        self.title = title
        self.frame = frame
        self.formats = formats


def _header(spec: tuple[str, str, str | None], lang: str) -> str:
    return spec[1] if lang == "en" else spec[0]


def responsibility_sheets(ds: Dataset, date: Any = None) -> list[Sheet]:
    """One sheet per layer (catalog order), then units, then standards; headers in ``ds.lang``."""
    lang = ds.lang
    zones = duty_zone_table(ds, date)
    zones = pd.DataFrame(zones.drop(columns="geometry"))
    zones["role"] = zones["role"].map(lambda r: role_label(str(r), lang))
    sheets: list[Sheet] = []
    used: set[str] = set()
    layer_ids = [spec.id for spec in ds.catalog.layers] if ds.catalog else sorted(zones["layer"].unique())
    for layer_id in layer_ids:
        rows = zones[zones["layer"] == layer_id]
        if rows.empty:
            continue
        rows = rows.sort_values(["feature_id", "from_m", "role"], kind="stable", na_position="first")
        fields = [f for f in ZONE_COLUMNS if f != "layer_title" and f in rows.columns]
        # Columns that mean nothing for this layer (stretches of a polygon) are left out.
        fields = [f for f in fields if not _all_blank(rows[f])]
        frame = rows[fields].rename(columns={f: _header(ZONE_COLUMNS[f], lang) for f in fields})
        title = _sheet_name(str(rows["layer_title"].iat[0]) or layer_id, used)
        sheets.append(
            Sheet(
                title,
                frame.reset_index(drop=True),
                {_header(ZONE_COLUMNS[f], lang): ZONE_COLUMNS[f][2] for f in fields},
            )
        )
    units = _unit_summary(ds, date)
    sheets.append(
        Sheet(
            _sheet_name(SHEET_UNITS[1] if lang == "en" else SHEET_UNITS[0], used),
            units.rename(columns={f: _header(UNIT_COLUMNS[f], lang) for f in units.columns}),
            {_header(UNIT_COLUMNS[f], lang): UNIT_COLUMNS[f][2] for f in units.columns},
        )
    )
    fields = [f for f in STANDARD_COLUMNS if f in ds.standards.columns]
    standards = ds.standards[fields].reset_index(drop=True)
    sheets.append(
        Sheet(
            _sheet_name(SHEET_STANDARDS[1] if lang == "en" else SHEET_STANDARDS[0], used),
            standards.rename(columns={f: _header(STANDARD_COLUMNS[f], lang) for f in fields}),
            {_header(STANDARD_COLUMNS[f], lang): STANDARD_COLUMNS[f][2] for f in fields},
        )
    )
    return sheets


def flat_table(ds: Dataset, date: Any = None) -> pd.DataFrame:
    """All layers in one table (layer title first): the CSV's content."""
    lang = ds.lang
    zones = pd.DataFrame(duty_zone_table(ds, date).drop(columns="geometry"))
    zones["role"] = zones["role"].map(lambda r: role_label(str(r), lang))
    fields = [f for f in ZONE_COLUMNS if f in zones.columns]
    return zones[fields].rename(columns={f: _header(ZONE_COLUMNS[f], lang) for f in fields}).reset_index(drop=True)


def _unit_summary(ds: Dataset, date: Any) -> pd.DataFrame:
    zones = ds.zones_on(date)
    units = ds.units.copy()
    counts = zones.groupby(["unit_id", "role"]).size().unstack(fill_value=0) if len(zones) else pd.DataFrame()
    for role, column in (("lead", "lead_zones"), ("shared", "shared_zones"), ("supervisor", "supervised_zones")):
        series = counts[role] if role in counts.columns else pd.Series(dtype=float)
        units[column] = units["unit_id"].map(series).fillna(0).astype(int)
    holding = zones[zones["role"].isin(("lead", "shared"))]
    length = holding[holding["kind"] == "line"].groupby("unit_id")["length_m"].sum()
    area = holding.groupby("unit_id")["area_m2"].sum()
    units["length_m"] = units["unit_id"].map(length).fillna(0.0)
    units["area_m2"] = units["unit_id"].map(area).fillna(0.0)
    fallback: dict[str, list[str]] = {}
    if ds.frame is not None:
        for unit_id, name in zip(ds.frame["fallback_unit"], ds.frame["name"], strict=False):
            if unit_id:
                fallback.setdefault(unit_id, []).append(str(name))
    units["fallback_districts"] = units["unit_id"].map(lambda u: "、".join(fallback.get(u, []))).astype(object)
    if "kind" in units.columns:  # 部门, 街道办事处 ... in a Chinese workbook, not department, street office
        units["kind"] = units["kind"].map(lambda kind: unit_kind_label(kind, ds.lang)).astype(object)
    fields = [f for f in UNIT_COLUMNS if f in units.columns]
    return units[fields].reset_index(drop=True)


def _all_blank(series: pd.Series) -> bool:
    """Nothing to say in this column: all missing (or all zero, like the area of a point)."""
    if series.dtype.kind in "fi":
        return bool((series.isna() | (series == 0)).all())
    return bool(series.map(lambda v: v is None or (isinstance(v, float) and math.isnan(v)) or str(v) == "").all())


def _sheet_name(title: str, used: set[str]) -> str:
    """An Excel-legal, unique sheet name: no []:*?/\\, at most 31 characters."""
    name = re.sub(r"[\[\]:*?/\\]", "_", title).strip("'").strip() or "Sheet"
    name = name[:MAX_SHEET_NAME]
    candidate, number = name, 2
    while candidate.lower() in {u.lower() for u in used}:
        suffix = f" ({number})"
        candidate = name[: MAX_SHEET_NAME - len(suffix)] + suffix
        number += 1
    used.add(candidate)
    return candidate


def is_formula_like(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def display_width(text: str) -> int:
    """Column width in Excel's units: East Asian wide characters count two."""
    return sum(2 if ord(ch) >= 0x2E80 else 1 for ch in text)


def write_xlsx(sheets: Iterable[Sheet], path: str | Path) -> None:
    """Write the sheets to an .xlsx: bold filled header, frozen, filtered, widths to content."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    header_font = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DDDDDD")
    for sheet in sheets:
        ws = workbook.create_sheet(sheet.title)
        frame = sheet.frame
        columns = list(frame.columns)
        ws.freeze_panes = "A2"
        for position, column in enumerate(columns, start=1):
            ws.column_dimensions[get_column_letter(position)].width = _column_width(column, frame[column])
        header = []
        for column in columns:
            cell = WriteOnlyCell(ws, value=str(column))
            cell.font = header_font
            cell.fill = header_fill
            cell.alignment = Alignment(vertical="center", wrap_text=False)
            header.append(cell)
        ws.append(header)
        formats = [sheet.formats.get(column) for column in columns]
        for values in frame.itertuples(index=False, name=None):
            ws.append([_xlsx_cell(ws, WriteOnlyCell, value, fmt) for value, fmt in zip(values, formats, strict=True)])
        last = get_column_letter(max(len(columns), 1))
        ws.auto_filter.ref = f"A1:{last}{len(frame) + 1}"
    workbook.save(path)


def _xlsx_cell(ws: Any, cell_type: Any, value: object, number_format: str | None) -> Any:
    if value is None or (isinstance(value, float | np.floating) and math.isnan(value)):
        return None
    if isinstance(value, np.integer):
        value = int(value)
    elif isinstance(value, np.floating):
        value = float(value)
    cell = cell_type(ws, value=value)
    if is_formula_like(value):
        # Stored as a string, shown as typed: never evaluated as a formula.
        cell.data_type = "s"
        cell.quotePrefix = True
    elif number_format and isinstance(value, int | float):
        cell.number_format = number_format
    return cell


def _column_width(header: str, values: pd.Series) -> float:
    sample = values.head(2000)
    widest = display_width(str(header))
    for value in sample:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        text = f"{value:,.1f}" if isinstance(value, float) else str(value)
        widest = max(widest, display_width(text))
    return float(min(max(widest + 2, MIN_COLUMN_WIDTH), MAX_COLUMN_WIDTH))


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """UTF-8 with BOM, CRLF line ends (Excel's own), formula-like text prefixed with ``'``."""
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow([_csv_value(c) for c in frame.columns])
        for values in frame.itertuples(index=False, name=None):
            writer.writerow([_csv_value(v) for v in values])


def _csv_value(value: object) -> object:
    if value is None or (isinstance(value, float | np.floating) and math.isnan(value)):
        return ""
    if isinstance(value, float | np.floating):
        return f"{float(value):.2f}".rstrip("0").rstrip(".")
    if is_formula_like(value):
        return "'" + str(value)
    return value


def export_table(ds: Dataset, path: str | Path, *, date: Any = None) -> int:
    """Write the responsibility table to ``path`` (.xlsx or .csv); returns the number of zone rows."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix == ".xlsx":
        sheets = responsibility_sheets(ds, date)
        write_xlsx(sheets, target)
        return sum(len(s.frame) for s in sheets[:-2])
    if suffix == ".csv":
        frame = flat_table(ds, date)
        write_csv(frame, target)
        return len(frame)
    raise ValueError(f"{target.name}: the table can be exported as .xlsx or .csv")
