"""The front door in headless Chromium on a phone-sized screen, served by a real ``respmap serve``.

Its one inline style must be allowed by its own Content-Security-Policy (a
blocked style shows as a console error and unstyled links), nothing may leave
the machine, nothing may overflow 360 px, and its links must lead to pages.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.api.http_server import running_server
from tests.maps.test_browser_map import SCREENSHOTS, watch

MINI_DIR = Path(__file__).resolve().parents[1] / "data" / "mini"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = tmp_path_factory.mktemp("store")  # the case store in a temporary folder, not beside the test data
    with running_server(MINI_DIR, env={"RESPMAP_DATA_DIR": str(store)}) as base:
        yield base


def test_front_door_on_a_360px_phone(server: str, browser: Browser) -> None:
    watched = watch(browser, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = watched.page
    answer = page.goto(server + "/")
    assert answer is not None and answer.status == 200
    assert page.locator("#dataset-name").inner_text() == "迷你测试数据"
    assert page.locator("#status-date").inner_text().startswith("状态日期 ")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scrolling
    # The inline style applied (the CSP hash matches): links are cards, not bare inline text.
    assert page.evaluate("getComputedStyle(document.querySelector('.links a')).display") == "block"
    titles = [t.splitlines()[0] for t in page.locator(".links a").all_inner_texts()]
    assert titles[:5] == ["覆盖地图", "手机查询", "API 文档", "OGC API - Features", "覆盖分析（JSON）"]
    assert set(titles[5:]) <= {"工作台", "待办", "巡查上报"}  # the case loop's pages, when the server has them
    rows = page.locator("#figures tr").count()
    assert rows == 5
    page.screenshot(path=str(SCREENSHOTS / "served_home_360.png"), full_page=True)
    page.locator(".links a", has_text="手机查询").click()
    page.wait_for_function("() => window.respmapReady === true")
    assert page.url == server + "/here"
    assert watched.errors == [] and watched.blocked == [] and watched.dialogs == []
    watched.page.context.close()
