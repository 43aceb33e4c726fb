"""Two `respmap serve` processes (two machines) on one PostgreSQL: the same cases, reloads followed.

Each server has its own data folder and its own reload signal file, so the only thing they
share is the database: what one does, the other must see through it.
"""

from __future__ import annotations

import shutil
import time

import httpx

from cases.store import open_store, store_config
from cases.users import add_user
from tests.api.http_server import running_server
from tests.conftest import MINI_DIR

ADMIN_TOKEN = "test-admin-token"


def test_two_servers_share_cases_and_reloads(postgres_cluster, tmp_path):
    dataset = tmp_path / "mini"
    shutil.copytree(MINI_DIR, dataset)
    url = postgres_cluster.new_database()
    store = open_store(config=store_config(url=url, data_dir=tmp_path / "setup"))
    _, inspector = add_user(store, "巡查员", "inspector")
    _, clerk = add_user(store, "U1 clerk", "unit", "U1")
    store.dispose()
    common = {"RESPMAP_DATABASE_URL": url, "RESPMAP_ADMIN_TOKEN": ADMIN_TOKEN, "RESPMAP_RELOAD_POLL_S": "0.2"}
    with (
        running_server(dataset, env={**common, "RESPMAP_DATA_DIR": str(tmp_path / "a")}) as first,
        running_server(dataset, env={**common, "RESPMAP_DATA_DIR": str(tmp_path / "b")}) as second,
    ):
        made = httpx.post(
            f"{first}/cases",
            json={"lon": 600102.0, "lat": 3618102.0, "crs": "EPSG:4545", "category": "exposed_garbage"},
            headers={"Authorization": f"Bearer {inspector}"},
            timeout=30,
        )
        assert made.status_code == 201, made.text
        case_id = made.json()["case_id"]
        seen = httpx.get(f"{second}/cases/{case_id}", headers={"Authorization": f"Bearer {clerk}"}, timeout=30)
        assert seen.status_code == 200 and seen.json()["units"][0]["unit_id"] == "U1"
        done = httpx.post(
            f"{second}/cases/{case_id}/events",
            json={"action": "rectify", "note": "已清理"},
            headers={"Authorization": f"Bearer {clerk}"},
            timeout=30,
        )
        assert done.status_code == 200
        again = httpx.get(f"{first}/cases/{case_id}", headers={"Authorization": f"Bearer {inspector}"}, timeout=30)
        assert again.json()["state"] == "rectified"

        before = httpx.get(f"{second}/healthz", timeout=10).json()["content_hash"]
        units = dataset / "units.csv"
        units.write_text(units.read_text(encoding="utf-8").replace("市民政局", "市民政局（改名）"), encoding="utf-8")
        reloaded = httpx.post(f"{first}/admin/reload", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=60)
        assert reloaded.status_code == 200 and reloaded.json()["changed"] is True
        new_hash = reloaded.json()["content_hash"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if httpx.get(f"{second}/healthz", timeout=10).json()["content_hash"] == new_hash:
                break
            time.sleep(0.2)
        assert httpx.get(f"{second}/healthz", timeout=10).json()["content_hash"] == new_hash != before
