"""The office's dashboard page (``/dashboard``): the period's figures, rankings, trends and cases on a map.

A static shell like the field pages: one JSON data element (words, the period
asked for, the routes to call) and scripts served from ``/assets``
(Leaflet, ``maps/assets/dashboard.js``). The script fetches
``/assessment?cases=false&trend=5`` and ``/assessment/map`` with the browser's
session and builds everything with ``textContent`` and SVG elements (no chart
library, nothing from a CDN, no map tiles: the districts are the background),
so it works on an intranet and a name from the data is never markup. The page
allows no inline script (``script-src 'self'``).
"""

from __future__ import annotations

from typing import Any

from maps.popups import escape_html, script_json
from maps.vendor import LEAFLET, Asset, _own, head_html

DASHBOARD_ASSETS: tuple[Asset, ...] = (*LEAFLET, _own("dashboard.css"), _own("dashboard.js"))
DASHBOARD_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# How many periods before the chosen one the trend charts show.
TREND_PERIODS = 5

WORDS: dict[str, str] = {
    "title": "考核看板",
    "period": "考核期间",
    "show": "查看",
    "loading": "正在计算…",
    "load_failed": "加载失败",
    "attributed": "立案数",
    "due": "应结案数",
    "postponed": "延期数",
    "closed_on_time": "按期结案数",
    "on_time_rate": "按期结案率",
    "closed": "结案数",
    "close_rate": "结案率",
    "rework": "返工次数",
    "overdue_open": "超期未结",
    "avg_hours_to_rectify": "平均处置时长(小时)",
    "disputes": "争议次数",
    "rank": "排名",
    "unit": "责任单位",
    "district": "片区",
    "score": "得分",
    "not_ranked": "未排名",
    "units_title": "责任单位排名",
    "districts_title": "片区排名",
    "trend_title": "近期趋势",
    "rates": "按期结案率 / 结案率",
    "counts": "立案数 / 超期未结",
    "map_title": "案件分布",
    "all_districts": "全部片区",
    "only_overdue": "只看超期未结",
    "state_reported": "待立案",
    "state_dispatched": "处置中",
    "state_rectified": "已处置待核查",
    "state_postponed": "延期",
    "state_closed": "已结案",
    "state_rejected": "不予立案",
    "overdue": "超期未结",
    "sign_in": "请先以管理员身份登录",
    "note": "说明",
}


def render_dashboard_page(*, prefix: str = "", site_name: str = "", period: dict[str, str | None]) -> str:
    """The HTML shell of ``/dashboard``; ``period`` holds the query (period, from, to) the page will ask for."""
    payload: dict[str, Any] = {
        "labels": WORDS,
        "period": period,
        "trend": TREND_PERIODS,
        "urls": {
            "assessment": f"{prefix}/assessment",
            "map": f"{prefix}/assessment/map",
            "dashboard": f"{prefix}/dashboard",
            "login": f"{prefix}/login?next={prefix}/dashboard",
        },
    }
    title = f"{WORDS['title']} · {site_name}" if site_name else WORDS["title"]
    return _TEMPLATE.format(
        csp=escape_html(DASHBOARD_CSP.replace("; frame-ancestors 'none'", "")),
        title=escape_html(title),
        heading=escape_html(title),
        assets=head_html(DASHBOARD_ASSETS, inline=False, prefix=prefix),
        data=script_json(payload),
        period_label=escape_html(WORDS["period"]),
        show=escape_html(WORDS["show"]),
        loading=escape_html(WORDS["loading"]),
    )


_TEMPLATE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<meta http-equiv="Content-Security-Policy" content="{csp}"/>
<title>{title}</title>
{assets}
</head>
<body class="dashboard">
<header>
  <h1>{heading}</h1>
  <form id="period-form" method="get">
    <label>{period_label} <input id="period-input" name="period" maxlength="20" placeholder="2026-11"/></label>
    <button type="submit">{show}</button>
  </form>
  <p id="period-line" class="muted"></p>
</header>
<p id="status" class="status">{loading}</p>
<section id="figures" class="figures"></section>
<section class="trend">
  <h2 id="trend-title"></h2>
  <div class="charts"><figure id="chart-rates"></figure><figure id="chart-counts"></figure></div>
</section>
<section class="map-section">
  <h2 id="map-title"></h2>
  <div id="map-filters" class="filters"></div>
  <div id="case-map"></div>
</section>
<section class="rankings">
  <div><h2 id="units-title"></h2><table id="unit-ranking"></table></div>
  <div><h2 id="districts-title"></h2><table id="district-ranking"></table></div>
</section>
<script type="application/json" id="respmap-dashboard-data">{data}</script>
</body>
</html>
"""
