"""OGC API - Features, Part 1 Core, at ``/ogc``: the layers for GDAL, QGIS and any OAPIF client.

Every layer of the dataset is a collection, and so are the duty zones
(``duty_zones``, feature ids = ``zone_id``). Geometry is WGS-84 longitude,
latitude (CRS84); features are served as GeoJSON from bytes encoded once per
dataset (:mod:`api.features`), so a page is a byte join. ``limit`` above
10,000 is clamped (the standard asks servers not to fail on it);
``next``/``prev`` links carry ``offset``, ``limit`` and ``bbox``.

    ogrinfo -ro -so OAPIF:http://127.0.0.1:8000/ogc
    ogrinfo -ro OAPIF:http://127.0.0.1:8000/ogc back_streets -spat 109.0 32.67 109.05 32.70
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from api.dependencies import BBoxDep, CollectionDep, DatasetDep, public_base_url
from api.errors import NotFoundError, error_responses
from api.features import (
    DEFAULT_PAGE_LIMIT,
    MAX_PAGE_LIMIT,
    Collection,
    FeatureTable,
    collections,
    feature_collection,
)
from api.models import FeatureCollection, GeoJSONFeature, Link
from api.responses import GEOJSON, JSON, GeoJSONAnswer, JSONAnswer, dumps
from api.state import warm_up_step
from geo import Dataset

ORDER = 80
router = APIRouter(prefix="/ogc", tags=["OGC API - Features"])

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
OPENAPI_30 = "application/vnd.oai.openapi+json;version=3.0"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
DEFAULT_LIMIT = DEFAULT_PAGE_LIMIT
MAX_LIMIT = MAX_PAGE_LIMIT
MAX_OFFSET = 1_000_000_000

Format = Annotated[
    Literal["json"] | None,
    Query(description="Output format; only `json` (GeoJSON for features) is offered.", examples=["json"]),
]


# -- response models (documentation and schema checks) -------------------------------
class LandingPage(BaseModel):
    title: str
    description: str
    links: list[Link]


class Conformance(BaseModel):
    conformsTo: list[str] = Field(description="URIs of the conformance classes implemented")


class SpatialExtent(BaseModel):
    bbox: list[list[float]] = Field(description="[[minLon, minLat, maxLon, maxLat]] in CRS84")
    crs: str


class Extent(BaseModel):
    spatial: SpatialExtent


class CollectionInfo(BaseModel):
    id: str
    title: str
    description: str
    links: list[Link]
    extent: Extent | None = None
    itemType: str = Field(description="always `feature`")
    crs: list[str]
    storageCrs: str | None = None


class Collections(BaseModel):
    links: list[Link]
    collections: list[CollectionInfo]


class FeatureCollectionPage(FeatureCollection):
    links: list[Link] = Field(description="self, and next/prev when there are more pages")
    numberMatched: int = Field(description="features matching the filter, over all pages")
    numberReturned: int = Field(description="features in this page")
    timeStamp: str = Field(description="when this page was produced (ISO 8601, UTC)")


# -- helpers -----------------------------------------------------------------------
def _root(request: Request) -> str:
    """The server's base URL for links: ``RESPMAP_PUBLIC_URL`` when set, else the request's own."""
    return public_base_url(request)


def _link(href: str, rel: str, media_type: str | None = None, title: str | None = None) -> dict[str, str]:
    link = {"href": href, "rel": rel}
    if media_type:
        link["type"] = media_type
    if title:
        link["title"] = title
    return link


def _collection_info(request: Request, ds: Dataset, collection: Collection) -> dict[str, Any]:
    base = f"{_root(request)}/ogc/collections/{quote(collection.id, safe='')}"
    table = collection.table(ds)
    info: dict[str, Any] = {
        "id": collection.id,
        "title": collection.title,
        "description": collection.description,
        "links": [
            _link(base, "self", JSON, "this collection"),
            _link(f"{base}/items", "items", GEOJSON, "its features"),
        ],
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
    }
    if table.bounds is not None:
        info["extent"] = {"spatial": {"bbox": [list(table.bounds)], "crs": CRS84}}
    return info


def _timestamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- routes ------------------------------------------------------------------------
@router.get("", summary="Landing page", response_model=LandingPage)
async def landing(request: Request, ds: DatasetDep, f: Format = None) -> JSONAnswer:
    root = _root(request)
    return JSONAnswer(
        {
            "title": f"respmap: {ds.name}",
            "description": "Duty zones and the places they cover (OGC API - Features, Part 1 Core)",
            "links": [
                _link(f"{root}/ogc", "self", JSON, "this document"),
                _link(f"{root}/openapi.json", "service-desc", OPENAPI_30, "the API definition"),
                _link(f"{root}/docs", "service-doc", "text/html", "the API documentation"),
                _link(f"{root}/ogc/conformance", "conformance", JSON, "conformance classes implemented"),
                _link(f"{root}/ogc/collections", "data", JSON, "the collections"),
            ],
        }
    )


# The same page at "/ogc/": some clients add the slash, and redirects are off app-wide.
router.add_api_route("/", landing, methods=["GET"], include_in_schema=False)


@router.get("/conformance", summary="Conformance classes", response_model=Conformance)
async def conformance(f: Format = None) -> JSONAnswer:
    return JSONAnswer({"conformsTo": CONFORMANCE})


@router.get("/collections", summary="Every layer, and the duty zones", response_model=Collections)
async def list_collections(request: Request, ds: DatasetDep, f: Format = None) -> JSONAnswer:
    root = _root(request)
    return JSONAnswer(
        {
            "links": [_link(f"{root}/ogc/collections", "self", JSON, "the collections")],
            "collections": [_collection_info(request, ds, c) for c in collections(ds).values()],
        }
    )


@router.get(
    "/collections/{collectionId}",
    summary="One collection: its extent and links",
    response_model=CollectionInfo,
    responses=error_responses(400, 404),
)
async def describe_collection(
    request: Request, ds: DatasetDep, collection: CollectionDep, f: Format = None
) -> JSONAnswer:
    return JSONAnswer(_collection_info(request, ds, collection))


@router.get(
    "/collections/{collectionId}/items",
    summary="Features of a collection, a page at a time",
    response_class=GeoJSONAnswer,
    response_model=FeatureCollectionPage,
    responses=error_responses(400, 404),
)
async def items(
    request: Request,
    ds: DatasetDep,
    collection: CollectionDep,
    bbox: BBoxDep,
    limit: Annotated[
        int,
        Query(
            description=f"Features per page, 1 to {MAX_LIMIT} (larger values are clamped to {MAX_LIMIT}).",
            ge=1,
            examples=[DEFAULT_LIMIT],
        ),
    ] = DEFAULT_LIMIT,
    offset: Annotated[
        int,
        Query(description="Features to skip (the `next` and `prev` links set it).", ge=0, le=MAX_OFFSET, examples=[0]),
    ] = 0,
    f: Format = None,
) -> GeoJSONAnswer:
    limit = min(limit, MAX_LIMIT)
    table: FeatureTable = collection.table(ds)
    matched = table.select(bbox)
    page = matched[offset : offset + limit]
    links = [_link(str(request.url), "self", GEOJSON, "this page")]
    if offset + limit < len(matched):
        links.append(
            _link(
                str(request.url.include_query_params(offset=offset + limit, limit=limit)), "next", GEOJSON, "next page"
            )
        )
    if offset > 0:
        links.append(
            _link(
                str(request.url.include_query_params(offset=max(0, offset - limit), limit=limit)),
                "prev",
                GEOJSON,
                "previous page",
            )
        )
    collection_url = f"{_root(request)}/ogc/collections/{quote(collection.id, safe='')}"
    links.append(_link(collection_url, "collection", JSON, "the collection"))
    return GeoJSONAnswer(
        feature_collection(
            [table.encoded[position] for position in page.tolist()],
            numberMatched=len(matched),
            numberReturned=len(page),
            timeStamp=_timestamp(),
            links=links,
        )
    )


@router.get(
    "/collections/{collectionId}/items/{featureId:path}",
    summary="One feature",
    response_class=GeoJSONAnswer,
    response_model=GeoJSONFeature,
    responses=error_responses(400, 404),
)
async def item(
    request: Request,
    ds: DatasetDep,
    collection: CollectionDep,
    feature_id: Annotated[
        str,
        Path(
            alias="featureId",
            description="Feature id: `feature_id` for layers, `zone_id` for duty zones (URL-encode its slashes).",
            examples=["C1"],
        ),
    ],
    f: Format = None,
) -> GeoJSONAnswer:
    encoded = collection.table(ds).feature(feature_id)
    if encoded is None:
        raise NotFoundError(f"feature in {collection.id}", feature_id)
    collection_url = f"{_root(request)}/ogc/collections/{quote(collection.id, safe='')}"
    links = [
        _link(f"{collection_url}/items/{quote(feature_id, safe='')}", "self", GEOJSON, "this feature"),
        _link(collection_url, "collection", JSON, "the collection"),
    ]
    return GeoJSONAnswer(encoded[:-1] + b',"links":' + dumps(links) + b"}")


@warm_up_step("ogc collections")
def _warm_collections(ds: Dataset) -> None:
    for collection in collections(ds).values():
        collection.table(ds)
