"""Compact, exact-enough geometry for the page: integer micro-degrees, delta-coded.

A coordinate rounded to 1e-6 degree is within 0.11 m of the original, finer
than any duty zone needs, and as an integer difference from the previous
vertex it usually takes 2-4 digits in JSON instead of 10. Shared district
borders are simplified together (shapely's coverage simplification) so that
neighbours still meet after simplification, and rounding maps one shared
vertex to the same integers on both sides.

Encoded shapes (``[lng, lat]`` pairs flattened, x first):
point ``[x, y]``; line ``[[x0, y0, dx1, dy1, ...], ...]`` (one array per
part); polygon ``[[[ring], [hole], ...], ...]`` (one list of rings per
polygon part, rings without the closing vertex).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import shapely
from pyproj import CRS

SCALE = 1_000_000  # integer units per degree
# Simplification at overview scale, in metres: well under a screen pixel at street level.
FEATURE_SIMPLIFY_M = 0.5
DISTRICT_SIMPLIFY_M = 4.0

Shift = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def simplify_features(geometries: np.ndarray, tolerance_m: float = FEATURE_SIMPLIFY_M) -> np.ndarray:
    """Drop vertices closer than ``tolerance_m`` to the line through their neighbours (metric CRS)."""
    return shapely.simplify(geometries, tolerance_m, preserve_topology=True)


def simplify_coverage(polygons: np.ndarray, tolerance_m: float = DISTRICT_SIMPLIFY_M) -> np.ndarray:
    """Simplify polygons that tile the ground so shared borders stay shared.

    ``shapely.coverage_simplify`` needs a valid coverage (no overlaps); when
    the districts overlap (a data error validation reports) each polygon is
    simplified on its own instead, which is still correct, only less tidy.
    """
    if len(polygons) == 0:
        return polygons
    valid = shapely.is_valid(polygons).all() and not shapely.is_empty(polygons).any()
    if valid and bool(shapely.coverage_is_valid(polygons)):
        return np.asarray(shapely.coverage_simplify(polygons, tolerance_m), dtype=object)
    return shapely.simplify(polygons, tolerance_m, preserve_topology=True)


def to_wgs84(geometries: np.ndarray, crs: CRS, shift: Shift | None = None) -> np.ndarray:
    """Geometries from ``crs`` to WGS-84 lon/lat, then through ``shift`` (e.g. to GCJ-02) if given."""
    import geopandas as gpd

    out = np.asarray(gpd.GeoSeries(geometries, crs=crs).to_crs(4326).values, dtype=object)
    if shift is not None and len(out):

        def shifted(xy: np.ndarray) -> np.ndarray:
            lon, lat = shift(xy[:, 0], xy[:, 1])
            return np.column_stack([lon, lat])

        out = shapely.transform(out, shifted)
    return out


def _flat(coords: np.ndarray, closed: bool) -> list[int]:
    """Delta-coded integer coordinates; repeated vertices (after rounding) dropped."""
    ints = np.rint(coords[:, :2] * SCALE).astype(np.int64)
    if len(ints) > 1:
        keep = np.concatenate([[True], np.any(ints[1:] != ints[:-1], axis=1)])
        ints = ints[keep]
    if closed and len(ints) > 3 and (ints[0] == ints[-1]).all():
        ints = ints[:-1]
    deltas = ints.copy()
    deltas[1:] -= ints[:-1]
    return deltas.ravel().tolist()


def encode(geometry: object) -> list | None:
    """One geometry in the page's compact form, or None when it is empty or unusable."""
    if geometry is None or shapely.is_empty(geometry):
        return None
    kind = shapely.get_type_id(geometry)
    if kind == 0:  # Point
        x, y = shapely.get_coordinates(geometry)[0]
        return [round(float(x) * SCALE), round(float(y) * SCALE)]
    if kind == 4:  # MultiPoint: its first point stands for it
        return encode(shapely.get_parts(geometry)[0])
    if kind in (1, 2, 5):  # LineString, LinearRing, MultiLineString
        parts = [_flat(shapely.get_coordinates(part), closed=False) for part in shapely.get_parts(geometry)]
        parts = [p for p in parts if len(p) >= 4]
        return parts or None
    if kind in (3, 6):  # Polygon, MultiPolygon
        polygons = []
        for polygon in shapely.get_parts(geometry):
            rings = [_flat(shapely.get_coordinates(ring), closed=True) for ring in shapely.get_rings(polygon)]
            rings = [r for r in rings if len(r) >= 6]
            if rings:
                polygons.append(rings)
        return polygons or None
    if kind == 7:  # GeometryCollection: keep its polygons, else its lines
        parts = shapely.get_parts(geometry)
        polygonal = [p for p in parts if shapely.get_type_id(p) in (3, 6)]
        return encode(shapely.multipolygons(polygonal)) if polygonal else encode(shapely.union_all(parts))
    return None


def bounds_latlng(geometries: np.ndarray) -> list[list[float]] | None:
    """[[south, west], [north, east]] of WGS-84 geometries, for Leaflet's fitBounds."""
    present = [g for g in geometries if g is not None and not shapely.is_empty(g)]
    if not present:
        return None
    west, south, east, north = shapely.total_bounds(np.asarray(present, dtype=object))
    return [[round(float(south), 6), round(float(west), 6)], [round(float(north), 6), round(float(east), 6)]]
