"""The atlas: one PDF with a cover map, a table of contents and a page per unit (or district).

Each entry's page shows its zones on a map fitted to them, the other zones
around them in grey, and a table of its zones (layer, name, id, stretch,
length or area, standard, role); a table too long for the page continues on
the next ones. The table of contents gives each entry's first page.

Built for speed (the demo's 156 units in well under a minute on two cores):
the scene (projection, stretch lines, spatial index) is prepared once; one
figure is reused for every page; a page draws only what its index query
returns, with district outlines simplified to about a pixel; the figure runs
at 100 dpi (the PDF is vector, dpi only sizes the label measurements).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo import Dataset
from maps.print_style import TEXT_COLOR
from maps.scene import Scene, scene_for
from maps.static import (
    MM_PER_INCH,
    DrawnMap,
    MapOptions,
    MapRequestError,
    View,
    as_plain_text,
    draw_map,
    new_figure,
    page_size_in,
    report_style,
    resolve_view,
    source_line,
    subtitle,
)
from maps.wording import role_label, size_label, stretch_label, words

ATLAS_BY = ("unit", "district")
ATLAS_DPI = 100
ROW_MM = 5.2
TABLE_FONT_PT = 7.2
MARGIN_MM = 12.0
MAP_HEIGHT_MM = 138.0
TOC_ROW_MM = 5.0
ROLE_ORDER = {"lead": 0, "shared": 1, "supervisor": 2, "": 3}


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    width_mm: float
    align: str = "left"


UNIT_COLUMNS = (
    Column("col_layer", 30),
    Column("col_name", 48),
    Column("feature_id", 22),
    Column("col_stretch", 28),
    Column("col_size", 24, "right"),
    Column("col_standard", 17),
    Column("col_role", 17),
)
DISTRICT_COLUMNS = (
    Column("col_layer", 27),
    Column("col_name", 40),
    Column("col_stretch", 26),
    Column("col_unit", 44),
    Column("col_size", 22, "right"),
    Column("col_standard", 14),
    Column("col_role", 13),
)


@dataclass
class AtlasEntry:
    """One unit or district: its view, its table rows, and where its pages start."""

    key: str
    name: str
    view: View
    rows: list[tuple[str, ...]]
    info: str
    first_page: int = 0
    pages: int = 1


@dataclass(frozen=True, slots=True)
class AtlasResult:
    path: Path
    pages: int
    entries: int
    toc_pages: int


@dataclass
class _Layout:
    page_w_mm: float
    page_h_mm: float
    rows_first: int
    rows_next: int
    toc_rows: int
    toc_columns: int = 2
    extra: dict[str, Any] = field(default_factory=dict)


def render_atlas(
    ds: Dataset,
    path: str | Path,
    *,
    by: str = "unit",
    options: MapOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
    rows_per_page: int | None = None,
    contents_rows: int | None = None,
) -> AtlasResult:
    """Write the atlas PDF to ``path``; ``progress(done, total)`` is called after each page.

    ``rows_per_page`` caps the table rows on an entry's pages and
    ``contents_rows`` the rows per column of contents (tests use them to
    force continued tables and contents on small data).
    """
    from matplotlib.backends.backend_pdf import PdfPages

    if by not in ATLAS_BY:
        raise MapRequestError(f"--by {by!r} must be unit or district")
    options = (options or MapOptions()).checked()
    scene = scene_for(ds, options.date)
    if by == "district" and not len(scene.district_ids):
        raise MapRequestError("this dataset has no districts (no [frame] layer): use --by unit")
    orientation = "portrait" if options.orientation == "auto" else options.orientation
    width_in, height_in = page_size_in(options.paper, orientation)
    layout = _layout(width_in * MM_PER_INCH, height_in * MM_PER_INCH, rows_per_page)
    entries = _entries(scene, by)
    cover = _cover_plan(scene, layout, options)
    if contents_rows is not None:
        layout.toc_rows = max(1, contents_rows)
        cover = replace(cover, toc_rows=min(cover.toc_rows, max(1, contents_rows)))
    on_cover = min(len(entries), cover.toc_rows * layout.toc_columns)
    per_page = layout.toc_rows * layout.toc_columns
    toc_pages = math.ceil((len(entries) - on_cover) / per_page)
    page = 2 + toc_pages
    for entry in entries:
        entry.first_page = page
        extra = max(0, len(entry.rows) - layout.rows_first)
        entry.pages = 1 + math.ceil(extra / layout.rows_next)
        page += entry.pages
    total_pages = page - 1
    w = words(scene.lang)
    title = f"{ds.name} {w['atlas_title']}"
    subtitle_by = w["atlas_by_unit"] if by == "unit" else w["atlas_by_district"]
    cover_title = f"{title}（{subtitle_by}）" if scene.lang != "en" else f"{title} ({subtitle_by})"

    with report_style(vector=True):
        fig = new_figure(width_in, height_in, ATLAS_DPI)
        with PdfPages(path, metadata={"Title": title, "Creator": "respmap"}) as pdf:
            _cover_page(fig, scene, layout, cover, cover_title, entries[:on_cover], options)
            _footer(fig, scene, layout, 1, total_pages)
            as_plain_text(fig)
            pdf.savefig(fig)
            done = 1
            if progress:
                progress(done, total_pages)
            for toc_page in range(toc_pages):
                fig.clear()
                chunk = entries[on_cover + toc_page * per_page : on_cover + (toc_page + 1) * per_page]
                _toc_page(fig, scene, layout, chunk)
                _footer(fig, scene, layout, 2 + toc_page, total_pages)
                as_plain_text(fig)
                pdf.savefig(fig)
                done += 1
                if progress:
                    progress(done, total_pages)
            entry_options = MapOptions(
                paper=options.paper,
                orientation=orientation,
                dpi=ATLAS_DPI,
                color_by=options.color_by or ("layer" if by == "unit" else "unit"),
                hatch=options.hatch,
                labels=options.labels,
                inset=True if options.inset is None else options.inset,
                date=options.date,
            )
            fig.clear()
            previous: DrawnMap | None = None
            for entry in entries:
                for part in range(entry.pages):
                    _clear_page(fig)
                    previous = _entry_page(fig, scene, layout, entry, part, by, entry_options, previous)
                    _footer(fig, scene, layout, entry.first_page + part, total_pages)
                    as_plain_text(fig)
                    pdf.savefig(fig)
                    done += 1
                    if progress:
                        progress(done, total_pages)
    return AtlasResult(Path(path), total_pages, len(entries), toc_pages)


# -- planning -----------------------------------------------------------------------
def _layout(page_w_mm: float, page_h_mm: float, rows_per_page: int | None) -> _Layout:
    table_top_first = 24 + MAP_HEIGHT_MM * (page_h_mm / 297.0) + 14
    rows_first = int((page_h_mm - table_top_first - 18) // ROW_MM) - 1
    rows_next = int((page_h_mm - 24 - 14) // ROW_MM) - 1
    if rows_per_page is not None:
        rows_first = max(1, min(rows_first, rows_per_page))
        rows_next = max(1, min(rows_next, rows_per_page))
    toc_rows = int((page_h_mm - 30 - 14) // TOC_ROW_MM)
    return _Layout(page_w_mm, page_h_mm, max(rows_first, 1), max(rows_next, 1), max(toc_rows, 1))


def _entries(scene: Scene, by: str) -> list[AtlasEntry]:
    ds = scene.ds
    w = words(scene.lang)
    entries: list[AtlasEntry] = []
    if by == "unit":
        for record in ds.units.itertuples(index=False):
            view = resolve_view(scene, unit=record.unit_id)
            rows = _zone_rows(scene, view.focus, by)
            rows += [
                (
                    ds.layer_spec(ds.catalog.frame.layer).title_in(scene.lang)
                    if ds.catalog and ds.catalog.frame
                    else w["districts"],
                    str(scene.district_names[p]),
                    str(scene.district_ids[p]),
                    w["whole"],
                    "",
                    "",
                    w["fallback"],
                )
                for p in view.fallback_districts
            ]
            info = _unit_info(scene, record, view)
            entries.append(AtlasEntry(record.unit_id, str(record.name or record.unit_id), view, rows, info))
    else:
        for district_id, name in zip(scene.district_ids, scene.district_names, strict=True):
            view = resolve_view(scene, district=district_id)
            rows = _zone_rows(scene, view.focus, by)
            fallback = ds.frame.loc[ds.frame["district_id"] == district_id, "fallback_unit"]
            hq = str(fallback.iat[0]) if len(fallback) else ""
            names = dict(zip(ds.units["unit_id"], ds.units["name"], strict=False))
            info = (
                f"{w['fallback']}：{names.get(hq, hq) or '—'}"
                if scene.lang != "en"
                else (f"{w['fallback']}: {names.get(hq, hq) or '-'}")
            )
            info += "  ·  " + w["zones_count"].format(n=len(view.focus))
            entries.append(AtlasEntry(str(district_id), str(name), view, rows, info))
    return entries


def _zone_rows(scene: Scene, positions: np.ndarray, by: str) -> list[tuple[str, ...]]:
    """Table rows for zones, by layer (catalog order), then name, then stretch."""
    if not len(positions):
        return []
    lang = scene.lang
    zones = scene.zones.iloc[np.asarray(positions, dtype=int)].copy()
    layer_order = {spec.id: i for i, spec in enumerate(scene.ds.catalog.layers)} if scene.ds.catalog else {}
    zones["_layer_rank"] = zones["layer"].map(lambda v: layer_order.get(v, 999))
    zones["_role_rank"] = zones["role"].map(lambda v: ROLE_ORDER.get(v, 9))
    zones = zones.sort_values(
        ["_layer_rank", "name", "feature_id", "from_m", "_role_rank"], kind="stable", na_position="first"
    )
    rows: list[tuple[str, ...]] = []
    for zone in zones.itertuples(index=False):
        layer = scene.layer_title(zone.layer)
        stretch = stretch_label(float(zone.from_m), float(zone.to_m), lang) if zone.kind == "line" else ""
        size = size_label(float(zone.length_m), float(zone.area_m2), lang)
        grade = str(zone.grade or "")
        role = role_label(str(zone.role), lang)
        if by == "unit":
            rows.append((layer, str(zone.name), str(zone.feature_id), stretch, size, grade, role))
        else:
            unit = str(zone.unit_name or zone.unit_id or "—")
            rows.append((layer, str(zone.name), stretch, unit, size, grade, role))
    return rows


def _unit_info(scene: Scene, record: Any, view: View) -> str:
    w = words(scene.lang)
    zones = scene.zones.iloc[view.focus]
    holding = zones[zones["role"].isin(("lead", "shared"))]
    length_km = float(holding.loc[holding["kind"] == "line", "length_m"].sum()) / 1000
    area_ha = float(holding["area_m2"].fillna(0).sum()) / 10_000
    sep = "：" if scene.lang != "en" else ": "
    parts = [
        f"{record.unit_id}",
        f"{w['contact']}{sep}{record.contact or '—'}",
        f"{w['phone']}{sep}{record.phone or '—'}",
        w["zones_count"].format(n=len(view.focus)),
    ]
    if length_km > 0:
        parts.append(w["length_total"].format(km=length_km))
    if area_ha > 0:
        parts.append(w["area_total"].format(ha=area_ha))
    if len(view.fallback_districts):
        names = [str(scene.district_names[p]) for p in view.fallback_districts]
        parts.append(w["fallback_of"].format(names="、".join(names) if scene.lang != "en" else ", ".join(names)))
    return "  ·  ".join(parts)


# -- drawing pages --------------------------------------------------------------------
def _footer(fig: Any, scene: Scene, layout: _Layout, page: int, pages: int) -> None:
    mm_y = 1 / layout.page_h_mm
    fig.text(
        0.5,
        6 * mm_y,
        words(scene.lang)["page_of"].format(page=page, pages=pages),
        ha="center",
        va="center",
        fontsize=7,
        color="#555555",
    )


@dataclass(frozen=True, slots=True)
class _Cover:
    """Where the cover's map, legend and first rows of contents go (mm from the page top)."""

    map_top_mm: float
    map_height_mm: float
    toc_top_mm: float
    toc_rows: int


