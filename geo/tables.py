"""Reading the tables (units, standards, assignments) from CSV or XLSX.

Tables are read as text (every cell a string) and typed afterwards by the
validator, so that "007" stays "007" and a bad number is reported with its row
and column instead of silently becoming NaN. CSV files saved by Excel on
Chinese Windows (GBK / GB18030) are read, with a warning saying so.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from geo.findings import Findings
from geo.layer_files import check_size, not_a_file

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "units": ("unit_id", "name"),
    "standards": ("standard_id",),
    "assignments": ("feature_id", "unit_id"),
    "categories": ("code", "deadline_hours"),  # case categories (cases/categories.py), optional table
}

# The figures of a cleaning standard (numbers), defined here once: the standards table's optional
# columns, the checks (geo.table_checks), the lookup answer (geo.lookup_answers) and the exports.
STANDARD_FIGURES: tuple[str, ...] = (
    "sweeps_per_day",
    "patrol_hours",
    "litter_max_minutes",
    "workers_per_10000m2",
    "m2_per_worker",
    "yuan_per_m2_year",
    "bin_spacing_m",
    "toilets_per_km",
)

OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "units": ("kind", "parent", "contact", "phone", "staff", "district"),
    "standards": ("applies_to", "grade", *STANDARD_FIGURES, "notes"),
    "assignments": ("layer", "role", "from_m", "to_m", "valid_from", "valid_until"),
    "categories": ("name", "name_en", "group", "severity", "applies_to"),
}


def read_table(root: Path, name: str, file_name: str, max_file_mb: float, findings: Findings) -> pd.DataFrame | None:
    """Read one table as strings, with missing optional columns added empty.

    Returns None (with an error finding) when the table cannot be used at all.
    """
    path = (root / file_name).resolve()
    try:
        path.relative_to(root.resolve())
    except ValueError:
        findings.error(
            "file_outside_dataset", f"table {name}: {file_name[:80]!r} is outside the dataset folder", file=file_name
        )
        return None
    if not path.is_file():
        code, what = not_a_file(path)
        findings.error(code, f"table {name}: file {file_name} {what} in {root}", file=file_name)
        return None
    if not check_size(path, max_file_mb, findings, file_name):
        return None
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        try:
            table = pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl")
        except Exception as exc:  # openpyxl raises many kinds on broken workbooks
            findings.error(
                "file_unreadable", f"{file_name} cannot be read as an Excel workbook: {str(exc)[:160]}", file=file_name
            )
            return None
    elif suffix in (".csv", ".txt"):
        text = _decode_csv(path.read_bytes(), file_name, findings)
        if text is None:
            return None
        try:
            table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            findings.error(
                "csv_invalid", f"{file_name} is not a readable CSV table: {str(exc).strip()[:200]}", file=file_name
            )
            return None
    else:
        findings.error("file_format_unknown", f"table {name}: {file_name} must be .csv or .xlsx", file=file_name)
        return None

    table.columns = [str(column).strip().lstrip("\ufeff") for column in table.columns]
    missing = [column for column in REQUIRED_COLUMNS[name] if column not in table.columns]
    if missing:
        findings.error(
            "field_missing",
            f"{file_name}: required column(s) {', '.join(missing)} missing (columns found: {', '.join(map(str, table.columns))[:200]})",
            file=file_name,
            field=",".join(missing),
        )
        return None
    for column in OPTIONAL_COLUMNS[name]:
        if column not in table.columns:
            table[column] = ""
    for column in table.columns:
        table[column] = table[column].astype(str).str.strip()
    table.attrs["file"] = file_name
    return table.reset_index(drop=True)


def _decode_csv(data: bytes, file_name: str, findings: Findings) -> str | None:
    """UTF-8 (with or without BOM) first, then GB18030 (Excel on Chinese Windows)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as utf8_error:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            line = data[: utf8_error.start].count(b"\n") + 1
            findings.error(
                "encoding_invalid",
                f"{file_name} is neither UTF-8 nor GBK/GB18030: undecodable byte 0x{data[utf8_error.start]:02x} "
                f"at line {line} (offset {utf8_error.start}); save it as 'CSV UTF-8'",
                file=file_name,
            )
            return None
        findings.warning(
            "encoding_gbk",
            f"{file_name} is not UTF-8; read it as GBK/GB18030 (as Excel on Chinese Windows saves CSV). "
            "Save as 'CSV UTF-8' to silence this.",
            file=file_name,
        )
        return text


def parse_number(value: str) -> float | None:
    """A table cell as a float; None for empty, NaN for unparseable."""
    if value is None or value == "":
        return None
    try:
        return float(value.replace(",", ""))
    except ValueError:
        return float("nan")
