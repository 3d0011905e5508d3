"""Builds the Word templates shipped in services/intake/document_templates/ (docxtpl: Jinja tags in Word).

The office edits those templates in Word, or its own copies (DOCUMENT_TEMPLATES names their folder);
this module only makes the starting point, in 公文 layout (GB/T 9704): A4, margins 37/35/28/26 mm,
title in 方正小标宋简体 二号, headings in 黑体 and 楷体, text in 仿宋_GB2312 三号 (Word falls back to an
installed font where one is missing), page numbers "— 1 —" at the foot.

    python -m services.intake.starter_templates [FOLDER]
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table

SHIPPED = Path(__file__).parent / "document_templates"
BODY_FONT, HEADING_FONT, SUBHEADING_FONT, TITLE_FONT = "仿宋_GB2312", "黑体", "楷体_GB2312", "方正小标宋简体"


def _font(style_or_run: object, name: str, size: float, bold: bool = False) -> None:
    font = style_or_run.font  # type: ignore[attr-defined]
    font.name, font.size, font.bold = name, Pt(size), bold
    element = style_or_run.element  # type: ignore[attr-defined]
    properties = element.get_or_add_rPr()
    fonts = properties.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        properties.append(fonts)
    for key in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(key), name)


def _page_number(paragraph: object) -> None:
    """ "— N —" with N a PAGE field."""
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER  # type: ignore[attr-defined]
    paragraph.add_run("— ")  # type: ignore[attr-defined]
    run = paragraph.add_run()  # type: ignore[attr-defined]
    for kind, text in (("begin", None), (None, "PAGE"), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)
        elif text == "PAGE":
            instruction = OxmlElement("w:instrText")
            instruction.set(qn("xml:space"), "preserve")
            instruction.text = " PAGE "
            run._r.append(instruction)
        else:
            value = OxmlElement("w:t")
            value.text = text
            run._r.append(value)
    paragraph.add_run(" —")  # type: ignore[attr-defined]
    for r in paragraph.runs:  # type: ignore[attr-defined]
        _font(r, "宋体", 14)


def new_document(landscape: bool = False) -> object:
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Mm(297), Mm(210)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    styles = document.styles
    _font(styles["Normal"], BODY_FONT, 16)
    styles["Normal"].paragraph_format.line_spacing = Pt(28)
    styles["Normal"].paragraph_format.first_line_indent = Pt(32)
    _font(styles["Title"], TITLE_FONT, 22)
    styles["Title"].font.color.rgb = RGBColor(0, 0, 0)
    border = styles["Title"].element.pPr.find(qn("w:pBdr"))  # Word's Title has a rule below it
    if border is not None:
        styles["Title"].element.pPr.remove(border)
    styles["Title"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    styles["Title"].paragraph_format.first_line_indent = Pt(0)
    for name, font in (("Heading 1", HEADING_FONT), ("Heading 2", SUBHEADING_FONT)):
        _font(styles[name], font, 16)
        styles[name].font.color.rgb = RGBColor(0, 0, 0)
        styles[name].paragraph_format.first_line_indent = Pt(32)
        styles[name].paragraph_format.space_before = Pt(6)
    _font(styles["Table Grid"], BODY_FONT, 10.5)
    _page_number(section.footer.paragraphs[0])
    return document


def title(document: object, text: str) -> None:
    paragraph = document.add_paragraph(text, style="Title")  # type: ignore[attr-defined]
    paragraph.paragraph_format.first_line_indent = Pt(0)


def heading(document: object, text: str, level: int = 1) -> None:
    document.add_paragraph(text, style=f"Heading {level}")  # type: ignore[attr-defined]


def text(document: object, content: str, indent: bool = True, center: bool = False) -> None:
    paragraph = document.add_paragraph(content)  # type: ignore[attr-defined]
    if not indent or center:
        paragraph.paragraph_format.first_line_indent = Pt(0)
    if center:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER


def loop_table(
    document: object,
    headers: list[str],
    loop: str | None,
    cells: list[str],
    size: float = 10.5,
    widths: list[float] | None = None,
) -> Table:
    """A table whose middle row repeats for each item (`{%tr for ... %}` and `{%tr endfor %}` rows), or
    without `loop` a header row and one row of values."""
    table = document.add_table(rows=4 if loop else 2, cols=len(headers))  # type: ignore[attr-defined]
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for column, header in enumerate(headers):
        table.cell(0, column).text = header
    values = 2 if loop else 1
    if loop:
        table.cell(1, 0).text = "{%tr " + loop + " %}"
        table.cell(3, 0).text = "{%tr endfor %}"
    for column, cell in enumerate(cells):
        table.cell(values, column).text = cell
    if widths:  # in millimetres; Word keeps what it is given when autofit is off
        table.autofit = False
        for row in table.rows:
            for cell, width in zip(row.cells, widths, strict=True):
                cell.width = Mm(width)
    for row_number, row in enumerate(table.rows):
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                paragraph.paragraph_format.first_line_indent = Pt(0)
                paragraph.paragraph_format.line_spacing = 1.0
                for run in paragraph.runs:
                    _font(run, HEADING_FONT if row_number == 0 else BODY_FONT, size)
    return table


def bulletin(folder: Path) -> None:
    d = new_document()
    title(d, "{{ title }}")
    text(d, "各县（市）区产改办：", indent=False)
    text(
        d,
        "按照产业工人队伍建设改革试点工作安排，市产改办组织开展了{{ round_name }}督导。"
        "现将有关情况通报如下。",
    )
    heading(d, "一、总体情况")
    text(
        d,
        "本轮督导覆盖 {{ overview.districts }} 个县（市）区（含功能区）的 {{ overview.units }} 家试点单位，"
        "截止日期为{{ due_date }}。已报送 {{ overview.reported }} 家，报送率 {{ overview.participation }}；"
        "按时报送 {{ overview.on_time }} 家，按时报送率 {{ overview.on_time_rate }}；逾期报送 {{ overview.late }} 家，"
        "未报送 {{ overview.missing }} 家。报送单位平均得分 {{ overview.mean_score }} 分。"
        "市产改办开展督导检查 {{ overview.visits }} 次，现场发现问题 {{ overview.from_visits }} 个。",
    )
    loop_table(
        d,
        ["试点单位", "已报送", "按时报送", "逾期报送", "未报送", "报送率", "按时报送率"],
        None,
        [
            "{{ overview.units }}",
            "{{ overview.reported }}",
            "{{ overview.on_time }}",
            "{{ overview.late }}",
            "{{ overview.missing }}",
            "{{ overview.participation }}",
            "{{ overview.on_time_rate }}",
        ],
    )
    heading(d, "二、各县（市）区成效指数")
    text(
        d,
        "成效指数由以下两部分加权得出{% if basis %}，改革成效为同一批试点单位与{{ basis }}相比的变化"
        "{% else %}；本轮为基线轮次，暂无可比数据，改革成效暂不计入{% endif %}：",
    )
    text(d, "{%p for c in index_note %}")
    text(d, "{{ c.name }}（权重 {{ c.weight }}）：{{ c.parts }}。")
    text(d, "{%p endfor %}")
    loop_table(
        d,
        [
            "名次",
            "县（市）区",
            "试点单位",
            "已报送",
            "报送率",
            "按时报送率",
            "工作推进",
            "改革成效",
            "成效指数",
            "名次变化",
        ],
        "for r in districts",
        [
            "{{ r.rank }}",
            "{{ r.name }}",
            "{{ r.units }}",
            "{{ r.reported }}",
            "{{ r.participation }}",
            "{{ r.on_time }}",
            "{{ r.progress }}",
            "{{ r.outcomes }}",
            "{{ r.index }}",
            "{{ r.change }}",
        ],
        size=9,
        widths=[11, 24, 14, 13, 15, 15, 16, 16, 16, 16],
    )
    heading(d, "（一）按试点批次", level=2)
    loop_table(
        d,
        ["批次", "试点单位", "已报送", "报送率", "工作推进", "改革成效", "成效指数"],
        "for b in batches",
        [
            "{{ b.name }}",
            "{{ b.units }}",
            "{{ b.reported }}",
            "{{ b.participation }}",
            "{{ b.progress }}",
            "{{ b.outcomes }}",
            "{{ b.index }}",
        ],
    )
    heading(d, "三、问题分类统计")
    text(
        d,
        "本轮共发现问题 {{ problems.total }} 个（不含提示和逾期报送记录），已整改销号 {{ problems.rectified }} 个，"
        "尚待整改 {{ problems.open }} 个。",
    )
    loop_table(
        d,
        ["问题类别", "重大问题", "数据错误", "一般问题", "合计"],
        "for c in categories",
        ["{{ c.category }}", "{{ c.critical }}", "{{ c.error }}", "{{ c.warning }}", "{{ c.total }}"],
    )
    heading(d, "四、典型问题")
    text(d, "{%p for t in typical %}")
    text(d, "{{ loop.index }}. {{ t.name }}（{{ t.severity }}，{{ t.count }} 个）。如：{{ t.example }}")
    text(d, "{%p endfor %}")
    heading(d, "五、整改情况")
    loop_table(
        d,
        ["县（市）区", "问题", "待整改", "整改待核实", "已整改", "红灯", "黄灯"],
        "for r in rectification",
        [
            "{{ r.name }}",
            "{{ r.total }}",
            "{{ r.open }}",
            "{{ r.rectification_reported }}",
            "{{ r.rectified }}",
            "{{ r.red }}",
            "{{ r.yellow }}",
        ],
    )
    text(d, "红灯为已超过整改期限，黄灯为临近整改期限。请相关县（市）区抓紧整改，按期报送整改情况。")
    heading(d, "六、入选典型案例")
    text(d, "{% if not cases %}本轮暂无入选案例。{% endif %}")
    text(d, "{%p for c in cases %}")
    text(d, "{{ loop.index }}. {{ c.title }}（{{ c.district }} {{ c.unit }}）")
    text(d, "{%p endfor %}")
    heading(d, "七、下一步工作")
    text(d, "{%p for p in next_steps %}")
    text(d, "{{ p }}")
    text(d, "{%p endfor %}")
    text(d, "")
    paragraph = d.add_paragraph("市产改办")  # type: ignore[attr-defined]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    paragraph = d.add_paragraph("{{ date }}")  # type: ignore[attr-defined]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    d.save(folder / "bulletin.docx")  # type: ignore[attr-defined]


def problem_list(folder: Path) -> None:
    d = new_document(landscape=True)
    title(d, "{{ title }}")
    text(d, "{{ round_name }}督导", center=True)
    text(
        d,
        "{{ district }}：经督导，贵县（市）区尚有以下 {{ count }} 个问题待整改（其中红灯 {{ red }} 个、"
        "黄灯 {{ yellow }} 个），请对照整改要求逐项整改，在整改期限内通过系统报告整改情况并上传佐证材料。",
    )
    loop_table(
        d,
        ["序号", "试点单位", "问题级别", "类别", "问题", "整改要求", "整改期限", "状态", "期限提示"],
        "for p in problems",
        [
            "{{ p.no }}",
            "{{ p.unit }}",
            "{{ p.severity }}",
            "{{ p.category }}",
            "{{ p.problem }}",
            "{{ p.requirement }}",
            "{{ p.deadline }}",
            "{{ p.state }}",
            "{{ p.light }}",
        ],
        size=9,
        widths=[10, 34, 17, 20, 62, 52, 20, 15, 13],
    )
    text(d, "")
    paragraph = d.add_paragraph("市产改办　{{ date }}")  # type: ignore[attr-defined]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    d.save(folder / "problem_list.docx")  # type: ignore[attr-defined]


def case_book(folder: Path) -> None:
    d = new_document()
    title(d, "{{ title }}")
    text(d, "（共 {{ count }} 篇）", center=True)
    text(d, "{%p for c in cases %}")
    heading(d, "{{ c.no }}. {{ c.title }}")
    text(d, "单位：{{ c.district }} {{ c.unit }}", indent=False)
    text(d, "所属举措：{{ c.measures }}", indent=False)
    heading(d, "主要做法", level=2)
    text(d, "{%p for p in c.practice %}")
    text(d, "{{ p }}")
    text(d, "{%p endfor %}")
    heading(d, "取得成效", level=2)
    text(d, "{%p for p in c.results %}")
    text(d, "{{ p }}")
    text(d, "{%p endfor %}")
    text(d, "{%p for f in c.figures %}")
    text(d, "{{ f.label }}：{{ f.value }}")
    text(d, "{%p endfor %}")
    text(d, "{%p endfor %}")
    d.save(folder / "cases.docx")  # type: ignore[attr-defined]


def build(folder: Path = SHIPPED) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    for make in (bulletin, problem_list, case_book):
        make(folder)
    return sorted(folder.glob("*.docx"))


if __name__ == "__main__":
    for made in build(Path(sys.argv[1]) if len(sys.argv) > 1 else SHIPPED):
        print(made)
