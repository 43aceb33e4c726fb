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

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "layer": "图层",
        "name": "名称",
        "stretch": "路段",
        "whole": "全段",
        "standard": "保洁标准",
        "lead": "牵头单位",
        "shared": "配合单位",
        "supervisor": "督导单位",
        "contact": "联系人",
        "phone": "电话",
        "valid": "有效期",
        "always": "长期",
        "from": "起",
        "until": "止",
        "district": "片区",
        "fallback": "属地兜底",
        "fallback_unit": "兜底单位",
        "nobody": "无人负责",
        "nobody_note": "本处无责任单位，由属地片区兜底",
        "claimed_twice": "重复认领",
        "held": "有单位负责",
        "fallback_only": "仅属地兜底",
        "gap": "空白区域",
        "gap_note": "不属于任何片区",
        "conflict": "责任交叉",
        "conflict_note": "多个单位在同一地块负责",
        "units": "责任单位",
        "search": "搜索名称…",
        "no_results": "无结果",
        "measure": "测距",
        "measure_hint": "点击地图量距，再点按钮结束",
        "locate": "我的位置",
        "fullscreen": "全屏",
        "exit_fullscreen": "退出全屏",
        "legend": "图例",
        "colour_unit": "按责任单位",
        "colour_standard": "按保洁标准",
        "colour_coverage": "按责任状态",
        "other_units": "其他单位（淡色）",
        "others_faint": "其他（淡色）",
        "no_grade": "未定标准",
        "districts_outline": "片区边界",
        "lookup_title": "此处责任单位",
        "lookup_wait": "查询中…",
        "lookup_failed": "查询失败",
        "outside": "不在任何片区内",
        "nearest": "最近",
        "distance": "距离",
        "metres": "米",
        "call": "拨打",
        "unit": "单位",
        "district_view": "片区",
        "unit_view": "单位",
        "city_view": "全市",
        "date": "日期",
        "more_units": "另有 {n} 个单位",
        "km": "千米",
    },
    "en": {
        "layer": "Layer",
        "name": "Name",
        "stretch": "Stretch",
        "whole": "whole length",
        "standard": "Standard",
        "lead": "Lead unit",
        "shared": "Sharing units",
        "supervisor": "Supervisor",
        "contact": "Contact",
        "phone": "Phone",
        "valid": "Valid",
        "always": "open-ended",
        "from": "from",
        "until": "until",
        "district": "District",
        "fallback": "Territorial fallback",
        "fallback_unit": "Fallback unit",
        "nobody": "Nobody holds",
        "nobody_note": "No unit holds this; the district headquarters answers (fallback)",
        "claimed_twice": "Claimed twice",
        "held": "Held",
        "fallback_only": "Fallback only",
        "gap": "Gap",
        "gap_note": "not inside any district",
        "conflict": "Conflict",
        "conflict_note": "ground claimed by more than one unit",
        "units": "Responsible units",
        "search": "Search by name…",
        "no_results": "No results",
        "measure": "Measure",
        "measure_hint": "Click the map to measure; click the button again to stop",
        "locate": "Show my location",
        "fullscreen": "Full screen",
        "exit_fullscreen": "Exit full screen",
        "legend": "Legend",
        "colour_unit": "By unit",
        "colour_standard": "By standard grade",
        "colour_coverage": "By coverage status",
        "other_units": "Other units (faint)",
        "others_faint": "Elsewhere (faint)",
        "no_grade": "No standard",
        "districts_outline": "District boundaries",
        "lookup_title": "Responsible here",
        "lookup_wait": "Looking up…",
        "lookup_failed": "Lookup failed",
        "outside": "Outside every district",
        "nearest": "Nearest",
        "distance": "Distance",
        "metres": "m",
        "call": "Call",
        "unit": "Unit",
        "district_view": "District",
        "unit_view": "Unit",
        "city_view": "Whole city",
        "date": "Date",
        "more_units": "{n} more units",
        "km": "km",
    },
}

# Figures of a standard shown in popups, in this order, with their labels.
STANDARD_FIGURES: dict[str, dict[str, str]] = {
    "zh": {
        "sweeps_per_day": "每日普扫（次）",
        "patrol_hours": "巡回保洁（小时/日）",
        "litter_max_minutes": "垃圾滞留上限（分钟）",
        "workers_per_10000m2": "保洁员（人/万平方米）",
        "m2_per_worker": "人均保洁面积（平方米）",
        "yuan_per_m2_year": "经费（元/平方米·年）",
        "bin_spacing_m": "果皮箱间距（米）",
        "toilets_per_km": "公厕（座/千米）",
        "notes": "说明",
    },
    "en": {
        "sweeps_per_day": "Full sweeps per day",
        "patrol_hours": "Patrol cleaning (h/day)",
        "litter_max_minutes": "Litter gone within (min)",
        "workers_per_10000m2": "Workers per 10,000 m²",
        "m2_per_worker": "m² per worker",
        "yuan_per_m2_year": "Yuan per m² per year",
        "bin_spacing_m": "Bin spacing (m)",
        "toilets_per_km": "Toilets per km",
        "notes": "Notes",
    },
}


def labels(lang: str) -> dict[str, str]:
    """The label table for ``lang`` (zh or en; anything else gets zh)."""
    return LABELS.get(lang, LABELS["zh"])


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
    names = STANDARD_FIGURES.get(lang, STANDARD_FIGURES["zh"])
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
