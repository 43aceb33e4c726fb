"""``/here``: the phone page that tells a worker which unit answers for where they stand.

A small page, not a folium map: big type for the answer, one button for the
browser's position (``navigator.geolocation``, WGS-84), and a map below on
which a tap asks about any other point. Every question goes to the server's
``/lookup`` route; the answer is written into the page with ``textContent``
(``maps/assets/here.js``), and the phone number becomes a ``tel:`` link.

Once a point is asked, the page fetches the places around it
(:func:`places_near`, served as ``/here/places?bbox=``: streets, villages,
compounds of the dataset in a small box) and draws them, the answer's own
place highlighted, so the worker sees which street or compound is meant and
not only district outlines.

Below the answer, "report a problem here" (上报问题, ``maps/assets/here-report.js``) sends a
case for the asked point: category, note, a camera photo scaled on the phone, kept in the
browser (IndexedDB) while there is no signal and sent once when it returns.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping

from geo import Dataset
from maps import encoding
from maps.field import MB, field_words
from maps.interactive import base_tiles
from maps.payload import MapOptions
from maps.popups import escape_html, labels, script_json
from maps.vendor import HERE_ASSETS, head_html

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
  <p class="here-places" id="here-places"></p>
  <div class="here-report" id="here-report"></div>
</main>
<div class="here-map" id="here-map"></div>
<script type="application/json" id="respmap-here-data">{data}</script>
<script>respmapHere.init("respmap-here-data");</script>
</body>
</html>
"""


# Places drawn around the asked point: a box this many metres each way (the page asks for it) ...
PLACES_RADIUS_M = 400.0
# ... and at most this many features in one answer (the nearest kept), so a dense city stays light.
MAX_PLACES = 300
# The largest box /here/places answers for, in degrees a side (about 10 km at Ankang).
MAX_PLACES_BOX_DEG = 0.1
# Coordinates sent to the phone rounded to 1e-6 degrees (about 0.1 m): plenty for drawing.
PLACES_DECIMALS = 6


