"""Importing an inspection round (一轮督查暗访): a CSV or XLSX sheet of findings, one case per row.

Inspectors often come back with a spreadsheet rather than phone reports: one row per problem,
with its place, kind, note and time. :func:`import_round` reads such a sheet and reports each
row as a case through :class:`cases.service.CaseService` (attributed and dispatched as any
other), and says for every row that cannot become a case which row and which field is wrong,
without losing the good rows.

What is read:

* CSV as Excel writes it on Chinese Windows: GB18030/GBK, UTF-8 with or without a BOM,
  UTF-16 ("Unicode text"); separated by commas, semicolons or tabs (found from the header);
  trailing separators ignored; a title line above the header is skipped (the header is the
  first of the first ten rows that names both coordinates).
* XLSX: the first sheet, cells as shown (dates as ``YYYY-MM-DD HH:MM:SS``).
* Columns (case and spaces ignored, a bracketed suffix such as ``经度(°)`` too):
  lon / lng / longitude / x / 经度, lat / latitude / y / 纬度, category / 类别 / 问题类型
  (a category code or its Chinese or English name), note / 备注 / 描述, time / reported_at /
  时间 (ISO 8601, or ``2026/11/3 9:15`` as Excel writes it; local time unless it carries a
  zone), crs / 坐标系 per row (``wgs84``, ``gcj02``, ``bd09``, ``cgcs2000``, ``EPSG:n``, or the
  Chinese names 火星坐标 / 百度坐标 ...), else the ``crs`` given for the whole file.

Re-importing does not duplicate: each row carries an idempotency key made from what the row
says (place, category, note, time, datum) and how many identical rows come before it in the
file. A corrected file can therefore be imported again: the rows already in the store are
found and skipped, the fixed rows are created. A row without a time is reported "now", so its
key also takes the file's content hash (two rounds that report the same corner without a time
are two cases). This differs from keying on the file hash and row number alone, which would
duplicate every good row as soon as one bad row is fixed.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from cases.categories import Categories, Category
from cases.clock import TimeError, parse_time
from cases.errors import CaseError
from cases.models import Case
from cases.service import CaseService
from cases.users import Actor
from geo.datums import UnknownCRSError, normalize_crs

MAX_ROUND_MB = 20.0
MAX_ROWS = 20_000
HEADER_SEARCH_ROWS = 10
KEY_PREFIX = "round:"

# column -> the header names that mean it (compared after :func:`_header_key`)
COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "lon": ("lon", "lng", "long", "longitude", "x", "经度", "东经"),
    "lat": ("lat", "latitude", "y", "纬度", "北纬"),
    "category": ("category", "category_code", "类别", "问题类型", "问题类别", "案件类型", "事件类型", "类型"),
    "note": ("note", "notes", "description", "备注", "描述", "问题描述", "情况说明"),
    "time": ("time", "reported_at", "datetime", "date", "时间", "发现时间", "上报时间", "检查时间", "日期"),
    "crs": ("crs", "datum", "坐标系", "坐标系统"),
}
REQUIRED = ("lon", "lat", "category")
# Datum names as people type them in a sheet, beside the ones geo.datums knows.
CRS_ALIASES = {
    "gps": "wgs84",
    "wgs 84": "wgs84",
    "世界大地坐标系": "wgs84",
    "火星坐标": "gcj02",
    "火星坐标系": "gcj02",
    "国测局坐标": "gcj02",
    "高德": "gcj02",
    "腾讯": "gcj02",
    "百度": "bd09",
    "百度坐标": "bd09",
    "百度坐标系": "bd09",
    "国家2000": "cgcs2000",
    "cgcs 2000": "cgcs2000",
    "2000国家大地坐标系": "cgcs2000",
}
# Excel on Chinese Windows writes times as 2026/11/3 9:15 (no zero padding, slashes).
LOOSE_TIME = re.compile(
    r"(\d{4})[/.\-年](\d{1,2})[/.\-月](\d{1,2})日?(?:[ T]+(\d{1,2})[:：](\d{2})(?:[:：](\d{2})(?:\.\d+)?)?)?"
)


class RoundFileError(ValueError):
    """The file as a whole cannot be imported (unreadable, too big, columns missing); names the file."""


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One row that did not become a case: its row number as the spreadsheet shows it, the field, why."""

    row: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.field}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message": self.message}


