"""``/here``: the phone page that tells a worker which unit answers for where they stand.

A small page, not a folium map: big type for the answer, one button for the
browser's position (``navigator.geolocation``, WGS-84), and a map below on
which a tap asks about any other point. Every question goes to the server's
``/lookup`` route; the answer is written into the page with ``textContent``
(``maps/assets/here.js``), and the phone number becomes a ``tel:`` link.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from geo import Dataset
from maps import encoding
from maps.interactive import base_tiles
from maps.payload import MapOptions
from maps.popups import escape_html, labels, script_json
from maps.vendor import HERE_ASSETS, head_html

HERE_LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "here_title": "我在哪儿，谁负责？",
        "locate_me": "用我的位置",
        "locating": "正在定位…",
        "tap_hint": "或在地图上点一下要查询的地点",
        "geo_failed": "无法获取位置",
        "geo_missing": "此浏览器不能定位，请在地图上点选",
        "responsible": "责任单位",
        "also": "同时负责",
        "your_point": "查询点",
    },
    "en": {
        "here_title": "Who is responsible where I stand?",
        "locate_me": "Use my location",
        "locating": "Finding your position…",
        "tap_hint": "or tap the map at the place you mean",
        "geo_failed": "Could not get your position",
        "geo_missing": "This browser cannot locate you; tap the map instead",
        "responsible": "Responsible unit",
        "also": "Also responsible",
        "your_point": "Point asked",
    },
}

_TEMPLATE = """<!DOCTYPE html>
<html lang="{html_lang}">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<meta http-equiv="Content-Security-Policy" content="{csp}"/>
<title>{title}</title>
<link rel="icon" href="data:,"/>
{assets}
</head>
<body class="here">
<main class="here-main">
  <h1 class="here-title" id="here-title"></h1>
  <button type="button" class="here-locate" id="here-locate"></button>
  <p class="here-status" id="here-status" role="status" aria-live="polite"></p>
  <section class="here-answer" id="here-answer" aria-live="polite"></section>
</main>
<div class="here-map" id="here-map"></div>
<script type="application/json" id="respmap-here-data">{data}</script>
<script>respmapHere.init("respmap-here-data");</script>
</body>
</html>
"""


def here_payload(ds: Dataset, options: MapOptions, lookup_url: str, tianditu_key: str | None = None) -> dict[str, Any]:
    """What the phone page needs: words, the lookup route, districts for context, tiles."""
    lang = options.lang or ds.lang
    words = {**labels(lang), **HERE_LABELS.get(lang, HERE_LABELS["zh"])}
    shift = None
    if options.datum == "gcj02":
        from geo.datums import wgs84_to_gcj02

        shift = wgs84_to_gcj02
    districts: list[Any] = []
    bounds = None
    if ds.frame is not None and len(ds.frame):
        metric = np.asarray(ds.frame.geometry.to_crs(ds.metric_crs).values, dtype=object)
        wgs = encoding.to_wgs84(encoding.simplify_coverage(metric, 10.0), ds.metric_crs, shift)
        districts = [g for g in (encoding.encode(geometry) for geometry in wgs) if g is not None]
        bounds = encoding.bounds_latlng(wgs)
    tiles = base_tiles(options.tiles, lang, tianditu_key)
    return {
        "labels": words,
        "title": ds.name,
        "lookup": {"url": lookup_url, "crs": options.datum},
        "datum": options.datum,
        "date": "" if options.date is None else options.date.date().isoformat(),
        "districts": districts,
        # Without districts every answer is "outside the frame": not worth a warning to the worker.
        "has_districts": ds.frame is not None and len(ds.frame) > 0,
        "bounds": bounds,
        "tiles": None
        if tiles is None
        else {"url": tiles.url, "attribution": tiles.attribution, "subdomains": tiles.subdomains},
    }


def render_here(
    ds: Dataset,
    options: MapOptions,
    *,
    lookup_url: str = "/lookup",
    prefix: str = "",
    tianditu_key: str | None = None,
    csp: str = "",
) -> str:
    """The ``/here`` page as HTML (assets linked under ``prefix + /assets``)."""
    payload = here_payload(ds, options, lookup_url, tianditu_key)
    lang = options.lang or ds.lang
    return _TEMPLATE.format(
        html_lang="en" if lang == "en" else "zh-CN",
        csp=escape_html(csp),
        title=escape_html(f"{payload['labels']['here_title']} · {ds.name}"),
        assets=head_html(HERE_ASSETS, inline=False, prefix=prefix),
        data=script_json(payload),
    )
