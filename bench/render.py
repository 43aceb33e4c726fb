"""Benchmark: static maps, the atlas and the table exports, against what a competent user would write.

In one process, on the demo dataset (or another with ``--dataset``):

- the atlas of every unit (``render_atlas``) against a reference loop: per unit
  a new figure, ``GeoDataFrame.plot`` of the districts and the unit's zones,
  a ``matplotlib.table`` of its zones, saved into ``PdfPages``, with the same
  CJK font (the reference gets the font for free; it has no cover, contents,
  labels, inset, scale bar or continued tables);
- the city map PNG (``render_map``) against ``GeoDataFrame.plot`` of every
  layer with a legend, saved at the same dpi;
- the responsibility workbook (``export_table``) against ``DataFrame.to_excel``
  of the zones, one sheet per layer (no widths, freeze, filter or escaping).

Prints seconds and the ratio (ours / reference; below 1 means faster). The
issue asks for the demo's full unit atlas in under 60 s: that line is printed
as PASS or FAIL.

    python bench/render.py                    # the demo
    python bench/render.py --reference-units 40   # reference atlas on 40 units, scaled per page
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

ATLAS_LIMIT_S = 60.0


def reference_atlas(ds, path: Path, unit_ids: list[str]) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    from maps.fonts import font_rc

    zones = ds.zones_on(None).set_geometry("zone_metric")
    districts = ds.frame.to_crs(ds.metric_crs)
    pages = 0
    with matplotlib.rc_context(font_rc()), PdfPages(path) as pdf:
        for unit_id in unit_ids:
            mine = zones[zones["unit_id"] == unit_id]
            fig, (ax, tab) = plt.subplots(2, 1, figsize=(8.27, 11.69), height_ratios=(3, 2))
            districts.plot(ax=ax, facecolor="#f4f4f1", edgecolor="#555555")
            if len(mine):
                mine.plot(ax=ax, column="layer", legend=True)
                xmin, ymin, xmax, ymax = mine.total_bounds
                ax.set_xlim(xmin - 200, xmax + 200)
                ax.set_ylim(ymin - 200, ymax + 200)
            ax.set_title(str(unit_id))
            tab.axis("off")
            rows = mine[["layer", "name", "feature_id", "from_m", "to_m", "grade", "role"]].astype(str).values.tolist()
            if rows:
                tab.table(
                    cellText=rows[:25],
                    colLabels=["类别", "名称", "编号", "起", "止", "标准", "角色"],
                    loc="upper center",
                )
            pdf.savefig(fig)
            plt.close(fig)
            pages += 1
    return pages


def reference_city_png(ds, path: Path, dpi: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from maps.fonts import font_rc

    with matplotlib.rc_context(font_rc()):
        fig, ax = plt.subplots(figsize=(11.69, 8.27))
        ds.frame.to_crs(ds.metric_crs).plot(ax=ax, facecolor="#f4f4f1", edgecolor="#555555")
        ds.zones_on(None).set_geometry("zone_metric").plot(ax=ax, column="layer", legend=True)
        ax.set_title(ds.name)
        fig.savefig(path, dpi=dpi)
        plt.close(fig)


def reference_xlsx(ds, path: Path) -> None:
    import pandas as pd

    zones = pd.DataFrame(ds.zones_on(None).drop(columns=["geometry", "zone_metric", "feature_metric"]))
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for layer, rows in zones.groupby("layer"):
            rows.to_excel(writer, sheet_name=str(layer)[:31], index=False)
        ds.units.to_excel(writer, sheet_name="units", index=False)
        ds.standards.to_excel(writer, sheet_name="standards", index=False)


def timed(label: str, action):
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    value = action()
    wall, cpu = time.perf_counter() - start_wall, time.process_time() - start_cpu
    print(f"  {label:<44} {wall:7.2f} s wall  {cpu:7.2f} s cpu")
    return value, wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=REPO / "layers" / "ankang")
    parser.add_argument("--dpi", type=int, default=200)
    parser.add_argument(
        "--reference-units", type=int, default=40, help="units in the reference atlas (its time is compared per page)"
    )
    args = parser.parse_args()

    from geo import load_dataset
    from maps.atlas import render_atlas
    from maps.static import MapOptions, render_map
    from maps.tables import export_table

    ds = load_dataset(args.dataset)
    print(f"{ds}")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        print("atlas of every unit:")
        result, ours = timed("respmap render_atlas", lambda: render_atlas(ds, out / "atlas.pdf"))
        unit_ids = list(ds.units["unit_id"])[: args.reference_units]
        pages, theirs = timed(
            f"reference (plot + table, {len(unit_ids)} units)", lambda: reference_atlas(ds, out / "ref.pdf", unit_ids)
        )
        per_page_ours, per_page_ref = ours / result.pages, theirs / max(pages, 1)
        print(
            f"  {result.pages} pages; {per_page_ours * 1000:.0f} ms/page vs reference {per_page_ref * 1000:.0f} ms/page:"
            f" ratio {per_page_ours / per_page_ref:.2f}"
        )
        verdict = "PASS" if ours < ATLAS_LIMIT_S else "FAIL"
        print(f"  {verdict}: the whole unit atlas in {ours:.1f} s (limit {ATLAS_LIMIT_S:.0f} s)")

        print(f"city map PNG at {args.dpi} dpi:")
        _, ours = timed(
            "respmap render_map", lambda: render_map(ds, out / "city.png", options=MapOptions(dpi=args.dpi))
        )
        _, theirs = timed("reference GeoDataFrame.plot", lambda: reference_city_png(ds, out / "ref.png", args.dpi))
        print(f"  ratio {ours / theirs:.2f}")

        print("responsibility workbook:")
        _, ours = timed("respmap export_table (.xlsx)", lambda: export_table(ds, out / "t.xlsx"))
        _, theirs = timed("reference DataFrame.to_excel", lambda: reference_xlsx(ds, out / "ref.xlsx"))
        print(f"  ratio {ours / theirs:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
