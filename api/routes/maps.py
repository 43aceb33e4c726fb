"""Map pages: the coverage map (city, unit, district), the phone page /here, and their assets.

``/map``, ``/map/units/{id}`` and ``/map/districts/{id}`` are the same
interactive map as ``respmap map`` writes to a file, except that Leaflet and
the scripts are linked from ``/assets`` (served from ``maps/node_modules`` and
``maps/assets``, nothing from a CDN) and a click anywhere asks ``/lookup`` who
is responsible there. Pages are built once per (dataset snapshot, options)
and cached on the Dataset, so a reload serves fresh maps. Every page carries a
Content-Security-Policy that allows nothing beyond this server (and the base
tiles, when asked for).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import anyio.to_thread
import pandas as pd
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.dependencies import BBoxDep, DatasetDep, DateDep, DistrictDep, UnitDep
from api.errors import BadParameterError, NotFoundError, error_answer, error_responses
from api.responses import GEOJSON, GeoJSONAnswer
from geo import Dataset
from maps.cases_layer import CasesLayer
from maps.here import MAX_PLACES_BOX_DEG, places_near, render_here
from maps.interactive import MapOptions, TilesError, content_security_policy, render_map
from maps.planner_edit import PlannerEdit
from maps.vendor import AssetsMissingError, media_type, resolve_served

ORDER = 80
router = APIRouter(tags=["maps"])

ColourByParam = Annotated[
    Literal["unit", "standard", "coverage"],
    Query(
        alias="color_by",
        description="colour duty zones by coverage status (default), by unit or by standard grade; "
        "the legend finds a unit and shows its ground",
    ),
]
TilesParam = Annotated[
    Literal["none", "osm", "amap", "tianditu"],
    Query(description="base tiles: none (default, works offline), osm, amap (overlays shifted to GCJ-02), tianditu"),
]
LangParam = Annotated[Literal["zh", "en"] | None, Query(description="language of labels (default: the dataset's)")]
HTML_RESPONSES = {200: {"content": {"text/html": {}}, "description": "an HTML page"}, **error_responses(400, 404, 503)}


def _tianditu_key(request: Request) -> str | None:
    secret = getattr(request.app.state.settings, "tianditu_key", None)
    return secret.get_secret_value() if secret is not None else None


def _lookup_url(request: Request) -> str:
    return request.scope.get("root_path", "") + "/lookup"


def _page_headers(csp: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }


async def _map_page(
    request: Request,
    ds: Dataset,
    *,
    unit: str | None = None,
    district: str | None = None,
    colour_by: str,
    tiles: str,
    date: dt.date | None,
    lang: str | None,
) -> Response:
    options = MapOptions(
        unit=unit,
        district=district,
        colour_by=colour_by,
        tiles=tiles,  # type: ignore[arg-type]
        # Today resolved now: a server running past midnight must not keep serving yesterday's map.
        date=pd.Timestamp(date) if date is not None else ds.reference_date,
        lang=lang,
        lookup_url=_lookup_url(request),
    )
    # The key matters (and enters the cache key) only for Tianditu tiles.
    key = _tianditu_key(request) if tiles == "tianditu" else None
    prefix = request.scope.get("root_path", "")
    try:
        csp = content_security_policy(options, lang or ds.lang, inline=False, tianditu_key=key)
        html = await anyio.to_thread.run_sync(
            lambda: ds.cached(
                ("maps.page", options, key, prefix),
                lambda: render_map(
                    ds,
                    options,
                    inline=False,
                    tianditu_key=key,
                    prefix=prefix,
                    cases=CasesLayer.served(prefix),
                    planner_edit=PlannerEdit.served(prefix),
                ),
            )
        )
    except TilesError as exc:
        raise BadParameterError("tiles", str(exc)) from None
    except AssetsMissingError as exc:
        return error_answer(503, "map_assets_missing", str(exc))
    return HTMLResponse(html, headers=_page_headers(csp))


@router.get("/map", response_class=HTMLResponse, responses=HTML_RESPONSES, summary="Coverage map of the whole city")
async def city_map(
    request: Request,
    ds: DatasetDep,
    date: DateDep,
    color_by: ColourByParam = "coverage",
    tiles: TilesParam = "none",
    lang: LangParam = None,
) -> Response:
    """Interactive map of every layer; a click anywhere shows who is responsible there."""
    return await _map_page(request, ds, colour_by=color_by, tiles=tiles, date=date, lang=lang)


@router.get(
    "/map/units/{unit_id:path}", response_class=HTMLResponse, responses=HTML_RESPONSES, summary="Map of one unit"
)
async def unit_map(
    request: Request,
    ds: DatasetDep,
    unit: UnitDep,
    date: DateDep,
    color_by: ColourByParam = "coverage",
    tiles: TilesParam = "none",
    lang: LangParam = None,
) -> Response:
    """The unit's zones strong, everyone else's faint, fitted to the unit's extent."""
    return await _map_page(
        request, ds, unit=str(unit["unit_id"]), colour_by=color_by, tiles=tiles, date=date, lang=lang
    )


