"""Features ready to serve as GeoJSON: encoded once per Dataset, paged and filtered fast.

GeoDataFrames become :class:`FeatureTable` objects: every feature pre-encoded
to GeoJSON bytes (geometry through ``shapely.to_geojson`` in one vectorised
call, properties as plain JSON: ISO dates, NaN -> null), an STRtree for bbox
filters and an id -> position map. Pages are then byte joins, not per-request
conversions. :func:`collections` lists what OGC API - Features serves: every
layer of the dataset, plus the duty zones (id = ``zone_id``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from api.responses import dumps, plain_column
from geo import Dataset
from geo.zones import ZONE_COLUMNS

DUTY_ZONES = "duty_zones"
# OGC items paging: the default and largest page (QGIS reads both from the OpenAPI document).
DEFAULT_PAGE_LIMIT = 100
MAX_PAGE_LIMIT = 10_000
# Columns of a layer that are respmap's bookkeeping, not properties of the place.
INTERNAL_COLUMNS = frozenset({"standard_value", "unit_value"})


@dataclass(frozen=True, slots=True)
class FeatureTable:
    """Features of one collection, pre-encoded as GeoJSON Feature objects."""

    ids: np.ndarray
    encoded: list[bytes]
    positions: dict[str, int]
    tree: shapely.STRtree
    bounds: tuple[float, float, float, float] | None

    def __len__(self) -> int:
        return len(self.encoded)

    def select(self, bbox: tuple[float, float, float, float] | None) -> np.ndarray:
        """Positions (ascending, i.e. file order) of the features intersecting ``bbox``; all without one."""
        if bbox is None:
            return np.arange(len(self.encoded))
        hits = self.tree.query(shapely.box(*bbox), predicate="intersects")
        return np.sort(hits)

    def feature(self, feature_id: str) -> bytes | None:
        position = self.positions.get(feature_id)
        return None if position is None else self.encoded[position]


def encode_features(frame: gpd.GeoDataFrame, id_column: str, property_columns: list[str]) -> FeatureTable:
    """Encode a WGS-84 GeoDataFrame as GeoJSON features with ids from ``id_column``."""
    geoms = np.asarray(frame.geometry.values, dtype=object)
    geometry_json = shapely.to_geojson(geoms) if len(geoms) else np.array([], dtype=object)
    ids = np.asarray([str(v) for v in frame[id_column].tolist()], dtype=object)
    columns = {name: plain_column(frame[name]) for name in property_columns}
    encoded: list[bytes] = []
    for position in range(len(frame)):
        properties = {name: values[position] for name, values in columns.items()}
        geometry = geometry_json[position]
        encoded.append(
            b'{"type":"Feature","id":'
            + dumps(ids[position])
            + b',"geometry":'
            + (geometry.encode() if geometry is not None else b"null")
            + b',"properties":'
            + dumps(properties)
            + b"}"
        )
    non_empty = geoms[~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)] if len(geoms) else geoms
    bounds = tuple(float(v) for v in shapely.total_bounds(non_empty)) if len(non_empty) else None
    positions: dict[str, int] = {}
    for position, feature_id in enumerate(ids):
        positions.setdefault(feature_id, position)  # ids are unique after validation; first wins otherwise
    return FeatureTable(ids=ids, encoded=encoded, positions=positions, tree=shapely.STRtree(geoms), bounds=bounds)


def feature_collection(encoded: list[bytes], **members: Any) -> bytes:
    """A FeatureCollection from encoded features plus top-level members (links, counts...)."""
    head = b'{"type":"FeatureCollection"'
    extra = dumps(members)[1:-1] if members else b""
    return head + (b"," + extra if extra else b"") + b',"features":[' + b",".join(encoded) + b"]}"


def frame_collection(frame: gpd.GeoDataFrame, id_column: str, property_columns: list[str], **members: Any) -> bytes:
    """Encode a whole (small) GeoDataFrame as one FeatureCollection."""
    return feature_collection(encode_features(frame, id_column, property_columns).encoded, **members)


def zone_properties() -> list[str]:
    return list(ZONE_COLUMNS)


def layer_properties(layer: gpd.GeoDataFrame) -> list[str]:
    """The properties of a layer's features: source properties and respmap's, minus bookkeeping."""
    return [
        name
        for name in layer.columns
        if name != layer.geometry.name and not name.startswith("__") and name not in INTERNAL_COLUMNS
    ]


@dataclass(frozen=True, slots=True)
class Collection:
    """One OGC API - Features collection: a layer, or the duty zones."""

    id: str
    title: str
    description: str
    geometry: str
    count: int

    def table(self, ds: Dataset) -> FeatureTable:
        """The encoded features (built on first use, once per Dataset)."""
        return ds.cached(("api.features", self.id), lambda: _build_table(ds, self.id))


def _build_table(ds: Dataset, collection_id: str) -> FeatureTable:
    if collection_id == DUTY_ZONES:
        zones = ds.duty_zones
        return encode_features(gpd.GeoDataFrame(zones, geometry="geometry"), "zone_id", zone_properties())
    layer = ds.layers[collection_id]
    return encode_features(layer, "feature_id", layer_properties(layer))


def collections(ds: Dataset) -> dict[str, Collection]:
    """Every collection of ``ds``, in catalog order, duty zones last."""
    return ds.cached("api.collections", lambda: _build_collections(ds))


def _build_collections(ds: Dataset) -> dict[str, Collection]:
    found: dict[str, Collection] = {}
    lang = ds.lang
    if ds.catalog is not None:
        for spec in ds.catalog.layers:
            if spec.id not in ds.layers:
                continue
            other = spec.title.get("en" if lang == "zh" else "zh", "")
            other_title = f" ({other})" if other else ""
            found[spec.id] = Collection(
                id=spec.id,
                title=spec.title_in(lang),
                description=f"{spec.title_in(lang)}{other_title}: {spec.geometry} features of {ds.name}",
                geometry=spec.geometry,
                count=len(ds.layers[spec.id]),
            )
    found[DUTY_ZONES] = Collection(
        id=DUTY_ZONES,
        title="责任区" if lang == "zh" else "Duty zones",
        description=(
            "Duty zones: the ground each unit answers for, one feature per (place, assignment), for all dates "
            "(see valid_from/valid_until); lines are buffered by their layer's tolerance."
        ),
        geometry="polygon",
        count=len(ds.duty_zones),
    )
    return found
