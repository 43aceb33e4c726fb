"""Reading back the responsibility workbook (责任分工表.xlsx) after the office edited it.

``respmap export -o 责任分工表.xlsx`` writes one sheet per layer, a units sheet and a standards
sheet (:mod:`maps.tables`). People then edit it in Excel or WPS: they sort and filter, delete and
add rows, change units, re-cut stretches, update contacts, add their own columns, rename sheets,
type dates as text. This module reads what they saved into an
:class:`geo.assignment_diff.EditedResponsibility`, the state they want, without judging it:

- sheets are recognised by their header row (any of the first rows), never by their name; a
  layer sheet by its feature-id column, the units sheet by unit id and unit name; the layer a
  sheet speaks for is the one its feature ids belong to;
- headers are matched in Chinese or English, as exported, or as respmap's own field names,
  ignoring spaces and full- or half-width brackets; other columns are noted and ignored;
- every row counts, including rows a filter hides (hiding is a view, not a deletion);
- a problem in a cell is a finding naming the workbook, the sheet, the row and the column.

It lives in ``api`` because it shares the column headings with the export (:mod:`maps.tables`).
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geo.assignment_diff import UNIT_FIELDS, AssignmentRow, EditedResponsibility, UnitRow
from geo.dataset import Dataset
from geo.findings import Findings
from maps.tables import STANDARD_COLUMNS, UNIT_COLUMNS, ZONE_COLUMNS
from maps.wording import WORDS

MAX_WORKBOOK_MB = 100
# The header is looked for in this many rows at the top (people add a title row above it).
HEADER_SEARCH_ROWS = 10
# Excel stores dates as days since 1899-12-30; a number in a date column in this range is one.
EXCEL_EPOCH = dt.date(1899, 12, 30)
EXCEL_SERIAL_RANGE = (20_000, 80_000)  # 1954 .. 2119
ZONE_FIELDS_READ = (
    "feature_id",
    "layer",
    "unit_id",
    "unit_name",
    "role",
    "from_m",
    "to_m",
    "valid_from",
    "valid_until",
)
DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


class WorkbookError(Exception):
    """The file cannot be read as a responsibility workbook at all (message names the file)."""


def _normal(text: object) -> str:
    """A header as compared: no spaces, half-width brackets, lower case."""
    return re.sub(r"\s+", "", str(text)).replace("（", "(").replace("）", ")").lower()


def _header_map(columns: dict[str, tuple[str, str, str | None]], extra: dict[str, str]) -> dict[str, str]:
    found = {}
    for name, (zh, en, _) in columns.items():
        for text in (zh, en, name):
            found.setdefault(_normal(text), name)
    for text, name in extra.items():
        found.setdefault(_normal(text), name)
    return found


ZONE_HEADERS = _header_map(ZONE_COLUMNS, {"layer": "layer", "图层": "layer", "截止日期": "valid_until"})
UNIT_HEADERS = _header_map(UNIT_COLUMNS, {"unit_name": "name", "名称": "name"})
STANDARD_HEADERS = _header_map(STANDARD_COLUMNS, {})
ROLE_LABELS = {
    **{_normal(WORDS[lang][f"role_{role}"]): role for lang in WORDS for role in ("lead", "shared", "supervisor")},
    **{role: role for role in ("lead", "shared", "supervisor")},
    _normal(WORDS["zh"]["role_"]): "",
    _normal(WORDS["en"].get("role_", "nobody")): "",
    "牵头单位": "lead",
    "责任单位": "lead",
    "配合单位": "shared",
    "监督单位": "supervisor",
}


# The export shows a unit's kind in the dataset's language (部门, 街道办事处 ...): back to the table's word.
KIND_LABELS = {
    _normal(label): key.removeprefix("kind_").replace("_", " ")
    for lang in WORDS
    for key, label in WORDS[lang].items()
    if key.startswith("kind_")
}


@dataclass
class _Sheet:
    title: str
    header_row: int  # 1-based, as Excel shows it
    fields: dict[int, str]  # column position -> field
    ignored: list[str]
    rows: list[tuple[int, tuple[Any, ...]]]  # (Excel row number, values)


def read_workbook(path: str | Path, ds: Dataset) -> EditedResponsibility:
    """The edited workbook as the state it asks for; findings for what cannot be read.

    Raises :class:`WorkbookError` only when the file is not a workbook at all (or has no
    responsibility sheet); problems in cells are findings (level error) naming sheet, row, column.
    """
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise WorkbookError(f"{name}: file not found")
    if path.stat().st_size > MAX_WORKBOOK_MB * 1024 * 1024:
        raise WorkbookError(f"{name}: larger than {MAX_WORKBOOK_MB} MB; is it the responsibility workbook?")
    all_sheets, created = _read_sheets(path)
    sheets = [s for s in all_sheets if s.fields]
    findings = Findings()
    layer_sheets = [s for s in sheets if "feature_id" in s.fields.values()]
    unit_sheets = [s for s in sheets if "feature_id" not in s.fields.values() and "name" in s.fields.values()]
    if not layer_sheets and not unit_sheets:
        raise WorkbookError(
            f"{name}: no sheet has a responsibility header (编号 / 单位编号 ... as `respmap export` writes); "
            f"sheets: {', '.join(s.title for s in all_sheets)[:200] or 'none'}"
        )
    standard_sheets = [
        s
        for s in sheets
        if "standard_id" in s.fields.values() and not {"feature_id", "unit_id"} & set(s.fields.values())
    ]
    _note_standard_edits(name, standard_sheets, ds, findings)
    units = _read_units(name, unit_sheets, findings)
    if units is not None:
        listed = {unit.unit_id for unit in units}
        for unit_id in (u for u in ds.units["unit_id"].astype(str) if u not in listed):
            findings.info(
                "unit_kept",
                f"{name}: unit {unit_id} is not on the units sheet; kept (a unit is never deleted: "
                "past assignments name it)",
                file=name,
                feature_id=unit_id,
                field="unit_id",
            )
    unit_names = _unit_names(ds, units)
    contacts = _unit_contacts(ds, units)
    anyone = {key: set().union(*(c[key] for c in contacts.values())) for key in ("contact", "phone")}
    layers_of = feature_layers(ds)
    rows: list[AssignmentRow] = []
    layers: set[str] = set()
    places: set[tuple[str, str]] = set()
    unreadable: set[tuple[str, str]] = set()
    seen_rows: dict[tuple[Any, ...], str] = {}
    for sheet in layer_sheets:
        layer = _sheet_layer(sheet, ds, layers_of)
        where = f"{name} sheet {sheet.title!r}"
        if layer is None:
            findings.error(
                "sheet_layer_unknown",
                f"{where}: none of its feature ids (编号) is in any layer of the dataset; which layer is it?",
                file=name,
                field="feature_id",
            )
            continue
        layers.add(layer)
        for column in sheet.ignored:
            findings.info(
                "column_ignored", f"{where}: column {column!r} is not respmap's; ignored", file=name, field=column
            )
        for row_number, values in sheet.rows:
            row = _assignment(name, sheet, layer, row_number, values, layers_of, unit_names, findings)
            if row is None:
                feature_id = _text(_cell(sheet, values, "feature_id"))
                unreadable.add(
                    (_text(_cell(sheet, values, "layer")) or _layer_of(layers_of, feature_id, layer), feature_id)
                )
                continue
            place, assignment = row
            places.add(place)
            if assignment is None:
                continue
            if assignment.key() in seen_rows:
                findings.warning(
                    "duplicate_row",
                    f"{assignment.source} ({assignment.feature_id}): the same as {seen_rows[assignment.key()]}; "
                    "counted once",
                    file=name,
                    feature_id=assignment.feature_id,
                    field="unit_id",
                )
                continue
            seen_rows[assignment.key()] = assignment.source.removeprefix(f"{name} ")
            rows.append(assignment)
            _check_contacts(sheet, values, assignment, contacts, anyone, findings, name)
    return EditedResponsibility(
        source=name,
        assignments=rows,
        layers=layers,
        places=places | unreadable,
        units=units,
        findings=list(findings),
        unreadable=unreadable,
        made_at=created.replace(tzinfo=dt.UTC) if created and created.tzinfo is None else created,
    )


def _read_sheets(path: Path) -> tuple[list[_Sheet], dt.datetime | None]:
    """Every sheet, and when the workbook was created (Excel and WPS keep it on save; UTC)."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        hint = " (old .xls: save it as .xlsx)" if path.suffix.lower() == ".xls" else ""
        raise WorkbookError(f"{path.name} cannot be read as an Excel .xlsx workbook{hint}: {str(exc)[:160]}") from None
    sheets = []
    try:
        for ws in workbook.worksheets:
            values = [tuple(row) for row in ws.iter_rows(values_only=True)]
            merged = _merged_ranges(path, getattr(ws, "_worksheet_path", None))
            sheets.append(_sheet_from_rows(ws.title, _fill_merged(values, merged)))
        created = workbook.properties.created
    finally:
        workbook.close()
    return sheets, created if isinstance(created, dt.datetime) else None