@dataclass
class ImportReport:
    """What an import did: cases created, rows already imported before, rows refused."""

    file: str
    encoding: str
    rows: int = 0
    created: list[dict[str, Any]] = field(default_factory=list)
    already: list[dict[str, Any]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "encoding": self.encoding,
            "rows": self.rows,
            "created": len(self.created),
            "already_imported": len(self.already),
            "failed": len(self.problems),
            "cases": self.created,
            "already": self.already,
            "problems": [p.to_dict() for p in self.problems],
        }


@dataclass(frozen=True, slots=True)
class RoundTable:
    """The sheet as text: which column holds what, and the data rows with their row numbers."""

    columns: dict[str, int]  # field -> position in the row
    rows: list[tuple[int, list[str]]]
    encoding: str
    problems: list[RowProblem]  # rows that cannot even be split into cells


# ----------------------------------------------------------------------------- reading


def read_round(path: Path, data: bytes | None = None) -> RoundTable:
    """Read a round's sheet (CSV or XLSX) as text rows; :class:`RoundFileError` when it cannot be used."""
    path = Path(path)
    suffix = path.suffix.lower()
    if data is None:
        data = _read_bytes(path)
    if suffix == ".xlsx":
        grid, encoding = _xlsx_grid(path, data), "xlsx"
    elif suffix in (".csv", ".txt"):
        grid, encoding = _csv_grid(path, data)
    else:
        raise RoundFileError(f"{path.name}: an inspection round must be a .csv or .xlsx file")
    return _table(path, grid, encoding)


def _read_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_ROUND_MB * 1024 * 1024:
            raise RoundFileError(f"{path.name}: {size / 1048576:.1f} MB is more than a round ({MAX_ROUND_MB:g} MB)")
        return path.read_bytes()
    except FileNotFoundError:
        raise RoundFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise RoundFileError(f"{path}: is a folder, not a file") from None
    except OSError as error:
        raise RoundFileError(f"{path}: cannot be read ({error.strerror or error})") from None


def _decode(path: Path, data: bytes) -> tuple[str, str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as error:
            raise RoundFileError(f"{path.name}: damaged UTF-16 text at byte {error.start}") from None
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as error:
            raise RoundFileError(f"{path.name}: damaged UTF-8 text at byte {error.start + 3}") from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError:
            line = data[: utf8_error.start].count(b"\n") + 1
            raise RoundFileError(
                f"{path.name}: neither UTF-8 nor GBK/GB18030 (undecodable byte 0x{data[utf8_error.start]:02x} "
                f"on line {line}); save it from Excel as 'CSV UTF-8'"
            ) from None


def _csv_grid(path: Path, data: bytes) -> tuple[list[tuple[int, list[str]]], str]:
    text, encoding = _decode(path, data)
    if "\x00" in text:
        raise RoundFileError(f"{path.name}: not a text file (NUL characters); is it a workbook saved as .csv?")
    # The separator that splits the first lines most (a title line above the header may have none).
    head = [line for line in text.splitlines()[: HEADER_SEARCH_ROWS * 2] if line.strip()][:HEADER_SEARCH_ROWS]
    separator = max((",", ";", "\t"), key=lambda sep: (max((line.count(sep) for line in head), default=0), sep == ","))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    grid = []
    try:
        for number, cells in enumerate(reader, start=1):
            grid.append((number, [c.strip() for c in cells]))
            if number > MAX_ROWS + HEADER_SEARCH_ROWS:
                raise RoundFileError(f"{path.name}: more than {MAX_ROWS:,} rows; split the round into several files")
    except csv.Error as error:
        raise RoundFileError(f"{path.name}: not readable as CSV near row {reader.line_num}: {error}") from None
    return grid, encoding


def _xlsx_grid(path: Path, data: bytes) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds on damaged or foreign files
        raise RoundFileError(f"{path.name}: cannot be read as an Excel workbook ({str(error)[:160]})") from None
    try:
        sheet = workbook.worksheets[0]
        grid = []
        for number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1):
            if number > MAX_ROWS + HEADER_SEARCH_ROWS:
                raise RoundFileError(f"{path.name}: more than {MAX_ROWS:,} rows; split the round into several files")
            grid.append((number, [_cell_text(v) for v in values]))
        return grid
    finally:
        workbook.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    return str(value).strip()


