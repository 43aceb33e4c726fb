"""The FastAPI application: wiring only.

``create_app(settings)`` builds the app: error handlers (:mod:`api.errors`),
body-size limit and CORS middleware, every router found in :mod:`api.routes`,
the corrected OpenAPI document (:mod:`api.openapi`), and a lifespan that loads
the dataset into ``app.state.datasets`` (:mod:`api.state`). ``respmap serve``
runs :func:`app_from_environment` under uvicorn.

    uvicorn --factory api.app:app_from_environment
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api.case_store import open_app_store
from api.errors import install_error_handlers
from api.middleware import AnswerHeadersMiddleware, BodyLimitMiddleware
from api.openapi import install_openapi
from api.responses import JSONAnswer
from api.routes import discover_routers
from api.settings import Settings
from api.state import DatasetHolder
from cases.store import Store
from geo import Dataset, __version__

DESCRIPTION = """\
Who is responsible for keeping each piece of the city clean.

* **Lookup**: `GET /lookup?lon&lat&crs` for one point (GPS WGS-84, GCJ-02, BD-09 or any EPSG code),
  `POST /lookup` for a batch, `POST /lookup/csv` for a CSV file.
* **Units, districts, standards, search** by name (Chinese substrings work).
* **Coverage**: gaps, conflicts and places nobody holds, as GeoJSON.
* **Cases** (the office's loop 督查 → 派遣 → 整改 → 核查): `GET /categories`, `POST /cases`, `GET /cases`,
  `GET /cases/{id}`, `POST /cases/{id}/events`; bearer tokens from `respmap users add`.
* **OGC API - Features** at `/ogc`: `ogrinfo OAPIF:http://host/ogc`, or QGIS' "WFS / OGC API - Features" source.

Every error answers `{"error": code, "message": ..., "details": ...}`.
"""


def create_app(
    settings: Settings | None = None,
    *,
    dataset: Dataset | None = None,
    store: Store | None = None,
    freeze_heap: bool = False,
) -> FastAPI:
    """Build the app; ``dataset`` skips loading and ``store`` opening (tests share them).

    ``freeze_heap`` (served processes): the loaded dataset is kept out of the garbage collector's
    full collections (:func:`api.state.freeze_survivors`).
    """
    settings = settings or Settings()
    holder = DatasetHolder(settings, dataset, freeze_heap=freeze_heap)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await holder.start()
        if getattr(app.state, "store", None) is None:
            # Migrations run here, before the first request: an older store is upgraded, never dropped.
            app.state.store = await anyio.to_thread.run_sync(open_app_store, settings)
            app.state.owns_store = True
        await holder.attach_store(app.state.store)
        try:
            yield
        finally:
            await holder.stop()
            if getattr(app.state, "owns_store", False):
                app.state.store.dispose()

    app = FastAPI(
        title="respmap",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served from local files by api/routes/docs.py, never a CDN
        redoc_url=None,
        openapi_url="/openapi.json",
        default_response_class=JSONAnswer,
        # "/units/x/" is a 404, not a redirect: ids never end in a slash.
        redirect_slashes=False,
        telemetry=None if settings.telemetry else {"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.datasets = holder
    app.state.store = store
    install_error_handlers(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(BodyLimitMiddleware, limit_bytes=settings.body_limit_bytes)
    app.add_middleware(AnswerHeadersMiddleware, trusted_hosts=settings.trusted_hosts)
    discovered = discover_routers()
    for _, router in discovered.routers:
        app.include_router(router)
    app.state.route_modules_failed = discovered.failed
    install_openapi(app)
    return app


def app_from_environment() -> FastAPI:
    """The app configured from ``RESPMAP_*`` variables (uvicorn's factory for ``respmap serve``)."""
    return create_app(Settings(), freeze_heap=True)