MERGE_CELL = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+[0-9]+:[A-Z]+[0-9]+)"')


def _merged_ranges(path: Path, sheet_xml: str | None) -> list[tuple[int, int, int, int]]:
    """The sheet's merged cells as (min_col, min_row, max_col, max_row), 1-based.

    Offices merge the 编号 and 名称 cells of a street's stretches; only the first cell keeps the
    value. openpyxl's read-only sheets do not report merges, so they are read from the sheet's XML.
    """
    from openpyxl.utils.cell import range_boundaries

    if not sheet_xml:
        return []
    try:
        with zipfile.ZipFile(path) as archive:
            data = archive.read(sheet_xml.lstrip("/"))
    except (KeyError, OSError, zipfile.BadZipFile):
        return []
    return [range_boundaries(ref.decode()) for ref in MERGE_CELL.findall(data)]


def _fill_merged(values: list[tuple[Any, ...]], merged: list[tuple[int, int, int, int]]) -> list[tuple[Any, ...]]:
    """Every cell of a merged range gets the range's value, as the person sees it."""
    if not merged:
        return values
    rows = [list(row) for row in values]
    for min_col, min_row, max_col, max_row in merged:
        if min_row > len(rows):
            continue
        first = rows[min_row - 1]
        value = first[min_col - 1] if min_col - 1 < len(first) else None
        for r in range(min_row - 1, min(max_row, len(rows))):
            row = rows[r]
            if len(row) < max_col:
                row.extend([None] * (max_col - len(row)))
            for c in range(min_col - 1, max_col):
                row[c] = value
    return [tuple(row) for row in rows]