def _header_key(name: str) -> str:
    text = name.strip().lstrip("\ufeff").lower()
    text = re.sub(r"\s*[(（\[].*?[)）\]]\s*$", "", text)  # 经度(°), lon (wgs84)
    return re.sub(r"\s+", "", text)


def _table(path: Path, grid: list[tuple[int, list[str]]], encoding: str) -> RoundTable:
    index, columns = next(
        (
            (i, found)
            for i, (_, cells) in enumerate(grid[:HEADER_SEARCH_ROWS])
            if _has_coordinates(found := _columns(cells))
        ),
        (-1, {}),
    )
    if index < 0:
        first = next((cells for _, cells in grid if any(cells)), [])
        shown = ", ".join(c for c in first if c)[:200] or "nothing"
        raise RoundFileError(
            f"{path.name}: no header naming the coordinates in the first {HEADER_SEARCH_ROWS} rows "
            f"(found: {shown}); name the columns lon/经度 and lat/纬度"
        )
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        found = ", ".join(c for c in grid[index][1] if c)[:200]
        wanted = "; ".join(f"{m}: {' / '.join(COLUMN_NAMES[m][:4])}" for m in missing)
        raise RoundFileError(f"{path.name}: column(s) missing ({wanted}); columns found: {found}")
    width = max(columns.values()) + 1
    header_width = len(grid[index][1])
    rows: list[tuple[int, list[str]]] = []
    problems: list[RowProblem] = []
    for number, cells in grid[index + 1 :]:
        if not any(cells):
            continue  # blank rows between blocks of findings
        extra = [c for c in cells[header_width:] if c]
        if extra:
            problems.append(
                RowProblem(
                    number,
                    "row",
                    f"{len(cells)} cells but the header has {header_width} columns "
                    f"(a separator inside an unquoted note?): {extra[0][:40]!r} past the last column",
                )
            )
            continue
        rows.append((number, cells + [""] * (width - len(cells))))
    if not rows and not problems:
        raise RoundFileError(f"{path.name}: the header is there but no row below it")
    return RoundTable(columns, rows, encoding, problems)


def _has_coordinates(columns: dict[str, int]) -> bool:
    return "lon" in columns and "lat" in columns


