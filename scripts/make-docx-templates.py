"""Write the shipped DOCX templates (src/jianguan/documents/templates/<kind>.docx) for docxtpl.

Run after changing a layout here: `.venv/bin/python scripts/make-docx-templates.py`. The fields are the
same as the HTML templates' (documents/data/samples.yaml); agencies replace either with their own.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

OUT = Path(__file__).resolve().parents[1] / "src" / "jianguan" / "documents" / "templates"
BODY_FONT, TITLE_FONT = "仿宋", "宋体"


def _font(run, name: str, size: float, bold: bool = False) -> None:  # type: ignore[no-untyped-def]
    run.font.name, run.font.size, run.font.bold = name, Pt(size), bold
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)


def para(doc, text: str, *, align: str = "left", size: float = 14, bold: bool = False,  # type: ignore[no-untyped-def]
         indent: bool = True, font: str = BODY_FONT):
    p = doc.add_paragraph()
    p.alignment = {"left": WD_ALIGN_PARAGRAPH.JUSTIFY, "center": WD_ALIGN_PARAGRAPH.CENTER,
                   "right": WD_ALIGN_PARAGRAPH.RIGHT}[align]
    if indent and align == "left":
        p.paragraph_format.first_line_indent = Pt(size * 2)
    p.paragraph_format.space_after = Pt(4)
    _font(p.add_run(text), font, size, bold)
    return p


def table(doc, headers: list[str], cells: list[str], loop: str) -> None:  # type: ignore[no-untyped-def]
    """A header row, then one row per item of ``loop`` (docxtpl's {%tr %} rows)."""
    t = doc.add_table(rows=4, cols=len(headers))
    t.style, t.alignment = "Table Grid", WD_TABLE_ALIGNMENT.CENTER
    rows = [headers, [f"{{%tr for {loop} %}}"] + [""] * (len(headers) - 1), cells,
            ["{%tr endfor %}"] + [""] * (len(headers) - 1)]
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            cell = t.cell(r, c)
            cell.paragraphs[0].text = ""
            _font(cell.paragraphs[0].add_run(value), BODY_FONT, 11, bold=r == 0)


def facts(doc, rows: list[tuple[str, str]]) -> None:  # type: ignore[no-untyped-def]
    t = doc.add_table(rows=len(rows), cols=2)
    t.style = "Table Grid"
    for r, (label, value) in enumerate(rows):
        _font(t.cell(r, 0).paragraphs[0].add_run(label), BODY_FONT, 11, bold=True)
        _font(t.cell(r, 1).paragraphs[0].add_run(value), BODY_FONT, 11)
        t.cell(r, 0).width = Mm(40)


def new(*, seal: bool = True):  # type: ignore[no-untyped-def]
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(30), Mm(28)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    para(doc, "{{ agency }}", align="center", size=18, font=TITLE_FONT)
    para(doc, "{{ title }}", align="center", size=22, bold=True, font=TITLE_FONT)
    para(doc, "{{ number }}", align="right", size=12)
    return doc


def signoff(doc, *, seal: bool = True) -> None:  # type: ignore[no-untyped-def]
    para(doc, "", indent=False)
    if seal:
        para(doc, "{{ seal_image }}", align="right")
    para(doc, "{{ agency }}", align="right")
    para(doc, "{{ issued_on_cn }}", align="right")


OFFICERS = "{% for o in officers %}{{ o.name }}（执法证号 {{ o.credential or '—' }}）{% if not loop.last %}、{% endif %}{% endfor %}"
ITEMS = "{% for item in items %}{{ item.name }}{% if not loop.last %}；{% endif %}{% endfor %}"


def inspection_notice() -> None:
    doc = new()
    para(doc, "{{ entity.name }}（统一社会信用代码：{{ entity.uscc or '—' }}）：", indent=False)
    para(doc, "根据{{ basis_text or '有关法律、法规的规定' }}，本局定于{{ scheduled_on_cn }}对你单位进行{{ kind }}监督检查，"
              "检查方式为{{ method }}。检查事项如下：")
    table(doc, ["序号", "检查事项", "检查依据"], ["{{ loop.index }}", "{{ item.name }}", "{{ item.basis or '—' }}"],
          "item in items")
    para(doc, "请你单位届时备齐以下材料，并安排熟悉情况的负责人员在场配合："
              "{% for m in materials %}{{ loop.index }}. {{ m }}{% if not loop.last %}；{% else %}。{% endif %}{% endfor %}")
    para(doc, "执法人员将出示行政执法证件。你单位应当如实提供有关情况和材料，不得拒绝、阻挠检查。")
    para(doc, "执法人员：" + OFFICERS, indent=False, size=12)
    signoff(doc)
    para(doc, "检查编号：{{ inspection_code }}。本通知书一式两份，一份送达被检查单位，一份存档。", indent=False, size=10.5)
    doc.save(OUT / "inspection_notice.docx")


def inspection_record() -> None:
    doc = new(seal=False)
    facts(doc, [("被检查单位", "{{ entity.name }}"), ("统一社会信用代码", "{{ entity.uscc or '—' }}"),
                ("检查地点", "{{ place or entity.address or '—' }}{% if gps %}（定位 {{ gps }}）{% endif %}"),
                ("检查时间", "{{ started_at }} 至 {{ ended_at }}"), ("检查方式", "{{ method }}"), ("检查事项", ITEMS),
                ("执法人员", OFFICERS + "，已出示执法证件")])
    para(doc, "检查情况", indent=False, bold=True)
    table(doc, ["序号", "检查内容", "结果", "情况说明"], ["{{ a.n }}", "{{ a.text }}", "{{ a.answer }}", "{{ a.note }}"],
          "a in answers")
    para(doc, "现场采集照片、视频等证据 {{ evidence_count }} 份，已按哈希值存证。")
    facts(doc, [("被检查单位人员签名", "{{ party_signature_image }} {{ party_signer }}"
                                       "{% if refusal_reason %}拒绝签名，理由：{{ refusal_reason }}{% endif %}"),
                ("执法人员签名", "{% for o in officers %}{% if o.signature_image %}{{ o.signature_image }}"
                                 "{% else %}{{ o.name }}{% endif %} {% endfor %}"),
                ("记录日期", "{{ issued_on_cn }}")])
    doc.save(OUT / "inspection_record.docx")


FINDINGS_HEAD = ["序号", "发现的问题", "性质", "依据", "整改期限"]
FINDINGS_ROW = ["{{ f.n }}", "{{ f.text }}", "{{ f.severity }}", "{{ f.basis or '—' }}", "{{ f.rectify_by_cn }}"]


def inspection_feedback() -> None:
    doc = new()
    para(doc, "{{ entity.name }}：", indent=False)
    para(doc, "本局于{{ visited_on_cn }}对你单位进行了{{ kind }}监督检查（检查编号 {{ inspection_code }}），现将检查结果反馈如下：")
    para(doc, "检查结论：{{ result }}。")
    para(doc, "{%p if findings %}", indent=False)
    table(doc, FINDINGS_HEAD, FINDINGS_ROW, "f in findings")
    para(doc, "请你单位对上述问题认真整改，整改要求另见责令整改通知书。对检查结果有异议的，可在收到本意见书之日起五个工作日内向本局提出书面意见。")
    para(doc, "{%p else %}", indent=False)
    para(doc, "本次检查未发现问题。请你单位继续严格落实主体责任，依法合规经营。")
    para(doc, "{%p endif %}", indent=False)
    signoff(doc)
    doc.save(OUT / "inspection_feedback.docx")


def rectification_order() -> None:
    doc = new()
    para(doc, "{{ entity.name }}（统一社会信用代码：{{ entity.uscc or '—' }}）：", indent=False)
    para(doc, "本局于{{ visited_on_cn }}对你单位进行监督检查（检查编号 {{ inspection_code }}），发现你单位存在下列问题。"
              "现责令你单位在下列期限内改正：")
    table(doc, ["序号", "问题", "依据", "改正期限"],
          ["{{ f.n }}", "{{ f.text }}", "{{ f.basis or '—' }}", "{{ f.rectify_by_cn }}前"], "f in findings")
    para(doc, "请你单位在期限内提交整改方案和整改证明材料（可通过企业端在线提交）。逾期不改正的，本局将依法处理。")
    para(doc, "如不服本通知，可以自知道该行政行为之日起{{ reconsideration.days }}内依法申请行政复议（{{ reconsideration.basis }}），"
              "或者自知道该行政行为之日起{{ litigation.months }}内依法向人民法院提起行政诉讼（{{ litigation.basis }}）。")
    signoff(doc)
    doc.save(OUT / "rectification_order.docx")


def review_opinion() -> None:
    doc = new()
    para(doc, "{{ entity.name }}：", indent=False)
    para(doc, "本局于{{ visited_on_cn }}检查发现的问题（检查编号 {{ inspection_code }}），已于{{ reviewed_on_cn }}进行复查，复查情况如下：")
    table(doc, ["序号", "问题", "整改措施", "复查结果", "确认日期"],
          ["{{ f.n }}", "{{ f.text }}", "{{ f.measures or '—' }}", "{{ f.result }}", "{{ f.accepted_on_cn }}"],
          "f in findings")
    para(doc, "{{ conclusion }}")
    para(doc, "复查人员：" + OFFICERS, indent=False, size=12)
    signoff(doc)
    doc.save(OUT / "review_opinion.docx")


if __name__ == "__main__":
    for make in (inspection_notice, inspection_record, inspection_feedback, rectification_order, review_opinion):
        make()
        print("wrote", make.__name__)
