"""Case categories: what kind of problem, its group, deadline and severity.

Categories are data. A dataset may declare ``categories.csv`` (or ``.xlsx``) in its folder,
or name another file with ``[cases] categories = "..."`` in ``catalog.toml``; columns
``code, name, group, deadline_hours, severity, applies_to`` (``applies_to``: layer ids
separated by ``;`` or blank for every layer). Without one, :data:`BUILT_IN` applies: the
event classes of China's digital urban management (数字化城市管理) that concern cleaning,
with illustrative deadlines (cities set their own).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geo.findings import Findings
from geo.tables import parse_number, read_table

DEFAULT_FILE = "categories.csv"
MAX_DEADLINE_HOURS = 24 * 365


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    name: str
    group: str
    deadline_hours: float
    severity: int  # 1 minor, 2 ordinary, 3 severe
    applies_to: tuple[str, ...] = ()  # layer ids; empty = anywhere
    name_en: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "name_en": self.name_en,
            "group": self.group,
            "deadline_hours": self.deadline_hours,
            "severity": self.severity,
            "applies_to": list(self.applies_to),
        }


def _c(code: str, name: str, name_en: str, group: str, hours: float, severity: int, *layers: str) -> Category:
    return Category(code, name, group, hours, severity, tuple(layers), name_en)


# Illustrative deadlines in the spirit of city rules (e.g. exposed garbage within 2 h in the
# centre, construction waste within a day or two); a dataset's categories.csv overrides them.
BUILT_IN: tuple[Category, ...] = (
    _c("exposed_garbage", "暴露垃圾", "Exposed garbage", "市容环境", 2, 2),
    _c("accumulated_waste", "积存垃圾渣土", "Accumulated garbage or muck", "市容环境", 24, 3),
    _c("dirty_road", "道路不洁", "Road not clean", "市容环境", 4, 2),
    _c("dirty_water", "水域不洁", "Water surface not clean", "市容环境", 24, 2, "riverbank_segments"),
    _c("dirty_green", "绿地脏乱", "Green space dirty", "园林绿化", 24, 1),
    _c("illegal_ads", "非法小广告", "Illegal small ads", "宣传广告", 24, 1),
    _c("street_vending", "占道经营", "Street vending on the road", "街面秩序", 4, 2),
    _c("overflowing_bin", "垃圾箱满溢", "Overflowing bin", "市容环境", 4, 2),
    _c("dirty_toilet", "公厕不洁", "Public toilet not clean", "环卫设施", 4, 2),
    _c("facility_damaged", "环卫设施损坏", "Sanitation facility damaged", "环卫设施", 72, 1),
)


class CategoryError(ValueError):
    """A categories file that cannot be used; the message names the file, row and field."""


@dataclass(frozen=True)
class Categories:
    """The categories in force for a dataset, by code, and where they came from."""

    items: tuple[Category, ...]
    source: str  # a file name, or "built-in"

    def get(self, code: str) -> Category | None:
        for category in self.items:
            if category.code == code:
                return category
        return None

    def codes(self) -> list[str]:
        return [c.code for c in self.items]


def load_categories(dataset_path: Path) -> Categories:
    """The dataset's categories (file or built-in); raises :class:`CategoryError` on a bad file."""
    dataset_path = Path(dataset_path)
    file_name = _declared_file(dataset_path)
    if file_name is None:
        if not (dataset_path / DEFAULT_FILE).is_file():
            return Categories(BUILT_IN, "built-in")
        file_name = DEFAULT_FILE
    findings = Findings()
    table = read_table(dataset_path, "categories", file_name, 64, findings)
    if table is None or findings.errors:
        raise CategoryError("; ".join(f.message for f in findings.errors) or f"{file_name}: cannot be read")
    return Categories(_parse(table, file_name), file_name)


def _declared_file(dataset_path: Path) -> str | None:
    catalog = dataset_path / "catalog.toml"
    try:
        data = tomllib.loads(catalog.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    value = data.get("cases", {}).get("categories") if isinstance(data.get("cases"), dict) else None
    return value if isinstance(value, str) and value else None


def _parse(table: Any, file_name: str) -> tuple[Category, ...]:
    columns = {str(c).strip().lower(): c for c in table.columns}
    for needed in ("code", "name", "deadline_hours"):
        if needed not in columns:
            raise CategoryError(
                f"{file_name}: column {needed!r} is missing (columns: {', '.join(map(str, table.columns))})"
            )
    seen: set[str] = set()
    items = []
    for number, row in enumerate(table.to_dict("records"), start=2):

        def cell(name: str, row: dict[str, Any] = row) -> str:
            key = columns.get(name)
            value = row.get(key, "") if key is not None else ""
            return "" if value is None else str(value).strip()

        code = cell("code")
        where = f"{file_name} row {number}"
        if not code:
            raise CategoryError(f"{where}: code is empty")
        if code in seen:
            raise CategoryError(f"{where}: code {code!r} appears twice")
        seen.add(code)
        hours = parse_number(cell("deadline_hours"))
        if hours is None or not 0 < hours <= MAX_DEADLINE_HOURS:
            raise CategoryError(
                f"{where} ({code}): deadline_hours must be a number of hours above 0, got {cell('deadline_hours')!r}"
            )
        severity_text = cell("severity") or "2"
        severity = parse_number(severity_text)
        if severity is None or severity not in (1, 2, 3):
            raise CategoryError(f"{where} ({code}): severity must be 1, 2 or 3, got {severity_text!r}")
        layers = tuple(part.strip() for part in cell("applies_to").replace(",", ";").split(";") if part.strip())
        items.append(
            Category(
                code=code,
                name=cell("name") or code,
                group=cell("group"),
                deadline_hours=float(hours),
                severity=int(severity),
                applies_to=layers,
                name_en=cell("name_en"),
            )
        )
    if not items:
        raise CategoryError(f"{file_name}: no categories")
    return tuple(items)
