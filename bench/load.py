"""Benchmark: load, validate and join a dataset (the demo and a scaled one).

Each measurement runs in a fresh Python process so that its peak memory (max
RSS) is its own. Beside respmap's full load it times the reference a competent
user would write without respmap: ``geopandas.read_file`` of every layer, the
three CSVs, a merge of assignments onto features and a buffer of the lines in
the metric CRS (no validation at all), and prints the ratio.

    python bench/load.py                # demo + scale 100 (generated into /tmp)
    python bench/load.py --scale 10     # another scale
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

from scaled_data import dataset_folder  # noqa: E402 - bench/ is on sys.path when run as a script

CHILD_RESPMAP = """
import json, resource, sys, time
t0 = time.perf_counter()
from geo import load_dataset
t_import = time.perf_counter() - t0
t0 = time.perf_counter()
ds = load_dataset(sys.argv[1])
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "import_s": t_import, "features": sum(ds.feature_counts().values()),
                  "zones": len(ds.duty_zones), "errors": sum(f.level == "error" for f in ds.findings),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

CHILD_REFERENCE = """
import json, resource, sys, time, tomllib
from pathlib import Path
import geopandas as gpd, pandas as pd
root = Path(sys.argv[1])
t0 = time.perf_counter()
catalog = tomllib.loads((root / "catalog.toml").read_text(encoding="utf-8"))
assignments = pd.read_csv(root / "assignments.csv", dtype=str)
units = pd.read_csv(root / "units.csv", dtype=str)
pd.read_csv(root / "standards.csv", dtype=str)
zones = []
for layer in catalog["layer"]:
    gdf = gpd.read_file(root / layer["file"]).to_crs(catalog["dataset"].get("metric_crs", "EPSG:3857"))
    if layer["geometry"] != "polygon":
        gdf["geometry"] = gdf.buffer(layer.get("tolerance_m", 1) or 1)
    zones.append(gdf.merge(assignments, left_on="id", right_on="feature_id", how="left").merge(units, on="unit_id", how="left"))
n = sum(len(z) for z in zones)
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "zones": n, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _run(code: str, folder: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code, str(folder)], capture_output=True, text=True, cwd=REPO, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, action="append", help="scale factor(s); default 1 and 100")
    args = parser.parse_args()
    targets = {1: (1.0, None), 100: (15.0, 2048.0)}
    for scale in args.scale or [1, 100]:
        folder = dataset_folder(scale)
        ours = _run(CHILD_RESPMAP, folder)
        reference = _run(CHILD_REFERENCE, folder)
        target_s, target_mb = targets.get(scale, (None, None))
        print(f"scale {scale:>4}: {ours['features']:,} features -> {ours['zones']:,} zones, {ours['errors']} errors")
        print(
            f"  respmap load+validate+join: {ours['seconds']:.2f} s, peak {ours['peak_mb']:,.0f} MB"
            + (f"   (target < {target_s:g} s" + (f", < {target_mb:,.0f} MB)" if target_mb else ")") if target_s else "")
        )
        print(
            f"  reference read_file+merge+buffer (no validation): {reference['seconds']:.2f} s, peak {reference['peak_mb']:,.0f} MB"
        )
        print(
            f"  ratio respmap / reference time: {ours['seconds'] / reference['seconds']:.2f}x (import of geo: {ours['import_s']:.2f} s, not counted)"
        )


if __name__ == "__main__":
    main()
