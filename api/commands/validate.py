"""``respmap validate``: load a dataset and report every finding.

Exit 0 when there are no errors (warnings are fine), 1 when there are, 2 for a
usage error. Counts are for the dataset's reference date (``--date``, else the
catalog's ``status_date``, else today), the same date every other command uses,
and the date is printed beside them. ``--fix`` repairs invalid geometries with make_valid and writes
the repaired layers beside the originals as ``<name>.fixed.geojson`` (never
over them).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from api.commands.common import (
    add_date_flag,
    add_json_flag,
    dataset_path,
    date_line,
    parse_date_option,
    print_json,
    print_text,
    stage_progress,
    write_atomically,
)
from geo import Dataset, load_dataset
from geo.findings import LEVELS

ORDER = 10
# Human output shows this many findings per (file, code); JSON shows all.
SHOWN_PER_CODE = 8


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "validate",
        parents=[common],
        help="check a dataset and list its problems",
        description="Load, validate and join a dataset; list findings grouped by file.",
    )
    add_json_flag(parser)
    add_date_flag(parser)
    parser.add_argument(
        "--fix",
        action="store_true",
        help="repair invalid geometries (make_valid) and write <file>.fixed.geojson copies",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    with stage_progress("loading") as stage:
        ds = load_dataset(dataset_path(args), fix=args.fix, status_date=parse_date_option(args.date), progress=stage)
    written = _write_fixed(ds) if args.fix else []
    if args.json:
        print_json(
            {
                "ok": ds.ok,
                "dataset": ds.name,
                "path": str(ds.path),
                "layers": {layer_id: {"features": count} for layer_id, count in ds.feature_counts().items()},
                "date": ds.reference_date.date().isoformat(),
                "date_source": ds.reference_date_source,
                "zones": len(ds.zones_on()),
                "zone_rows_all_dates": len(ds.duty_zones),
                "counts": {level: sum(1 for f in ds.findings if f.level == level) for level in LEVELS},
                "findings": [f.to_dict() for f in ds.findings],
                "fixed_files": [str(p) for p in written],
            }
        )
    else:
        _print_human(ds, written)
    return 0 if ds.ok else 1


def _print_human(ds: Dataset, written: list[Path]) -> None:
    lang = ds.lang
    print_text(f"{ds.name}  ({ds.path})")
    print_text(f"  {date_line(ds, 'en')}")
    if ds.catalog is not None:
        for spec in ds.catalog.layers:
            count = ds.feature_counts().get(spec.id)
            shown = "not loaded" if count is None else f"{count} features"
            print_text(f"  {spec.title_in(lang)} [{spec.id}]: {shown}")
        print_text(
            f"  units: {len(ds.units)}, standards: {len(ds.standards)}, assignments: {len(ds.assignments)}, "
            f"duty zones in force: {len(ds.zones_on())} ({len(ds.duty_zones)} rows over all dates)"
        )
    by_file: dict[str, list] = defaultdict(list)
    for finding in ds.findings:
        by_file[finding.file or "(dataset)"].append(finding)
    for file_name, items in by_file.items():
        print_text(f"\n{file_name}")
        per_code: dict[tuple[str, str], int] = defaultdict(int)
        for finding in sorted(items, key=lambda f: LEVELS.index(f.level)):
            key = (finding.level, finding.code)
            per_code[key] += 1
            if per_code[key] <= SHOWN_PER_CODE:
                print_text(f"  {finding.level:7} {finding.code}: {finding.message}")
        for (level, code), count in per_code.items():
            if count > SHOWN_PER_CODE:
                print_text(f"  {level:7} {code}: ... and {count - SHOWN_PER_CODE} more (see --json)")
    counts = {level: sum(1 for f in ds.findings if f.level == level) for level in LEVELS}
    print_text(f"\n{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} note(s)")
    for path in written:
        print_text(f"repaired copy written: {path}")
    print_text("OK" if ds.ok else "FAILED: fix the errors above")


def _write_fixed(ds: Dataset) -> list[Path]:
    """Write repaired layers beside the originals; the originals stay untouched."""
    written: list[Path] = []
    repaired_files = {f.file for f in ds.findings if f.code == "geometry_repaired"}
    if ds.catalog is None:
        return written
    for spec in ds.catalog.layers:
        if spec.file not in repaired_files or spec.id not in ds.layers:
            continue
        layer = ds.layers[spec.id]
        target = ds.path / (Path(spec.file).stem + ".fixed.geojson")
        keep = [c for c in layer.columns if c not in ("geometry",) and not c.startswith("__")]
        text = layer[[*keep, "geometry"]].to_json(drop_id=True, ensure_ascii=False)
        write_atomically(
            target,
            lambda tmp, text=text: tmp.write_text(json.dumps(json.loads(text), ensure_ascii=False), encoding="utf-8"),
        )
        written.append(target)
    return written
