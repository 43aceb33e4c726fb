"""The assessment bulletin (考核通报 / 快报): one content model, written as DOCX or PDF.

A bulletin is laid out the way the office's documents are: the issuing office,
the title and its number (第 N 期), the period, then

一、总体情况   summary figures of the city;
二、排名情况   units ranked by score (the best praised, the worst named), districts ranked;
三、案件分布   a map of the period's cases over the responsibility map, by state, overdue standing out;
四、各片区情况 a small chart per district;
五、超期未结案件 the cases longest overdue, with their photos;
附表          every unit's figures.

:func:`build_bulletin` turns an :class:`geo.assessment.Assessment` into a
:class:`Bulletin` (texts and tables, every number formatted once, here);
:mod:`maps.bulletin_docx` and :mod:`maps.bulletin_pdf` only lay it out, so the
DOCX the office edits and the PDF it prints say the same thing. The map and the
charts are drawn by :func:`draw_case_map` and :func:`draw_district_charts`
into any matplotlib figure (a PNG for Word, a page of the PDF).

    >>> bulletin = build_bulletin(ds, assessment, number=11, photos={"C12": ["photos/c12.jpg"]})
    >>> write_bulletin(bulletin, "tongbao-2026-11.pdf")
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo import Dataset
from geo.assessment import Assessment, Standing

KINDS = ("通报", "快报")
FORMATS = (".pdf", ".docx")
# Case states as the map legend shows them, in drawing order (overdue drawn last, on top).
STATE_STYLE: dict[str, tuple[str, str, str]] = {
    # state: (label, face colour, marker)
    "closed": ("已结案", "#9e9e9e", "o"),
    "rectified": ("已处置待核查", "#4a90c2", "s"),
    "postponed": ("延期", "#d9a400", "D"),
    "dispatched": ("处置中", "#2e7d32", "^"),
    "reported": ("待立案", "#8e6bb8", "v"),
}
OVERDUE_STYLE = ("超期未结", "#d00000", "X")
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png")
MAX_PHOTOS_PER_CASE = 2
# A tie note names this many units, then says how many share the rank.
TIE_NAMES_SHOWN = 5


class BulletinError(ValueError):
    """A bulletin cannot be made as asked (unknown format, kind or number); the message says why."""


@dataclass(frozen=True)
class Table:
    """A table as text: every cell already formatted; ``widths`` relative column widths."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...]
    note: str = ""


@dataclass(frozen=True)
class OverdueEntry:
    """One overdue case: a heading line, detail lines, its photos (files that exist) and the ones that do not."""

    case_id: str
    heading: str
    lines: tuple[str, ...]
    photos: tuple[Path, ...] = ()
    missing_photos: tuple[str, ...] = ()


@dataclass(frozen=True)
class Bulletin:
    """Everything a bulletin says, formatted; written by :func:`write_bulletin`."""

    kind: str
    issuer: str
    title: str
    number: int
    number_line: str
    issued_line: str
    period_line: str
    summary: str
    figures: Table
    praise: str
    criticism: str
    unit_ranking: Table
    district_ranking: Table
    overdue: tuple[OverdueEntry, ...]
    appendix: Table
    map_caption: str
    chart_caption: str
    assessment: Assessment
    ds: Dataset
    dataset_name: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


# -- numbers as the documents print them (one place, so DOCX, PDF and tests agree) ------------


def percent(rate: float | None) -> str:
    """A rate in 0..1 as ``85.0%``; no rate (nothing to measure) as ``—``."""
    return "—" if rate is None or not math.isfinite(rate) else f"{rate * 100:.1f}%"


def points(score: float | None) -> str:
    return "—" if score is None else f"{score:.2f}"


def decimal(value: float | None, digits: int = 1) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def count(value: int | None) -> str:
    return "—" if value is None else f"{int(value):d}"


# -- building the content -----------------------------------------------------------------------


