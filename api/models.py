"""Response models shared by several route modules (OpenAPI documentation and schema checks).

Routes return pre-encoded bytes for speed; these models only describe the
answers, so that /docs is exact and schemathesis can check every response.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Link(BaseModel):
    href: str = Field(description="absolute URL")
    rel: str = Field(description="relation: self, next, prev, data, items, ...")
    type: str | None = Field(default=None, description="media type of the target")
    title: str | None = Field(default=None, description="human label")


class GeoJSONFeature(BaseModel):
    """An RFC 7946 Feature (WGS-84 longitude, latitude); properties are plain JSON."""

    model_config = ConfigDict(extra="allow")
    type: Literal["Feature"]
    id: str | int | None = None
    geometry: dict[str, Any] | None
    properties: dict[str, Any] | None


class FeatureCollection(BaseModel):
    """An RFC 7946 FeatureCollection; extra members (date, counts, links) may accompany it."""

    model_config = ConfigDict(extra="allow")
    type: Literal["FeatureCollection"]
    features: list[GeoJSONFeature]
