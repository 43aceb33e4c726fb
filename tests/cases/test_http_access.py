"""The case loop over HTTP: who may read and do what (every role x every action), cookies and CSRF.

The table below is the access policy as users meet it: 401 without credentials, 403 for a
role that may not, 404 for a case the caller may not see (another unit's, another
inspector's), 409 for a step the case's state does not allow.
"""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from api.app import create_app
from api.settings import Settings

M = "EPSG:4545"
IN_C1 = {"lon": 600102.0, "lat": 3618102.0, "crs": M}  # compound C1, held by U1

CALLERS = ("admin", "inspector", "other_inspector", "unit_u1", "unit_u2", "planner", "public")

# What each caller gets; the case was reported by "inspector" and is held by U1.
READS = {
    #                 admin inspector other_insp unit_u1 unit_u2 planner public
    "list": dict(zip(CALLERS, (200, 200, 200, 200, 200, 403, 401), strict=True)),
    "get": dict(zip(CALLERS, (200, 200, 404, 200, 404, 403, 401), strict=True)),
    "create": dict(zip(CALLERS, (201, 201, 201, 403, 403, 403, 201), strict=True)),
}
# action -> (state the case is brought to first, statuses per caller)
ACTIONS = {
    "dispatch": ("reported", (200, 404, 404, 404, 404, 403, 401)),
    "reject": ("reported", (200, 404, 404, 404, 404, 403, 401)),
    "rectify": ("dispatched", (200, 403, 404, 200, 404, 403, 401)),
    "dispute": ("dispatched", (200, 403, 404, 200, 404, 403, 401)),
    "postpone": ("dispatched", (200, 403, 404, 403, 404, 403, 401)),
    "reassign": ("dispatched", (200, 403, 404, 403, 404, 403, 401)),
    "close": ("rectified", (200, 200, 404, 403, 404, 403, 401)),
    "send_back": ("rectified", (200, 200, 404, 403, 404, 403, 401)),
    "comment": ("dispatched", (200, 200, 404, 200, 404, 403, 401)),
}


@pytest.fixture
def app_client(store, mini_ds, clock, people):
    app = create_app(Settings(dataset=mini_ds.path), dataset=mini_ds, store=store)
    app.state.clock = clock
    with TestClient(app) as client:
        client.people = people  # type: ignore[attr-defined]
        yield client


def _headers(client: TestClient, caller: str) -> dict[str, str]:
    if caller == "public":
        return {}
    return {"Authorization": f"Bearer {client.people.tokens[caller]}"}  # type: ignore[attr-defined]


