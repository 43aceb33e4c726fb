"""Benchmark: taking back an edited responsibility workbook (respmap import-assignments, dry run).

The workbook is exported from a copy of the dataset, then a tenth of its assigned rows get
another unit (as a clerk would, with openpyxl). respmap's figure is reading the workbook, the
difference against the rows in force and the full check (the dataset loaded again with the new
tables, as ``respmap validate`` would). Beside it, the reference a competent user would write
without respmap: ``pandas.read_excel`` of every sheet and an outer merge with ``assignments.csv``
on (feature, unit, role, stretch), which finds the rows that differ but checks nothing. The
ratio says what the checking costs.

    python bench/import_assignments.py              # the demo
    python bench/import_assignments.py --scale 10   # a scaled dataset (generated into /tmp once)
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scaled_data import dataset_folder  # noqa: E402 - bench/ is on sys.path when run as a script

EFFECTIVE = dt.date(2027, 1, 1)


def edit_workbook(source: Path, target: Path, unit_ids: list[str]) -> int:
    """Give every tenth assigned row of each layer sheet another unit; returns how many rows changed."""
    import openpyxl

    workbook = openpyxl.load_workbook(source)
    changed = 0
    for ws in workbook.worksheets:
        header = [c.value for c in ws[1]]
        if "编号" not in header or "单位编号" not in header:
            continue
        unit_col, name_col = header.index("单位编号"), header.index("责任单位")
        for number, row in enumerate(ws.iter_rows(min_row=2)):
            if number % 10 or not row[unit_col].value:
                continue
            current = str(row[unit_col].value)
            row[unit_col].value = next(u for u in unit_ids if u != current)
            row[name_col].value = None
            changed += 1
    workbook.save(target)
    return changed


def respmap_dry_run(folder: Path, workbook: Path) -> tuple[float, int, int]:
    from api.workbook_import import read_workbook
    from geo import load_dataset
    from geo.assignment_edit import prepare_edit

    ds = load_dataset(folder)
    start = time.perf_counter()
    prepared = prepare_edit(ds, read_workbook(workbook, ds), EFFECTIVE)
    seconds = time.perf_counter() - start
    diff = prepared.plan.diff
    return seconds, len(diff.changed) + len(diff.opened) + len(diff.closed), len(prepared.findings)


def respmap_apply(folder: Path, workbook: Path) -> float:
    """Applying: the new version written and fsynced, the link switched (the check is not timed again)."""
    from api.workbook_import import read_workbook
    from geo import load_dataset
    from geo.assignment_edit import apply_edit, prepare_edit

    ds = load_dataset(folder)
    prepared = prepare_edit(ds, read_workbook(workbook, ds), EFFECTIVE)
    start = time.perf_counter()
    apply_edit(prepared, by="bench", reason="bench")
    return time.perf_counter() - start


def reference_write(folder: Path) -> float:
    """What a user's script does to save: both tables rewritten in place with pandas, no version, no fsync."""
    import pandas as pd

    start = time.perf_counter()
    for name in ("assignments.csv", "units.csv"):
        table = pd.read_csv(folder / name, dtype=str, keep_default_na=False)
        table.to_csv(folder / name, index=False)
    return time.perf_counter() - start


def reference_diff(folder: Path, workbook: Path) -> tuple[float, int]:
    import pandas as pd

    start = time.perf_counter()
    sheets = pd.read_excel(workbook, sheet_name=None, dtype=str)
    rows = pd.concat([s for s in sheets.values() if "编号" in s.columns and "单位编号" in s.columns])
    role_codes = {"牵头": "lead", "配合": "shared", "监督": "supervisor"}
    edited = pd.DataFrame(
        {
            "feature_id": rows["编号"],
            "unit_id": rows["单位编号"],
            "role": rows["角色"].map(role_codes),
            "from_m": pd.to_numeric(rows.get("路段起点（米）"), errors="coerce").round(1),
            "to_m": pd.to_numeric(rows.get("路段终点（米）"), errors="coerce").round(1),
        }
    ).dropna(subset=["unit_id"])
    current = pd.read_csv(folder / "assignments.csv", dtype=str, keep_default_na=False)
    until = pd.to_datetime(current["valid_until"].replace("", None))
    current = current[until.isna() | (until >= pd.Timestamp(EFFECTIVE))]
    current = pd.DataFrame(
        {
            "feature_id": current["feature_id"],
            "unit_id": current["unit_id"],
            "role": current["role"].replace("", "lead"),
            "from_m": pd.to_numeric(current["from_m"], errors="coerce").round(1),
            "to_m": pd.to_numeric(current["to_m"], errors="coerce").round(1),
        }
    )
    merged = current.merge(edited, how="outer", indicator=True)
    differing = int((merged["_merge"] != "both").sum())
    return time.perf_counter() - start, differing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    source = dataset_folder(args.scale)
    with tempfile.TemporaryDirectory(prefix="respmap-bench-import-") as tmp:
        folder = Path(tmp) / "data"
        shutil.copytree(source, folder, ignore=shutil.ignore_patterns("data", "history"))
        from geo import load_dataset
        from maps.tables import export_table

        ds = load_dataset(folder)
        exported, edited = Path(tmp) / "exported.xlsx", Path(tmp) / "edited.xlsx"
        export_table(ds, exported, date="2026-12-01")
        changed = edit_workbook(exported, edited, sorted(ds.units["unit_id"]))
        ours = [respmap_dry_run(folder, edited) for _ in range(args.repeat)]
        theirs = [reference_diff(folder, edited) for _ in range(args.repeat)]
        write_copy = Path(tmp) / "write"
        shutil.copytree(folder, write_copy)
        reference_write_s = reference_write(write_copy)
        apply_s = respmap_apply(folder, edited)
    ours_s = statistics.median(o[0] for o in ours)
    theirs_s = statistics.median(t[0] for t in theirs)
    print(f"dataset: {source} ({len(ds.assignments)} assignment rows, {changed} rows edited in the workbook)")
    print(f"respmap read + diff + full check: {ours_s:.2f} s ({ours[0][1]} rows differ, {ours[0][2]} findings)")
    print(
        f"reference read_excel + merge:     {theirs_s:.2f} s "
        f"({theirs[0][1]} rows differ, a change counting twice; nothing checked)"
    )
    print(f"ratio respmap / reference: {ours_s / theirs_s:.1f}x")
    print(f"respmap apply (new version written, fsynced, link switched): {apply_s:.3f} s")
    print(f"reference to_csv of both tables in place (no version, no fsync): {reference_write_s:.3f} s")
    print(f"ratio respmap / reference: {apply_s / reference_write_s:.1f}x")


if __name__ == "__main__":
    main()
