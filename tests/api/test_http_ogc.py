"""OGC API - Features at /ogc, in process: landing page, conformance, collections, paging, bbox.

GDAL's own client is exercised against a real server in test_ogc_gdal.py;
here the documents themselves are checked against the standard's rules and
against the dataset.
"""

from __future__ import annotations

import math
from urllib.parse import parse_qs, urlsplit

import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import Transformer

from api.app import create_app
from api.settings import Settings
from geo import Dataset

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


@pytest.fixture(scope="module")
def client(mini_ds: Dataset) -> TestClient:
    with TestClient(create_app(Settings(dataset=mini_ds.path), dataset=mini_ds)) as test_client:
        yield test_client


def _links(document: dict) -> dict[str, dict]:
    return {link["rel"]: link for link in document["links"]}


def test_landing_page_links(client: TestClient) -> None:
    answer = client.get("/ogc")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    links = _links(answer.json())
    assert links["self"]["href"] == "http://testserver/ogc"
    assert links["service-desc"]["href"] == "http://testserver/openapi.json"
    assert links["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert links["service-doc"]["href"] == "http://testserver/docs" and links["service-doc"]["type"] == "text/html"
    assert links["conformance"]["href"] == "http://testserver/ogc/conformance"
    assert links["data"] == {
        "href": "http://testserver/ogc/collections",
        "rel": "data",
        "type": "application/json",
        "title": "the collections",
    }
    # Every link the landing page gives resolves.
    for link in links.values():
        assert client.get(link["href"]).status_code == 200, link
    assert client.get("/ogc/").json() == answer.json()


def test_conformance_classes(client: TestClient) -> None:
    conforms = set(client.get("/ogc/conformance").json()["conformsTo"])
    assert conforms == {
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    }


def test_every_layer_and_the_duty_zones_are_collections(client: TestClient, mini_ds: Dataset) -> None:
    body = client.get("/ogc/collections").json()
    ids = [c["id"] for c in body["collections"]]
    assert ids == ["districts", "compounds", "streets", "duty_zones"]
    streets = next(c for c in body["collections"] if c["id"] == "streets")
    assert streets["title"] == "背街小巷" and streets["itemType"] == "feature" and streets["crs"] == [CRS84]
    assert streets["extent"]["spatial"]["crs"] == CRS84
    expected = mini_ds.layers["streets"].total_bounds
    assert streets["extent"]["spatial"]["bbox"][0] == pytest.approx(list(expected))
    assert _links(streets)["items"]["href"] == "http://testserver/ogc/collections/streets/items"
    assert _links(streets)["items"]["type"] == "application/geo+json"
    assert client.get("/ogc/collections/streets").json() == streets


def test_items_page_has_counts_links_and_geojson_type(client: TestClient) -> None:
    answer = client.get("/ogc/collections/duty_zones/items", params={"limit": 3})
    assert answer.headers["content-type"] == "application/geo+json"
    page = answer.json()
    assert page["type"] == "FeatureCollection"
    assert (page["numberMatched"], page["numberReturned"], len(page["features"])) == (8, 3, 3)
    assert page["timeStamp"].endswith("Z")
    links = _links(page)
    assert "prev" not in links
    next_url = urlsplit(links["next"]["href"])
    assert next_url.path == "/ogc/collections/duty_zones/items"
    assert parse_qs(next_url.query) == {"limit": ["3"], "offset": ["3"]}


def test_paging_through_next_returns_every_feature_once(client: TestClient, mini_ds: Dataset) -> None:
    seen: list[str] = []
    url = "/ogc/collections/duty_zones/items?limit=3"
    pages = 0
    while url:
        page = client.get(url).json()
        seen += [feature["id"] for feature in page["features"]]
        url = _links(page).get("next", {}).get("href")
        pages += 1
    assert pages == 3
    assert seen == list(mini_ds.duty_zones["zone_id"])  # zone ids, in order, each once


def test_prev_link_goes_back_one_page(client: TestClient) -> None:
    page = client.get("/ogc/collections/duty_zones/items", params={"limit": 3, "offset": 4}).json()
    assert parse_qs(urlsplit(_links(page)["prev"]["href"]).query) == {"limit": ["3"], "offset": ["1"]}
    assert page["numberReturned"] == 3


@pytest.mark.parametrize(
    ("bbox_m", "expected"),
    [
        ((600090, 3618090, 600120, 3618120), {"C1", "C2"}),  # around the two overlapping compounds
        ((601490, 3618490, 601510, 3618510), {"C3"}),  # touching only C3's corner
        ((600500, 3618500, 600600, 3618600), set()),  # empty ground inside D1
    ],
)
def test_bbox_filter_matches_shapely(client: TestClient, mini_ds: Dataset, bbox_m: tuple, expected: set[str]) -> None:
    # The box is drawn in the mini data's metres, then taken to WGS-84 as the request needs.
    min_x, min_y, max_x, max_y = bbox_m
    lons, lats = Transformer.from_crs(4545, 4326, always_xy=True).transform(
        [min_x, max_x] * 2, [min_y] * 2 + [max_y] * 2
    )
    box_wgs84 = (min(lons), min(lats), max(lons), max(lats))
    layer = mini_ds.layers["compounds"]
    reference = set(layer.loc[layer.intersects(shapely.box(*box_wgs84)), "feature_id"])
    page = client.get("/ogc/collections/compounds/items", params={"bbox": ",".join(map(str, box_wgs84))}).json()
    assert {f["id"] for f in page["features"]} == reference == expected
    assert page["numberMatched"] == len(expected)


def test_single_feature_and_its_links(client: TestClient) -> None:
    answer = client.get("/ogc/collections/compounds/items/C3")
    assert answer.headers["content-type"] == "application/geo+json"
    feature = answer.json()
    assert feature["id"] == "C3" and feature["properties"]["name"] == "无人小区"
    assert _links(feature)["collection"]["href"] == "http://testserver/ogc/collections/compounds"


def test_duty_zone_ids_with_slashes_resolve(client: TestClient) -> None:
    feature = client.get("/ogc/collections/duty_zones/items/streets%2FS1%2F1").json()
    assert feature["id"] == "streets/S1/1"
    assert feature["properties"]["unit_id"] == "U1" and feature["properties"]["to_m"] == 400.0
    assert _links(feature)["self"]["href"].endswith("/items/streets%2FS1%2F1")


def test_feature_properties_are_plain_json(client: TestClient) -> None:
    page = client.get("/ogc/collections/duty_zones/items", params={"limit": 100}).json()
    for feature in page["features"]:
        for value in feature["properties"].values():
            assert value is None or isinstance(value, (str, int, bool)) or math.isfinite(value)
    s2 = next(f for f in page["features"] if f["id"] == "streets/S2/1")
    assert s2["properties"]["valid_from"] == "2026-01-01"
    assert "__source_index" not in page["features"][0]["properties"]


def test_limit_above_the_maximum_is_clamped_not_refused(client: TestClient) -> None:
    page = client.get("/ogc/collections/duty_zones/items", params={"limit": 50_000})
    assert page.status_code == 200 and page.json()["numberReturned"] == 8


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/ogc/collections/nope", 404),  # unknown collection
        ("/ogc/collections/nope/items", 404),  # items of an unknown collection
        ("/ogc/collections/compounds/items/C9", 404),  # unknown feature
        ("/ogc/collections/compounds/items?limit=0", 400),  # limit below 1
        ("/ogc/collections/compounds/items?offset=-1", 400),  # negative offset
        ("/ogc/collections/compounds/items?bbox=1,2,3", 400),  # three numbers
        ("/ogc/collections/compounds/items?bbox=a,b,c,d", 400),  # not numbers
        ("/ogc/collections/compounds/items?bbox=0,50,1,40", 400),  # minLat > maxLat
        ("/ogc/collections/compounds/items?bbox=0,0,1,nan", 400),  # not finite
        ("/ogc/collections?f=xml", 400),  # only json is offered
    ],
)
def test_ogc_errors(client: TestClient, path: str, status: int) -> None:
    answer = client.get(path)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/json" and "error" in answer.json()


def test_f_json_is_accepted(client: TestClient) -> None:
    assert client.get("/ogc/collections/compounds/items?f=json").json()["numberMatched"] == 3
    assert client.get("/ogc?f=json").status_code == 200


def test_bbox_in_3d_form_is_accepted(client: TestClient) -> None:
    page = client.get("/ogc/collections/compounds/items", params={"bbox": "100,30,0,120,40,100"}).json()
    assert page["numberMatched"] == 3


def test_openapi_gives_qgis_the_page_limit(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    limit = document["components"]["parameters"]["limit"]
    assert limit["name"] == "limit" and limit["in"] == "query"
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 10000, "default": 100}
    parameters = document["paths"]["/ogc/collections/{collectionId}/items"]["get"]["parameters"]
    assert {"$ref": "#/components/parameters/limit"} in parameters
