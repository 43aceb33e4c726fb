"""The case store as the server sees it: opened in the lifespan, one CaseService per request.

The store is opened (and migrated) when the server starts; a request builds a
:class:`cases.service.CaseService` over the store and the dataset snapshot it reads, so a
case is attributed with exactly the data that answered the request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.dependencies import current_dataset
from api.errors import DatasetUnavailableError
from cases.categories import Categories, load_categories
from cases.clock import system_clock
from cases.service import CaseService
from cases.store import Store, open_store, store_config
from geo import Dataset


def open_app_store(settings: object) -> Store:
    """Open the store the settings name (``RESPMAP_DATABASE_URL`` / ``RESPMAP_DATA_DIR``)."""
    config = store_config(
        getattr(settings, "dataset", None),
        url=getattr(settings, "database_url", None),
        data_dir=getattr(settings, "data_dir", None),
        photo_limit_mb=getattr(settings, "photo_limit_mb", None),
    )
    return open_store(config=config)


def categories_of(ds: Dataset) -> Categories:
    """The dataset's categories, read once per snapshot."""
    return ds.cached(("case_categories",), lambda: load_categories(ds.path))


def app_store(request: Request) -> Store:
    store = getattr(request.app.state, "store", None)
    if store is None:
        raise DatasetUnavailableError("the case store is not open")
    return store


async def case_service(request: Request, ds: Annotated[Dataset, Depends(current_dataset)]) -> CaseService:
    clock = getattr(request.app.state, "clock", None) or system_clock
    return CaseService(app_store(request), ds, categories_of(ds), clock=clock)


ServiceDep = Annotated[CaseService, Depends(case_service)]