@router.get(
    "/map/districts/{district_id:path}",
    response_class=HTMLResponse,
    responses=HTML_RESPONSES,
    summary="Map of one district",
)
async def district_map(
    request: Request,
    ds: DatasetDep,
    district: DistrictDep,
    date: DateDep,
    color_by: ColourByParam = "coverage",
    tiles: TilesParam = "none",
    lang: LangParam = None,
) -> Response:
    """One campaign district, its zones strong, fitted to the district."""
    return await _map_page(
        request, ds, district=str(district["district_id"]), colour_by=color_by, tiles=tiles, date=date, lang=lang
    )


@router.get(
    "/here", response_class=HTMLResponse, responses=HTML_RESPONSES, summary="Phone page: who is responsible here"
)
async def here_page(
    request: Request, ds: DatasetDep, date: DateDep, tiles: TilesParam = "none", lang: LangParam = None
) -> Response:
    """A phone-sized page: the browser's position (or a tap) -> the responsible unit, contact and a call link."""
    options = MapOptions(tiles=tiles, date=None if date is None else pd.Timestamp(date), lang=lang)
    key = _tianditu_key(request) if tiles == "tianditu" else None
    prefix = request.scope.get("root_path", "")
    try:
        csp = content_security_policy(options, lang or ds.lang, inline=False, tianditu_key=key)
        photo_limit_mb = float(getattr(request.app.state.settings, "photo_limit_mb", 10.0))
        html = ds.cached(
            ("maps.here", options, key, prefix, photo_limit_mb),
            lambda: render_here(
                ds,
                options,
                lookup_url=_lookup_url(request),
                places_url=prefix + "/here/places",
                prefix=prefix,
                tianditu_key=key,
                csp=csp,
                cases_url=prefix + "/cases",
                categories_url=prefix + "/categories",
                photo_limit_mb=photo_limit_mb,
                me_url=prefix + "/me",
                worker_url=prefix + "/here-sw.js",
            ),
        )
    except TilesError as exc:
        raise BadParameterError("tiles", str(exc)) from None
    except AssetsMissingError as exc:
        return error_answer(503, "map_assets_missing", str(exc))
    return HTMLResponse(html, headers=_page_headers(csp))


@router.get(
    "/here/places",
    response_class=GeoJSONAnswer,
    responses={200: {"content": {GEOJSON: {}}, "description": "GeoJSON FeatureCollection"}, **error_responses(400)},
    summary="Places in a small box, for the phone page",
)
async def here_places(ds: DatasetDep, bbox: BBoxDep, lang: LangParam = None) -> Response:
    """Streets, villages, compounds ... (every layer but the districts) meeting ``bbox``, WGS-84 GeoJSON.

    The phone page draws them around the asked point, the answer's place highlighted.
    At most a few hundred features (the nearest to the box's centre; ``truncated`` says so).
    """
    if bbox is None:
        raise BadParameterError("bbox", "bbox is required: minLon,minLat,maxLon,maxLat in WGS-84")
    min_lon, min_lat, max_lon, max_lat = bbox
    if max_lon - min_lon > MAX_PLACES_BOX_DEG or max_lat - min_lat > MAX_PLACES_BOX_DEG:
        raise BadParameterError(
            "bbox", f"bbox is larger than {MAX_PLACES_BOX_DEG}° a side; ask for the places around one point"
        )
    return GeoJSONAnswer(places_near(ds, bbox, lang), headers={"Cache-Control": "no-cache"})


@router.get("/assets/{path:path}", include_in_schema=False)
async def asset(path: str) -> Response:
    """Leaflet, its plugins and respmap's own scripts, from the local installation only.

    A name no file system can hold (a NUL, a control character, a part longer than
    255 bytes, a path longer than 1 KB) is a 404 before any file is touched; one the
    file system still refuses (``OSError``) is a 404 too, never a 500.
    """
    if not _plausible_asset_path(path):
        raise NotFoundError("asset", _shown(path))
    try:
        file = resolve_served(path)
        content = None if file is None else file.read_bytes()
    except (OSError, ValueError):
        file = content = None
    if file is None or content is None:
        raise NotFoundError("asset", _shown(path))
    return Response(
        content,
        media_type=media_type(file),
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


MAX_ASSET_PATH_BYTES = 1024
MAX_NAME_BYTES = 255  # one path component, as ext4 and most file systems allow


def _plausible_asset_path(path: str) -> bool:
    """Whether ``path`` could name a served file at all (printable, short parts, short whole)."""
    encoded = path.encode("utf-8", errors="replace")
    if len(encoded) > MAX_ASSET_PATH_BYTES or any(ch < " " or ch == "\x7f" for ch in path):
        return False
    return all(len(part.encode("utf-8", errors="replace")) <= MAX_NAME_BYTES for part in path.split("/"))


def _shown(path: str) -> str:
    """The asked-for path as it may appear in an answer: bounded, control characters escaped."""
    return path[:200].encode("unicode_escape").decode("ascii")