def default_number(assessment: Assessment) -> int:
    """第 N 期 when none is given: the month, quarter or half of the year; 1 for a year or a run of days."""
    period = assessment.period
    month = period.first_day.month
    return {"month": month, "quarter": (month - 1) // 3 + 1, "half": (month - 1) // 6 + 1}.get(period.kind, 1)


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _names(standings: Sequence[Standing]) -> str:
    return "、".join(f"{s.name or s.id}（{points(s.score)}分）" for s in standings)


def build_bulletin(
    ds: Dataset,
    assessment: Assessment,
    *,
    number: int | None = None,
    kind: str = "通报",
    issuer: str | None = None,
    photos: Mapping[str, Sequence[str | Path]] | None = None,
    issued: dt.date | None = None,
) -> Bulletin:
    """The bulletin of ``assessment`` (see the module docstring).

    Args:
        ds: the dataset (responsibility map, unit and district names).
        assessment: the period's assessment.
        number: 第 N 期; default :func:`default_number`.
        kind: 通报 (a period's assessment) or 快报 (a short campaign bulletin).
        issuer: the issuing office; default "<dataset name>环境卫生责任考核办公室".
        photos: case id -> photo files (the store's); missing or unreadable files are named, not fatal.
        issued: the issue date printed; default the day after the period.

    Raises:
        BulletinError: an unknown kind or a number below 1.
    """
    if kind not in KINDS:
        raise BulletinError(f"kind {kind[:20]!r} is not one of {', '.join(KINDS)}")
    number = default_number(assessment) if number is None else int(number)
    if number < 1:
        raise BulletinError(f"number {number} must be 1 or more (第 N 期)")
    period = assessment.period
    city = assessment.city.figures
    dataset_name = ds.name
    place = dataset_name.split("（")[0].split("(")[0].strip() or dataset_name
    issuer = issuer or f"{place}环境卫生责任考核办公室"
    issued = issued or period.last_day + dt.timedelta(days=1)
    ranked = assessment.ranked_units()
    best, worst = assessment.best(), assessment.worst()

    summary = (
        f"{period.label_zh}，全市共立案{count(city['attributed'])}件，应结案{count(city['due'])}件"
        f"（其中延期{count(city['postponed'])}件），按期结案{count(city['closed_on_time'])}件，"
        f"按期结案率{percent(city['on_time_rate'])}；本期立案已结案{count(city['closed'])}件，"
        f"结案率{percent(city['close_rate'])}；返工{count(city['rework'])}次，争议{count(city['disputes'])}次；"
        f"截至{period.last_day.month}月{period.last_day.day}日24时，超期未结{count(city['overdue_open'])}件。"
        f"参加排名单位{len(ranked)}个。"
    )
    figures = Table(
        title="表1 全市总体情况",
        columns=("指标", "数值"),
        rows=(
            ("立案数", count(city["attributed"])),
            ("应结案数", count(city["due"])),
            ("延期数", count(city["postponed"])),
            ("按期结案数", count(city["closed_on_time"])),
            ("按期结案率", percent(city["on_time_rate"])),
            ("结案数", count(city["closed"])),
            ("结案率", percent(city["close_rate"])),
            ("返工次数", count(city["rework"])),
            ("超期未结", count(city["overdue_open"])),
            ("平均处置时长（小时）", decimal(city["avg_hours_to_rectify"])),
            ("争议次数", count(city["disputes"])),
        ),
        widths=(3.0, 2.0),
    )
    top = [s for s in ranked if s.rank == 1]
    if len(top) > len(best):  # more share the top score than the bulletin names: say so, name none at random
        praise = f"{len(top)}个单位得分相同（{points(top[0].score)}分），并列第1名。"
    else:
        praise = f"成绩较好的单位：{_names(best)}。" if best else "本期无参加排名的单位。"
    criticism = f"成绩较差的单位：{_names(worst)}，予以通报批评，限期整改。" if worst else ""
    unit_ranking = Table(
        title="表2 责任单位排名",
        columns=("排名", "单位", "得分", "立案数", "按期结案率", "结案率", "超期未结", "返工"),
        rows=tuple(_unit_row(s) for s in ranked),
        widths=(0.8, 4.2, 1.0, 1.0, 1.3, 1.1, 1.0, 0.8),
        note=_tie_note(ranked),
    )
    districts = [d for d in assessment.districts if d.ranked]
    district_ranking = Table(
        title="表3 双创片区排名",
        columns=("排名", "片区", "得分", "立案数", "按期结案率", "结案率", "超期未结", "每万平方米案件"),
        rows=tuple(
            (
                count(d.rank),
                _short(d.name or d.id, 20),
                points(d.score),
                count(d.figures["attributed"]),
                percent(d.figures["on_time_rate"]),
                percent(d.figures["close_rate"]),
                count(d.figures["overdue_open"]),
                decimal(d.figures["cases_per_10000m2"], 2),
            )
            for d in districts
        ),
        widths=(0.8, 3.2, 1.0, 1.0, 1.3, 1.1, 1.0, 1.6),
        note=_tie_note(districts),
    )
    overdue = _overdue_entries(ds, assessment, photos or {})
    appendix = Table(
        title="附表 各责任单位考核指标",
        columns=(
            "排名",
            "单位编号",
            "单位",
            "得分",
            "立案",
            "应结案",
            "延期",
            "按期结案",
            "按期结案率",
            "结案",
            "结案率",
            "返工",
            "超期未结",
            "平均处置时长",
            "争议",
            "每公里案件",
            "每万平方米案件",
        ),
        rows=tuple(_appendix_row(s) for s in assessment.units),
        widths=(0.6, 0.9, 2.6, 0.8, 0.6, 0.7, 0.6, 0.8, 0.9, 0.6, 0.8, 0.6, 0.8, 0.9, 0.6, 0.8, 1.0),
        note="未排名单位：本期未承担责任区，不参加排名。",
    )
    return Bulletin(
        kind=kind,
        issuer=issuer,
        title=f"关于{period.label_zh}环境卫生责任考核情况的{kind}",
        number=number,
        number_line=f"第 {number} 期",
        issued_line=f"{issued.year}年{issued.month}月{issued.day}日",
        period_line=f"考核期间：{period.label_zh}（{period.first_day.isoformat()} 至 {period.last_day.isoformat()}）",
        summary=summary,
        figures=figures,
        praise=praise,
        criticism=criticism,
        unit_ranking=unit_ranking,
        district_ranking=district_ranking,
        overdue=overdue,
        appendix=appendix,
        map_caption=f"图1 {period.label_zh}案件分布（按案件状态，超期未结突出显示）",
        chart_caption="图2 各片区案件情况",
        assessment=assessment,
        ds=ds,
        dataset_name=dataset_name,
        notes=tuple(
            f"案件 {entry.case_id} 的照片未找到或无法读取：{', '.join(entry.missing_photos)}"
            for entry in overdue
            if entry.missing_photos
        ),
    )


def _unit_row(s: Standing) -> tuple[str, ...]:
    f = s.figures
    return (
        count(s.rank),
        _short(s.name or s.id, 24),
        points(s.score),
        count(f["attributed"]),
        percent(f["on_time_rate"]),
        percent(f["close_rate"]),
        count(f["overdue_open"]),
        count(f["rework"]),
    )


def _appendix_row(s: Standing) -> tuple[str, ...]:
    f = s.figures
    return (
        count(s.rank) if s.ranked else "未排名",
        _short(s.id, 12),
        _short(s.name, 20),
        points(s.score),
        count(f["attributed"]),
        count(f["due"]),
        count(f["postponed"]),
        count(f["closed_on_time"]),
        percent(f["on_time_rate"]),
        count(f["closed"]),
        percent(f["close_rate"]),
        count(f["rework"]),
        count(f["overdue_open"]),
        decimal(f["avg_hours_to_rectify"]),
        count(f["disputes"]),
        decimal(f["cases_per_km_street"], 2),
        decimal(f["cases_per_10000m2"], 2),
    )


def _tie_note(standings: Sequence[Standing]) -> str:
    """得分相同者并列 (and who, or how many when many), so a reader sees why units share a rank."""
    groups: dict[int, list[Standing]] = {}
    for s in standings:
        if s.tied_with and s.rank is not None:
            groups.setdefault(s.rank, []).append(s)
    if not groups:
        return ""
    parts = []
    for rank, members in sorted(groups.items()):
        shown = "、".join(m.name or m.id for m in members[:TIE_NAMES_SHOWN])
        more = f"等{len(members)}个" if len(members) > TIE_NAMES_SHOWN else ""
        parts.append(f"第{rank}名{shown}{more}得分相同（{points(members[0].score)}分），并列")
    return "注：" + "；".join(parts) + "（得分保留两位小数后比较，并列者按编号排列）。"


def _overdue_entries(
    ds: Dataset, assessment: Assessment, photos: Mapping[str, Sequence[str | Path]]
) -> tuple[OverdueEntry, ...]:
    table = assessment.overdue.head(max(assessment.rules.worst_overdue, 0))
    unit_names = dict(zip(ds.units["unit_id"].astype(str), ds.units["name"].astype(str), strict=False))
    district_names = (
        dict(zip(ds.frame["district_id"].astype(str), ds.frame["name"].astype(str), strict=False))
        if ds.frame is not None
        else {}
    )
    entries = []
    for position, row in enumerate(table.to_dict("records"), start=1):
        case_id = str(row["case_id"])
        units = [u.strip() for u in str(row.get("units") or "").split(",") if u.strip()]
        unit_text = "、".join(unit_names.get(u) or u for u in units) or "—"
        district = district_names.get(str(row.get("district_id") or ""), str(row.get("district_id") or "") or "—")
        place = str(row.get("feature_name") or "") or "—"
        due_local = pd.Timestamp(row["due_at"]).tz_convert(assessment.period.timezone)
        found: list[Path] = []
        missing: list[str] = []
        for photo in list(photos.get(case_id, ()))[:MAX_PHOTOS_PER_CASE]:
            path = Path(photo)
            if path.is_file() and path.suffix.lower() in PHOTO_SUFFIXES and _readable_image(path):
                found.append(path)
            else:
                missing.append(path.name)
        entries.append(
            OverdueEntry(
                case_id=case_id,
                heading=f"（{position}）案件 {_short(case_id, 30)}：{_short(str(row.get('category_name') or ''), 20)}",
                lines=(
                    f"位置：{_short(district, 20)} {_short(place, 30)}（{decimal(row.get('lon'), 5)}, {decimal(row.get('lat'), 5)}）",
                    f"责任单位：{_short(unit_text, 60)}",
                    f"处置时限：{due_local:%Y-%m-%d %H:%M}，已超期 {decimal(row['hours_overdue'])} 小时",
                ),
                photos=tuple(found),
                missing_photos=tuple(missing),
            )
        )
    return tuple(entries)


def _readable_image(path: Path) -> bool:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.verify()
    except (OSError, UnidentifiedImageError):
        return False
    return True


# -- drawings shared by both formats ------------------------------------------------------------


def draw_case_map(fig: Any, rect: tuple[float, float, float, float], bulletin: Bulletin) -> Any:
    """The period's cases over the responsibility map, in ``rect`` (figure fractions) of ``fig``.

    Zones in light grey, districts outlined, cases as markers by state; overdue
    cases larger, red, drawn on top. Scale bar and north arrow as on the static maps.
    """
    from pyproj import Transformer

    from maps.cartography import add_north_arrow, add_scale_bar, fit_extent, style_map_axes
    from maps.scene import scene_for
    from maps.static import draw_context, draw_districts

    ds = bulletin.ds
    scene = scene_for(ds, bulletin.assessment.period.last_day)
    legend_share = 0.1  # the bottom of ``rect`` holds the legend
    rect = (rect[0], rect[1] + rect[3] * legend_share, rect[2], rect[3] * (1 - legend_share))
    ax = fig.add_axes(rect)
    width_in = rect[2] * fig.get_size_inches()[0]
    height_in = rect[3] * fig.get_size_inches()[1]
    extent = fit_extent(scene.bounds, height_in / max(width_in, 1e-6))
    draw_districts(ax, scene, extent)
    draw_context(ax, scene, scene.zones_in(extent), scale=0.7)
    cases = bulletin.assessment.case_table
    if len(cases):
        lon = pd.to_numeric(cases["lon"], errors="coerce").to_numpy(dtype=float)
        lat = pd.to_numeric(cases["lat"], errors="coerce").to_numpy(dtype=float)
        x, y = Transformer.from_crs("EPSG:4326", ds.metric_crs, always_xy=True).transform(lon, lat)
        x, y = np.asarray(x), np.asarray(y)
        state = cases["state"].to_numpy(dtype=object)
        overdue = cases["overdue_open"].to_numpy(dtype=bool)
        size = 9 if len(cases) < 2000 else 3
        for key, (label, color, marker) in STATE_STYLE.items():
            chosen = (state == key) & ~overdue
            if chosen.any():
                ax.scatter(
                    x[chosen], y[chosen], s=size, c=color, marker=marker, linewidths=0.2, edgecolors="#333333",
                    label=f"{label}（{int(chosen.sum())}）", zorder=8, rasterized=len(cases) > 5000,
                )  # fmt: skip
        if overdue.any():
            label, color, marker = OVERDUE_STYLE
            ax.scatter(
                x[overdue], y[overdue], s=size * 4 + 16, c=color, marker=marker, linewidths=0.5, edgecolors="black",
                label=f"{label}（{int(overdue.sum())}）", zorder=9,
            )  # fmt: skip
        ax.legend(
            loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=3, fontsize=7, frameon=False, title="案件状态",
            title_fontsize=7,
        )  # fmt: skip
    style_map_axes(ax, extent)
    add_scale_bar(ax, extent, "zh", fontsize=6.5)
    add_north_arrow(ax, "zh", convergence_deg=scene.convergence_deg)
    return ax


def district_chart_rows(bulletin: Bulletin) -> list[Standing]:
    """The districts the chart shows: every ranked district, in rank order."""
    return [d for d in bulletin.assessment.districts if d.ranked]


def draw_district_charts(fig: Any, rect: tuple[float, float, float, float], bulletin: Bulletin) -> list[Any]:
    """A small chart per district in ``rect``: cases reported, closed on time, late, overdue open, rework."""
    districts = district_chart_rows(bulletin)
    if not districts:
        ax = fig.add_axes(rect)
        ax.axis("off")
        ax.text(0.5, 0.5, "本期无片区数据", ha="center", va="center", fontsize=10)
        return [ax]
    columns = 4
    rows = math.ceil(len(districts) / columns)
    left, bottom, width, height = rect
    cell_w, cell_h = width / columns, height / rows
    labels = ("立案", "应结", "按期", "超期", "返工")
    colors = ("#6b8fb3", "#9fb8cf", "#4f9a5a", "#d00000", "#8e6bb8")
    top = max(max(max(d.figures["attributed"], d.figures["due"]) for d in districts), 1)
    axes = []
    for k, district in enumerate(districts):
        row, column = divmod(k, columns)
        ax = fig.add_axes(
            (
                left + column * cell_w + cell_w * 0.16,
                bottom + (rows - 1 - row) * cell_h + cell_h * 0.22,
                cell_w * 0.78,
                cell_h * 0.56,
            )
        )
        f = district.figures
        values = (f["attributed"], f["due"], f["closed_on_time"], f["overdue_open"], f["rework"])
        ax.bar(range(len(values)), values, color=colors, width=0.7)
        for i, value in enumerate(values):
            ax.text(i, value + top * 0.02, str(value), ha="center", va="bottom", fontsize=5)
        ax.set_ylim(0, top * 1.18)
        ax.set_xticks(range(len(values)), labels, fontsize=5, rotation=0)
        ax.tick_params(axis="y", labelsize=5, length=2)
        ax.tick_params(axis="x", length=0)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.set_title(
            f"{_short(district.name or district.id, 10)}  第{count(district.rank)}名 "
            f"按期{percent(district.figures['on_time_rate'])}",
            fontsize=6.5,
            pad=3,
        )
        axes.append(ax)
    return axes


def write_bulletin(bulletin: Bulletin, path: str | Path) -> Path:
    """Write ``bulletin`` as ``.docx`` or ``.pdf`` (by the file name), atomically: a temporary file renamed."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise BulletinError(f"{path.name}: the file name must end in .pdf or .docx")
    temporary = path.with_name(f".{path.name}.partial")
    try:
        if suffix == ".docx":
            from maps.bulletin_docx import write_docx

            write_docx(bulletin, temporary)
        else:
            from maps.bulletin_pdf import write_pdf

            write_pdf(bulletin, temporary)
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)
    return path
