"""POST /admin/reload: the token, refusal of bad data, the atomic swap, and several workers.

Each test works on its own copy of the mini dataset (tmp_path), edits it, and
reloads. The swap is checked under concurrent load (in process) and across two
real worker processes (the shared generation file of api.state).
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import anyio
import httpx
import pytest
from fastapi.testclient import TestClient

import api.state
from api.app import create_app
from api.settings import Settings
from api.state import bump_signal, read_signal
from geo import load_dataset
from tests.api.http_server import REPO, running_server

MINI = REPO / "tests" / "data" / "mini"
TOKEN = "correct horse battery staple"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    target = tmp_path / "mini"
    shutil.copytree(MINI, target)
    return target


def _rename_unit(folder: Path, old: str, new: str) -> None:
    units = folder / "units.csv"
    units.write_text(units.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def _client(folder: Path, token: str | None = TOKEN) -> TestClient:
    return TestClient(create_app(Settings(dataset=folder, admin_token=token)))


def test_without_a_configured_token_admin_is_forbidden(data_dir: Path) -> None:
    with _client(data_dir, token=None) as client:
        answer = client.post("/admin/reload", headers=AUTH)
        assert answer.status_code == 403 and answer.json()["error"] == "admin_disabled"


@pytest.mark.parametrize(
    "headers",
    [
        {},  # no Authorization header at all
        {"Authorization": "Bearer wrong"},  # wrong token
        {"Authorization": f"Bearer {TOKEN[:-1]}"},  # a prefix of the right token
        {"Authorization": f"Basic {TOKEN}"},  # right secret, wrong scheme
    ],
)
def test_a_wrong_or_missing_token_is_401(data_dir: Path, headers: dict[str, str]) -> None:
    with _client(data_dir) as client:
        before = client.get("/healthz").json()["generation"]
        answer = client.post("/admin/reload", headers=headers)
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == "Bearer"
        assert answer.json()["error"] == "unauthorized"
        assert client.get("/healthz").json()["generation"] == before  # nothing reloaded


def test_reload_of_changed_data_swaps_and_changes_the_hash(data_dir: Path) -> None:
    with _client(data_dir) as client:
        before = client.get("/healthz").json()
        assert client.get("/units/U1").json()["unit"]["name"] == "市民政局"
        _rename_unit(data_dir, "市民政局", "市民政局（新）")
        answer = client.post("/admin/reload", headers=AUTH)
        assert answer.status_code == 200
        body = answer.json()
        assert body["changed"] is True and body["previous_hash"] == before["content_hash"]
        after = client.get("/healthz").json()
        assert after["content_hash"] == body["content_hash"] != before["content_hash"]
        assert after["content_hash"] == load_dataset(data_dir).content_hash
        assert after["generation"] == before["generation"] + 1
        assert after["loaded_at"] > before["loaded_at"]
        assert client.get("/units/U1").json()["unit"]["name"] == "市民政局（新）"


def test_reload_of_unchanged_data_reports_no_change(data_dir: Path) -> None:
    with _client(data_dir) as client:
        body = client.post("/admin/reload", headers=AUTH).json()
        assert body["changed"] is False and body["previous_hash"] == body["content_hash"]


@pytest.mark.parametrize(
    ("break_data", "code"),
    [
        (lambda d: (d / "catalog.toml").write_text("[dataset\nname = 1", encoding="utf-8"), "catalog_invalid"),  # TOML
        (
            lambda d: (d / "assignments.csv").write_text(  # an assignment to a unit nobody defined
                (d / "assignments.csv").read_text(encoding="utf-8") + "C3,U99,lead,,,,\n", encoding="utf-8"
            ),
            "unknown_unit",
        ),
        (lambda d: shutil.rmtree(d), "dataset_missing"),  # the folder is gone
    ],
)
def test_bad_data_is_refused_and_the_old_dataset_keeps_serving(data_dir: Path, break_data, code: str) -> None:
    with _client(data_dir) as client:
        before = client.get("/healthz").json()
        break_data(data_dir)
        answer = client.post("/admin/reload", headers=AUTH)
        assert answer.status_code == 422
        body = answer.json()
        assert body["error"] == "reload_refused"
        assert body["details"]["serving"] == before["content_hash"]
        assert code in {finding["code"] for finding in body["details"]["findings"]}
        assert body["details"]["findings"][0]["level"] == "error"  # errors first
        after = client.get("/healthz").json()
        assert (after["content_hash"], after["generation"]) == (before["content_hash"], before["generation"])
        assert client.get("/units/U1").status_code == 200


def test_a_crash_while_building_is_refused_too(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with _client(data_dir) as client:
        before = client.get("/healthz").json()

        def broken_build(path: Path, cache_dir: Path | None = None):
            raise MemoryError("simulated: the new data is too big")

        monkeypatch.setattr(api.state, "build_dataset", broken_build)
        answer = client.post("/admin/reload", headers=AUTH)
        assert answer.status_code == 422 and answer.json()["error"] == "reload_refused"
        assert "MemoryError" in answer.json()["message"]
        assert client.get("/healthz").json()["content_hash"] == before["content_hash"]


def test_requests_during_a_reload_all_succeed_from_one_snapshot_or_the_other(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow reload runs while 200 requests arrive: each is answered whole, from the old or the new data."""
    real_build = api.state.build_dataset
    building = threading.Event()

    def slow_build(path: Path, cache_dir: Path | None = None):
        building.set()
        time.sleep(0.5)  # the reload is in progress for a while: requests keep coming meanwhile
        return real_build(path, cache_dir)

    app = create_app(Settings(dataset=data_dir, admin_token=TOKEN))
    old_hash = new_hash = ""

    async def scenario() -> tuple[list[tuple[int, str, str]], str]:
        nonlocal old_hash, new_hash
        await app.state.datasets.start()
        old_hash = app.state.datasets.current.content_hash
        _rename_unit(data_dir, "市民政局", "市民政局（二）")
        monkeypatch.setattr(api.state, "build_dataset", slow_build)
        seen: list[tuple[int, str, str]] = []
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:

            async def reload() -> None:
                nonlocal new_hash
                answer = await client.post("/admin/reload", headers=AUTH)
                assert answer.status_code == 200
                new_hash = answer.json()["content_hash"]

            async def read(index: int) -> None:
                await anyio.sleep(index * 0.004)  # spread over the 0.5 s reload and beyond
                health = await client.get("/healthz")
                unit = await client.get("/units/U1", params={"date": "2026-03-01"})
                seen.append((health.status_code, health.json()["content_hash"], unit.json()["unit"]["name"]))

            async with anyio.create_task_group() as group:
                group.start_soon(reload)
                for index in range(200):
                    group.start_soon(read, index)
            final = (await client.get("/healthz")).json()["content_hash"]
        await app.state.datasets.stop()
        return seen, final

    seen, final = anyio.run(scenario)
    assert building.is_set()
    assert new_hash and new_hash != old_hash
    assert all(status == 200 for status, _, _ in seen) and len(seen) == 200
    assert {content_hash for _, content_hash, _ in seen} <= {old_hash, new_hash}
    assert {name for _, _, name in seen} <= {"市民政局", "市民政局（二）"}
    assert final == new_hash  # once the reload has answered, every request sees the new data


