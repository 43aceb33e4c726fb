"""Benchmark: the interactive map's size and the time until every feature is drawn in headless Chromium.

For the demo and a scaled dataset (generated into /tmp), it builds respmap's
self-contained city map and, beside it in the same process, the map a
competent folium user would write: every layer's duty zones as a
``folium.GeoJson`` with a ``GeoJsonTooltip``, canvas renderer, layer control
(its CDN Leaflet is answered from the local copy so both run offline). Each
page is opened in Debian's Chromium; "drawn" is ``window.respmapReadyMs``
for respmap (set after a full canvas draw) and, for the reference, the first
animation frame after the load event. Prints bytes, build seconds, draw
milliseconds (median of runs) and the ratios, against the targets: demo at
most 2 MB and under 1.5 s, scale 100 under 6 s.

    python bench/map.py                 # demo + scale 100
    python bench/map.py --scale 10      # demo + scale 10
    python bench/map.py --runs 5 --no-reference
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

from scaled_data import dataset_folder  # noqa: E402 - bench/ is on sys.path when run as a script

sys.path.insert(0, str(REPO))

from geo import Dataset, load_dataset  # noqa: E402
from maps.interactive import MapOptions, render_map  # noqa: E402
from maps.payload import build_payload, layer_counts  # noqa: E402
from maps.vendor import NODE_MODULES  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
TARGETS = {1: (2 * 1024 * 1024, 1500.0), 100: (None, 6000.0)}  # scale -> (max bytes, max drawn ms)
PAGE_TIMEOUT_MS = 180_000
REFERENCE_READY = """
window.addEventListener('load', () => requestAnimationFrame(() => requestAnimationFrame(() => {
    window.referenceReadyMs = performance.now();
})));
"""


def reference_html(ds: Dataset) -> str:
    """What a folium user writes: one GeoJson per layer of today's duty zones, tooltips, layer control."""
    import folium

    class LocalLeafletMap(folium.Map):
        # folium's default page with only Leaflet (from the CDN URL, answered locally by the bench).
        default_js = [folium.Map.default_js[0]]  # noqa: RUF012
        default_css = [folium.Map.default_css[0]]  # noqa: RUF012

    zones = ds.zones_on(None)
    west, south, east, north = zones.total_bounds
    fmap = LocalLeafletMap(
        location=[(south + north) / 2, (west + east) / 2], zoom_start=13, tiles=None, prefer_canvas=True
    )
    if ds.frame is not None:
        folium.GeoJson(
            ds.frame[["name", "geometry"]], name="districts", style_function=lambda _: {"fill": False}
        ).add_to(fmap)
    for layer_id, part in zones.groupby("layer", sort=False):
        table = part[["name", "unit_name", "role", "geometry"]].copy()
        folium.GeoJson(table, name=layer_id, tooltip=folium.GeoJsonTooltip(["name", "unit_name", "role"])).add_to(fmap)
    folium.LayerControl().add_to(fmap)
    fmap.fit_bounds([[south, west], [north, east]])
    return fmap.get_root().render()


def time_page(browser, url: str, expression: str, runs: int, leaflet_js: bytes, leaflet_css: bytes) -> list[float]:
    """Drawn time (ms from navigation start) over ``runs`` fresh pages; [] when it never got drawn."""
    times: list[float] = []
    for _ in range(runs):
        context = browser.new_context(viewport={"width": 1280, "height": 800})

        def route(handle) -> None:
            url_seen = handle.request.url
            if url_seen.startswith("file://"):
                handle.continue_()
            elif url_seen.endswith("leaflet.js"):
                handle.fulfill(body=leaflet_js, content_type="text/javascript")
            elif url_seen.endswith("leaflet.css"):
                handle.fulfill(body=leaflet_css, content_type="text/css")
            else:
                handle.abort()

        context.route("**/*", route)
        context.add_init_script(REFERENCE_READY)
        page = context.new_page()
        try:
            page.goto(url, timeout=PAGE_TIMEOUT_MS)
            page.wait_for_function(f"() => typeof {expression} === 'number'", timeout=PAGE_TIMEOUT_MS, polling=50)
            times.append(float(page.evaluate(expression)))
        except Exception as exc:  # a page that never finishes is a result, not a crash
            print(f"    page did not finish: {type(exc).__name__}: {str(exc)[:120]}")
            context.close()
            return []
        context.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, action="append", help="scale factor(s) beside the demo; default 100")
    parser.add_argument("--runs", type=int, default=3, help="page loads per measurement (median shown)")
    parser.add_argument("--no-reference", action="store_true", help="skip the plain-folium reference")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    leaflet_js = (NODE_MODULES / "leaflet" / "dist" / "leaflet.js").read_bytes()
    leaflet_css = (NODE_MODULES / "leaflet" / "dist" / "leaflet.css").read_bytes()
    out = Path(tempfile.mkdtemp(prefix="respmap_bench_map_"))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for scale in [1, *(args.scale or [100])]:
            ds = load_dataset(dataset_folder(scale))
            started = time.perf_counter()
            html = render_map(ds, MapOptions())
            build_s = time.perf_counter() - started
            counts = layer_counts(build_payload(ds, MapOptions()))
            ours_path = out / f"respmap_x{scale}.html"
            ours_path.write_text(html, encoding="utf-8")
            ours_bytes = ours_path.stat().st_size
            ours_ms = time_page(
                browser, ours_path.as_uri(), "window.respmapReadyMs", args.runs, leaflet_js, leaflet_css
            )
            print(f"scale {scale:>4}: {sum(counts.values()):,} features drawn in {len(counts)} layers")
            ours_median = statistics.median(ours_ms) if ours_ms else float("nan")
            print(
                f"  respmap   : {ours_bytes / 1e6:8.2f} MB, built in {build_s:6.2f} s, drawn in {ours_median:8.0f} ms"
            )
            max_bytes, max_ms = TARGETS.get(scale, (None, None))
            verdicts = []
            if max_bytes is not None:
                verdicts.append(
                    f"size {'OK' if ours_bytes <= max_bytes else 'OVER'} (<= {max_bytes / 1024 / 1024:.0f} MB)"
                )
            if max_ms is not None:
                verdicts.append(f"time {'OK' if ours_median < max_ms else 'OVER'} (< {max_ms / 1000:.1f} s)")
            if verdicts:
                print(f"  target    : {', '.join(verdicts)}")
            if args.no_reference:
                continue
            started = time.perf_counter()
            reference = reference_html(ds)
            reference_build_s = time.perf_counter() - started
            reference_path = out / f"reference_x{scale}.html"
            reference_path.write_text(reference, encoding="utf-8")
            reference_bytes = reference_path.stat().st_size
            reference_ms = time_page(
                browser, reference_path.as_uri(), "window.referenceReadyMs", args.runs, leaflet_js, leaflet_css
            )
            reference_median = statistics.median(reference_ms) if reference_ms else float("nan")
            print(
                f"  reference : {reference_bytes / 1e6:8.2f} MB, built in {reference_build_s:6.2f} s, "
                f"drawn in {reference_median:8.0f} ms (folium GeoJson + GeoJsonTooltip of the duty zones)"
            )
            print(
                f"  ratio     : size x{reference_bytes / ours_bytes:.1f} smaller, "
                f"drawn x{reference_median / ours_median:.1f} faster (reference / respmap)"
            )
        browser.close()
    print(f"pages written under {out}")


if __name__ == "__main__":
    main()
