"""The report kit: every map, table and layer a report writer needs, in one folder with an index.

``build_report(ds, "kit")`` writes:

    index.html                 links to everything below, with the key figures
    city.html                  the interactive map (when maps.interactive is available)
    city.png, city.pdf         the printable city map (A4 landscape/portrait to fit, A3 PDF)
    units/<id>.png             one map per unit
    districts/<id>.png         one map per district
    atlas.pdf                  cover, contents, a page per unit
    atlas_districts.pdf        the same per district
    responsibility.xlsx/.csv   the responsibility table (责任分工表)
    duty_zones.geojson/.gpkg   the zones with every joined attribute
    coverage/                  coverage.json and gaps/conflicts/unheld/... GeoJSON

The kit is built in a temporary folder beside the target and swapped in at the
end, so a run that fails (or is interrupted) leaves the previous kit whole.
A folder that exists but is not a kit (no marker file) is never replaced.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from geo import Dataset
from maps.static import MapOptions
from maps.wording import total_label, words

KIT_MARKER = ".respmap-kit"
UNIT_MAP_DPI = 150


class ReportFolderError(ValueError):
    """The output folder cannot be used (it is a file, or a folder that is not a report kit)."""


@dataclass
class ReportResult:
    folder: Path
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class _Kit:
    """The state of a build in progress: where to write, what was written, what could not be."""

    ds: Dataset
    root: Path
    date: pd.Timestamp
    options: MapOptions
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unit_files: dict[str, str] = field(default_factory=dict)
    district_files: dict[str, str] = field(default_factory=dict)
    coverage: dict[str, Any] | None = None
    coverage_files: list[str] = field(default_factory=list)
    tick: Callable[[int], Any] = lambda n: None

    def path(self, relative: str) -> Path:
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def wrote(self, relative: str) -> None:
        self.files.append(relative)


def safe_file_name(key: str) -> str:
    """A file name for an id: letters, digits, ``._-`` kept; anything else replaced, with a hash to stay unique."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", key).strip("._") or "item"
    if cleaned != key:
        cleaned = f"{cleaned[:40]}-{hashlib.sha1(key.encode('utf-8')).hexdigest()[:8]}"
    return cleaned[:60]