def _new_case(client: TestClient, reporter: str = "inspector", **extra) -> dict:
    answer = client.post(
        "/cases", json={**IN_C1, "category": "exposed_garbage", **extra}, headers=_headers(client, reporter)
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def _bring_to(client: TestClient, case: dict, state: str) -> None:
    steps = {"reported": [], "dispatched": [], "rectified": ["rectify"]}[state]
    for step in steps:
        answer = client.post(
            f"/cases/{case['case_id']}/events", json={"action": step, "note": "x"}, headers=_headers(client, "admin")
        )
        assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("read", list(READS))
def test_reads_by_role(app_client, caller, read):
    case = _new_case(app_client)
    headers = _headers(app_client, caller)
    if read == "list":
        answer = app_client.get("/cases", headers=headers)
    elif read == "get":
        answer = app_client.get(f"/cases/{case['case_id']}", headers=headers)
    else:
        answer = app_client.post("/cases", json={**IN_C1, "category": "dirty_road"}, headers=headers)
    assert answer.status_code == READS[read][caller], answer.text
    if answer.status_code >= 400:
        assert set(answer.json()) == {"error", "message", "details"}
    if read == "list" and answer.status_code == 200:
        ids = [f["id"] for f in answer.json()["features"]]
        sees_it = caller in ("admin", "inspector", "unit_u1")
        assert (case["case_id"] in ids) is sees_it


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_actions_by_role(app_client, caller, action):
    state, statuses = ACTIONS[action]
    # a public report waits as "reported"; the others are dispatched at once
    case = _new_case(app_client, "public" if state == "reported" else "inspector")
    _bring_to(app_client, case, state)
    body: dict = {"action": action, "note": "理由"}
    if action == "postpone":
        body["due_at"] = "2026-03-20T12:00:00+08:00"
    if action == "reassign":
        body["unit_id"] = "U2"
    answer = app_client.post(f"/cases/{case['case_id']}/events", json=body, headers=_headers(app_client, caller))
    expected = dict(zip(CALLERS, statuses, strict=True))[caller]
    if state == "reported" and caller == "inspector":
        expected = 404  # a public report is not the inspector's own
    assert answer.status_code == expected, answer.text


def test_refused_step_is_409_with_the_allowed_actions(app_client):
    case = _new_case(app_client)
    answer = app_client.post(
        f"/cases/{case['case_id']}/events", json={"action": "close"}, headers=_headers(app_client, "inspector")
    )
    assert answer.status_code == 409
    assert answer.json()["details"]["allowed"] == ["comment"]


def test_two_conflicting_transitions_one_wins(app_client):
    case = _new_case(app_client)
    body = {"action": "rectify", "note": "a", "version": case["version"]}
    first = app_client.post(f"/cases/{case['case_id']}/events", json=body, headers=_headers(app_client, "unit_u1"))
    second = app_client.post(f"/cases/{case['case_id']}/events", json=body, headers=_headers(app_client, "admin"))
    assert (first.status_code, second.status_code) == (200, 409)


def test_bad_token_is_401_and_unknown_case_404(app_client):
    assert app_client.get("/cases", headers={"Authorization": "Bearer rm_nope"}).status_code == 401
    assert app_client.get("/cases/../../etc/passwd", headers=_headers(app_client, "admin")).status_code == 404
    assert app_client.get("/cases/20260302-999999", headers=_headers(app_client, "admin")).status_code == 404


def test_multipart_report_with_photo_and_hostile_names(app_client):
    image = Image.new("RGB", (32, 24), (10, 200, 10))
    data = io.BytesIO()
    image.save(data, "JPEG")
    answer = app_client.post(
        "/cases",
        data={
            **{k: str(v) for k, v in IN_C1.items()},
            "category": "exposed_garbage",
            "note": "<img src=x onerror=alert(1)>",
        },
        files={"photo": ("<script>.jpg", data.getvalue(), "image/jpeg")},
        headers=_headers(app_client, "inspector"),
    )
    assert answer.status_code == 201, answer.text
    case = answer.json()
    assert case["note"] == "<img src=x onerror=alert(1)>"  # kept as text; pages escape it
    photo = case["photos"][0]
    seen = app_client.get(photo["url"], headers=_headers(app_client, "unit_u1"))
    assert seen.status_code == 200 and seen.headers["content-type"] == "image/jpeg"
    assert app_client.get(photo["url"], headers=_headers(app_client, "unit_u2")).status_code == 404
    assert app_client.get(photo["url"]).status_code == 401
    html = app_client.post(
        "/cases",
        data={**{k: str(v) for k, v in IN_C1.items()}, "category": "exposed_garbage"},
        files={"photo": ("x.png", b"<html><body>hi</body></html>", "image/png")},
        headers=_headers(app_client, "inspector"),
    )
    assert html.status_code == 422 and "not a picture" in html.json()["message"]


def test_outside_the_frame_names_the_nearest_district(app_client):
    answer = app_client.post(
        "/cases",
        json={"lon": 605000.0, "lat": 3618500.0, "crs": M, "category": "dirty_road"},
        headers=_headers(app_client, "inspector"),
    )
    assert answer.status_code == 422
    assert answer.json()["details"]["nearest_district"]["district_id"] == "D2"


def test_browser_session_cookie_needs_csrf_for_changes(app_client):
    token = app_client.people.tokens["unit_u1"]  # type: ignore[attr-defined]
    case = _new_case(app_client)
    login = app_client.post("/login", data={"token": token})
    assert login.status_code == 200
    cookie = login.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookie if c.startswith("respmap_session="))
    assert "HttpOnly" in session_cookie and "SameSite=strict" in session_cookie.replace("Strict", "strict")
    assert app_client.get("/me").json() == {"name": "unit_u1", "role": "unit", "unit_id": "U1", "unit_name": "市民政局"}
    assert app_client.get(f"/cases/{case['case_id']}").status_code == 200
    refused = app_client.post(f"/cases/{case['case_id']}/events", json={"action": "rectify", "note": "x"})
    assert refused.status_code == 403 and refused.json()["error"] == "csrf_failed"
    csrf = login.json()["csrf_token"]
    done = app_client.post(
        f"/cases/{case['case_id']}/events", json={"action": "rectify", "note": "x"}, headers={"X-CSRF-Token": csrf}
    )
    assert done.status_code == 200
    app_client.post("/logout")
    app_client.cookies.clear()
    assert app_client.get("/me").status_code == 401


def test_login_attempts_are_limited(store, mini_ds, clock, people):
    app = create_app(Settings(dataset=mini_ds.path, login_attempts_per_minute=3), dataset=mini_ds, store=store)
    with TestClient(app) as client:
        statuses = [client.post("/login", data={"token": f"rm_wrong{i}"}).status_code for i in range(4)]
        assert statuses == [401, 401, 401, 429]
        # locked out: even the right token waits
        assert client.post("/login", data={"token": people.tokens["admin"]}).status_code == 429
