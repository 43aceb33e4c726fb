"""The bulletin as PDF, from the same content as the DOCX, with matplotlib (no other PDF library).

Pages are A4 figures laid out top to bottom by a small flow layout
(:class:`PageFlow`): text is wrapped by character width (CJK characters are one
em wide, Latin about half), tables break across pages with their header
repeated, the map and the district charts are drawn as vectors (the cases as
an image when there are thousands), photos are scaled into their box. The CJK
font is embedded (see :mod:`maps.fonts`), so the PDF prints the same anywhere
and its text stays searchable.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from maps.bulletin import Bulletin, Table, district_chart_rows, draw_case_map, draw_district_charts

A4_IN = (8.27, 11.69)
MARGIN_IN = (0.9, 0.85, 0.9, 0.8)  # left, top, right, bottom
RED = "#c00000"
LINE_SPACING = 1.55
NO_LINE_START = frozenset("，。、；：！？）》」』】〕”’,.;:!?)%")


def text_width_em(text: str) -> float:
    """Width of ``text`` in ems: full-width (CJK) characters 1, others about 0.55."""
    return sum(1.0 if unicodedata.east_asian_width(c) in ("W", "F") else 0.55 for c in text)


def wrap(text: str, width_in: float, size_pt: float, *, indent_em: float = 0.0) -> list[str]:
    """Lines of ``text`` no wider than ``width_in`` at ``size_pt`` (the first line indented by ``indent_em``)."""
    limit_em = width_in * 72.0 / size_pt
    lines: list[str] = []
    current, used = "", indent_em
    for char in text:
        width = text_width_em(char)
        # closing punctuation never starts a line (避头点): it hangs at the end of this one
        if used + width > limit_em and current and char not in NO_LINE_START:
            lines.append(current)
            current, used = "", 0.0
        current += char
        used += width
    if current or not lines:
        lines.append(current)
    return lines


def fit(text: str, width_in: float, size_pt: float) -> str:
    """``text`` cut with an ellipsis to fit ``width_in`` (table cells never spill into the next)."""
    limit_em = width_in * 72.0 / size_pt
    if text_width_em(text) <= limit_em:
        return text
    out, used = "", 1.0
    for char in text:
        used += text_width_em(char)
        if used > limit_em:
            break
        out += char
    return out + "…"


class PageFlow:
    """Places blocks down A4 pages; a block that does not fit starts a new page.

    Every finished page is handed to ``emit`` (the PDF writer, or a test that
    renders the page to PNG).
    """

    def __init__(self, emit: Callable[[Any], None], footer: str) -> None:
        self.emit = emit
        self.footer = footer
        self.fig: Any = None
        self.page = 0
        self.size_in = A4_IN
        self.y_in = 0.0
        self._pitch: dict[float, float] = {}

    # -- pages -----------------------------------------------------------------
    def new_page(self, *, landscape: bool | None = None) -> None:
        from maps.static import new_figure

        if landscape is not None:
            self.size_in = (A4_IN[1], A4_IN[0]) if landscape else A4_IN
        self.finish_page()
        self.page += 1
        self.fig = new_figure(self.size_in[0], self.size_in[1], 72)
        self.y_in = MARGIN_IN[1]
        self.fig.text(0.5, 0.35 / self.size_in[1], f"— {self.page} —", ha="center", va="bottom", fontsize=9)
        if self.footer:
            self.fig.text(
                1 - MARGIN_IN[2] / self.size_in[0], 0.35 / self.size_in[1], self.footer, ha="right", va="bottom",
                fontsize=7, color="#666666",
            )  # fmt: skip

    def finish_page(self) -> None:
        if self.fig is not None:
            from maps.static import as_plain_text

            as_plain_text(self.fig)
            self.emit(self.fig)
            self.fig = None

    @property
    def width_in(self) -> float:
        return self.size_in[0] - MARGIN_IN[0] - MARGIN_IN[2]

    def room_in(self) -> float:
        return self.size_in[1] - MARGIN_IN[3] - self.y_in

    def ensure(self, height_in: float) -> None:
        if self.fig is None or height_in > self.room_in():
            self.new_page()

    def _fx(self, x_in: float) -> float:
        return x_in / self.size_in[0]

    def _fy(self, y_in: float) -> float:
        return 1.0 - y_in / self.size_in[1]

    # -- blocks ------------------------------------------------------------------
    def line(self, text: str, size_pt: float, *, align: str = "left", bold: bool = False, color: str = "black",
             indent_em: float = 0.0) -> None:  # fmt: skip
        height = size_pt * LINE_SPACING / 72.0
        self.ensure(height)
        x = {"left": MARGIN_IN[0] + indent_em * size_pt / 72.0, "center": self.size_in[0] / 2}.get(
            align, self.size_in[0] - MARGIN_IN[2]
        )
        self.fig.text(
            self._fx(x), self._fy(self.y_in + height * 0.72), text, ha=align, va="baseline", fontsize=size_pt,
            fontweight="bold" if bold else "normal", color=color,
        )  # fmt: skip
        self.y_in += height

    def paragraph(self, text: str, size_pt: float = 12, *, indent: bool = True, align: str = "left") -> None:
        indent_em = 2.0 if indent else 0.0
        for k, piece in enumerate(wrap(text, self.width_in, size_pt, indent_em=indent_em)):
            self.line(piece, size_pt, indent_em=indent_em if k == 0 else 0.0, align=align)

    def space(self, height_in: float) -> None:
        self.y_in += height_in

    def rule(self, color: str = RED, width_pt: float = 2.0) -> None:
        from matplotlib.lines import Line2D

        self.ensure(0.1)
        y = self._fy(self.y_in + 0.04)
        self.fig.add_artist(
            Line2D([self._fx(MARGIN_IN[0]), self._fx(self.size_in[0] - MARGIN_IN[2])], [y, y], color=color,
                   linewidth=width_pt)
        )  # fmt: skip
        self.y_in += 0.12

    def table(self, table: Table, size_pt: float = 9.0) -> None:
        """A titled table; rows that do not fit go to the next page under a repeated header."""
        row_in = size_pt * 1.75 / 72.0
        self.ensure(row_in * 4 + (size_pt + 2) * LINE_SPACING / 72.0)
        self.line(table.title, size_pt + 2, align="center", bold=True)
        total = sum(table.widths)
        widths = [self.width_in * w / total for w in table.widths]
        pending = list(table.rows)
        while True:
            self._table_rows([table.columns], widths, row_in, size_pt, header=True)
            fitting = max(int(self.room_in() // row_in), 0)
            chunk, pending = pending[:fitting], pending[fitting:]
            self._table_rows(chunk, widths, row_in, size_pt)
            if not pending:
                break
            self.new_page()
        if table.note:
            self.space(0.04)
            self.paragraph(table.note, size_pt, indent=False)
        self.space(0.12)

    def _line_pitch_pt(self, size_pt: float) -> float:
        """Height matplotlib gives one line of text at ``size_pt`` with ``linespacing=1`` (font metrics)."""
        if size_pt not in self._pitch:
            renderer = self.fig.canvas.get_renderer()
            one = self.fig.text(0, 0, "国", fontsize=size_pt, linespacing=1.0)
            two = self.fig.text(0, 0, "国\n国", fontsize=size_pt, linespacing=1.0)
            scale = 72.0 / self.fig.dpi
            height_one = one.get_window_extent(renderer).height * scale
            self._pitch[size_pt] = two.get_window_extent(renderer).height * scale - height_one
            one.remove()
            two.remove()
        return self._pitch[size_pt]

    def _table_rows(self, rows: list[tuple[str, ...]], widths: list[float], row_in: float, size_pt: float, *,
                    header: bool = False) -> None:  # fmt: skip
        """Rows as one text per column (a line per row, spaced to the row height) and a grid of lines.

        One text object per column instead of per cell keeps a 156-unit appendix fast
        to lay out; the column's text reads top to bottom in rank order when copied.
        """
        from matplotlib.collections import LineCollection
        from matplotlib.patches import Rectangle

        if not rows:
            return
        top, height = self.y_in, row_in * len(rows)
        left = MARGIN_IN[0]
        edges = [left]
        for width in widths:
            edges.append(edges[-1] + width)
        if header:
            self.fig.add_artist(
                Rectangle((self._fx(left), self._fy(top + height)), (edges[-1] - left) / self.size_in[0],
                          height / self.size_in[1], facecolor="#e8e8e8", edgecolor="none")
            )  # fmt: skip
        spacing = row_in * 72.0 / self._line_pitch_pt(size_pt)
        for column, width in enumerate(widths):
            text = "\n".join(fit(str(row[column]), width - 0.06, size_pt) for row in rows)
            self.fig.text(
                self._fx(edges[column] + width / 2), self._fy(top), text, ha="center", va="top", fontsize=size_pt,
                linespacing=spacing, fontweight="bold" if header else "normal",
            )  # fmt: skip
        segments = [
            [(self._fx(left), self._fy(top + k * row_in)), (self._fx(edges[-1]), self._fy(top + k * row_in))]
            for k in range(len(rows) + 1)
        ]
        segments += [[(self._fx(x), self._fy(top)), (self._fx(x), self._fy(top + height))] for x in edges]
        self.fig.add_artist(LineCollection(segments, colors="#444444", linewidths=0.5))
        self.y_in += height

    def drawing(self, height_in: float, draw: Callable[[Any, tuple[float, float, float, float]], Any]) -> None:
        """A map or chart ``height_in`` tall across the text width, drawn by ``draw(fig, rect)``."""
        self.ensure(height_in)
        rect = (
            self._fx(MARGIN_IN[0]),
            self._fy(self.y_in + height_in),
            self.width_in / self.size_in[0],
            height_in / self.size_in[1],
        )
        draw(self.fig, rect)
        self.y_in += height_in

    def photo(self, path: Path, height_in: float) -> None:
        from PIL import Image

        with Image.open(path) as image:
            image.thumbnail((1200, 1200))
            pixels = image.convert("RGB")
            aspect = pixels.width / max(pixels.height, 1)
            width_in = min(height_in * aspect, self.width_in)
            height_in = width_in / aspect
            self.ensure(height_in)
            ax = self.fig.add_axes(
                (self._fx(MARGIN_IN[0] + 0.3), self._fy(self.y_in + height_in), width_in / self.size_in[0],
                 height_in / self.size_in[1])
            )  # fmt: skip
            ax.imshow(pixels)
            ax.axis("off")
        self.y_in += height_in + 0.08


def bulletin_pages(bulletin: Bulletin, emit: Callable[[Any], None]) -> int:
    """Lay ``bulletin`` out, handing each finished page figure to ``emit``; returns the number of pages.

    Must run inside :func:`maps.static.report_style` (fonts, the drawing lock).
    """
    flow = PageFlow(emit, footer=f"{bulletin.kind}{bulletin.number_line} · {bulletin.dataset_name}")
    flow.new_page()
    flow.line(bulletin.issuer, 20, align="center", bold=True, color=RED)
    flow.line(f"{bulletin.kind}  {bulletin.number_line}", 13, align="center")
    flow.line(bulletin.issued_line, 11, align="right")
    flow.rule()
    flow.space(0.1)
    for piece in wrap(bulletin.title, flow.width_in, 17):
        flow.line(piece, 17, align="center", bold=True)
    flow.line(bulletin.period_line, 11, align="center")
    flow.space(0.08)

    flow.line("一、总体情况", 13, bold=True)
    flow.paragraph(bulletin.summary)
    flow.table(bulletin.figures)
    flow.line("二、排名情况", 13, bold=True)
    flow.paragraph(bulletin.praise)
    if bulletin.criticism:
        flow.paragraph(bulletin.criticism)
    flow.table(bulletin.unit_ranking)
    flow.table(bulletin.district_ranking)

    flow.new_page()
    flow.line("三、案件分布", 13, bold=True)
    flow.drawing(6.4, lambda fig, rect: draw_case_map(fig, rect, bulletin))
    flow.line(bulletin.map_caption, 10, align="center")
    flow.space(0.1)
    rows = max(1, -(-len(district_chart_rows(bulletin)) // 4))
    flow.ensure(0.3 + 1.5 * rows)  # the heading stays with its charts
    flow.line("四、各片区情况", 13, bold=True)
    flow.drawing(1.5 * rows, lambda fig, rect: draw_district_charts(fig, rect, bulletin))
    flow.line(bulletin.chart_caption, 10, align="center")
    flow.space(0.1)

    flow.line("五、超期未结案件", 13, bold=True)
    if not bulletin.overdue:
        flow.paragraph("本期无超期未结案件。")
    for entry in bulletin.overdue:
        flow.line(entry.heading, 11.5, bold=True)
        for text in entry.lines:
            flow.paragraph(text, 11, indent=False)
        for photo in entry.photos:
            flow.photo(photo, 2.2)
        if entry.missing_photos:
            flow.paragraph(f"（照片缺失：{'、'.join(entry.missing_photos)}）", 10, indent=False)

    flow.new_page(landscape=True)
    flow.table(bulletin.appendix, size_pt=6.5)
    flow.finish_page()
    return flow.page


def write_pdf(bulletin: Bulletin, path: str | Path) -> int:
    """Write ``bulletin`` as PDF; returns the number of pages."""
    from matplotlib.backends.backend_pdf import PdfPages

    from maps.static import report_style

    with report_style(vector=True):
        with PdfPages(
            str(path), metadata={"Title": bulletin.title, "Author": bulletin.issuer, "Creator": "respmap"}
        ) as pdf:
            return bulletin_pages(bulletin, lambda fig: pdf.savefig(fig, facecolor="white"))


def page_iter(bulletin: Bulletin) -> Iterator[Any]:
    """Every page figure (for tests and previews); call inside :func:`maps.static.report_style`."""
    pages: list[Any] = []
    bulletin_pages(bulletin, pages.append)
    yield from pages