def _columns(cells: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for position, cell in enumerate(cells):
        key = _header_key(cell)
        for name, spellings in COLUMN_NAMES.items():
            if key in spellings and name not in found:
                found[name] = position
    return found


# ----------------------------------------------------------------------------- importing


def import_round(
    service: CaseService, actor: Actor, path: Path, *, crs: str | None = None, data: bytes | None = None
) -> ImportReport:
    """Report every good row of the sheet at ``path`` as a case; say which rows and fields are wrong.

    ``data``: the file's bytes when they came another way (an upload); ``path`` then only names it.
    """
    path = Path(path)
    if data is None:
        data = _read_bytes(path)
    elif len(data) > MAX_ROUND_MB * 1024 * 1024:
        raise RoundFileError(f"{path.name}: {len(data) / 1048576:.1f} MB is more than a round ({MAX_ROUND_MB:g} MB)")
    table = read_round(path, data)
    default_crs = "wgs84"
    if crs:
        try:
            default_crs = _crs(crs)
        except UnknownCRSError as error:
            raise RoundFileError(f"--crs: {error}") from None
    file_hash = hashlib.sha256(data).hexdigest()
    report = ImportReport(file=path.name, encoding=table.encoding, rows=len(table.rows) + len(table.problems))
    report.problems.extend(table.problems)
    parsed: list[tuple[int, dict[str, Any], str]] = []
    seen: Counter[str] = Counter()
    for number, cells in table.rows:
        values, problem = _parse_row(number, cells, table.columns, service, default_crs)
        if problem is not None:
            report.problems.append(problem)
            continue
        content = _row_content(values, file_hash)
        seen[content] += 1
        parsed.append((number, values, f"{KEY_PREFIX}{content}:{seen[content]}"))
    existing = _existing(service, [key for _, _, key in parsed])
    for number, values, key in parsed:
        if key in existing:
            report.already.append({"row": number, "case_id": existing[key]})
            continue
        try:
            case = service.create(
                actor,
                lon=values["lon"],
                lat=values["lat"],
                crs=values["crs"],
                category=values["category"].code,
                note=values["note"],
                at=values["time"],
                idempotency_key=key,
            )
        except CaseError as error:
            details = error.details if isinstance(error.details, dict) else {}
            message = error.message.replace("(force_unit)", "(`respmap cases add ... --unit ID`)")
            report.problems.append(RowProblem(number, str(details.get("field") or "row"), message))
            continue
        report.created.append(
            {
                "row": number,
                "case_id": case["case_id"],
                "state": case["state"],
                "units": [u["unit_id"] for u in case["units"]],
                "district_id": case["district_id"],
            }
        )
    report.problems.sort(key=lambda p: p.row)
    return report


def _parse_row(
    number: int, cells: list[str], columns: dict[str, int], service: CaseService, default_crs: str
) -> tuple[dict[str, Any], RowProblem | None]:
    def cell(name: str) -> str:
        position = columns.get(name)
        return cells[position].strip() if position is not None else ""

    values: dict[str, Any] = {"note": cell("note")}
    for axis in ("lon", "lat"):
        text = cell(axis)
        if not text:
            return values, RowProblem(number, axis, "empty")
        number_value = _number(text)
        if number_value is None:
            return values, RowProblem(number, axis, f"{text[:40]!r} is not a number (decimal degrees or metres)")
        values[axis] = number_value
    category_text = cell("category")
    if not category_text:
        return values, RowProblem(number, "category", "empty")
    category = _category(service.categories, category_text)
    if category is None:
        codes = ", ".join(service.categories.codes())
        return values, RowProblem(number, "category", f"unknown category {category_text[:60]!r}; known: {codes}")
    values["category"] = category
    time_text = cell("time")
    values["time"] = None
    if time_text:
        try:
            values["time"] = _time(time_text, service.zone)
        except TimeError as error:
            return values, RowProblem(number, "time", str(error).removeprefix("time: "))
    crs_text = cell("crs")
    try:
        values["crs"] = _crs(crs_text) if crs_text else default_crs
    except UnknownCRSError as error:
        return values, RowProblem(number, "crs", str(error))
    return values, None


def _number(text: str) -> float | None:
    cleaned = text.replace("°", "").replace("，", ",").strip()
    if "," in cleaned and "." not in cleaned and cleaned.count(",") == 1:
        cleaned = cleaned.replace(",", ".")  # a decimal comma (semicolon-separated files)
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _category(categories: Categories, text: str) -> Category | None:
    wanted = text.strip().lower()
    for kind in categories.items:
        if wanted in (kind.code.lower(), kind.name.strip().lower(), kind.name_en.strip().lower()):
            return kind
    return None


def _time(text: str, zone: dt.tzinfo) -> dt.datetime:
    match = LOOSE_TIME.fullmatch(text.strip())
    if match is not None:
        year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups())
        try:
            local = dt.datetime(year, month, day, hour, minute, second, tzinfo=zone)
        except ValueError as error:
            raise TimeError(f"{text[:40]!r} is not a real time ({error})") from None
        return local.astimezone(dt.UTC)
    return parse_time(text, zone)


def _crs(text: str) -> str:
    key = text.strip().lower()
    return normalize_crs(CRS_ALIASES.get(key, CRS_ALIASES.get(text.strip(), key)))


def _row_content(values: dict[str, Any], file_hash: str) -> str:
    """What a row says, as a short hash: the row's identity across re-imports (see the module docstring)."""
    said = {
        "lon": repr(values["lon"]),
        "lat": repr(values["lat"]),
        "crs": values["crs"],
        "category": values["category"].code,
        "note": values["note"],
        "time": values["time"].isoformat() if values["time"] is not None else f"file:{file_hash}",
    }
    return hashlib.sha256(json.dumps(said, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:40]


def _existing(service: CaseService, keys: Iterable[str]) -> dict[str, str]:
    """Keys already in the store -> their case ids (any reporter: a round is imported once)."""
    wanted = list(keys)
    found: dict[str, str] = {}
    with service.store.reading() as session:
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = session.execute(select(Case.idempotency_key, Case.case_id).where(Case.idempotency_key.in_(chunk)))
            found.update({key: case_id for key, case_id in rows if key is not None})
    return found