def _place_index(ds: Dataset) -> tuple[shapely.STRtree, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every feature of every layer but the frame: a tree of WGS-84 geometries and parallel columns."""
    frame_layer = ds.catalog.frame.layer if ds.catalog is not None and ds.catalog.frame is not None else None
    geometries, layer_ids, feature_ids, names = [], [], [], []
    for layer_id, layer in ds.layers.items():
        if layer_id == frame_layer or not len(layer):
            continue
        geometries.append(np.asarray(layer.geometry.values, dtype=object))
        layer_ids.append(np.full(len(layer), layer_id, dtype=object))
        feature_ids.append(layer["feature_id"].to_numpy(dtype=object))
        names.append(layer["name"].to_numpy(dtype=object))
    if not geometries:
        empty = np.array([], dtype=object)
        return shapely.STRtree(empty), empty, empty, empty, empty
    all_geometries = np.concatenate(geometries)
    return (
        shapely.STRtree(all_geometries),
        all_geometries,
        np.concatenate(layer_ids),
        np.concatenate(feature_ids),
        np.concatenate(names),
    )


def places_near(
    ds: Dataset, bbox: tuple[float, float, float, float], lang: str | None = None, *, limit: int = MAX_PLACES
) -> dict[str, Any]:
    """The dataset's places (not districts) meeting a WGS-84 box, as a GeoJSON FeatureCollection.

    Properties: ``layer``, ``layer_title`` (in ``lang``), ``kind`` (point / line /
    polygon), ``feature_id`` and ``name``. When more than ``limit`` features meet
    the box, the ones nearest its centre are kept and ``truncated`` is true.

    Example:
        >>> places_near(ds, (109.01, 32.70, 109.02, 32.71))["features"][0]["properties"]["name"]
    """
    tree, geometries, layer_ids, feature_ids, names = ds.cached(("here.places",), lambda: _place_index(ds))
    min_lon, min_lat, max_lon, max_lat = bbox
    box = shapely.box(min_lon, min_lat, max_lon, max_lat)
    hits = np.sort(tree.query(box, predicate="intersects")) if len(geometries) else np.array([], dtype=int)
    truncated = len(hits) > limit
    if truncated:
        centre = shapely.points((min_lon + max_lon) / 2, (min_lat + max_lat) / 2)
        nearest = np.argsort(shapely.distance(geometries[hits], centre), kind="stable")[:limit]
        hits = np.sort(hits[nearest])
    language = lang or ds.lang
    titles = {spec.id: spec.title_in(language) for spec in ds.catalog.layers} if ds.catalog is not None else {}
    kinds = {spec.id: spec.geometry for spec in ds.catalog.layers} if ds.catalog is not None else {}
    shapes = shapely.transform(geometries[hits], lambda xy: np.round(xy, PLACES_DECIMALS))
    features = [
        {
            "type": "Feature",
            "geometry": mapping(shape),
            "properties": {
                "layer": layer_ids[i],
                "layer_title": titles.get(layer_ids[i], layer_ids[i]),
                "kind": kinds.get(layer_ids[i], ""),
                "feature_id": feature_ids[i],
                "name": "" if names[i] is None else str(names[i]),
            },
        }
        for i, shape in zip(hits.tolist(), shapes, strict=True)
    ]
    return {"type": "FeatureCollection", "features": features, "truncated": bool(truncated)}


def here_payload(
    ds: Dataset,
    options: MapOptions,
    lookup_url: str,
    tianditu_key: str | None = None,
    places_url: str | None = None,
    *,
    cases_url: str | None = None,
    categories_url: str = "/categories",
    photo_limit_mb: float = 10.0,
    me_url: str = "/me",
    worker_url: str | None = None,
) -> dict[str, Any]:
    """What the phone page needs: words, the lookup route, districts for context, tiles, the report's routes."""
    lang = options.lang or ds.lang
    words = {**labels(lang), **field_words(lang)}
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
        # Where the places around an asked point come from (None: the page draws districts only).
        "places": None if places_url is None else {"url": places_url, "radius_m": PLACES_RADIUS_M},
        # "Report a problem here" (maps/assets/here-report.js); None: the page only answers who is responsible.
        "report": None
        if cases_url is None
        else {
            "cases_url": cases_url,
            "categories_url": categories_url,
            "me_url": me_url,
            # The service worker that keeps the page for use with no signal (maps/assets/here-sw.js).
            "worker_url": worker_url,
            "photo_limit_bytes": int(photo_limit_mb * MB),
        },
        "datum": options.datum,
        "lang": lang,
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
    places_url: str | None = "/here/places",
    prefix: str = "",
    tianditu_key: str | None = None,
    csp: str = "",
    cases_url: str | None = "/cases",
    categories_url: str = "/categories",
    photo_limit_mb: float = 10.0,
    me_url: str = "/me",
    worker_url: str | None = None,
) -> str:
    """The ``/here`` page as HTML (assets linked under ``prefix + /assets``).

    ``cases_url`` (None: no report) is where "report a problem here" posts;
    ``photo_limit_mb`` is the server's photo limit, checked on the phone before upload.
    """
    payload = here_payload(
        ds,
        options,
        lookup_url,
        tianditu_key,
        places_url,
        cases_url=cases_url,
        categories_url=categories_url,
        photo_limit_mb=photo_limit_mb,
        me_url=me_url,
        worker_url=worker_url,
    )
    lang = options.lang or ds.lang
    return _TEMPLATE.format(
        html_lang="en" if lang == "en" else "zh-CN",
        csp=escape_html(csp),
        title=escape_html(f"{payload['labels']['here_title']} · {ds.name}"),
        assets=head_html(HERE_ASSETS, inline=False, prefix=prefix),
        data=script_json(payload),
    )
