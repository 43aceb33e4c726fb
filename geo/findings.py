"""Findings: what validation says about a dataset, instead of raising.

Loading a dataset never raises on bad data. Every problem becomes a
:class:`Finding` that names the file, the feature and the field, so that a
planner can fix the source data without reading a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Literal

Level = Literal["error", "warning", "info"]
LEVELS: tuple[Level, ...] = ("error", "warning", "info")


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem (or note) about the data.

    ``code`` is stable and machine-readable (e.g. ``json_invalid``); ``message``
    is for people and always names the file and, where known, the feature and
    field. ``lon``/``lat`` locate geometry problems in WGS-84 when known.
    """

    level: Level
    code: str
    message: str
    file: str = ""
    feature_id: str = ""
    field: str = ""
    lon: float | None = None
    lat: float | None = None

    def to_dict(self) -> dict[str, object]:
        """Plain dict for JSON output (lon/lat omitted when unknown)."""
        data = asdict(self)
        if self.lon is None:
            data.pop("lon")
            data.pop("lat")
        return data


class Findings:
    """An append-only list of findings with small conveniences."""

    def __init__(self) -> None:
        self._items: list[Finding] = []

    def add(
        self,
        level: Level,
        code: str,
        message: str,
        *,
        file: str = "",
        feature_id: object = "",
        field: str = "",
        lon: float | None = None,
        lat: float | None = None,
    ) -> Finding:
        """Record a finding and return it."""
        finding = Finding(
            level=level,
            code=code,
            message=message,
            file=file,
            feature_id="" if feature_id is None else str(feature_id),
            field=field,
            lon=None if lon is None else round(float(lon), 7),
            lat=None if lat is None else round(float(lat), 7),
        )
        self._items.append(finding)
        return finding

    def error(self, code: str, message: str, **where: object) -> Finding:
        return self.add("error", code, message, **where)  # type: ignore[arg-type]

    def warning(self, code: str, message: str, **where: object) -> Finding:
        return self.add("warning", code, message, **where)  # type: ignore[arg-type]

    def info(self, code: str, message: str, **where: object) -> Finding:
        return self.add("info", code, message, **where)  # type: ignore[arg-type]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self._items if f.level == "error"]

    @property
    def items(self) -> tuple[Finding, ...]:
        return tuple(self._items)

    def __iter__(self) -> Iterator[Finding]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


def describe_feature(feature_id: object, index: int) -> str:
    """Human label for a feature: its id when it has one, else its position."""
    if feature_id is None or feature_id == "":
        return f"feature #{index + 1}"
    return f"feature {feature_id!s}"
