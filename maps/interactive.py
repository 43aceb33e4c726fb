"""Interactive coverage maps (folium/Leaflet): one self-contained HTML file or a served page.

folium lays out the page: the Leaflet map (canvas renderer, scale bar), the
base tiles, one ``FeatureGroup`` per layer and the layer control. Its default
CDN links are dropped; Leaflet and the plugins come from ``maps/node_modules``
(inlined into a file, or linked under ``/assets`` when served, see
:mod:`maps.vendor`). The features, popups, tooltips, legend, search and
measure tool are built in the browser by ``maps/assets/respmap.js`` from one
JSON data element (:mod:`maps.payload`) using text nodes only.

Example:
    >>> from geo import load_dataset
    >>> html = render_map(load_dataset(), MapOptions(colour_by="coverage"))
    >>> Path("city.html").write_text(html, encoding="utf-8")
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from geo import Dataset
from maps.cases_layer import CasesLayer
from maps.payload import COLOUR_BY, TILES, MapOptions, UnknownFocusError, build_payload, parse_date
from maps.planner_edit import PLANNER_EDIT_ASSETS, PlannerEdit
from maps.popups import escape_html, script_json
from maps.vendor import CASES_ASSETS, MAP_ASSETS, AssetsMissingError, head_html

__all__ = [
    "COLOUR_BY",
    "TILES",
    "AssetsMissingError",
    "MapOptions",
    "TilesError",
    "UnknownFocusError",
    "build_payload",
    "parse_date",
    "render_map",
]

TIANDITU_KEY_ENV = "RESPMAP_TIANDITU_KEY"
DATA_ELEMENT_ID = "respmap-data"
_DATA_PLACEHOLDER = "@@RESPMAP_DATA_9f2c@@"
DEFAULT_CENTER = (32.69, 109.03)  # Ankang, for a dataset with nothing to fit to


class TilesError(ValueError):
    """The base tiles asked for cannot be used (e.g. Tianditu without a key)."""


@dataclass(frozen=True, slots=True)
class BaseTiles:
    url: str
    attribution: str
    subdomains: str
    hosts: tuple[str, ...]
    overlay_url: str | None = None


def base_tiles(tiles: str, lang: str, tianditu_key: str | None = None) -> BaseTiles | None:
    """The tile source for ``tiles`` (None for none); Tianditu needs a key."""
    if tiles == "none":
        return None
    if tiles == "osm":
        return BaseTiles(
            "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            "&copy; OpenStreetMap contributors",
            "abc",
            ("https://tile.openstreetmap.org",),
        )
    if tiles == "amap":
        language = "zh_cn" if lang == "zh" else "en"
        return BaseTiles(
            f"https://webrd0{{s}}.is.autonavi.com/appmaptile?lang={language}&size=1&scale=1&style=8&x={{x}}&y={{y}}&z={{z}}",
            "&copy; 高德地图 AutoNavi (GCJ-02)",
            "1234",
            ("https://*.is.autonavi.com",),
        )
    if tiles == "tianditu":
        key = (tianditu_key or os.environ.get(TIANDITU_KEY_ENV, "")).strip()
        if not key:
            raise TilesError(
                f"--tiles tianditu needs a Tianditu key: set {TIANDITU_KEY_ENV} (or the server setting tianditu_key)"
            )
        if not re.fullmatch(r"[A-Za-z0-9]{8,64}", key):
            raise TilesError(f"{TIANDITU_KEY_ENV} does not look like a Tianditu key (8-64 letters and digits)")
        wmts = (
            "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={layer}"
            "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=" + key
        )
        notes = "cva" if lang == "zh" else "eva"
        return BaseTiles(
            wmts.replace("{layer}", "vec"),
            "&copy; 天地图 Tianditu",
            "01234567",
            ("https://*.tianditu.gov.cn",),
            overlay_url=wmts.replace("{layer}", notes),
        )
    raise TilesError(f"unknown tiles {tiles!r}: use one of {', '.join(TILES)}")


def _unique_titles(titles: list[str]) -> list[str]:
    """Layer-control labels: escaped (Leaflet shows them as HTML) and never repeated."""
    seen: dict[str, int] = {}
    result = []
    for title in titles:
        label = escape_html(title) or "—"
        if label in seen:
            seen[label] += 1
            label = f"{label} ({seen[label]})"
        else:
            seen[label] = 1
        result.append(label)
    return result


def _content_security_policy(tiles: BaseTiles | None, *, inline: bool) -> str:
    """What the page may load: its own assets (or nothing, for a file) plus the chosen tiles."""
    images = " ".join(tiles.hosts) if tiles else ""
    if inline:
        return (
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
            f"img-src data: {images}".rstrip()
            + "; font-src data:; connect-src 'none'; base-uri 'none'; form-action 'none'"
        )
    return (
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data: {images}".rstrip()
        + "; connect-src 'self'; base-uri 'none'; form-action 'none'"
    )


def content_security_policy(
    options: MapOptions, lang: str = "zh", *, inline: bool, tianditu_key: str | None = None
) -> str:
    """The CSP of a map page (the server sends it as a header)."""
    return _content_security_policy(base_tiles(options.tiles, lang, tianditu_key), inline=inline)


def render_map(
    ds: Dataset,
    options: MapOptions,
    *,
    inline: bool = True,
    tianditu_key: str | None = None,
    prefix: str = "",
    cases: CasesLayer | None = None,
    planner_edit: PlannerEdit | None = None,
) -> str:
    """The whole HTML page of a map.

    Args:
        ds: the dataset.
        options: view, colouring, tiles, date, language, lookup URL.
        inline: True for one self-contained file (Leaflet, plugins, CSS, data
            inside); False for a page served with its assets under ``/assets``.
        tianditu_key: for ``tiles="tianditu"``; default ``RESPMAP_TIANDITU_KEY``.
        prefix: the server's root path, put before ``/assets`` in served pages.
        cases: the cases layer (:mod:`maps.cases_layer`): served (fetched with the
            session) or static (cases inside the page); None draws no cases.
        planner_edit: served pages only: planners' edit tools and "since when" in
            popups (:mod:`maps.planner_edit`); None leaves them out.

    Raises:
        UnknownFocusError: the unit or district id is not in the dataset.
        TilesError: the tiles cannot be used (unknown, or Tianditu without a key).
        AssetsMissingError: Leaflet is not installed (run the set-up).
    """
    lang = options.lang or ds.lang
    tiles = base_tiles(options.tiles, lang, tianditu_key)
    wanted = MAP_ASSETS if cases is None else (*MAP_ASSETS, *CASES_ASSETS)
    if planner_edit is not None:
        wanted = (*wanted, *PLANNER_EDIT_ASSETS)
    assets = head_html(wanted, inline=inline, prefix=prefix)  # fails early, before any work, when not installed
    payload = build_payload(ds, options)
    if cases is not None:
        payload["cases"] = cases.payload(lang)
    if planner_edit is not None:
        payload["planner_edit"] = planner_edit.payload(lang)
    bounds = payload["view"]["bounds"]
    if bounds:
        center = ((bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2)
    else:
        center = DEFAULT_CENTER

    # folium only here: importing this module (route discovery, the CLI) stays light (maps/folium_page.py).
    import folium
    from branca.element import Element

    from maps.folium_page import OfflineMap, RespmapInit

    # No folium scale bar: Leaflet's default shows feet and miles too; respmap.js adds a metric-only one.
    fmap = OfflineMap(location=center, zoom_start=13, tiles=None, prefer_canvas=True, control_scale=False, max_zoom=20)
    if tiles is not None:
        folium.TileLayer(
            tiles=tiles.url,
            attr=tiles.attribution,
            name="base",
            subdomains=tiles.subdomains,
            max_zoom=20,
            max_native_zoom=18,
            control=False,
            overlay=False,
        ).add_to(fmap)
        if tiles.overlay_url:
            folium.TileLayer(
                tiles=tiles.overlay_url,
                attr=tiles.attribution,
                name="labels",
                subdomains=tiles.subdomains,
                max_zoom=20,
                max_native_zoom=18,
                control=False,
                overlay=True,
            ).add_to(fmap)
    titles = _unique_titles([layer["title"] for layer in payload["layers"]])
    groups = [folium.FeatureGroup(name=title, overlay=True, control=True).add_to(fmap) for title in titles]
    control = folium.LayerControl(position="topright", collapsed=False).add_to(fmap)
    RespmapInit([g.get_name() for g in groups], control.get_name(), DATA_ELEMENT_ID).add_to(fmap)

    figure = fmap.get_root()
    view = payload["view"]
    page_title = payload["title"] + (f" · {view['name'] or view['id']}" if view["kind"] != "city" else "")
    csp = _content_security_policy(tiles, inline=inline)
    figure.header.add_child(
        Element(
            f'<meta http-equiv="Content-Security-Policy" content="{escape_html(csp)}"/>\n'
            f"<title>{escape_html(page_title)}</title>\n"
            '<link rel="icon" href="data:,"/>\n'
            f'<meta name="respmap-lang" content="{escape_html(lang)}"/>'
        ),
        name="respmap_meta",
        index=0,
    )
    figure.header.add_child(Element(assets), name="respmap_assets")
    figure.html.add_child(
        Element(f'<script type="application/json" id="{DATA_ELEMENT_ID}">{_DATA_PLACEHOLDER}</script>'),
        name="respmap_data",
    )
    html = figure.render()
    html = html.replace("<html>", f'<html lang="{"en" if lang == "en" else "zh-CN"}">', 1)
    return html.replace(_DATA_PLACEHOLDER, script_json(payload), 1)


def options_from(values: dict[str, Any]) -> MapOptions:
    """MapOptions from loosely typed values (CLI arguments, query strings); raises ValueError."""
    colour_by = values.get("colour_by") or "coverage"
    if colour_by not in COLOUR_BY:
        raise ValueError(f"colour-by {str(colour_by)[:30]!r} is not one of {', '.join(COLOUR_BY)}")
    tiles = values.get("tiles") or "none"
    if tiles not in TILES:
        raise ValueError(f"tiles {str(tiles)[:30]!r} is not one of {', '.join(TILES)}")
    lang = values.get("lang") or None
    if lang not in (None, "zh", "en"):
        raise ValueError(f"lang {str(lang)[:10]!r} is not zh or en")
    return MapOptions(
        unit=values.get("unit"),
        district=values.get("district"),
        colour_by=colour_by,
        tiles=tiles,
        date=parse_date(values.get("date")),
        lang=lang,
        lookup_url=values.get("lookup_url"),
    )
