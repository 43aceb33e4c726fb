"""``respmap serve``: run the HTTP API under uvicorn.

Binds 127.0.0.1 unless told otherwise (``--host 0.0.0.0`` to open it to the
network, with a warning). The dataset is checked once before any worker
starts, so bad data fails here with a message instead of in every worker's
log. With ``--workers N`` (N > 1) the workers share a reload signal file in a
private temporary folder: ``POST /admin/reload`` on any worker makes every
worker reload within about a second (see :mod:`api.state`).

Settings not given as options come from ``RESPMAP_*`` variables
(:mod:`api.settings`): ``RESPMAP_ADMIN_TOKEN``, ``RESPMAP_CORS_ORIGINS``,
``RESPMAP_BATCH_LIMIT``, ``RESPMAP_BODY_LIMIT_BYTES``...
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from pydantic import ValidationError

from api.commands.common import UsageError, dataset_path, open_dataset

ORDER = 90
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
SIGNAL_FILE = "reload-generation.json"


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "serve",
        parents=[common],
        help="run the HTTP API (docs at /docs, OGC API - Features at /ogc)",
        description=(
            "Serve the dataset over HTTP: lookups, units, coverage, OGC API - Features for GDAL and QGIS. "
            "Other settings come from RESPMAP_* variables (RESPMAP_ADMIN_TOKEN enables POST /admin/reload)."
        ),
    )
    parser.add_argument("--host", default=None, help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=None, help="port to listen on (default 8000)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument(
        "--log-level",
        default="info",
        choices=("critical", "error", "warning", "info", "debug"),
        help="uvicorn log level",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from api.settings import Settings

    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    if args.port is not None and not 0 <= args.port <= 65535:
        raise UsageError("--port must be between 0 and 65535")
    path = dataset_path(args).resolve()
    os.environ["RESPMAP_DATASET"] = str(path)  # the workers read their settings from the environment
    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(f"RESPMAP_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors())
        raise UsageError(f"bad server setting: {problems}") from None
    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    if host not in LOOPBACK_HOSTS:
        print(f"respmap: warning: listening on {host}, reachable from other machines", file=sys.stderr)
    ds = open_dataset(args, require_ok=True)
    print(
        f"respmap: serving {ds.name} ({ds.content_hash}) at http://{host}:{port}/ (docs: /docs, OGC: /ogc)",
        file=sys.stderr,
    )

    if args.workers == 1:
        from api.app import create_app  # only here: with workers, each imports it and this process never does

        uvicorn.run(
            create_app(settings, dataset=ds), host=host, port=port, log_level=args.log_level, server_header=False
        )
        return 0
    del ds  # each worker loads its own copy
    folder = Path(tempfile.mkdtemp(prefix="respmap-serve-"))
    os.environ["RESPMAP_RELOAD_SIGNAL_FILE"] = str(folder / SIGNAL_FILE)
    try:
        uvicorn.run(
            "api.app:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=args.workers,
            log_level=args.log_level,
            server_header=False,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0
