"""The app as a whole: router discovery, the OpenAPI document, CORS, path traversal, settings, serve.

These are the properties that do not belong to one route: what gets wired,
what the documentation promises, who may call from a browser, and that no
path reaches a file it should not.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import api.routes
from api.app import create_app
from api.cli import main
from api.routes import discover_routers
from api.settings import Settings
from geo import Dataset

MY_MODULES = ["health", "lookup", "units", "districts", "standards", "search", "coverage", "ogc", "admin"]


@pytest.fixture(scope="module")
def client(mini_ds: Dataset) -> TestClient:
    with TestClient(create_app(Settings(dataset=mini_ds.path), dataset=mini_ds)) as test_client:
        yield test_client


# -- discovery -------------------------------------------------------------------------
def test_discovery_is_deterministic_and_ordered() -> None:
    first = [name for name, _ in discover_routers().routers]
    assert first == [name for name, _ in discover_routers().routers]
    assert [name for name in first if name in MY_MODULES] == MY_MODULES  # by ORDER, then name
    assert "maps" in first  # the maps engineer's router plugs in without any wiring


def test_discovery_survives_broken_modules_and_skips_private_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mini_ds: Dataset
) -> None:
    extra = tmp_path / "routes"
    extra.mkdir()
    router_code = "from fastapi import APIRouter\nrouter = APIRouter()\n"
    (extra / "aa_extra.py").write_text(
        router_code + "ORDER = 1\n@router.get('/extra')\nasync def extra() -> dict:\n    return {'extra': True}\n"
    )
    (extra / "zz_broken.py").write_text("raise RuntimeError('half-written module')\n")
    (extra / "mm_no_router.py").write_text("VALUE = 1\n")
    (extra / "_private.py").write_text(
        router_code + "@router.get('/private')\nasync def private() -> dict:\n    return {}\n"
    )
    monkeypatch.setattr(api.routes, "__path__", [*api.routes.__path__, str(extra)])
    try:
        found = discover_routers()
        names = [name for name, _ in found.routers]
        assert names[0] == "aa_extra"  # ORDER 1 comes first
        assert "mm_no_router" not in names and "_private" not in names
        assert set(found.failed) == {"zz_broken"} and "half-written module" in found.failed["zz_broken"]
        with TestClient(create_app(Settings(dataset=mini_ds.path), dataset=mini_ds)) as client:
            assert client.get("/extra").json() == {"extra": True}
            assert client.get("/private").status_code == 404
            assert client.get("/healthz").json()["route_modules_failed"] == found.failed
            assert client.get("/healthz/ping").status_code == 200  # the rest of the app is intact
    finally:
        for name in ("aa_extra", "zz_broken", "mm_no_router", "_private"):
            sys.modules.pop(f"api.routes.{name}", None)


# -- the OpenAPI document ----------------------------------------------------------------
def _my_operations(client: TestClient) -> list[tuple[str, str, dict]]:
    document = client.get("/openapi.json").json()
    my_paths = ("/lookup", "/units", "/districts", "/standards", "/search", "/coverage", "/healthz", "/ogc", "/admin")
    return [
        (method, path, operation)
        for path, operations in document["paths"].items()
        if path.startswith(my_paths)
        for method, operation in operations.items()
    ]


def test_every_parameter_is_described(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    components = document["components"].get("parameters", {})
    operations = _my_operations(client)
    assert len(operations) >= 25
    for method, path, operation in operations:
        assert operation.get("summary"), (method, path)
        for parameter in operation.get("parameters", []):
            if "$ref" in parameter:
                parameter = components[parameter["$ref"].rsplit("/", 1)[-1]]
            assert parameter.get("description"), (method, path, parameter["name"])


def test_error_answers_are_documented_as_json(client: TestClient) -> None:
    for method, path, operation in _my_operations(client):
        for status, response in operation["responses"].items():
            if status.isdigit() and int(status) >= 400:
                assert response["content"] == {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
                }, (
                    method,
                    path,
                    status,
                )
        if operation.get("parameters"):
            assert "400" in operation["responses"], (method, path)


def test_geojson_routes_declare_geojson(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    for path in ("/units/{unit_id}/zones", "/coverage/gaps", "/ogc/collections/{collectionId}/items"):
        assert list(document["paths"][path]["get"]["responses"]["200"]["content"]) == ["application/geo+json"]


def test_docs_page_is_served(client: TestClient) -> None:
    answer = client.get("/docs")
    assert answer.status_code == 200 and "/openapi.json" in answer.text


# -- CORS ------------------------------------------------------------------------------
def test_cors_only_for_configured_origins(mini_ds: Dataset) -> None:
    settings = Settings(dataset=mini_ds.path, cors_origins=["https://field.example"])
    with TestClient(create_app(settings, dataset=mini_ds)) as client:
        allowed = client.get("/healthz/ping", headers={"Origin": "https://field.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://field.example"
        denied = client.get("/healthz/ping", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in denied.headers
        preflight = {"Access-Control-Request-Method": "GET"}
        ok = client.options("/lookup", headers={"Origin": "https://field.example", **preflight})
        assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "https://field.example"
        refused = client.options("/lookup", headers={"Origin": "https://evil.example", **preflight})
        assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers


def test_no_cors_headers_without_configured_origins(client: TestClient) -> None:
    answer = client.get("/healthz/ping", headers={"Origin": "https://field.example"})
    assert "access-control-allow-origin" not in answer.headers


# -- path traversal --------------------------------------------------------------------
TRAVERSALS = [
    "../catalog.toml",  # plain dot-dot
    "../../tests/data/mini/catalog.toml",  # deeper
    "%2e%2e/catalog.toml",  # percent-encoded dots
    "..%2fcatalog.toml",  # percent-encoded slash
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",  # everything encoded
    "..\\..\\catalog.toml",  # Windows separators
    "/etc/passwd",  # absolute path
    "%2fetc%2fpasswd",  # absolute, encoded
]


def _raw_get(client: TestClient, raw_path: str) -> tuple[int, bytes]:
    """Send a path exactly as written (httpx would resolve the dot segments first)."""
    from urllib.parse import unquote

    import anyio

    app = client.app
    sent: list[dict] = []

    async def call() -> None:
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
            "path": unquote(raw_path), "raw_path": raw_path.encode(), "query_string": b"", "root_path": "",
            "headers": [(b"host", b"testserver")], "client": ("127.0.0.1", 1), "server": ("testserver", 80),
        }  # fmt: skip

        async def receive() -> dict:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict) -> None:
            sent.append(message)

        await app(scope, receive, send)

    anyio.run(call)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body


def _route_paths(routes: list, prefix: str = "") -> list[str]:
    """Every route path of the app, through included routers (FastAPI keeps them nested)."""
    paths: list[str] = []
    for route in routes:
        if hasattr(route, "original_router"):
            paths += _route_paths(route.original_router.routes, prefix + route.include_context.prefix)
        elif hasattr(route, "path"):
            paths.append(prefix + route.path)
    return paths


def _file_serving_prefixes(client: TestClient) -> list[str]:
    """Every route whose last path parameter takes slashes (a file path or a slashed id)."""
    prefixes = []
    for path in _route_paths(client.app.routes):
        if path.endswith(":path}"):
            prefixes.append(path[: path.rindex("{")].replace("{collectionId}", "compounds"))
    return prefixes


def test_traversal_attempts_are_404(client: TestClient) -> None:
    prefixes = _file_serving_prefixes(client)
    assert "/ogc/collections/compounds/items/" in prefixes and "/assets/" in prefixes
    for prefix in prefixes:
        for attempt in TRAVERSALS:
            status, body = _raw_get(client, prefix + attempt)
            assert status == 404, (prefix, attempt, status)
            assert b"[dataset]" not in body and b"root:" not in body


@pytest.mark.parametrize("attempt", TRAVERSALS)
def test_traversal_in_ids_is_404(client: TestClient, attempt: str) -> None:
    for prefix in ("/units/", "/districts/", "/ogc/collections/"):
        status, _ = _raw_get(client, prefix + attempt)
        assert status == 404, (prefix, attempt)


# -- settings and serve ----------------------------------------------------------------
def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESPMAP_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("RESPMAP_ADMIN_TOKEN", "t0ken")
    monkeypatch.setenv("RESPMAP_BATCH_LIMIT", "500")
    settings = Settings()
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.admin_token is not None and settings.admin_token.get_secret_value() == "t0ken"
    assert "t0ken" not in repr(settings)  # the token never shows in logs
    assert settings.batch_limit == 500


def test_defaults_are_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RESPMAP_HOST", "RESPMAP_ADMIN_TOKEN", "RESPMAP_CORS_ORIGINS", "RESPMAP_BATCH_LIMIT"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.host == "127.0.0.1"  # loopback unless told
    assert settings.admin_token is None and not settings.admin_enabled
    assert settings.cors_origins == [] and settings.batch_limit == 100_000


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["serve", "--workers", "0"], {}, "--workers"),  # no workers
        (["serve", "--port", "70000"], {}, "--port"),  # no such port
        (["serve"], {"RESPMAP_BATCH_LIMIT": "lots"}, "RESPMAP_BATCH_LIMIT"),  # a malformed setting
        (["--dataset", "/no/such/folder", "serve"], {}, "does not exist"),  # no dataset
    ],
)
def test_serve_refuses_bad_options_without_a_traceback(
    argv: list[str], env: dict[str, str], message: str, monkeypatch: pytest.MonkeyPatch, capsys, mini_ds: Dataset
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if "--dataset" not in argv:
        argv = ["--dataset", str(mini_ds.path), *argv]
    monkeypatch.setenv("RESPMAP_DATASET", str(mini_ds.path))  # serve exports it; keep the test's environment clean
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error


def test_serve_help_names_the_loopback_default(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    assert "127.0.0.1" in textwrap.dedent(capsys.readouterr().out)
