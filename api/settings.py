"""Settings of the HTTP server, read from the environment (prefix ``RESPMAP_``).

One pydantic-settings class, so that every knob has a type, a default and a
name an operator can set without touching code::

    RESPMAP_DATASET=/srv/data/ankang RESPMAP_ADMIN_TOKEN=s3cret respmap serve

``RESPMAP_DATASET`` is the same variable the command line reads, so the CLI
and the server agree on which data they answer for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from geo import default_dataset_path

DEFAULT_BATCH_LIMIT = 100_000
# 100,000 points as a GeoJSON FeatureCollection take about 12 MB; leave room.
DEFAULT_BODY_LIMIT_BYTES = 32 * 1024 * 1024
LOOPBACK = "127.0.0.1"


class Settings(BaseSettings):
    """Everything the server can be told; each field is ``RESPMAP_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="RESPMAP_", extra="ignore", frozen=True)

    dataset: Path = Field(
        default_factory=default_dataset_path,
        description="dataset folder to serve (default: the bundled Ankang demo)",
    )
    admin_token: SecretStr | None = Field(
        default=None,
        description="bearer token for POST /admin/reload; unset means the admin routes answer 403",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="origins allowed to call the API from a browser, comma-separated (none by default)",
    )
    batch_limit: int = Field(
        default=DEFAULT_BATCH_LIMIT, ge=1, description="most points one POST /lookup or /lookup/csv may carry"
    )
    body_limit_bytes: int = Field(
        default=DEFAULT_BODY_LIMIT_BYTES, ge=1024, description="largest request body accepted, in bytes"
    )
    tianditu_key: SecretStr | None = Field(
        default=None, description="Tianditu (天地图) API key for the map pages' base layer"
    )
    host: str = Field(default=LOOPBACK, description="address `respmap serve` binds (loopback unless told)")
    port: int = Field(default=8000, ge=0, le=65535, description="port `respmap serve` listens on")
    reload_signal_file: Path | None = Field(
        default=None,
        description=(
            "file shared by the workers of one server: a reload bumps the generation written in it and "
            "every other worker reloads too (set by `respmap serve`; unset means a reload affects only "
            "the worker that received it)"
        ),
    )
    telemetry: bool = Field(
        default=False,
        description=(
            "FastAPI's native OpenTelemetry spans and metrics; off by default because checking for them costs "
            "time on every request even when no exporter is configured"
        ),
    )
    public_url: str | None = Field(
        default=None,
        description=(
            "the server's address as clients reach it (e.g. https://gis.example.gov.cn/respmap), used for the "
            "links in answers (OGC API - Features); unset: taken from each request's Host header"
        ),
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
    )
    trusted_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "host names the server answers to, comma-separated (`*.example.gov.cn` allowed); a request with another "
            "Host header gets 400. Empty: any host (fine on loopback; set it, or public_url, behind a proxy)"
        ),
    )
    reload_poll_s: float = Field(
        default=1.0, gt=0, le=60, description="how often a worker checks the reload signal file, in seconds"
    )

    database_url: str | None = Field(
        default=None,
        description=(
            "the case store: postgresql+psycopg://user:pass@host/db for many users and machines; unset means a "
            "SQLite file in the data folder"
        ),
    )
    data_dir: Path | None = Field(
        default=None,
        description="folder of the SQLite store and the photos (default: data/ in the dataset folder if writable)",
    )
    photo_limit_mb: float = Field(default=10.0, gt=0, le=200, description="largest photo accepted, in MB")
    login_attempts_per_minute: int = Field(
        default=10, ge=1, description="failed sign-ins allowed per client address and minute (per worker)"
    )

    @field_validator("trusted_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        """Accept ``"a.example, b.example"`` as well as a list."""
        if isinstance(value, str):
            return [host.strip() for host in value.split(",") if host.strip()]
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        """Accept ``"https://a.example, https://b.example"`` as well as a list."""
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @property
    def admin_enabled(self) -> bool:
        return self.admin_token is not None and bool(self.admin_token.get_secret_value())
