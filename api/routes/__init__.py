"""The HTTP routes: one small module per area, found here by discovery.

Every module in this package that defines ``router`` (a FastAPI
``APIRouter``) is included by :func:`api.app.create_app`, so a new area (the
map pages in ``maps.py``, say) plugs in without editing the app. Discovery is
deterministic: modules sort by their optional ``ORDER`` (default 100), then by
name, whatever order the file system lists them in. Modules whose names start
with ``_`` are private helpers and skipped. A module that fails to import is
logged and skipped (and reported by ``/healthz``) so that a broken optional
area never takes the lookups down with it.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from dataclasses import dataclass, field

from fastapi import APIRouter

log = logging.getLogger("respmap.api")
DEFAULT_ORDER = 100


@dataclass(frozen=True, slots=True)
class Discovered:
    """The routers found, in inclusion order, and the modules that failed to import."""

    routers: list[tuple[str, APIRouter]] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def discover_routers() -> Discovered:
    """Import every public module of this package and collect its ``router``."""
    found: list[tuple[int, str, APIRouter]] = []
    failed: dict[str, str] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda item: item.name):
        if info.name.startswith("_"):
            continue
        qualified = f"{__name__}.{info.name}"
        try:
            module = importlib.import_module(qualified)
        except Exception as exc:  # one broken area must not stop the server
            log.error("route module %s failed to import and is left out: %s: %s", qualified, type(exc).__name__, exc)
            failed[info.name] = f"{type(exc).__name__}: {str(exc)[:300]}"
            continue
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            order = getattr(module, "ORDER", DEFAULT_ORDER)
            found.append((order if isinstance(order, int) else DEFAULT_ORDER, info.name, router))
    found.sort(key=lambda item: (item[0], item[1]))
    return Discovered(routers=[(name, router) for _, name, router in found], failed=failed)