COVER_LEGEND_COLUMNS = 5


def _cover_plan(scene: Scene, layout: _Layout, options: MapOptions) -> _Cover:
    """The city map as wide as the page and as tall as its shape needs (at most half the page)."""
    width_mm = layout.page_w_mm - 2 * MARGIN_MM
    bounds = scene.bounds
    shape = (bounds[3] - bounds[1]) / max(bounds[2] - bounds[0], 1e-9)
    map_h = min(max(width_mm * shape * 1.08, 60.0), layout.page_h_mm * 0.5)
    layers = len(scene.ds.catalog.layers) if scene.ds.catalog else 6
    legend_mm = 6 + math.ceil(layers / COVER_LEGEND_COLUMNS) * 4.5
    map_top = 27.0
    toc_top = map_top + map_h + legend_mm + 12
    rows = int((layout.page_h_mm - toc_top - 16) // TOC_ROW_MM)
    return _Cover(map_top, map_h, toc_top, max(rows, 0))


def _cover_page(
    fig: Any,
    scene: Scene,
    layout: _Layout,
    cover: _Cover,
    title: str,
    entries: list[AtlasEntry],
    options: MapOptions,
) -> None:
    """Title, the city map coloured by layer, its legend, then the first rows of the contents."""
    w = words(scene.lang)
    mm_x, mm_y = 1 / layout.page_w_mm, 1 / layout.page_h_mm
    fig.text(0.5, 1 - 13 * mm_y, title, ha="center", va="center", fontsize=16, fontweight="bold", color=TEXT_COLOR)
    fig.text(0.5, 1 - 20.5 * mm_y, subtitle(scene), ha="center", va="center", fontsize=8.5, color="#444444")
    bottom = layout.page_h_mm - cover.map_top_mm - cover.map_height_mm
    rect = (MARGIN_MM * mm_x, bottom * mm_y, 1 - 2 * MARGIN_MM * mm_x, cover.map_height_mm * mm_y)
    city_options = MapOptions(
        paper=options.paper,
        orientation=options.orientation,
        dpi=ATLAS_DPI,
        color_by="layer",
        hatch=options.hatch,
        labels=options.labels,
        inset=False,
        date=options.date,
    )
    drawn = draw_map(fig, rect, scene, resolve_view(scene), city_options)
    fig.legend(
        drawn.handles,
        drawn.labels,
        loc="upper left",
        bbox_to_anchor=(MARGIN_MM * mm_x, (bottom - 2) * mm_y),
        ncols=COVER_LEGEND_COLUMNS,
        frameon=False,
        fontsize=7,
        title=drawn.categories.title,
        title_fontsize=7.5,
        alignment="left",
        handlelength=2.2,
        columnspacing=1.2,
        borderaxespad=0.0,
    )
    if entries:
        fig.text(
            MARGIN_MM * mm_x,
            1 - (cover.toc_top_mm - 6) * mm_y,
            w["contents"],
            ha="left",
            va="center",
            fontsize=12,
            fontweight="bold",
            color=TEXT_COLOR,
        )
        _toc_block(fig, scene, layout, entries, cover.toc_top_mm, cover.toc_rows)
    fig.text(
        MARGIN_MM * mm_x,
        10 * mm_y,
        fit_text(source_line(scene), layout.page_w_mm - 2 * MARGIN_MM, 5),
        ha="left",
        va="center",
        fontsize=5,
        color="#777777",
    )


def _toc_page(fig: Any, scene: Scene, layout: _Layout, entries: list[AtlasEntry]) -> None:
    mm_y = 1 / layout.page_h_mm
    fig.text(
        0.5,
        1 - 14 * mm_y,
        words(scene.lang)["contents"] + words(scene.lang)["continued"],
        ha="center",
        va="center",
        fontsize=15,
        fontweight="bold",
        color=TEXT_COLOR,
    )
    _toc_block(fig, scene, layout, entries, 30.0, layout.toc_rows)


def _toc_block(fig: Any, scene: Scene, layout: _Layout, entries: list[AtlasEntry], top_mm: float, rows: int) -> None:
    """Entries in columns from ``top_mm`` (from the page top): name (id) ...... first page."""
    from matplotlib.lines import Line2D

    mm_x, mm_y = 1 / layout.page_w_mm, 1 / layout.page_h_mm
    column_w = (layout.page_w_mm - 2 * MARGIN_MM - 8) / layout.toc_columns
    for position, entry in enumerate(entries):
        column, row = divmod(position, rows)
        x0 = MARGIN_MM + column * (column_w + 8)
        y = layout.page_h_mm - top_mm - row * TOC_ROW_MM
        label = fit_text(
            f"{entry.name}（{entry.key}）" if scene.lang != "en" else f"{entry.name} ({entry.key})", column_w - 14, 8
        )
        fig.text(x0 * mm_x, y * mm_y, label, ha="left", va="center", fontsize=8, color=TEXT_COLOR)
        fig.text(
            (x0 + column_w) * mm_x,
            y * mm_y,
            str(entry.first_page),
            ha="right",
            va="center",
            fontsize=8,
            color=TEXT_COLOR,
        )
        fig.add_artist(
            Line2D(
                [(x0 + text_width_mm(label, 8) + 1.5) * mm_x, (x0 + column_w - 8) * mm_x],
                [(y - 0.8) * mm_y] * 2,
                linestyle=(0, (1, 2)),
                linewidth=0.5,
                color="#999999",
            )
        )


def _clear_page(fig: Any) -> None:
    """Remove the page's texts, rules and legends; keep the axes for the next page to reuse."""
    for group in (fig.texts, fig.artists, fig.legends, fig.patches, fig.lines):
        for artist in list(group):
            artist.remove()


def _entry_page(
    fig: Any,
    scene: Scene,
    layout: _Layout,
    entry: AtlasEntry,
    part: int,
    by: str,
    options: MapOptions,
    previous: DrawnMap | None,
) -> DrawnMap | None:
    """Draw one page of an entry; returns the map (axes) for the next page to reuse."""
    w = words(scene.lang)
    mm_x, mm_y = 1 / layout.page_w_mm, 1 / layout.page_h_mm
    title = entry.name + (w["continued"] if part else "")
    fig.text(
        MARGIN_MM * mm_x, 1 - 11 * mm_y, title, ha="left", va="center", fontsize=14, fontweight="bold", color=TEXT_COLOR
    )
    fig.text(
        MARGIN_MM * mm_x,
        1 - 17.5 * mm_y,
        fit_text(entry.info, layout.page_w_mm - 2 * MARGIN_MM, 8),
        ha="left",
        va="center",
        fontsize=8,
        color="#444444",
    )
    columns = UNIT_COLUMNS if by == "unit" else DISTRICT_COLUMNS
    if part == 0:
        map_h = MAP_HEIGHT_MM * (layout.page_h_mm / 297.0)
        top = layout.page_h_mm - 22
        rect = (MARGIN_MM * mm_x, (top - map_h) * mm_y, 1 - 2 * MARGIN_MM * mm_x, map_h * mm_y)
        drawn = draw_map(fig, rect, scene, entry.view, options, simplify_context=True, reuse=previous)
        drawn.ax.set_visible(True)
        if not len(entry.view.focus) and not len(entry.view.fallback_districts):
            drawn.ax.text(
                0.5,
                0.5,
                w["no_zones"],
                transform=drawn.ax.transAxes,
                ha="center",
                va="center",
                fontsize=13,
                color="#333333",
                zorder=40,
                bbox={"facecolor": "white", "edgecolor": "#333333", "boxstyle": "round,pad=0.6"},
            )
        legend_top = top - map_h - 1.5
        if drawn.handles:
            fig.legend(
                drawn.handles,
                drawn.labels,
                loc="upper left",
                bbox_to_anchor=(MARGIN_MM * mm_x, legend_top * mm_y),
                ncols=4,
                frameon=False,
                fontsize=7,
                handlelength=2.2,
                columnspacing=1.2,
                borderaxespad=0.0,
                borderpad=0.0,
            )
        table_top = top - map_h - 13
        rows = entry.rows[: layout.rows_first]
    else:
        drawn = previous
        if previous is not None:  # a continuation page: no map
            previous.ax.set_visible(False)
            if previous.inset is not None:
                previous.inset.set_visible(False)
        table_top = layout.page_h_mm - 24
        start = layout.rows_first + (part - 1) * layout.rows_next
        rows = entry.rows[start : start + layout.rows_next]
    _table(fig, layout, columns, rows, table_top, scene.lang)
    if part == 0 and not entry.rows:
        fig.text(
            MARGIN_MM * mm_x,
            (table_top - 2 * ROW_MM) * mm_y,
            w["no_zones"],
            ha="left",
            va="center",
            fontsize=8,
            color="#555555",
        )
    fig.text(
        MARGIN_MM * mm_x,
        10 * mm_y,
        fit_text(source_line(scene), layout.page_w_mm - 2 * MARGIN_MM, 5),
        ha="left",
        va="center",
        fontsize=5,
        color="#777777",
    )
    return drawn


def _table(
    fig: Any, layout: _Layout, columns: tuple[Column, ...], rows: list[tuple[str, ...]], top_mm: float, lang: str
) -> None:
    """A ruled table: bold header, hairlines between rows, text cut to its column with an ellipsis."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle

    w = words(lang)
    mm_x, mm_y = 1 / layout.page_w_mm, 1 / layout.page_h_mm
    total_w = sum(c.width_mm for c in columns)
    x_left = MARGIN_MM
    headers = [w.get(c.key, "ID" if c.key == "feature_id" else c.key) for c in columns]
    if lang != "en":
        headers = [h if c.key != "feature_id" else "编号" for h, c in zip(headers, columns, strict=True)]
    fig.add_artist(
        Rectangle(
            (x_left * mm_x, (top_mm - ROW_MM) * mm_y),
            total_w * mm_x,
            ROW_MM * mm_y,
            facecolor="#e6e6e6",
            edgecolor="none",
            transform=fig.transFigure,
            zorder=0,
        )
    )
    for line_no, cells in enumerate([tuple(headers), *rows]):
        y_mid = top_mm - (line_no + 0.5) * ROW_MM
        x = x_left
        for column, cell in zip(columns, cells, strict=True):
            if not cell:
                x += column.width_mm
                continue
            text = fit_text(cell, column.width_mm - 2.0, TABLE_FONT_PT)
            anchor = x + column.width_mm - 3.0 if column.align == "right" and line_no else x + 1.0
            fig.text(
                anchor * mm_x,
                y_mid * mm_y,
                text,
                ha="right" if column.align == "right" and line_no else "left",
                va="center",
                fontsize=TABLE_FONT_PT,
                color=TEXT_COLOR,
                fontweight="bold" if line_no == 0 else "normal",
            )
            x += column.width_mm
        y_rule = top_mm - (line_no + 1) * ROW_MM
        fig.add_artist(
            Line2D(
                [x_left * mm_x, (x_left + total_w) * mm_x],
                [y_rule * mm_y] * 2,
                linewidth=0.8 if line_no == 0 else 0.3,
                color="#555555" if line_no == 0 else "#bbbbbb",
            )
        )
    fig.add_artist(
        Line2D([x_left * mm_x, (x_left + total_w) * mm_x], [top_mm * mm_y] * 2, linewidth=0.8, color="#555555")
    )


# -- text fitting ------------------------------------------------------------------------
def text_width_mm(text: str, fontsize_pt: float) -> float:
    """Approximate printed width: CJK and full-width characters one em, Latin about 0.56 em."""
    em_mm = fontsize_pt * MM_PER_INCH / 72.0
    width = 0.0
    for char in text:
        code = ord(char)
        if code >= 0x2E80 or 0xFF00 <= code <= 0xFFEF:
            width += 1.0
        elif char in "il.,:;|!'":
            width += 0.3
        elif char.isupper() or char in "mwMW@%":
            width += 0.72
        else:
            width += 0.56
    return width * em_mm


def fit_text(text: str, width_mm: float, fontsize_pt: float) -> str:
    """``text`` cut with an ellipsis so it fits ``width_mm`` at ``fontsize_pt``."""
    text = str(text).replace("\n", " ")
    if text_width_mm(text, fontsize_pt) <= width_mm:
        return text
    ellipsis_mm = text_width_mm("…", fontsize_pt)
    kept = text
    while kept and text_width_mm(kept, fontsize_pt) + ellipsis_mm > width_mm:
        kept = kept[:-1]
    return kept + "…"


def entries_frame(ds: Dataset, by: str = "unit", date: Any = None) -> pd.DataFrame:
    """The atlas's table of contents as data: key, name, rows (for tests and the report index)."""
    scene = scene_for(ds, date)
    return pd.DataFrame(
        [{"key": e.key, "name": e.name, "rows": len(e.rows)} for e in _entries(scene, by)],
        columns=["key", "name", "rows"],
    )
