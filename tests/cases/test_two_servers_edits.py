"""Edits made on one server reach the others: real `respmap serve` processes on one PostgreSQL.

Every server has its OWN copy of the demo dataset (layers/ankang) and its own data folder, so the
database is the only thing they share. A planner reassigns urban village UV001 (lead SO01) to SO02
from 2027-01-01 through server A's HTTP; server B, whose files nobody touches, answers the new lead
from that date on (the old one before), and its folder keeps the new version in history/. Two edits
made at once on A and B against the same version: one goes through, the other is refused (409)
naming it. A server started later on a fresh copy comes up with the edited tables.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from cases.store import open_store, store_config
from cases.users import add_user
from geo.table_versions import CHANGE_FILE, current_version
from tests.api.http_server import running_server
from tests.conftest import DEMO_DIR
from tests.demo_points import IN_VILLAGE, VILLAGE, VILLAGE_LEAD

ADMIN_TOKEN = "test-admin-token"
EFFECTIVE = "2027-01-01"
NEW_LEAD = "SO02"
TIMEOUT_S = 60


def _village_to(unit_id: str, reason: str) -> dict[str, Any]:
    """UV001 with ``unit_id`` as its lead, its sharing and supervising units kept."""
    return {
        "effective": EFFECTIVE,
        "reason": reason,
        "places": [
            {
                "layer": "urban_villages",
                "feature_id": VILLAGE,
                "assignments": [
                    {"unit_id": unit_id, "role": "lead"},
                    {"unit_id": "CM002", "role": "shared"},
                    {"unit_id": "CO01", "role": "supervisor"},
                ],
            }
        ],
    }


def _copy(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name / "ankang"
    shutil.copytree(DEMO_DIR, folder, ignore=shutil.ignore_patterns("data", "cache", "history"))
    return folder


def _setup(postgres_cluster: Any, tmp_path: Path) -> tuple[str, dict[str, str]]:
    url = postgres_cluster.new_database()
    store = open_store(config=store_config(url=url, data_dir=tmp_path / "setup"))
    tokens = {name: add_user(store, name, "planner")[1] for name in ("规划科 王芳", "规划科 李娜")}
    store.dispose()
    return url, tokens


def _env(url: str, tmp_path: Path, name: str, poll_s: float) -> dict[str, str]:
    return {
        "RESPMAP_DATABASE_URL": url,
        "RESPMAP_ADMIN_TOKEN": ADMIN_TOKEN,
        "RESPMAP_RELOAD_POLL_S": str(poll_s),
        "RESPMAP_DATA_DIR": str(tmp_path / f"data-{name}"),
        "RESPMAP_CACHE_DIR": str(tmp_path / f"cache-{name}"),
    }


def _lead(base: str, date: str) -> list[str]:
    params = {"lon": IN_VILLAGE.lon, "lat": IN_VILLAGE.lat, "date": date}
    answer = httpx.get(f"{base}/lookup", params=params, timeout=TIMEOUT_S)
    assert answer.status_code == 200, answer.text
    village = [m for m in answer.json()["matches"] if m.get("feature_id") == VILLAGE]
    return [u["unit_id"] for m in village for u in m["units"] if u["role"] == "lead"]


def _hash(base: str) -> str:
    return httpx.get(f"{base}/healthz", timeout=TIMEOUT_S).json()["content_hash"]


def _wait_for_hash(base: str, expected: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline and _hash(base) != expected:
        time.sleep(0.2)
    assert _hash(base) == expected


def test_an_edit_on_one_server_is_taken_up_by_the_others(postgres_cluster: Any, tmp_path: Path) -> None:
    url, tokens = _setup(postgres_cluster, tmp_path)
    a, b, c = _copy(tmp_path, "a"), _copy(tmp_path, "b"), _copy(tmp_path, "c")
    b_tables_before = (b / "assignments.csv").read_bytes()
    with (
        running_server(a, env=_env(url, tmp_path, "a", 0.2)) as first,
        running_server(b, env=_env(url, tmp_path, "b", 0.2)) as second,
    ):
        assert _lead(second, EFFECTIVE) == [VILLAGE_LEAD]
        applied = httpx.post(
            f"{first}/assignments/changes",
            json=_village_to(NEW_LEAD, "街道办调整"),
            headers={"Authorization": f"Bearer {tokens['规划科 王芳']}"},
            timeout=TIMEOUT_S,
        )
        assert applied.status_code == 200, applied.text
        result = applied.json()
        assert result["applied"] and result["recorded"] and result["reloaded"]
        _wait_for_hash(second, result["hash_after"])

        # B's files were never touched by hand: B took the tables from the store and answers with them.
        assert _lead(second, "2026-12-31") == [VILLAGE_LEAD]
        assert _lead(second, EFFECTIVE) == [NEW_LEAD]
        assert (b / "assignments.csv").read_bytes() != b_tables_before
        assert (b / "assignments.csv").read_bytes() == (a / "assignments.csv").read_bytes()
        note = json.loads((current_version(b) / CHANGE_FILE).read_text(encoding="utf-8"))  # type: ignore[operator]
        assert (note["by"], note["reason"], note["effective"]) == ("规划科 王芳", "街道办调整", EFFECTIVE)
        assert note["store"]["change_id"] == result["change"]["id"]
        # B's history lists the change made on A, and B's popup data names who decided it.
        headers = {"Authorization": f"Bearer {tokens['规划科 李娜']}"}
        history = httpx.get(f"{second}/history", params={"feature_id": VILLAGE}, headers=headers, timeout=TIMEOUT_S)
        assert [ch["by"] for ch in history.json()["changes"]] == ["规划科 王芳"]
        one = httpx.get(f"{second}/history/{result['change']['id']}", headers=headers, timeout=TIMEOUT_S)
        assert one.status_code == 200 and one.json()["reason"] == "街道办调整"
        since = httpx.get(
            f"{second}/lookup",
            params={"lon": IN_VILLAGE.lon, "lat": IN_VILLAGE.lat, "date": EFFECTIVE, "held_since": "true"},
            timeout=TIMEOUT_S,
        ).json()
        held = {
            u["unit_id"]: u["held_since"]
            for m in since["matches"]
            if m.get("feature_id") == VILLAGE
            for u in m["units"]
        }
        assert held[NEW_LEAD] == {"date": EFFECTIVE, "row_from": EFFECTIVE, "change_id": result["change"]["id"]}

        # A server started later, on a fresh copy of the original folder, comes up with the edited tables.
        with running_server(c, env=_env(url, tmp_path, "c", 0.2)) as third:
            assert _hash(third) == result["hash_after"]
            assert _lead(third, "2026-12-31") == [VILLAGE_LEAD] and _lead(third, EFFECTIVE) == [NEW_LEAD]


def test_two_edits_at_once_on_two_servers_one_is_refused_naming_the_other(
    postgres_cluster: Any, tmp_path: Path
) -> None:
    url, tokens = _setup(postgres_cluster, tmp_path)
    a, b = _copy(tmp_path, "a"), _copy(tmp_path, "b")
    # Neither server follows the other's reloads within the test (polls a minute apart):
    # both edits are made on the original version.
    with (
        running_server(a, env=_env(url, tmp_path, "a", 60)) as first,
        running_server(b, env=_env(url, tmp_path, "b", 60)) as second,
    ):
        requests = {
            "规划科 王芳": (first, _village_to(NEW_LEAD, "街道办调整")),
            "规划科 李娜": (second, _village_to("SO03", "江北街道接管")),
        }
        answers: dict[str, httpx.Response] = {}
        start = threading.Barrier(len(requests))

        def send(planner: str) -> None:
            base, body = requests[planner]
            start.wait()
            answers[planner] = httpx.post(
                f"{base}/assignments/changes",
                json=body,
                headers={"Authorization": f"Bearer {tokens[planner]}"},
                timeout=TIMEOUT_S,
            )

        threads = [threading.Thread(target=send, args=(planner,)) for planner in requests]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        statuses = sorted((answer.status_code, planner) for planner, answer in answers.items())
        assert [status for status, _ in statuses] == [200, 409], {p: a.text for p, a in answers.items()}
        winner, loser = statuses[0][1], statuses[1][1]
        refused = answers[loser].json()
        assert winner in refused["message"] and "nothing was changed" in refused["message"]
        assert refused["details"]["latest_change"]["by"] == winner
        # The refused server reloaded with the winner's tables: both answer the same, the winner's lead.
        winner_lead = NEW_LEAD if winner == "规划科 王芳" else "SO03"
        assert _hash(first) == _hash(second) == answers[winner].json()["hash_after"]
        assert _lead(first, EFFECTIVE) == _lead(second, EFFECTIVE) == [winner_lead]