def build_report(
    ds: Dataset,
    folder: str | Path,
    *,
    date: Any = None,
    options: MapOptions | None = None,
    progress: bool | None = None,
    unit_maps: bool = True,
) -> ReportResult:
    """Build the kit into ``folder`` (replacing a previous kit there); returns what was written.

    ``progress``: a tqdm bar on stderr; None shows it only when stderr is a terminal.
    Raises :class:`ReportFolderError` for an unusable folder; any failure leaves the old kit untouched.
    """
    started = time.perf_counter()
    target = Path(folder)
    _check_target(target)
    when = ds.reference_date if date is None else pd.Timestamp(date).normalize()
    options = (options or MapOptions()).checked()
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.building-", dir=target.parent))
    kit = _Kit(ds, staging, when, options)
    steps = _steps(kit, unit_maps)
    try:
        bar = _progress_bar(sum(weight for _name, weight, _step in steps), progress)
        try:
            kit.tick = bar.update
            for name, weight, step in steps:
                bar.set_description(name)
                before = bar.n
                step(kit)
                bar.update(max(0, weight - (bar.n - before)))  # top up steps that did not tick
        finally:
            bar.close()
        _write_index(kit)
        (staging / KIT_MARKER).write_text("respmap report kit\n", encoding="utf-8")
        _make_readable(staging)
        _swap_in(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ReportResult(target, kit.files, kit.notes, time.perf_counter() - started)


# -- the steps ---------------------------------------------------------------------------
def _steps(kit: _Kit, unit_maps: bool) -> list[tuple[str, int, Callable[[_Kit], None]]]:
    n_units = len(kit.ds.units) if unit_maps else 0
    n_frame = len(kit.ds.frame) if kit.ds.frame is not None else 0
    n_districts = n_frame if unit_maps else 0
    return [
        ("tables", 2, _tables),
        ("zones", 2, _zones),
        ("city map", 4, _city_maps),
        ("interactive map", 2, _interactive),
        ("unit maps", max(n_units, 1), _unit_maps if unit_maps else _skip),
        ("district maps", max(n_districts, 1), _district_maps if unit_maps else _skip),
        ("atlas", max(len(kit.ds.units) + n_frame, 1), _atlases),
        ("coverage", 3, _coverage),
    ]


def _skip(kit: _Kit) -> None:
    return None


def _tables(kit: _Kit) -> None:
    from maps.tables import export_table

    for name in ("responsibility.xlsx", "responsibility.csv"):
        export_table(kit.ds, kit.path(name), date=kit.date)
        kit.wrote(name)


def _zones(kit: _Kit) -> None:
    from geo.export import export_zones

    for name in ("duty_zones.geojson", "duty_zones.gpkg"):
        export_zones(kit.ds, kit.path(name), date=kit.date)
        kit.wrote(name)


def _city_maps(kit: _Kit) -> None:
    from dataclasses import replace

    from maps.static import render_map

    render_map(kit.ds, kit.path("city.png"), options=replace(kit.options, date=kit.date))
    kit.wrote("city.png")
    render_map(kit.ds, kit.path("city.pdf"), options=replace(kit.options, date=kit.date, paper="A3"))
    kit.wrote("city.pdf")


def _interactive(kit: _Kit) -> None:
    """The interactive map, when the interactive-maps module is there and its assets are installed."""
    try:
        from maps.interactive import options_from
        from maps.interactive import render_map as render_html
        from maps.vendor import AssetsMissingError
    except ImportError as exc:
        kit.notes.append(f"interactive map not available: maps.interactive could not be imported ({exc})")
        return
    try:
        page = render_html(kit.ds, options_from({"date": kit.date.date().isoformat()}), inline=True)
    except AssetsMissingError as exc:  # Leaflet not installed: the rest of the kit is still useful
        kit.notes.append(f"interactive map not written: {str(exc)[:300]}")
        return
    kit.path("city.html").write_text(page, encoding="utf-8")
    kit.wrote("city.html")


def _unit_maps(kit: _Kit) -> None:
    from dataclasses import replace

    from maps.static import render_map

    options = replace(kit.options, date=kit.date, dpi=min(kit.options.dpi, UNIT_MAP_DPI))
    for unit_id in kit.ds.units["unit_id"]:
        relative = f"units/{safe_file_name(str(unit_id))}.png"
        render_map(kit.ds, kit.path(relative), unit=str(unit_id), options=options)
        kit.unit_files[str(unit_id)] = relative
        kit.wrote(relative)
        kit.tick(1)


def _district_maps(kit: _Kit) -> None:
    from dataclasses import replace

    from maps.static import render_map

    if kit.ds.frame is None:
        return
    options = replace(kit.options, date=kit.date, dpi=min(kit.options.dpi, UNIT_MAP_DPI))
    for district_id in kit.ds.frame["district_id"]:
        relative = f"districts/{safe_file_name(str(district_id))}.png"
        render_map(kit.ds, kit.path(relative), district=str(district_id), options=options)
        kit.district_files[str(district_id)] = relative
        kit.wrote(relative)
        kit.tick(1)


def _atlases(kit: _Kit) -> None:
    from dataclasses import replace

    from maps.atlas import render_atlas

    options = replace(kit.options, date=kit.date)
    render_atlas(
        kit.ds, kit.path("atlas.pdf"), by="unit", options=options, progress=_share_of_bar(kit, len(kit.ds.units))
    )
    kit.wrote("atlas.pdf")
    if kit.ds.frame is not None and len(kit.ds.frame):
        render_atlas(
            kit.ds,
            kit.path("atlas_districts.pdf"),
            by="district",
            options=options,
            progress=_share_of_bar(kit, len(kit.ds.frame)),
        )
        kit.wrote("atlas_districts.pdf")


def _share_of_bar(kit: _Kit, share: int) -> Callable[[int, int], None]:
    """A page-progress callback that moves the kit's bar by ``share`` steps over the whole atlas."""
    given = [0]

    def progress(done: int, total: int) -> None:
        target = share * done // max(total, 1)
        kit.tick(target - given[0])
        given[0] = target

    return progress


def _coverage(kit: _Kit) -> None:
    """coverage.json and the problem layers, once geo.coverage is there."""
    try:
        from geo.coverage import PROBLEM_LAYERS, to_geojson
    except ImportError as exc:
        kit.notes.append(f"coverage layers not available: geo.coverage could not be imported ({exc})")
        return
    report = kit.ds.coverage(kit.date)
    data = report.to_dict()
    kit.path("coverage/coverage.json").write_text(
        json.dumps(data, ensure_ascii=False, indent=1, allow_nan=False), encoding="utf-8"
    )
    kit.wrote("coverage/coverage.json")
    kit.coverage = data
    for name in PROBLEM_LAYERS:
        frame = getattr(report, name, None)
        if frame is None:
            continue
        relative = f"coverage/{name}.geojson"
        kit.path(relative).write_text(
            json.dumps(to_geojson(frame), ensure_ascii=False, allow_nan=False), encoding="utf-8"
        )
        kit.wrote(relative)
        kit.coverage_files.append(relative)


# -- index.html ----------------------------------------------------------------------------
def _esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _href(relative: str) -> str:
    return _esc(quote(relative, safe="/"))


def _write_index(kit: _Kit) -> None:
    ds = kit.ds
    # The kit's words: the "kit_" entries of the one word table per language (maps/wording.py).
    w = {key.removeprefix("kit_"): text for key, text in words(ds.lang).items() if key.startswith("kit_")}
    files = set(kit.files)

    def link(relative: str, label_key: str) -> str:
        if relative in files:
            return f'<li><a href="{_href(relative)}">{_esc(w[label_key])}</a> <small>{_esc(relative)}</small></li>'
        return f"<li>{_esc(w[label_key])}: <em>{_esc(w['not_available'])}</em></li>"

    zones = ds.zones_on(kit.date)
    per_unit = zones.groupby("unit_id").size()
    per_district = zones.groupby("district_id").size()
    errors = sum(1 for f in ds.findings if f.level == "error")
    warnings_count = sum(1 for f in ds.findings if f.level == "warning")
    data_date = ds.catalog.data_date if ds.catalog and ds.catalog.data_date else "—"
    counts = []
    if ds.catalog is not None:
        for spec in ds.catalog.layers:
            if spec.id in ds.layers:
                counts.append(w["layer_counts"].format(title=spec.title_in(ds.lang), n=len(ds.layers[spec.id])))
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"en" if ds.lang == "en" else "zh-CN"}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'self'; style-src 'unsafe-inline'\">",
        f"<title>{_esc(ds.name)} · {_esc(w['title'])}</title>",
        "<style>body{font-family:'Noto Sans CJK SC','Microsoft YaHei','PingFang SC',sans-serif;max-width:60em;"
        "margin:2em auto;padding:0 1em;color:#222}h1{font-size:1.5em}h2{font-size:1.15em;border-bottom:1px solid #ccc;"
        "padding-bottom:.2em;margin-top:1.6em}table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;"
        "padding:.2em .6em;text-align:left}small{color:#777}img{max-width:100%;border:1px solid #ccc}"
        ".notes{background:#fff6e0;padding:.5em 1em}</style></head><body>",
        f"<h1>{_esc(ds.name)} · {_esc(w['title'])}</h1>",
        f"<p>{_esc(w['data_date'])} {_esc(data_date)} · {_esc(w['as_of'])} {_esc(kit.date.date().isoformat())} · "
        f"{_esc(w['generated'])} {_esc(dt.datetime.now().strftime('%Y-%m-%d %H:%M'))}</p>",
        f"<p>{_esc(w['counts'])}：{_esc('，'.join(counts) if ds.lang != 'en' else ', '.join(counts))}</p>"
        if counts
        else "",
        f"<p>{_esc(w['findings'].format(errors=errors, warnings=warnings_count))}</p>",
    ]
    if kit.notes:
        parts.append(f'<div class="notes"><h2>{_esc(w["notes"])}</h2><ul>')
        parts.extend(f"<li>{_esc(note)}</li>" for note in kit.notes)
        parts.append("</ul></div>")
    parts += [
        f"<h2>{_esc(w['maps'])}</h2><ul>",
        link("city.html", "city_html"),
        link("city.png", "city_png"),
        link("city.pdf", "city_pdf"),
        "</ul>",
    ]
    if "city.png" in files:
        parts.append(f'<p><a href="city.png"><img src="city.png" alt="{_esc(w["city_png"])}" width="640"></a></p>')
    parts += [
        f"<h2>{_esc(w['atlas'])}</h2><ul>",
        link("atlas.pdf", "atlas_units"),
        link("atlas_districts.pdf", "atlas_districts"),
        "</ul>",
        f"<h2>{_esc(w['tables'])}</h2><ul>",
        link("responsibility.xlsx", "xlsx"),
        link("responsibility.csv", "csv"),
        "</ul>",
        f"<h2>{_esc(w['data'])}</h2><ul>",
        link("duty_zones.geojson", "geojson"),
        link("duty_zones.gpkg", "gpkg"),
        "</ul>",
        f"<h2>{_esc(w['coverage'])}</h2><ul>",
        link("coverage/coverage.json", "coverage_json"),
    ]
    for relative in kit.coverage_files:
        what = w.get(f"layer_{Path(relative).stem}", Path(relative).stem)
        parts.append(
            f'<li><a href="{_href(relative)}">{_esc(w["geojson_layer"].format(what=what))}</a> '
            f"<small>{_esc(relative)}</small></li>"
        )
    parts.append("</ul>")
    if kit.coverage:
        parts.append(_totals_table(kit.coverage.get("totals") or {}, ds, w["totals"]))
    if kit.unit_files:
        parts.append(
            f"<h2>{_esc(w['units'])}</h2><table><tr><th>{_esc(w['id'])}</th><th>{_esc(w['unit'])}</th>"
            f"<th>{_esc(w['zones'])}</th><th></th></tr>"
        )
        names = dict(zip(ds.units["unit_id"], ds.units["name"], strict=False))
        for unit_id, relative in kit.unit_files.items():
            parts.append(
                f"<tr><td>{_esc(unit_id)}</td><td>{_esc(names.get(unit_id, ''))}</td>"
                f'<td>{int(per_unit.get(unit_id, 0))}</td><td><a href="{_href(relative)}">{_esc(w["map"])}</a></td></tr>'
            )
        parts.append("</table>")
    if kit.district_files and ds.frame is not None:
        parts.append(
            f"<h2>{_esc(w['districts'])}</h2><table><tr><th>{_esc(w['id'])}</th>"
            f"<th>{_esc(w['district'])}</th><th>{_esc(w['zones'])}</th><th></th></tr>"
        )
        names = dict(zip(ds.frame["district_id"], ds.frame["name"], strict=False))
        for district_id, relative in kit.district_files.items():
            parts.append(
                f"<tr><td>{_esc(district_id)}</td><td>{_esc(names.get(district_id, ''))}</td>"
                f"<td>{int(per_district.get(district_id, 0))}</td>"
                f'<td><a href="{_href(relative)}">{_esc(w["map"])}</a></td></tr>'
            )
        parts.append("</table>")
    parts.append("</body></html>\n")
    kit.path("index.html").write_text("\n".join(p for p in parts if p), encoding="utf-8")
    kit.wrote("index.html")


