"""The bulletin as a Word document (python-docx), editable by the office in Word or WPS.

Laid out as Chinese official documents usually are: the issuing office in red
above a red rule, the number (第 N 期) and date, a centred title in 黑体, body
text in 仿宋 (the fonts Word and WPS map on any Chinese Windows), headings
一、二、三…, tables with a header row repeated on every page, the map and the
charts as 200 dpi pictures, the appendix on landscape pages. Every text comes
formatted from :class:`maps.bulletin.Bulletin`; nothing is computed here.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from maps.bulletin import Bulletin, Table, draw_case_map, draw_district_charts
from maps.fonts import UNPRINTABLE

TITLE_FONT = "黑体"
BODY_FONT = "仿宋"
HEADING_FONT = "黑体"
RED = (0xC0, 0x00, 0x00)


def write_docx(bulletin: Bulletin, path: str | Path) -> None:
    """Write ``bulletin`` to ``path`` as .docx."""
    from docx import Document
    from docx.enum.section import WD_ORIENT, WD_SECTION
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt, RGBColor

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    normal = document.styles["Normal"]
    normal.font.size = Pt(14)
    _east_asian(normal.element, BODY_FONT)
    normal.font.name = BODY_FONT
    core = document.core_properties
    core.title = bulletin.title
    core.author = bulletin.issuer
    core.subject = bulletin.period_line

    issuer = document.add_paragraph()
    issuer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(issuer, bulletin.issuer, TITLE_FONT, 22, bold=True, color=RGBColor(*RED))
    number = document.add_paragraph()
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(number, f"{bulletin.kind}  {bulletin.number_line}", BODY_FONT, 16)
    dated = document.add_paragraph()
    dated.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _run(dated, bulletin.issued_line, BODY_FONT, 14)
    _red_rule(dated)

    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(title, bulletin.title, TITLE_FONT, 20, bold=True)
    period = document.add_paragraph()
    period.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(period, bulletin.period_line, BODY_FONT, 14)

    _heading(document, "一、总体情况")
    _body(document, bulletin.summary)
    _table(document, bulletin.figures, Cm(10))

    _heading(document, "二、排名情况")
    _body(document, bulletin.praise)
    if bulletin.criticism:
        _body(document, bulletin.criticism)
    _table(document, bulletin.unit_ranking, Cm(15.6))
    _table(document, bulletin.district_ranking, Cm(15.6))

    _heading(document, "三、案件分布")
    document.add_picture(
        _png(lambda fig: draw_case_map(fig, (0.02, 0.02, 0.96, 0.96), bulletin), 6.3, 6.6), width=Cm(15.6)
    )
    _caption(document, bulletin.map_caption)

    _heading(document, "四、各片区情况")
    rows = max(1, -(-len([d for d in bulletin.assessment.districts if d.ranked]) // 4))
    document.add_picture(
        _png(lambda fig: draw_district_charts(fig, (0.0, 0.0, 1.0, 1.0), bulletin), 6.3, 1.55 * rows), width=Cm(15.6)
    )
    _caption(document, bulletin.chart_caption)

    _heading(document, "五、超期未结案件")
    if not bulletin.overdue:
        _body(document, "本期无超期未结案件。")
    for entry in bulletin.overdue:
        paragraph = document.add_paragraph()
        _run(paragraph, entry.heading, HEADING_FONT, 14)
        for line in entry.lines:
            _body(document, line, indent=False)
        for photo in entry.photos:
            document.add_picture(str(photo), width=Cm(7.0))
        if entry.missing_photos:
            _body(document, f"（照片缺失：{'、'.join(entry.missing_photos)}）", indent=False)

    appendix = document.add_section(WD_SECTION.NEW_PAGE)
    appendix.orientation = WD_ORIENT.LANDSCAPE
    appendix.page_width, appendix.page_height = Cm(29.7), Cm(21.0)
    appendix.top_margin, appendix.bottom_margin = Cm(2.0), Cm(2.0)
    appendix.left_margin, appendix.right_margin = Cm(1.5), Cm(1.5)
    _table(document, bulletin.appendix, Cm(26.7), size_pt=8)
    document.save(str(path))


def _east_asian(element: Any, font: str) -> None:
    """Set the East Asian font of a style or run (python-docx sets only the Latin one)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    properties = element.get_or_add_rPr()
    fonts = properties.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        properties.insert(0, fonts)
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia"):
        fonts.set(qn(attribute), font)


def _run(paragraph: Any, text: str, font: str, size_pt: float, *, bold: bool = False, color: Any = None) -> Any:
    from docx.shared import Pt

    run = paragraph.add_run(UNPRINTABLE.sub("", text))  # control characters are not allowed in DOCX XML
    run.font.size = Pt(size_pt)
    run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    _east_asian(run._element, font)
    return run


def _heading(document: Any, text: str) -> None:
    paragraph = document.add_paragraph()
    _run(paragraph, text, HEADING_FONT, 15, bold=True)


def _body(document: Any, text: str, *, indent: bool = True) -> None:
    from docx.shared import Pt

    paragraph = document.add_paragraph()
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(28)  # two characters, as official documents indent
    _run(paragraph, text, BODY_FONT, 14)


def _caption(document: Any, text: str) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    paragraph = document.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(paragraph, text, BODY_FONT, 11)


def _red_rule(paragraph: Any) -> None:
    """A red line under the paragraph (the 红头 rule under the issuing office)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    properties = paragraph._p.get_or_add_pPr()
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "18"), ("w:space", "4"), ("w:color", "C00000")):
        bottom.set(qn(key), value)
    border.append(bottom)
    properties.append(border)


def _table(document: Any, table: Table, width: Any, *, size_pt: float = 10.5) -> None:
    """A titled table, header row repeated on every page, columns sized by ``table.widths``."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(title, table.title, HEADING_FONT, 12, bold=True)
    grid = document.add_table(rows=1, cols=len(table.columns))
    grid.style = "Table Grid"
    total = sum(table.widths)
    widths = [int(width * w / total) for w in table.widths]
    header = grid.rows[0]
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    header._tr.get_or_add_trPr().append(repeat)
    for cell, text, cell_width in zip(header.cells, table.columns, widths, strict=True):
        cell.width = cell_width
        _cell_text(cell, text, size_pt, bold=True)
    for values in table.rows:
        cells = grid.add_row().cells
        for cell, text, cell_width in zip(cells, values, widths, strict=True):
            cell.width = cell_width
            _cell_text(cell, text, size_pt)
    if table.note:
        note = document.add_paragraph()
        _run(note, table.note, BODY_FONT, 10.5)


def _cell_text(cell: Any, text: str, size_pt: float, *, bold: bool = False) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    paragraph = cell.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(paragraph, text, BODY_FONT if not bold else HEADING_FONT, size_pt, bold=bold)


def _png(draw: Any, width_in: float, height_in: float, dpi: int = 200) -> io.BytesIO:
    """A drawing rendered to PNG in memory with the report style (CJK font)."""
    from maps.static import as_plain_text, new_figure, report_style

    with report_style():
        fig = new_figure(width_in, height_in, dpi)
        draw(fig)
        as_plain_text(fig)
        stream = io.BytesIO()
        fig.savefig(stream, format="png", dpi=dpi, facecolor="white")
    stream.seek(0)
    return stream
