"""Typing and checking the units and standards tables.

Tables arrive as text (:mod:`geo.tables`). Here ids are checked for blanks and
duplicates and figures are turned into numbers, each problem reported with its
file, row and column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.findings import Findings
from geo.tables import STANDARD_FIGURES, parse_number

__all__ = ["STANDARD_FIGURES", "UNIT_KINDS", "check_standards", "check_units", "units_from_values"]
UNIT_KINDS: tuple[str, ...] = ("department", "street office", "community", "county", "company", "district HQ")


def _row_label(file_name: str, position: int) -> str:
    # +2: one for the header row, one because people count from 1
    return f"{file_name} row {position + 2}"


def _drop_bad_ids(table: pd.DataFrame, id_column: str, findings: Findings) -> pd.DataFrame:
    file_name = table.attrs.get("file", "")
    ids = table[id_column]
    blank = (ids == "").to_numpy()
    for position in np.flatnonzero(blank):
        findings.error(
            "field_missing",
            f"{_row_label(file_name, position)}: {id_column} is empty; row left out",
            file=file_name,
            field=id_column,
        )
    duplicated = ids.duplicated(keep="first").to_numpy() & ~blank
    for position in np.flatnonzero(duplicated):
        findings.error(
            "duplicate_id",
            f"{_row_label(file_name, position)}: {id_column} {ids.iat[position]!s} appears twice; the first row is kept",
            file=file_name,
            feature_id=ids.iat[position],
            field=id_column,
        )
    kept = table[~blank & ~duplicated].reset_index(drop=True)
    kept.attrs["file"] = file_name
    return kept


def check_units(table: pd.DataFrame, findings: Findings) -> pd.DataFrame:
    """Units with ``staff`` as a number (NaN when not given)."""
    file_name = table.attrs.get("file", "")
    table = _drop_bad_ids(table, "unit_id", findings)
    staff = np.full(len(table), np.nan)
    for position, text in enumerate(table["staff"]):
        value = parse_number(text)
        if value is None:
            continue
        if not np.isfinite(value) or value < 0:
            findings.warning(
                "number_invalid",
                f"{_row_label(file_name, position)}: staff {text[:20]!r} is not a number of people",
                file=file_name,
                feature_id=table["unit_id"].iat[position],
                field="staff",
            )
            continue
        staff[position] = value
    blank_names = (table["name"] == "").to_numpy()
    for position in np.flatnonzero(blank_names):
        findings.warning(
            "field_missing",
            f"{_row_label(file_name, position)}: unit {table['unit_id'].iat[position]} has no name",
            file=file_name,
            feature_id=table["unit_id"].iat[position],
            field="name",
        )
    table = table.assign(staff=staff, name=table["name"].where(~blank_names, table["unit_id"]))
    table.attrs["file"] = file_name
    return table


def check_standards(table: pd.DataFrame, findings: Findings) -> pd.DataFrame:
    """Standards with every figure as a float (NaN when not given)."""
    file_name = table.attrs.get("file", "")
    table = _drop_bad_ids(table, "standard_id", findings)
    figures: dict[str, np.ndarray] = {}
    for column in STANDARD_FIGURES:
        values = np.full(len(table), np.nan)
        for position, text in enumerate(table[column]):
            value = parse_number(text)
            if value is None:
                continue
            if not np.isfinite(value) or value < 0:
                findings.error(
                    "number_invalid",
                    f"{_row_label(file_name, position)}: {column} {text[:20]!r} is not a non-negative number",
                    file=file_name,
                    feature_id=table["standard_id"].iat[position],
                    field=column,
                )
                continue
            values[position] = value
        figures[column] = values
    table = table.assign(**figures)
    table.loc[table["applies_to"] == "", "applies_to"] = "*"
    table.attrs["file"] = file_name
    return table


def units_from_values(values: list[str], hq_values: list[str] | None = None) -> pd.DataFrame:
    """A units table made from the distinct values of a layer's ``unit_field``.

    Foreign datasets often carry the responsible body as a property and have no
    units table; each distinct value then becomes a unit named after itself.
    ``hq_values`` are the fallback units the districts name (their offices):
    units too, of kind "district HQ" unless a layer also names them.
    """
    holders = {v for v in values if v}
    offices = {v for v in hq_values or () if v} - holders
    distinct = sorted(holders | offices)
    table = pd.DataFrame(
        {
            "unit_id": distinct,
            "name": distinct,
            "kind": ["district HQ" if v in offices else "" for v in distinct],
            "parent": "",
            "contact": "",
            "phone": "",
            "staff": np.nan,
            "district": "",
        }
    )
    table.attrs["file"] = ""
    return table
