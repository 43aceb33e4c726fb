"""The /dashboard shell: no data in it, names escaped, assets local, no inline script."""

from __future__ import annotations

import re

from maps.dashboard import DASHBOARD_CSP, render_dashboard_page


def test_names_are_text_and_scripts_are_local() -> None:
    hostile = "<img src=x onerror=alert(1)></script>"
    page = render_dashboard_page(site_name=hostile, period={"period": "</script><b>", "from": None, "to": None})
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    # the period travels in the JSON element with < escaped, so it cannot end the element
    data = re.search(r'<script type="application/json" id="respmap-dashboard-data">(.*?)</script>', page, re.S)
    assert data is not None and "\\u003c/script\\u003e\\u003cb\\u003e" in data.group(1)
    sources = re.findall(r'<script src="([^"]+)"', page)
    assert sources and all(s.startswith("/assets/") for s in sources)
    assert "https://" not in page and "http://" not in page.replace("http://www.w3.org", "")
    # every <script> is either a local file or the JSON data element: none runs inline
    inline = [m for m in re.findall(r"<script([^>]*)>", page) if "src=" not in m and "application/json" not in m]
    assert inline == []
    assert "script-src 'self'" in DASHBOARD_CSP and "connect-src 'self'" in DASHBOARD_CSP


def test_served_under_a_prefix() -> None:
    page = render_dashboard_page(prefix="/respmap", period={"period": "2026-11", "from": None, "to": None})
    assert '"/respmap/assessment"' in page and 'src="/respmap/assets/respmap/dashboard.js"' in page
