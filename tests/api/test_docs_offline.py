"""/docs works on an intranet with no internet: Swagger UI comes from local files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import sync_playwright

from tests.api.http_server import running_server
from tests.maps.test_browser_map import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS

MINI_DIR = Path(__file__).resolve().parents[1] / "data" / "mini"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with running_server(MINI_DIR) as base:
        yield base


def test_docs_render_every_operation_without_leaving_the_machine(server: str) -> None:
    outside: list[str] = []
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

        def guard(route, request) -> None:
            host = urlparse(request.url).hostname
            if host not in ("127.0.0.1", "localhost") and not request.url.startswith(("data:", "blob:")):
                outside.append(request.url)
                route.abort()
            else:
                route.continue_()

        page.route("**/*", guard)
        page.goto(f"{server}/docs")
        page.wait_for_selector(".opblock", timeout=20_000)
        operations = page.locator(".opblock-summary-path").all_inner_texts()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "api_docs.png"))
        browser.close()
    assert outside == []
    assert errors == []
    assert any("/lookup" in text for text in operations)
    assert any("/ogc" in text for text in operations)


@pytest.mark.parametrize(
    "path",
    [
        "/assets/vendor/swagger-ui-dist/package.json",  # package metadata is not an asset
        "/assets/vendor/swagger-ui-dist/swagger-ui-bundle.js.map",  # nor are source maps
        "/assets/vendor/swagger-ui-dist/%2e%2e/%2e%2e/package.json",  # nor anything outside the package
    ],
)
def test_only_assets_are_served(server: str, path: str) -> None:
    import httpx

    assert httpx.get(f"{server}{path}").status_code == 404