def _sheet_from_rows(title: str, values: list[tuple[Any, ...]]) -> _Sheet:
    """Find the header row (the first of the top rows naming known columns) and map its columns."""
    for index, header in enumerate(values[:HEADER_SEARCH_ROWS]):
        texts = [_normal(v) if v is not None else "" for v in header]
        if "编号" in texts or "featureid" in texts or "feature_id" in texts:
            table = ZONE_HEADERS
        elif any(ZONE_HEADERS.get(t) == "unit_id" for t in texts) and any(UNIT_HEADERS.get(t) == "name" for t in texts):
            table = UNIT_HEADERS
        elif any(STANDARD_HEADERS.get(t) == "standard_id" for t in texts):
            table = STANDARD_HEADERS
        else:
            continue
        fields: dict[int, str] = {}
        ignored = []
        for position, text in enumerate(texts):
            field = table.get(text)
            if field is not None and field not in fields.values():
                fields[position] = field
            elif text:
                ignored.append(str(header[position]).strip())
        rows = [
            (index + 2 + offset, row)
            for offset, row in enumerate(values[index + 1 :])
            if any(v is not None and str(v).strip() != "" for v in row)
        ]
        return _Sheet(title, index + 1, fields, ignored, rows)
    return _Sheet(title, 0, {}, [], [])


