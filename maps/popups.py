"""Words, formatting and escaping for everything a map page shows about a place.

Popups and tooltips are built in the browser from plain strings with
``textContent`` (see ``maps/assets/respmap.js``), never by concatenating HTML,
so a name like ``<img src=x onerror=alert(1)>`` is shown as text. This module
prepares those strings (labels in zh or en, figures of a standard, stretches,
validity dates) and provides the two escapes still needed on the Python side:
:func:`escape_html` for the few places where Leaflet insists on HTML (the layer
control's labels) and :func:`script_json` for data embedded in ``<script>``.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

import pandas as pd

from maps.wording import standard_figure_labels, words


def labels(lang: str) -> dict[str, str]:
    """The word table for ``lang`` (zh or en; anything else gets zh): :data:`maps.wording.WORDS`."""
    return words(lang)


def text(value: Any) -> str:
    """A data value as display text: '' for None/NaN/NaT, numbers without a trailing .0."""
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:g}" if abs(value) < 1e15 else str(value)
    if isinstance(value, pd.Timestamp):
        return "" if pd.isna(value) else value.date().isoformat()
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


def standard_rows(standard: pd.Series, lang: str) -> list[list[str]]:
    """[label, value] pairs of the figures a standard gives (figures it leaves out are skipped)."""
    names = standard_figure_labels(lang)
    rows = []
    for column, label in names.items():
        if column in standard.index:
            shown = text(standard[column])
            if shown:
                rows.append([label, shown])
    return rows


def stretch_text(from_m: float, to_m: float, lang: str) -> str:
    """'0–400 m' for a stretch, '' for a whole feature."""
    if not (isinstance(from_m, float) and math.isfinite(from_m) and isinstance(to_m, float) and math.isfinite(to_m)):
        return ""
    unit = labels(lang)["metres"]
    return f"{from_m:.0f}–{to_m:.0f} {unit}" if lang == "en" else f"{from_m:.0f}–{to_m:.0f}{unit}"


def valid_text(start: Any, end: Any, lang: str) -> str:
    """Validity of an assignment as shown in a popup: '2026-01-01 – 2026-12-31', or 'open-ended'."""
    first, last = text(start), text(end)
    words = labels(lang)
    if not first and not last:
        return words["always"]
    if first and last:
        return f"{first} – {last}"
    if first:
        return f"{words['from']} {first}" if lang == "en" else f"{first}{words['from']}"
    return f"{words['until']} {last}" if lang == "en" else f"{last}{words['until']}"


def phone_href(phone: str) -> str:
    """A ``tel:`` link target holding only the characters a dialler understands."""
    kept = "".join(ch for ch in phone if ch.isdigit() or ch in "+*#,;")
    # Fewer than three digits is not a number anyone can call (e.g. "javascript:alert(1)").
    return f"tel:{kept}" if sum(ch.isdigit() for ch in kept) >= 3 else ""


def escape_html(value: Any) -> str:
    """HTML-escaped text (quotes too) for the few places that take HTML."""
    return html.escape(text(value), quote=True)


def script_json(data: Any) -> str:
    """JSON safe to put inside ``<script type="application/json">``.

    ``<`` , ``>`` and ``&`` become ``\\u003c``/``\\u003e``/``\\u0026`` so no
    ``</script>`` or ``<!--`` can end or confuse the element; U+2028/2029 are
    escaped for old JS engines. JSON.parse reads them back unchanged.
    """
    encoded = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        encoded.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
