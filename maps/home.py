"""The server's front door (``GET /``): what is served, its figures, and where to go next.

A first-time user opens ``http://127.0.0.1:8000/`` because ``respmap serve``
says so; this page answers there in the dataset's language with the dataset's
name, the day the figures are for (the one date rule, :attr:`geo.Dataset.reference_date`),
the features per layer, the units and districts, and links to the map, the
phone page, the API, OGC API - Features and the report kit. Pages added later
(dashboard, inbox, inspection) are linked only when the server has their route.

No script; one inline style whose hash the Content-Security-Policy allows, so
the page works offline and with nothing else permitted. Every value from the
data is HTML-escaped.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from geo import Dataset
from maps.popups import escape_html
from maps.wording import date_line, words

# Pages other parts of respmap may add; linked from the front door only when their route exists.
LATER_PAGES: tuple[tuple[str, str], ...] = (
    ("/dashboard", "page_dashboard"),
    ("/inbox", "page_inbox"),
    ("/inspect", "page_inspect"),
)

_STYLE = """
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 "Noto Sans CJK SC","Noto Sans SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif;
color:#1a1a1a;background:#f6f7f5}
main{max-width:760px;margin:0 auto;padding:16px}
h1{font-size:22px;margin:4px 0 2px;overflow-wrap:anywhere}
h2{font-size:17px;margin:20px 0 8px}
.tagline{color:#444;margin:0 0 6px}
.date{display:inline-block;background:#fff3cd;border-radius:6px;padding:2px 8px;font-size:14px}
.links{list-style:none;margin:0;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:8px}
.links a{display:block;background:#fff;border:1px solid #d0d4cc;border-radius:10px;padding:10px 12px;
color:#0b57d0;text-decoration:none;font-weight:700}
.links a span{display:block;color:#555;font-weight:400;font-size:14px}
table{border-collapse:collapse;width:100%;background:#fff;font-size:15px}
th,td{border-bottom:1px solid #e2e4df;padding:6px 8px;text-align:left;overflow-wrap:anywhere}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
code{background:#eceee9;border-radius:4px;padding:1px 4px;overflow-wrap:anywhere}
.warn{color:#b2182b}
footer{color:#666;font-size:13px;margin:24px 0 8px}
"""
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(_STYLE.encode("utf-8")).digest()).decode("ascii")
# Nothing but the page and its one inline style: no script, no connection, no form. The header adds
# frame-ancestors (browsers ignore it in a <meta> element and say so on the console).
HOME_CSP_META = (
    f"default-src 'none'; style-src '{STYLE_HASH}'; img-src 'self' data:; base-uri 'none'; form-action 'none'"
)
HOME_CSP = HOME_CSP_META + "; frame-ancestors 'none'"


@dataclass(frozen=True, slots=True)
class HomeLink:
    """A link on the front door: where, what, and one line saying what for."""

    href: str
    title: str
    detail: str


def home_links(lang: str, route_paths: Iterable[str], prefix: str = "") -> tuple[list[HomeLink], list[HomeLink]]:
    """(the links every server has, the later pages this server has) for the front door."""
    w = words(lang)
    paths = set(route_paths)
    main = [
        HomeLink(f"{prefix}/map?color_by=coverage", w["link_map"], w["link_map_detail"]),
        HomeLink(f"{prefix}/here", w["link_here"], w["link_here_detail"]),
        HomeLink(f"{prefix}/docs", w["link_docs"], w["link_docs_detail"]),
        HomeLink(f"{prefix}/ogc", w["link_ogc"], w["link_ogc_detail"]),
        HomeLink(f"{prefix}/coverage", w["link_coverage"], w["link_coverage_detail"]),
    ]
    main = [link for link in main if link.href.removeprefix(prefix).split("?")[0] in paths]
    later = [HomeLink(prefix + path, w[key], w[f"{key}_detail"]) for path, key in LATER_PAGES if path in paths]
    return main, later


def render_home(ds: Dataset, route_paths: Iterable[str], *, lang: str | None = None, prefix: str = "") -> str:
    """The front door as HTML: the dataset, its figures on the reference date, and the links."""
    lang = lang or ds.lang
    w = words(lang)
    paths = list(route_paths)
    main_links, later_links = home_links(lang, paths, prefix)
    day = date_line(ds.reference_date.date().isoformat(), ds.reference_date_source, lang)
    rows: list[tuple[str, int]] = []
    frame_layer = ds.catalog.frame.layer if ds.catalog is not None and ds.catalog.frame is not None else None
    if ds.catalog is not None:
        for spec in ds.catalog.layers:
            if spec.id in ds.layers and spec.id != frame_layer:
                rows.append((spec.title_in(lang), len(ds.layers[spec.id])))
    districts = 0 if ds.frame is None else len(ds.frame)
    errors = sum(1 for f in ds.findings if f.level == "error")
    warnings = sum(1 for f in ds.findings if f.level == "warning")
    figure_rows = [
        *rows,
        (w["fig_districts"], districts),
        (w["fig_units"], len(ds.units)),
        (w["fig_zones"], len(ds.zones_on())),
    ]
    table = "\n".join(
        f'<tr><th scope="row">{escape_html(label)}</th><td class="n">{count:,}</td></tr>'
        for label, count in figure_rows
    )
    problems = w["fig_findings"].format(errors=errors, warnings=warnings)
    links_html = _links_html(main_links)
    later_html = ""
    if later_links:
        later_html = f"<h2>{escape_html(w['home_more'])}</h2>\n{_links_html(later_links)}"
    return f"""<!DOCTYPE html>
<html lang="{"en" if lang == "en" else "zh-CN"}">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<meta http-equiv="Content-Security-Policy" content="{escape_html(HOME_CSP_META)}"/>
<meta name="referrer" content="no-referrer"/>
<title>{escape_html(ds.name)} · respmap</title>
<link rel="icon" href="data:,"/>
<style>{_STYLE}</style>
</head>
<body>
<main>
<h1 id="dataset-name">{escape_html(ds.name)}</h1>
<p class="tagline">{escape_html(w["home_tagline"])}</p>
<p class="date" id="status-date">{escape_html(day)}</p>
<h2>{escape_html(w["home_go"])}</h2>
{links_html}
<h2>{escape_html(w["home_figures"])}</h2>
<table id="figures">
{table}
</table>
<p class="{"warn" if errors else ""}" id="findings">{escape_html(problems)}</p>
<h2>{escape_html(w["home_kit"])}</h2>
<p>{escape_html(w["home_kit_detail"])}</p>
<p><code>respmap build -o report/</code></p>
{later_html}
<footer>respmap · {escape_html(str(ds.path.name))} · {escape_html(ds.content_hash)}</footer>
</main>
</body>
</html>
"""


def _links_html(links: list[HomeLink]) -> str:
    items = "\n".join(
        f'<li><a href="{escape_html(link.href)}">{escape_html(link.title)}<span>{escape_html(link.detail)}</span></a></li>'
        for link in links
    )
    return f'<ul class="links">\n{items}\n</ul>'