def _cell(sheet: _Sheet, values: tuple[Any, ...], field: str) -> Any:
    for position, name in sheet.fields.items():
        if name == field:
            return values[position] if position < len(values) else None
    return None


def _text(value: Any) -> str:
    """A cell as text: numbers without float noise (1001.0 -> '1001'), dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _note_standard_edits(name: str, sheets: list[_Sheet], ds: Dataset, findings: Findings) -> None:
    """Standards are not changed by an import (they are the office's rules, in standards.csv): an
    edit of the standards sheet is named in a warning rather than dropped silently."""
    known = {str(r["standard_id"]): r for r in ds.standards.to_dict(orient="records")}
    for sheet in sheets:
        for row_number, values in sheet.rows:
            standard_id = _text(_cell(sheet, values, "standard_id"))
            old = known.get(standard_id)
            if old is None:
                edited = [f"new standard {standard_id or '(no id)'}"]
            else:
                edited = []
                for field in sorted(set(sheet.fields.values()) - {"standard_id"}):
                    typed, before = _text(_cell(sheet, values, field)), old.get(field)
                    if not _same_value(before, typed):
                        shown = "" if before is None or before != before else _text(before)
                        edited.append(f"{field} {shown or '-'} -> {typed or '-'}")
            if edited:
                findings.warning(
                    "standards_not_read",
                    f"{name} sheet {sheet.title!r} row {row_number}: {'; '.join(edited)[:300]} is not applied; "
                    "standards are changed in the dataset's standards table",
                    file=name,
                    feature_id=standard_id,
                    field="standard_id",
                )


def _same_value(old: Any, typed: str) -> bool:
    """A table value and a cell's text are the same (numbers as numbers; blank as missing)."""
    if old is None or (isinstance(old, float) and old != old):
        return typed == ""
    if isinstance(old, float):
        try:
            return abs(float(typed.replace(",", "")) - old) < 1e-9
        except ValueError:
            return False
    return str(old) == typed


def _read_units(name: str, sheets: list[_Sheet], findings: Findings) -> list[UnitRow] | None:
    if not sheets:
        return None
    units: list[UnitRow] = []
    seen: dict[str, str] = {}
    for sheet in sheets:
        for column in sheet.ignored:
            findings.info(
                "column_ignored",
                f"{name} sheet {sheet.title!r}: column {column!r} is not respmap's; ignored",
                file=name,
                field=column,
            )
        for row_number, values in sheet.rows:
            where = f"{name} sheet {sheet.title!r} row {row_number}"
            unit_id = _text(_cell(sheet, values, "unit_id"))
            if not unit_id:
                findings.error("field_missing", f"{where}: 单位编号 (unit id) is empty", file=name, field="unit_id")
                continue
            if unit_id in seen:
                findings.error(
                    "duplicate_id",
                    f"{where}: unit {unit_id} is also on {seen[unit_id]}; keep one row per unit",
                    file=name,
                    feature_id=unit_id,
                    field="unit_id",
                )
                continue
            seen[unit_id] = f"row {row_number}"
            fields = {f: _text(_cell(sheet, values, f)) for f in UNIT_FIELDS if f in sheet.fields.values()}
            if fields.get("kind"):
                fields["kind"] = KIND_LABELS.get(_normal(fields["kind"]), fields["kind"])
            units.append(UnitRow(unit_id, fields, where))
    return units


def _unit_names(ds: Dataset, units: list[UnitRow] | None) -> dict[str, str]:
    """unit id -> name, the workbook's units sheet over the data's."""
    names = {str(u): str(n) for u, n in zip(ds.units["unit_id"], ds.units["name"], strict=False)}
    for unit in units or ():
        if unit.fields.get("name"):
            names[unit.unit_id] = unit.fields["name"]
    return names


def _unit_contacts(ds: Dataset, units: list[UnitRow] | None) -> dict[str, dict[str, set[str]]]:
    """unit id -> {contact, phone} -> the values known: the data's and the workbook's units sheet's."""
    contacts: dict[str, dict[str, set[str]]] = {}
    for u, c, p in zip(ds.units["unit_id"], ds.units["contact"], ds.units["phone"], strict=False):
        contacts[str(u)] = {"contact": {str(c or "")}, "phone": {str(p or "")}}
    for unit in units or ():
        known = contacts.setdefault(unit.unit_id, {"contact": set(), "phone": set()})
        for key in ("contact", "phone"):
            if key in unit.fields:
                known[key].add(unit.fields[key])
    return contacts


def _check_contacts(
    sheet: _Sheet,
    values: tuple[Any, ...],
    row: AssignmentRow,
    contacts: dict[str, dict[str, set[str]]],
    anyone: dict[str, set[str]],
    findings: Findings,
    name: str,
) -> None:
    """A contact edited on a layer sheet is not read (a unit has one contact): say so rather than drop it silently.

    The layer sheets repeat each unit's contact; a value there that no unit has (in the data or the
    units sheet) was typed on the layer sheet. One that another unit has is left over from a
    reassignment (the clerk changed the unit, not the contact cells) and says nothing.
    """
    for field, key in (("unit_contact", "contact"), ("unit_phone", "phone")):
        typed = _text(_cell(sheet, values, field))
        known = contacts.get(row.unit_id, {}).get(key, set())
        if typed and typed not in known and typed not in anyone[key]:
            shown = " / ".join(sorted(v for v in known if v)) or "nothing"
            findings.warning(
                "contact_not_read",
                f"{row.source} ({row.feature_id}): {ZONE_COLUMNS[field][0]} {typed[:40]!r} differs from {shown} for "
                f"unit {row.unit_id}; contacts are read from the units sheet (责任单位) only",
                file=name,
                feature_id=row.feature_id,
                field=field,
            )


def feature_layers(ds: Dataset) -> dict[str, set[str]]:
    """feature id -> the layers that have it (once per workbook, not per row)."""
    where: dict[str, set[str]] = {}
    for layer_id, layer in ds.layers.items():
        for feature_id in layer["feature_id"].tolist():
            where.setdefault(str(feature_id), set()).add(layer_id)
    return where


def _sheet_layer(sheet: _Sheet, ds: Dataset, layers_of: dict[str, set[str]]) -> str | None:
    """The layer the sheet's feature ids belong to (most of them); its title settles a tie."""
    votes: Counter[str] = Counter()
    for _, values in sheet.rows:
        layer_ids = layers_of.get(_text(_cell(sheet, values, "feature_id")), set())
        if len(layer_ids) == 1:
            votes[next(iter(layer_ids))] += 1
    titles = {spec.id: {_normal(t) for t in (*spec.title.values(), spec.id)} for spec in ds.catalog.layers}
    by_title = [layer_id for layer_id, names in titles.items() if _normal(sheet.title) in names]
    if votes:
        best = max(votes.values())
        leaders = [layer_id for layer_id, count in votes.items() if count == best]
        if len(leaders) == 1:
            return leaders[0]
        return next((layer_id for layer_id in leaders if layer_id in by_title), sorted(leaders)[0])
    return by_title[0] if by_title else None


def _assignment(
    name: str,
    sheet: _Sheet,
    sheet_layer: str,
    row_number: int,
    values: tuple[Any, ...],
    layers_of: dict[str, set[str]],
    unit_names: dict[str, str],
    findings: Findings,
) -> tuple[tuple[str, str], AssignmentRow | None] | None:
    """(place, assignment) of one row; assignment None for a row nobody holds; None if unusable."""
    where = f"{name} sheet {sheet.title!r} row {row_number}"
    feature_id = _text(_cell(sheet, values, "feature_id"))

    def error(code: str, message: str, field: str) -> None:
        findings.error(code, f"{where} ({feature_id or '?'}): {message}", file=name, feature_id=feature_id, field=field)

    if not feature_id:
        error("field_missing", "编号 (feature id) is empty", "feature_id")
        return None
    layer = _text(_cell(sheet, values, "layer")) or _layer_of(layers_of, feature_id, sheet_layer)
    place = (layer, feature_id)
    unit_id = _text(_cell(sheet, values, "unit_id"))
    unit_name = _text(_cell(sheet, values, "unit_name"))
    role_text = _text(_cell(sheet, values, "role"))
    role = ROLE_LABELS.get(_normal(role_text)) if role_text else ("lead" if unit_id or unit_name else "")
    if role is None:
        error(
            "role_invalid",
            f"角色 (role) {role_text[:30]!r} must be 牵头, 配合 or 监督 (lead, shared, supervisor)",
            "role",
        )
        return None
    if not unit_id and unit_name:
        matches = [u for u, n in unit_names.items() if n == unit_name]
        if len(matches) != 1:
            why = "matches no unit" if not matches else f"is the name of {len(matches)} units"
            error("unit_unknown_name", f"责任单位 {unit_name[:60]!r} {why}; give its 单位编号 (unit id)", "unit_name")
            return None
        unit_id = matches[0]
    elif unit_id and unit_name and unit_names.get(unit_id, unit_name) != unit_name:
        others = [u for u, n in unit_names.items() if n == unit_name and u != unit_id]
        if others:
            error(
                "unit_mismatch",
                f"单位编号 {unit_id} is {unit_names[unit_id]} but 责任单位 says {unit_name} ({others[0]}); "
                "change both, or clear one",
                "unit_id",
            )
            return None
    if not unit_id:
        return place, None  # nobody holds it (无人负责), or the planner cleared the unit
    if not role:
        role = "lead"
    stretch = []
    for field in ("from_m", "to_m"):
        value = _cell(sheet, values, field)
        metres = _metres(value)
        if metres is not None and metres != metres:
            error("number_invalid", f"{ZONE_COLUMNS[field][0]} {_text(value)[:30]!r} is not a number of metres", field)
            return None
        stretch.append(metres)
    dates = []
    for field in ("valid_from", "valid_until"):
        value = _cell(sheet, values, field)
        try:
            dates.append(parse_cell_date(value))
        except ValueError:
            error("date_invalid", f"{ZONE_COLUMNS[field][0]} {_text(value)[:30]!r} is not a date (2026-03-01)", field)
            return None
    return place, AssignmentRow(
        layer=layer,
        feature_id=feature_id,
        unit_id=unit_id,
        role=role,
        from_m=stretch[0],
        to_m=stretch[1],
        valid_from=dates[0],
        valid_until=dates[1],
        source=where,
    )


def _layer_of(layers_of: dict[str, set[str]], feature_id: str, sheet_layer: str) -> str:
    """The sheet's layer when the id is there, else the one other layer that has it (a row pasted in the wrong sheet)."""
    layers = layers_of.get(feature_id, set())
    if sheet_layer in layers or len(layers) != 1:
        return sheet_layer
    return next(iter(layers))


def _metres(value: Any) -> float | None:
    """A stretch end: None when blank, NaN when not a number; '1,200', '400米', '400 m' read."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip().replace(",", "").replace("，", "")
    text = re.sub(r"\s*(米|m)$", "", text, flags=re.IGNORECASE)
    try:
        return float(text)
    except ValueError:
        return float("nan")


def parse_cell_date(value: Any) -> dt.date | None:
    """A date cell as Excel or WPS leave it: a date, an Excel serial number, or text.

    Text may be ``2026-03-01``, ``2026/3/1``, ``2026.3.1``, ``2026年3月1日`` or ``20260301``.
    Blank is None; anything else raises ValueError.
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if EXCEL_SERIAL_RANGE[0] <= value <= EXCEL_SERIAL_RANGE[1] and float(value).is_integer():
            return EXCEL_EPOCH + dt.timedelta(days=int(value))
        value = str(int(value)) if float(value).is_integer() else str(value)
    text = str(value).strip()
    if not text:
        return None
    for pattern in DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            year, month, day = (int(g) for g in match.groups())
            return dt.date(year, month, day)  # ValueError for 2026-02-30
    raise ValueError(text)