def _totals_table(totals: dict[str, Any], ds: Dataset, caption: str) -> str:
    """The coverage totals under their words (never the raw keys); a total without words is left out."""
    titles = {spec.id: spec.title_in(ds.lang) for spec in ds.catalog.layers} if ds.catalog is not None else {}
    rows = []
    for key, value in totals.items():
        label = total_label(key, ds.lang, titles)
        if label is not None and isinstance(value, int | float | str):
            rows.append(f"<tr><th>{_esc(label)}</th><td>{_esc(_fmt(value))}</td></tr>")
    if not rows:
        return ""
    return f"<table><caption>{_esc(caption)}</caption>\n" + "\n".join(rows) + "\n</table>"


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


# -- the folder swap ---------------------------------------------------------------------------
def _check_target(target: Path) -> None:
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise ReportFolderError(f"the folder {parent} (where {target.name} would go) does not exist")
    if target.exists() and not target.is_dir():
        raise ReportFolderError(f"{target} exists and is not a folder")
    if target.is_dir() and any(target.iterdir()) and not (target / KIT_MARKER).is_file():
        raise ReportFolderError(
            f"{target} is a folder with other files in it, not an earlier report kit: "
            "choose a new or empty folder (respmap replaces only its own kits)"
        )


def _swap_in(staging: Path, target: Path) -> None:
    """Replace ``target`` with ``staging``: the old kit moves aside first and comes back if the rename fails."""
    if not target.exists():
        os.replace(staging, target)
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    aside.rmdir()
    os.replace(target, aside)
    try:
        os.replace(staging, target)
    except BaseException:
        os.replace(aside, target)
        raise
    shutil.rmtree(aside, ignore_errors=True)


def _make_readable(folder: Path) -> None:
    """mkdtemp makes a private folder (0700); a kit is ordinary files others may read."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(folder, 0o777 & ~umask)


def _progress_bar(total: int, enabled: bool | None) -> Any:
    import sys

    from tqdm import tqdm

    show = sys.stderr.isatty() if enabled is None else enabled
    return tqdm(total=total, disable=not show, unit="step", file=sys.stderr, leave=False)
