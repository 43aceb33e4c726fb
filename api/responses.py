"""Fast JSON and GeoJSON answers, and the conversion of table values to plain JSON.

Routes build plain dicts and lists and hand them to :class:`JSONAnswer` or
:class:`GeoJSONAnswer`; encoding goes through orjson (about ten times faster
than the standard library on the lookup answers), with numpy numbers, pandas
timestamps and NaN handled: dates become ISO strings, NaN and NaT become null.
Without orjson installed the standard library does the same, slower.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import numpy as np
import pandas as pd
from starlette.responses import JSONResponse

try:  # orjson is optional: the answers are identical without it, only slower.
    import orjson
except ImportError:  # pragma: no cover - exercised only where orjson is absent
    orjson = None  # type: ignore[assignment]

GEOJSON = "application/geo+json"
JSON = "application/json"


def json_default(value: Any) -> Any:
    """What orjson (or json) cannot encode by itself: pandas and numpy leftovers."""
    if value is pd.NaT or value is None:
        return None
    if isinstance(value, pd.Timestamp):
        return _iso(value)
    if isinstance(value, np.generic):
        return plain_value(value.item())
    if isinstance(value, np.ndarray):
        return [plain_value(v) for v in value.tolist()]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def _iso(value: pd.Timestamp) -> str | None:
    if pd.isna(value):
        return None
    if value == value.normalize() and value.tzinfo is None:
        return value.date().isoformat()
    return value.isoformat()


def plain_value(value: Any) -> Any:
    """One value as plain JSON: NaN/NaT/NA -> None, numpy scalars -> Python, timestamps -> ISO."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp) or value is pd.NaT:
        return _iso(value)
    if isinstance(value, np.generic):
        return plain_value(value.item())
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple, np.ndarray)):
        return [plain_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain_value(v) for k, v in value.items()}
    if value is pd.NA:
        return None
    return value


def plain_column(values: pd.Series) -> list[Any]:
    """A whole column as plain JSON values, vectorised where the dtype allows."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return [None if pd.isna(v) else _iso(v) for v in values]
    if pd.api.types.is_float_dtype(values.dtype):
        array = values.to_numpy(dtype=float)
        return [None if not math.isfinite(v) else v for v in array.tolist()]
    if pd.api.types.is_integer_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return values.tolist()
    return [plain_value(v) for v in values.tolist()]


def plain_records(frame: pd.DataFrame, columns: list[str] | None = None) -> list[dict[str, Any]]:
    """Rows of a table as plain-JSON dicts (column order kept)."""
    names = list(frame.columns if columns is None else columns)
    if not len(frame):
        return []
    lists = [plain_column(frame[name]) for name in names]
    return [dict(zip(names, row, strict=True)) for row in zip(*lists, strict=True)]


def dumps(content: Any) -> bytes:
    """Encode to UTF-8 JSON bytes (Chinese left readable, NaN -> null)."""
    if orjson is not None:
        return orjson.dumps(content, default=json_default, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)
    return json.dumps(
        _sanitise(content), ensure_ascii=False, separators=(",", ":"), default=json_default, allow_nan=False
    ).encode()  # compact, as orjson writes: api.lookup_json splices pieces of both


def _sanitise(content: Any) -> Any:
    """For the standard-library path only: NaN is not JSON."""
    if isinstance(content, dict):
        return {str(k): _sanitise(v) for k, v in content.items()}
    if isinstance(content, (list, tuple)):
        return [_sanitise(v) for v in content]
    return plain_value(content)


def loads(data: bytes | str) -> Any:
    """Parse JSON (orjson when present); raises ValueError on malformed input."""
    if orjson is not None:
        return orjson.loads(data)
    return json.loads(data)


class JSONAnswer(JSONResponse):
    """``application/json`` answer encoded with :func:`dumps` (a JSONResponse, so OpenAPI shows its model)."""

    media_type = JSON

    def render(self, content: Any) -> bytes:
        if isinstance(content, bytes):  # already encoded (cached answers)
            return content
        return dumps(content)


class GeoJSONAnswer(JSONAnswer):
    """``application/geo+json`` answer (RFC 7946)."""

    media_type = GEOJSON