def test_concurrent_bumps_never_lose_a_generation(tmp_path: Path) -> None:
    signal = tmp_path / "reload-generation.json"
    threads = [threading.Thread(target=bump_signal, args=(signal, f"hash{i}")) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert read_signal(signal) == 20


def test_signal_file_generations(tmp_path: Path) -> None:
    signal = tmp_path / "reload-generation.json"
    assert read_signal(signal) == 0  # absent: generation 0
    assert bump_signal(signal, "aaaa") == 1
    assert bump_signal(signal, "bbbb") == 2
    assert read_signal(signal) == 2
    signal.write_text("not json", encoding="utf-8")
    assert read_signal(signal) == 0  # unreadable: treated as absent, never an exception
    leftovers = sorted(p.name for p in tmp_path.iterdir())
    assert leftovers == [signal.name, signal.name + ".lock"]  # no temporary files left behind


def test_reload_on_one_worker_reaches_every_worker(data_dir: Path) -> None:
    """Two real workers: the reload lands on one, the shared generation file brings the other along."""
    with running_server(
        data_dir, workers=2, env={"RESPMAP_ADMIN_TOKEN": TOKEN, "RESPMAP_RELOAD_POLL_S": "0.2"}
    ) as base:
        old_hash = httpx.get(f"{base}/healthz").json()["content_hash"]
        _rename_unit(data_dir, "市住建局", "市住建局（新）")
        answer = httpx.post(f"{base}/admin/reload", headers=AUTH, timeout=60)
        assert answer.status_code == 200
        new_hash = answer.json()["content_hash"]
        assert new_hash != old_hash
        hashes_by_worker: dict[int, str] = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            health = httpx.get(f"{base}/healthz", timeout=10).json()  # a new connection each time: any worker
            hashes_by_worker[health["worker_pid"]] = health["content_hash"]
            if len(hashes_by_worker) == 2 and set(hashes_by_worker.values()) == {new_hash}:
                break
            time.sleep(0.1)
        assert len(hashes_by_worker) == 2, "both workers should have answered"
        assert set(hashes_by_worker.values()) == {new_hash}
