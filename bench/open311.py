"""Benchmark: what the Open311 adapter costs beside the native case routes it stands on.

In one process (FastAPI's test client, no network, SQLite store in a temporary folder, the
mini test dataset), the same work is done both ways, alternating so both see the same store:

1. **Create**: ``POST /open311/v2/requests.json`` (form fields, ``api_key``) against the
   reference ``POST /cases`` (JSON, bearer token): same points, category and note.
2. **List**: ``GET /open311/v2/requests.json?status=open`` (up to 1000 requests, with the
   "updated" time per request) against ``GET /cases?state=...&limit=1000`` (GeoJSON).
3. **One**: ``GET /open311/v2/requests/{id}.xml`` against ``GET /cases/{id}``.

Printed: p50 and p99 per request in milliseconds and the ratio adapter / native (1.0 = free).

    python bench/open311.py                 # 300 creates each way, 1000-case lists
    python bench/open311.py --creates 100 --rounds 20
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fastapi.testclient import TestClient  # noqa: E402

from api.app import create_app  # noqa: E402
from api.settings import Settings  # noqa: E402
from cases.store import open_store, store_config  # noqa: E402
from cases.users import add_user  # noqa: E402
from geo import load_dataset  # noqa: E402
from geo.datums import to_wgs84  # noqa: E402

MINI = REPO / "tests" / "data" / "mini"
# Points inside district D1 and D2 of the mini dataset (EPSG:4545 metres), cycled.
POINTS_M = [(600200.0, 3618800.0), (600700.0, 3618800.0), (600102.0, 3618102.0), (601550.0, 3618550.0)]


def _timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000.0


def _summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99


def _row(label: str, adapter: list[float], native: list[float]) -> None:
    a50, a99 = _summary(adapter)
    n50, n99 = _summary(native)
    print(f"{label:<34} open311 p50 {a50:7.2f} ms  p99 {a99:7.2f} ms | native p50 {n50:7.2f} ms  p99 {n99:7.2f} ms | "
          f"ratio p50 {a50 / n50:4.2f}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--creates", type=int, default=300, help="cases created each way")
    parser.add_argument("--rounds", type=int, default=30, help="list and read requests each way")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="respmap-bench-open311-"))
    os.environ["RESPMAP_DATA_DIR"] = str(folder)
    ds = load_dataset(MINI)
    store = open_store(config=store_config(data_dir=folder))
    token = add_user(store, "bench-inspector", "inspector")[1]
    app = create_app(Settings(dataset=MINI), dataset=ds, store=store)
    points = [to_wgs84(x, y, "EPSG:4545") for x, y in POINTS_M]
    bearer = {"Authorization": f"Bearer {token}"}
    with TestClient(app) as client:
        client.get("/healthz")
        adapter: list[float] = []
        native: list[float] = []
        ids: list[str] = []
        for i in range(args.creates):
            lon, lat = points[i % len(points)]
            form = {"service_code": "exposed_garbage", "lat": str(lat), "long": str(lon), "description": f"bench {i}"}

            def open311(form: dict[str, str] = form) -> None:
                answer = client.post("/open311/v2/requests.json", data={**form, "api_key": token})
                assert answer.status_code == 200, answer.text
                ids.append(answer.json()[0]["service_request_id"])

            def reference(lon: float = lon, lat: float = lat, i: int = i) -> None:
                body = {"lon": lon, "lat": lat, "category": "exposed_garbage", "note": f"bench {i}"}
                answer = client.post("/cases", json=body, headers=bearer)
                assert answer.status_code == 201, answer.text

            adapter.append(_timed(open311))
            native.append(_timed(reference))
        total = 2 * args.creates
        _row(f"create ({args.creates} each way)", adapter, native)

        params = {"state": "reported,dispatched,rectified,postponed", "limit": "1000"}
        listed_adapter = [
            _timed(lambda: client.get("/open311/v2/requests.json", params={"status": "open", "api_key": token}))
            for _ in range(args.rounds)
        ]
        listed_native = [
            _timed(lambda: client.get("/cases", params=params, headers=bearer)) for _ in range(args.rounds)
        ]
        shown = len(client.get("/open311/v2/requests.json", params={"status": "open", "api_key": token}).json())
        _row(f"list open ({min(shown, 1000)} of {total})", listed_adapter, listed_native)

        one = ids[len(ids) // 2]
        read_adapter = [
            _timed(lambda: client.get(f"/open311/v2/requests/{one}.xml", params={"api_key": token}))
            for _ in range(args.rounds)
        ]
        read_native = [_timed(lambda: client.get(f"/cases/{one}", headers=bearer)) for _ in range(args.rounds)]
        _row("one request (XML vs JSON)", read_adapter, read_native)
    store.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
