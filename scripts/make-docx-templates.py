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


def signoff(doc, *, seal: bool = True, date: str = "{{ issued_on_cn }}") -> None:  # type: ignore[no-untyped-def]
    para(doc, "", indent=False)
    if seal:
        para(doc, "{{ seal_image }}", align="right")
    para(doc, "{{ agency }}", align="right")
    para(doc, date, align="right")


OFFICERS = ("{% for o in officers %}{{ o.name }}（执法证号 {{ o.credential or '—' }}）{% if not loop.last %}、"
            "{% endif %}{% endfor %}")
ITEMS = "{% for item in items %}{{ item.name }}{% if not loop.last %}；{% endif %}{% endfor %}"


def inspection_notice() -> None:
    doc = new()
    para(doc, "{{ entity.name }}（统一社会信用代码：{{ entity.uscc or '—' }}）：", indent=False)
    para(doc, "根据{{ basis_text or '有关法律、法规的规定' }}，本局定于{{ scheduled_on_cn }}对你单位进行{{ kind }}"
              "监督检查，检查方式为{{ method }}。检查事项如下：")
    table(doc, ["序号", "检查事项", "检查依据"], ["{{ loop.index }}", "{{ item.name }}", "{{ item.basis or '—' }}"],
          "item in items")
    para(doc, "请你单位届时备齐以下材料，并安排熟悉情况的负责人员在场配合："
              "{% for m in materials %}{{ loop.index }}. {{ m }}{% if not loop.last %}；{% else %}。{% endif %}"
              "{% endfor %}")
    para(doc, "执法人员将出示行政执法证件。你单位应当如实提供有关情况和材料，不得拒绝、阻挠检查。")
    para(doc, "执法人员：" + OFFICERS, indent=False, size=12)
    signoff(doc)
    para(doc, "检查编号：{{ inspection_code }}。本通知书一式两份，一份送达被检查单位，一份存档。",
         indent=False, size=10.5)
    doc.save(OUT / "inspection_notice.docx")


def inspection_record() -> None:
    doc = new(seal=False)
    facts(doc, [("被检查单位", "{{ entity.name }}"), ("统一社会信用代码", "{{ entity.uscc or '—' }}"),
                ("检查地点", "{{ place or entity.address or '—' }}{% if gps %}（定位 {{ gps }}）{% endif %}"),
                ("检查时间", "{{ started_at }} 至 {{ ended_at }}"), ("检查方式", "{{ method }}"), ("检查事项", ITEMS),
                ("执法人员", OFFICERS + "，已出示执法证件")])
    para(doc, "检查情况", indent=False, bold=True)
    table(doc, ["序号", "检查内容", "结果", "情况说明"],
          ["{{ a.n }}", "{{ a.text }}", "{{ a.answer }}", "{{ a.note }}"], "a in answers")
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
    para(doc, "本局于{{ visited_on_cn }}对你单位进行了{{ kind }}监督检查（检查编号 {{ inspection_code }}），"
              "现将检查结果反馈如下：")
    para(doc, "检查结论：{{ result }}。")
    para(doc, "{%p if findings %}", indent=False)
    table(doc, FINDINGS_HEAD, FINDINGS_ROW, "f in findings")
    para(doc, "请你单位对上述问题认真整改，整改要求另见责令整改通知书。对检查结果有异议的，"
              "可在收到本意见书之日起五个工作日内向本局提出书面意见。")
    para(doc, "{%p else %}", indent=False)
    para(doc, "本次检查未发现问题。请你单位继续严格落实主体责任，依法合规经营。")
    para(doc, "{%p endif %}", indent=False)
    signoff(doc)
    doc.save(OUT / "inspection_feedback.docx")


def rectification_order() -> None:
    doc = new()
    para(doc, "{{ entity.name }}（统一社会信用代码：{{ entity.uscc or '—' }}）：", indent=False)
    para(doc, "本局于{{ visited_on_cn }}对你单位进行监督检查（检查编号 {{ inspection_code }}），"
              "发现你单位存在下列问题。现责令你单位在下列期限内改正：")
    table(doc, ["序号", "问题", "依据", "改正期限"],
          ["{{ f.n }}", "{{ f.text }}", "{{ f.basis or '—' }}", "{{ f.rectify_by_cn }}前"], "f in findings")
    para(doc, "请你单位在期限内提交整改方案和整改证明材料（可通过企业端在线提交）。逾期不改正的，本局将依法处理。")
    para(doc, "如不服本通知，可以自知道该行政行为之日起{{ reconsideration.days }}"
              "内依法申请行政复议（{{ reconsideration.basis }}），或者自知道该行政行为之日起{{ litigation.months }}"
              "内依法向人民法院提起行政诉讼（{{ litigation.basis }}）。")
    signoff(doc)
    doc.save(OUT / "rectification_order.docx")


def review_opinion() -> None:
    doc = new()
    para(doc, "{{ entity.name }}：", indent=False)
    para(doc, "本局于{{ visited_on_cn }}检查发现的问题（检查编号 {{ inspection_code }}），已于{{ reviewed_on_cn }}"
              "进行复查，复查情况如下：")
    table(doc, ["序号", "问题", "整改措施", "复查结果", "确认日期"],
          ["{{ f.n }}", "{{ f.text }}", "{{ f.measures or '—' }}", "{{ f.result }}", "{{ f.accepted_on_cn }}"],
          "f in findings")
    para(doc, "{{ conclusion }}")
    para(doc, "复查人员：" + OFFICERS, indent=False, size=12)
    signoff(doc)
    doc.save(OUT / "review_opinion.docx")


# --------------------------------------------------------------------------- penalty cases (cases/documents.py)
# The same wording as the HTML templates. A value the case does not hold yet is a line to fill in by hand.

BLANK, SHORT = "______________", "________"
DATE_BLANK = "　　年　　月　　日"
NAMES = "{% for o in officers %}{{ o.name }}{% if not loop.last %}、{% endif %}{% endfor %}"
SIGNATURES = ("{% for o in officers %}{% if o.signature_image %}{{ o.signature_image }}{% else %}{{ o.name }}"
              "{% endif %}{% if not loop.last %}　{% endif %}{% endfor %}")
LEAD = ("{{ (officers|selectattr('lead')|map(attribute='name')|first) or (officers|map(attribute='name')|first) or '"
        + SHORT + "' }}")
# The articles violated and imposing, and the imposing article's text, come from the rule; without a rule
# the whole basis text is shown.
BASIS = ["{%p set basis = violation.basis or '' %}", "{%p set violated = violation.violated or '' %}",
         "{%p set imposing = violation.imposing or '' %}", "{%p set quoted = violation.quoted or '' %}",
         "{%p set parsed = violated and imposing and quoted %}",
         "{%p set cause = (case.title or '').removesuffix('案') %}"]
DATED = ("{% if line[4:5] == '-' and line[7:8] == '-' and line[:4].isdigit() %}{{ line[:4] }}年{{ line[5:7]|int }}月"
         "{{ line[8:10]|int }}日，{{ line[10:].strip() }}{% else %}{{ line }}{% endif %}")


def control(doc, tag: str) -> None:  # type: ignore[no-untyped-def]
    """A paragraph holding only a docxtpl {%p … %} tag (it disappears when rendered)."""
    para(doc, tag, indent=False)


def lines(doc, expr: str, *, size: float = 14, text: str = "{{ line }}") -> None:  # type: ignore[no-untyped-def]
    """One paragraph per line of a text field."""
    control(doc, "{%p for line in (" + expr + " or '').split('\\n') if line.strip() %}")
    para(doc, text, size=size)
    control(doc, "{%p endfor %}")


def footer(doc, text: str) -> None:  # type: ignore[no-untyped-def]
    """A line at the foot of every page (the signature of the person heard, on each page of a record)."""
    p = doc.sections[0].footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _font(p.add_run(text), BODY_FONT, 10.5)


def party_rows() -> list[tuple[str, str]]:
    return [("当事人", "{{ party.name }}"),
            ("统一社会信用代码\n（身份证件号码）", "{{ party.uscc or '" + BLANK + "' }}"),
            ("住所（住址）", "{{ party.address or '" + BLANK + "' }}"),
            ("法定代表人\n（负责人）", "{{ party.legal_representative or '" + SHORT + "' }}　　联系电话：" + SHORT)]


def party_lines(doc) -> None:  # type: ignore[no-untyped-def]
    para(doc, "当事人：{{ party.name }}", indent=False)
    para(doc, "{% if party.uscc %}统一社会信用代码：{{ party.uscc }}{% else %}统一社会信用代码（身份证件号码）"
              "：" + BLANK
         + "{% endif %}", indent=False)
    para(doc, "住所（住址）：{{ party.address or '" + BLANK + "' }}", indent=False)
    control(doc, "{%p if party.kind == '单位' %}")
    para(doc, "法定代表人（负责人）：{{ party.legal_representative or '" + SHORT + "' }}", indent=False)
    control(doc, "{%p endif %}")


def opinion(name: str = "", date: str = "") -> str:
    """An opinion cell: room to write, then the signature and the date."""
    who = "{{ " + name + " or '" + SHORT + "' }}" if name else SHORT
    return "\n\n签名：" + who + "　　" + (date or DATE_BLANK)


def basis_text(doc, subject: str) -> None:  # type: ignore[no-untyped-def]
    """本局认为: the provision broken and the imposing article, quoted."""
    for tag in BASIS:
        control(doc, tag)
    control(doc, "{%p if parsed %}")
    para(doc, "本局认为，" + subject + "的上述行为违反了{{ violated }}的规定。{{ imposing }}规定：")
    control(doc, "{%p for line in quoted.split('\\n') if line.strip() %}")
    para(doc, "{% if loop.first %}“{% endif %}{{ line }}{% if loop.last %}”{% endif %}", size=12)
    control(doc, "{%p endfor %}")
    control(doc, "{%p elif basis %}")
    para(doc, "本局认为，" + subject + "的上述行为违反了有关法律、法规、规章的规定。违法行为的定性及处罚依据如下：")
    lines(doc, "basis", size=12)
    control(doc, "{%p else %}")
    para(doc, "本局认为，" + subject + "的上述行为违反了" + BLANK + "的规定。")
    control(doc, "{%p endif %}")


def penalties(doc) -> None:  # type: ignore[no-untyped-def]
    """The penalty, one numbered line per kind (（一）没收违法所得…；（二）罚款…。)."""
    control(doc, "{%p if penalty %}")
    control(doc, "{%p for item in penalty.split('；') if item.strip() %}")
    para(doc, "{% if loop.length > 1 %}（{{ '一二三四五六七八九十'[loop.index0] }}）{% endif %}{{ item }}"
              "{{ '。' if loop.last else '；' }}")
    control(doc, "{%p endfor %}")
    control(doc, "{%p else %}")
    para(doc, BLANK + BLANK)
    control(doc, "{%p endif %}")


def discretion(doc, subject: str, decided: str) -> None:  # type: ignore[no-untyped-def]
    para(doc, "本局依据行政处罚裁量基准进行裁量。" + subject
         + "的裁量情节：{{ proposal.reasons|join('；') if proposal.reasons else '无' }}。"
         "{% if proposal.tier and proposal.tier != '一般' %}据此，" + decided
         + "{{ proposal.tier }}。{% endif %}{{ proposal.deviation_reason or '' }}")


def rights(doc, name: str) -> None:  # type: ignore[no-untyped-def]
    """行政复议 and 行政诉讼: the route and the period (行政处罚法第五十九条第五项, 第五十二条)."""
    para(doc, "当事人如不服本" + name + "，可以自收到本" + name + "书之日起{{ reconsideration.days }}内依法向"
         "{{ reconsideration.body or '" + BLANK + "' }}申请行政复议（{{ reconsideration.basis }}），"
         "也可以自收到本" + name + "书之日起{{ litigation.months }}内依法向"
         "{% if litigation.court %}{{ litigation.court }}{% else %}人民法院{% endif %}"
         "提起行政诉讼（{{ litigation.basis }}）。")


def evidence_items(doc) -> None:  # type: ignore[no-untyped-def]
    control(doc, "{%p for e in evidence %}")
    para(doc, "{{ e.n }}．{{ e.kind }}：{{ e.title }}{{ '。' if loop.last else '；' }}")
    control(doc, "{%p else %}")
    para(doc, BLANK + BLANK)
    control(doc, "{%p endfor %}")


def statement_part(doc, *, always: bool) -> None:  # type: ignore[no-untyped-def]
    """陈述、申辩 as the party made it, and the line for whether and why it was taken (SAMR 程序规定第六十二条)."""
    control(doc, "{%p set defaulted = not statement or statement.startswith('当事人在法定期限内未') %}")
    if not always:
        control(doc, "{%p if not defaulted or hearing_held_on_cn %}")
    para(doc, "当事人陈述、申辩{% if hearing_held_on_cn %}及听证{% endif %}的情况：")
    lines(doc, "statement", text=DATED)
    control(doc, "{%p if not defaulted or hearing_held_on_cn %}")
    para(doc, "本局对当事人提出的事实、理由和证据进行了复核。采纳情况及理由：" + BLANK + BLANK)
    control(doc, "{%p endif %}")
    if not always:
        control(doc, "{%p endif %}")


def case_source_form() -> None:
    doc = new(seal=False)
    facts(doc, [("案件来源", "{{ case.source }}　　来源编号：{{ case.source_ref or '—' }}"),
                ("发现日期", "{{ case.discovered_on_cn or '" + SHORT + "' }}　　登记日期：{{ case.lead_on_cn }}"),
                *party_rows(),
                ("投诉举报人\n或移送机关", "姓名（名称）：" + SHORT + "　　联系方式：" + SHORT),
                ("线索主要内容", "{{ case.facts }}\n\n登记人：{{ registered_by or '" + SHORT + "' }}　　"
                                "{{ case.lead_on_cn or issued_on_cn }}"),
                ("核查意见", opinion()), ("负责人意见", opinion()), ("备注", "案件编号：{{ case.code }}")])
    doc.save(OUT / "case_source_form.docx")


def filing_form() -> None:
    doc = new(seal=False)
    facts(doc, [("案由", "涉嫌{{ case.title }}"),
                ("案件来源", "{{ case.source }}　　登记日期：{{ case.lead_on_cn }}"), *party_rows(),
                ("简要案情\n及立案理由",
                 "{{ case.facts }}\n经核查，有证据初步证明当事人存在违反市场监督管理法律、法规、规章的行为，"
                 "依法应当给予行政处罚，属于本局管辖，"
                 "且在《中华人民共和国行政处罚法》第三十六条规定的{{ {2: '二', 5: '五'}"
                 ".get(limitation_years, limitation_years) }}年追责期限内，"
                 "符合《市场监督管理行政处罚程序规定》第十九条第一款规定的立案条件，建议立案调查。"),
                ("办案人员", "{% for o in officers %}{{ o.name }}{% if o.lead %}（主办）{% endif %}　执法证号："
                             "{{ o.credential or '—' }}{% if not loop.last %}；{% endif %}{% endfor %}"),
                ("办案机构\n负责人意见", opinion()),
                ("部门负责人\n审批意见", "同意立案，由" + NAMES + "负责调查处理。"
                                      + opinion("approver", "{{ case.filed_on_cn or issued_on_cn }}")),
                ("备注", "案件编号：{{ case.code }}")])
    doc.save(OUT / "filing_form.docx")


def not_filed_form() -> None:
    doc = new(seal=False)
    facts(doc, [("案由", "涉嫌{{ case.title }}"),
                ("案件来源", "{{ case.source }}　　登记日期：{{ case.lead_on_cn }}"), *party_rows(),
                ("简要案情", "{{ case.facts }}"), ("不予立案理由", "{{ reason or '" + BLANK + BLANK + "' }}"),
                ("核查人员", "{% for o in officers %}{{ o.name }}　执法证号：{{ o.credential or '—' }}"
                             "{% if not loop.last %}；{% endif %}{% endfor %}"),
                ("办案机构\n负责人意见", opinion()),
                ("部门负责人\n审批意见", "同意不予立案。" + opinion("approver", "{{ issued_on_cn }}")),
                ("备注", "案件编号：{{ case.code }}。依据《市场监督管理行政处罚程序规定》第二十条第二款填写。")])
    doc.save(OUT / "not_filed_form.docx")


def inquiry_record() -> None:
    doc = new(seal=False)
    footer(doc, "被询问人签名：" + SHORT)
    for text in ("询问时间：{{ started_at or '" + BLANK + "' }} 至 {{ ended_at or '" + SHORT + "' }}",
                 "询问地点：{{ place or '" + BLANK + "' }}", "询问人：" + OFFICERS,
                 "记录人：{{ recorder or '" + SHORT + "' }}",
                 "被询问人：{{ respondent.name or '" + SHORT + "' }}　　"
                 "身份证件号码：{{ respondent.id_number or '" + BLANK + "' }}",
                 "工作单位及职务（与当事人关系）：{{ respondent.role or '" + BLANK + "' }}",
                 "联系电话：{{ respondent.phone or '" + SHORT + "' }}"):
        para(doc, text, indent=False, size=12)
    para(doc, "询问前，询问人向被询问人出示了执法证件，并告知：我们是{{ agency }}的执法人员，现就{{ party.name }}"
              "涉嫌{{ case.title }}一案依法进行调查。你有权进行陈述和申辩；"
              "认为执法人员与本案有直接利害关系或者有其他关系可能影响公正执法的，有权申请回避；你应当如实回答询问，"
              "协助调查，不得拒绝或者阻挠。被询问人表示：已听清楚，" + SHORT
         + "（申请/不申请）回避。")
    control(doc, "{%p for item in qa if item.q or item.a %}")
    para(doc, "问：{{ item.q }}", indent=False)
    para(doc, "答：{{ item.a }}", indent=False)
    control(doc, "{%p else %}")
    para(doc, "问：" + BLANK + BLANK, indent=False)
    para(doc, "答：" + BLANK + BLANK, indent=False)
    control(doc, "{%p endfor %}")
    para(doc, "（以下空白）", indent=False)
    facts(doc, [("被询问人意见",
                 "以上笔录已经本人核对（或者已向本人宣读），与本人所述一致。\n签名：" + SHORT + "　　" + DATE_BLANK),
                ("询问人签名", SIGNATURES + "　　" + DATE_BLANK),
                ("记录人签名", "{{ recorder or '" + SHORT + "' }}　　" + DATE_BLANK)])
    doc.save(OUT / "inquiry_record.docx")


def case_site_record() -> None:
    doc = new(seal=False)
    footer(doc, "当事人签名：" + SHORT)
    facts(doc, [("检查时间", "{{ at or '" + BLANK + "' }}"), ("检查地点", "{{ place or '" + BLANK + "' }}"),
                *party_rows()[:4], ("执法人员", OFFICERS), ("记录人", "{{ recorder or '" + SHORT + "' }}"),
                ("在场人员", "{{ present or '" + BLANK + "' }}")])
    para(doc, "执法人员向当事人（在场人员）出示了执法证件，说明了检查事由，并告知其依法享有陈述、"
              "申辩和申请回避的权利以及如实提供情况、协助检查的义务。")
    para(doc, "现场情况：", indent=False, bold=True)
    control(doc, "{%p if content %}")
    lines(doc, "content")
    control(doc, "{%p else %}")
    para(doc, BLANK + BLANK + BLANK)
    control(doc, "{%p endif %}")
    para(doc, "（以下空白）", indent=False)
    facts(doc, [("当事人意见", "以上笔录已经本人核对（或者已向本人宣读），与现场情况一致。\n签名（盖章）"
                               "：" + SHORT + "　　"
                 + DATE_BLANK + "\n（当事人拒绝签名或者盖章的，由执法人员注明情况，并可以邀请见证人签名）"),
                ("执法人员签名", SIGNATURES + "　　" + DATE_BLANK),
                ("记录人签名", "{{ recorder or '" + SHORT + "' }}　　" + DATE_BLANK),
                ("见证人签名", SHORT + "　证件号码：" + BLANK)])
    doc.save(OUT / "case_site_record.docx")


def investigation_report() -> None:
    doc = new(seal=False)
    for tag in BASIS:
        control(doc, tag)
    facts(doc, [("案由", "{{ case.title }}"), ("案件编号", "{{ case.code }}　　立案日期：{{ case.filed_on_cn or '"
                                                          + SHORT + "' }}"),
                ("办案人员", "{% for o in officers %}{{ o.name }}{% if o.lead %}（主办）{% endif %}"
                             "{% if not loop.last %}、{% endif %}{% endfor %}")])
    para(doc, "一、当事人基本情况", indent=False, bold=True)
    para(doc, "当事人：{{ party.name }}；统一社会信用代码（身份证件号码）："
              "{{ party.uscc or '" + SHORT + "' }}；住所（住址）："
              "{{ party.address or '" + SHORT + "' }}{% if party.legal_representative %}；法定代表人（负责人）："
              "{{ party.legal_representative }}{% endif %}。")
    para(doc, "二、案件来源、调查经过及采取行政强制措施的情况", indent=False, bold=True)
    para(doc, "本案来源于{{ case.source }}。本局于{{ case.lead_on_cn }}登记案件线索，于{{ case.filed_on_cn or '"
         + SHORT + "' }}经批准立案，由" + NAMES
         + "负责调查。办案人员依法收集、调取了本报告第三部分所列证据{{ evidence|length }}份。")
    para(doc, "采取行政强制措施的情况：" + BLANK + BLANK)
    para(doc, "三、调查认定的事实及主要证据", indent=False, bold=True)
    lines(doc, "case.findings or case.facts")
    para(doc, "上述事实，有以下证据证明：")
    table(doc, ["序号", "证据种类", "证据名称", "取得日期"],
          ["{{ e.n }}", "{{ e.kind }}", "{{ e.title }}", "{{ e.collected_on_cn }}"], "e in evidence")
    para(doc, "四、违法行为性质", indent=False, bold=True)
    para(doc, "{% if parsed %}当事人的上述行为违反了{{ violated }}的规定，构成{{ case.title }}的违法行为。"
              "{% elif basis %}当事人的上述行为构成{{ case.title }}的违法行为。违法行为的定性及处罚依据：{{ basis }}"
              "{% else %}当事人的上述行为违反了"
         + BLANK + "的规定，构成{{ case.title }}的违法行为。{% endif %}")
    para(doc, "五、处理意见及依据", indent=False, bold=True)
    control(doc, "{%p if '给予行政处罚' in outcome and '不予' not in outcome %}")
    control(doc, "{%p if parsed %}")
    para(doc, "{{ imposing }}规定：")
    control(doc, "{%p for line in quoted.split('\\n') if line.strip() %}")
    para(doc, "{% if loop.first %}“{% endif %}{{ line }}{% if loop.last %}”{% endif %}", size=12)
    control(doc, "{%p endfor %}")
    control(doc, "{%p endif %}")
    para(doc, "依据{{ '上述' if parsed else '" + BLANK + "的' }}规定，建议对当事人作出如下行政处罚："
         "{{ proposal.penalty or '" + BLANK + "' }}。")
    control(doc, "{%p else %}")
    para(doc, "{{ outcome or '" + BLANK + "' }}。"
         "{% if proposal.reasons %}理由：{{ proposal.reasons|join('；') }}。{% endif %}")
    control(doc, "{%p endif %}")
    para(doc, "六、自由裁量的理由等其他需要说明的事项", indent=False, bold=True)
    para(doc, "本案适用行政处罚裁量基准{% if violation.code %}（裁量规则 {{ violation.code }}"
              "{% if violation.rule_version %}，第{{ violation.rule_version }}版{% endif %}）{% endif %}。"
              "{% if proposal.legal_range %}罚款的法定幅度为{{ proposal.legal_range }}。{% endif %}当事人的裁量情节："
              "{{ proposal.reasons|join('；') if proposal.reasons else '无' }}。"
              "裁量档次为{{ proposal.tier or '" + SHORT + "' }}{% if proposal.range %}，建议罚款幅度为"
              "{{ proposal.range }}{% endif %}。")
    control(doc, "{%p if proposal.deviation_reason %}")
    para(doc, "拟作出的处罚超出裁量基准建议的幅度，理由如下：{{ proposal.deviation_reason }}")
    control(doc, "{%p endif %}")
    para(doc, "{% if major %}本案属于《市场监督管理行政处罚程序规定》第五十条第一款规定的情形{% if major_grounds %}"
              "（{{ major_grounds|join('；') }}）{% endif %}，作出行政处罚决定前应当进行法制审核，"
              "并由本局负责人集体讨论决定。{% else %}"
              "本案依照《市场监督管理行政处罚程序规定》第五十二条的规定进行案件审核。{% endif %}")
    para(doc, "", indent=False)
    para(doc, "办案人员（签名）：" + SIGNATURES, align="right")
    para(doc, "{{ issued_on_cn }}", align="right")
    doc.save(OUT / "investigation_report.docx")


def review_form() -> None:
    doc = new(seal=False)
    facts(doc, [("案由", "{{ case.title }}"), ("案件编号", "{{ case.code }}"),
                ("审核类型", "{{ kind }}{% if after_hearing %}（听证程序结束后）{% endif %}"),
                ("当事人", "{{ party.name }}{% if party.uscc %}（统一社会信用代码：{{ party.uscc }}）{% endif %}"),
                ("办案人员", "{% for o in officers %}{{ o.name }}{% if o.lead %}（主办）{% endif %}"
                             "{% if not loop.last %}、{% endif %}{% endfor %}"),
                ("调查认定的\n主要事实", "{{ case.findings or case.facts }}"),
                ("定性及依据", "{% if violation.violated %}违反{{ violation.violated }}；依据{{ violation.imposing }}"
                               "{% else %}{{ violation.basis or '" + BLANK + "' }}{% endif %}"),
                ("办案机构\n处理意见", "{% if proposal.penalty %}拟给予行政处罚：{{ proposal.penalty }}。{% else %}"
                                       "拟不予行政处罚。{% endif %}\n裁量档次：{{ proposal.tier or '—' }}"
                                       "{% if proposal.range %}（建议罚款幅度 {{ proposal.range }}）{% endif %}；"
                                       "裁量情节：{{ proposal.reasons|join('；') if proposal.reasons else '无' }}。"
                                       "{% if deviation %}\n拟处罚超出裁量基准建议幅度，理由："
                                       "{{ proposal.deviation_reason or '" + BLANK + "' }}{% endif %}"),
                ("审核意见",
                 "{{ opinion or '' }}" + opinion("reviewer", "{{ reviewed_on_cn or '" + DATE_BLANK + "' }}")),
                ("审核机构\n负责人意见", opinion()),
                ("备注", "{% if major %}本案属于《市场监督管理行政处罚程序规定》第五十条第一款规定的案件，"
                         "经法制审核后，应当由本局负责人集体讨论决定。{% else %}"
                         "依照《市场监督管理行政处罚程序规定》第五十二条进行案件审核，审核内容见该规定第五十三条。"
                         "{% endif %}")])
    doc.save(OUT / "review_form.docx")


def prior_notice() -> None:
    """行政处罚告知书: facts, reasons, basis, the penalty proposed; 陈述、申辩 within five working days, and the
    right to a hearing when the proposed penalty carries one (行政处罚法第四十四条, SAMR 程序规定第五十七条)."""
    doc = new()
    control(doc, "{%p set you = '你单位' if party.kind == '单位' else '你' %}")
    para(doc, "{{ party.name }}：", indent=False)
    for tag in BASIS[-1:]:
        control(doc, tag)
    para(doc, "本局于{{ case.filed_on_cn or '" + SHORT + "' }}对{{ you }}涉嫌{{ cause }}一案立案调查，现已调查终结。"
         "根据《中华人民共和国行政处罚法》第四十四条和《市场监督管理行政处罚程序规定》第五十七条的规定，"
         "现将本局拟作出的行政处罚内容及事实、理由、依据告知如下：")
    para(doc, "经查：")
    lines(doc, "case.findings or case.facts")
    para(doc, "以上事实，有{% for e in evidence %}{{ e.kind }}（{{ e.title }}）{% if not loop.last %}、{% endif %}"
              "{% else %}"
         + BLANK + "{% endfor %}等证据证明。")
    basis_text(doc, "{{ you }}")
    discretion(doc, "{{ you }}", "拟对{{ you }}")
    para(doc, "依据{{ imposing if parsed else '" + BLANK + "' }}的规定，本局拟对{{ you }}作出如下行政处罚：")
    penalties(doc)
    para(doc, "根据《中华人民共和国行政处罚法》第四十四条、第四十五条{% if hearing_right %}、第六十三条、"
              "第六十四条{% endif %}和《市场监督管理行政处罚程序规定》第五十七条的规定，{{ you }}享有陈述、"
              "申辩的权利{% if hearing_right %}，并有权要求举行听证{% endif %}。{{ you }}"
              "可以自收到本告知书之日起五个工作日内（至{{ statement_by_cn or '" + SHORT + "' }}止）"
              "向本局提出陈述、申辩意见{% if hearing_right %}，或者要求举行听证{% endif %}；逾期未提出陈述、申辩意见"
              "{% if hearing_right %}、未要求听证{% endif %}的，视为放弃上述权利。")
    para(doc, "本局将充分听取{{ you }}的意见，对{{ you }}提出的事实、理由和证据进行复核；{{ you }}提出的事实、"
              "理由或者证据成立的，本局将予以采纳。本局不会因{{ you }}陈述、申辩{% if hearing_right %}"
              "或者要求听证{% endif %}而给予更重的行政处罚。")
    para(doc, "联系人：" + LEAD + "　　联系电话：" + SHORT, indent=False)
    para(doc, "联系地址：" + BLANK + BLANK, indent=False)
    signoff(doc)
    doc.save(OUT / "prior_notice.docx")


def hearing_notice() -> None:
    """听证通知书: date, place, the party's rights (回避, 委托代理), what to bring, and that not coming is a waiver
    (行政处罚法第六十四条)."""
    doc = new()
    control(doc, "{%p set you = '你单位' if party.kind == '单位' else '你' %}")
    control(doc, BASIS[-1])
    para(doc, "{{ party.name }}：", indent=False)
    para(doc, "根据{{ you }}于{{ requested_on_cn or '" + SHORT + "' }}提出的听证要求，"
         "依照《中华人民共和国行政处罚法》第六十三条、第六十四条的规定，"
         "本局决定于{{ hearing_on_cn or '" + SHORT + "' }}____时____分在{{ place or '" + BLANK + "' }}，"
         "就本局拟对{{ you }}涉嫌{{ cause }}一案作出的行政处罚举行听证。"
         "除涉及国家秘密、商业秘密或者个人隐私依法予以保密外，听证公开举行。")
    para(doc, "听证主持人：" + SHORT + "　听证员：" + SHORT + "　记录员：" + SHORT)
    para(doc, "请{{ you }}注意以下事项：")
    para(doc, "一、{{ you }}可以亲自参加听证，也可以委托一至二人代理参加听证。委托代理人参加听证的，"
              "应当在听证举行前向本局提交由{{ you }}签名或者盖章的授权委托书，载明委托事项和权限。")
    para(doc, "二、{{ you }}认为听证主持人、听证员、记录员与本案有直接利害关系或者有其他关系可能影响公正执法的，"
              "有权申请回避，并说明理由。")
    para(doc, "三、参加听证时，请携带：（一）身份证明材料：{% if party.kind == '单位' %}营业执照复印件、"
              "法定代表人（负责人）身份证明{% else %}本人身份证件{% endif %}；（二）委托代理人参加的，"
              "授权委托书及代理人的身份证件；（三）与本案有关的证据材料；（四）需要证人出席作证的，"
              "请在听证举行前告知本局证人的姓名、联系方式，并通知证人按时到场。")
    para(doc, "四、听证时，由本案调查人员提出当事人违法的事实、证据和行政处罚建议，{{ you }}可以进行申辩和质证。"
              "听证笔录将交{{ you }}或者代理人核对无误后签字或者盖章。")
    para(doc, "五、{{ you }}及其代理人无正当理由拒不出席听证或者未经许可中途退出听证的，视为放弃听证权利，"
              "本局终止听证。")
    para(doc, "联系人：" + LEAD + "　　联系电话：" + SHORT, indent=False)
    para(doc, "联系地址：" + BLANK + BLANK, indent=False)
    signoff(doc)
    doc.save(OUT / "hearing_notice.docx")


def penalty_decision() -> None:
    """行政处罚决定书: every item of 行政处罚法第五十九条 and SAMR 程序规定第六十二条 (the statement and whether it was
    taken)."""
    doc = new()
    party_lines(doc)
    for tag in BASIS:
        control(doc, tag)
    para(doc, "当事人{{ cause }}一案，本局于{{ case.filed_on_cn or '" + SHORT + "' }}立案调查。"
         "调查终结后，本局依法告知当事人拟作出行政处罚的内容及事实、理由、依据，"
         "以及当事人依法享有的陈述、申辩{% if hearing_held_on_cn %}、要求听证{% endif %}等权利。"
         "{% if hearing_held_on_cn %}应当事人要求，本局于{{ hearing_held_on_cn }}依法举行了听证。{% endif %}"
         "本案现已审查终结。")
    para(doc, "经查明：")
    lines(doc, "case.findings or case.facts")
    para(doc, "上述事实，主要有以下证据证明：")
    evidence_items(doc)
    statement_part(doc, always=True)
    basis_text(doc, "当事人")
    discretion(doc, "当事人", "本局决定对当事人")
    para(doc, "综上，依据{{ imposing if parsed else '" + BLANK + "' }}的规定，本局决定对当事人作出如下行政处罚：")
    penalties(doc)
    control(doc, "{%p if pays %}")
    para(doc, "当事人应当自收到本行政处罚决定书之日起{{ payment.days }}内，"
         "通过{{ payment.method or '指定银行或者电子支付系统' }}缴纳上述罚没款"
         "{% if not payment.method %}（缴款方式：" + BLANK + "）{% endif %}。"
         "{% if fine %}到期不缴纳罚款的，本局可以依照《中华人民共和国行政处罚法》第七十二条第一款第一项的规定，"
         "{{ payment.surcharge }}。当事人确有经济困难，需要延期或者分期缴纳罚款的，"
         "可以依照《中华人民共和国行政处罚法》第六十六条第二款的规定，向本局提出书面申请。{% endif %}")
    control(doc, "{%p else %}")
    para(doc, "当事人应当自收到本行政处罚决定书之日起履行本决定。")
    control(doc, "{%p endif %}")
    rights(doc, "行政处罚决定")
    para(doc, "申请行政复议或者提起行政诉讼期间，本行政处罚决定不停止执行，法律另有规定的除外。"
              "当事人逾期不申请行政复议、不提起行政诉讼，又不履行本行政处罚决定的，本局将依法申请人民法院强制执行。")
    signoff(doc, date="{{ decided_on_cn or issued_on_cn }}")
    doc.save(OUT / "penalty_decision.docx")


def no_penalty_decision() -> None:
    """不予行政处罚决定书 (行政处罚法第三十三条; the education of SAMR 程序规定第六十一条)."""
    doc = new()
    party_lines(doc)
    for tag in BASIS:
        control(doc, tag)
    para(doc, "当事人{{ cause }}一案，本局于{{ case.filed_on_cn or '" + SHORT + "' }}立案调查，现已调查终结。"
              "{% if hearing_held_on_cn %}应当事人要求，本局于{{ hearing_held_on_cn }}依法举行了听证。{% endif %}")
    para(doc, "经查明：")
    lines(doc, "case.findings or case.facts")
    para(doc, "上述事实，主要有以下证据证明：")
    evidence_items(doc)
    statement_part(doc, always=False)
    para(doc, "{% if parsed %}本局认为，当事人的上述行为违反了{{ violated }}的规定，依据{{ imposing }}的规定，"
              "依法应当给予行政处罚。{% elif basis %}本局认为，当事人的上述行为违反了有关法律、法规、规章的规定。"
              "违法行为的定性及处罚依据：{{ basis }}{% else %}本局认为，"
              "当事人的上述行为违反了" + BLANK + "的规定。{% endif %}")
    para(doc, "鉴于当事人具有{{ proposal.reasons|join('、') if proposal.reasons else '" + BLANK + "' }}的情形，"
         "符合《中华人民共和国行政处罚法》第三十三条{% if not proposal.reasons %}____{% endif %}"
         "规定的不予行政处罚的条件。依据《中华人民共和国行政处罚法》第三十三条的规定，本局决定对当事人不予行政处罚。")
    para(doc, "依据《中华人民共和国行政处罚法》第三十三条第三款和《市场监督管理行政处罚程序规定》第六十一条的规定，"
              "本局对当事人进行教育：当事人应当严格遵守{{ violated if parsed else '有关法律、法规、规章' }}"
              "{% if parsed %}等规定{% endif %}，依法诚信经营，杜绝此类违法行为再次发生。")
    rights(doc, "不予行政处罚决定")
    signoff(doc, date="{{ decided_on_cn or issued_on_cn }}")
    doc.save(OUT / "no_penalty_decision.docx")


def simple_decision() -> None:
    """当场行政处罚决定书: the items of 行政处罚法第五十二条 (and SAMR 程序规定第六十八条)."""
    doc = new()
    party_lines(doc)
    for tag in BASIS:
        control(doc, tag)
    para(doc, "违法事实：", indent=False, bold=True)
    lines(doc, "case.findings or case.facts")
    para(doc, "执法人员已当场向当事人出示执法证件，告知当事人拟作出行政处罚的内容及事实、理由、依据，"
              "以及当事人依法享有的陈述、申辩权利。当事人陈述、申辩意见：" + BLANK + "（陈述、申辩的内容已记入笔录）。")
    control(doc, "{%p if parsed %}")
    para(doc, "当事人的上述行为违反了{{ violated }}的规定。{{ imposing }}规定：")
    control(doc, "{%p for line in quoted.split('\\n') if line.strip() %}")
    para(doc, "{% if loop.first %}“{% endif %}{{ line }}{% if loop.last %}”{% endif %}", size=12)
    control(doc, "{%p endfor %}")
    control(doc, "{%p elif basis %}")
    para(doc, "违法行为的定性及处罚依据：")
    lines(doc, "basis", size=12)
    control(doc, "{%p else %}")
    para(doc, "当事人的上述行为违反了" + BLANK + "的规定。处罚依据：" + BLANK + "。")
    control(doc, "{%p endif %}")
    para(doc, "依据上述规定，决定对当事人作出如下行政处罚：")
    penalties(doc)
    control(doc, "{%p if fine %}")
    para(doc, "罚款的履行方式和期限（见打“√”处）：")
    para(doc, "{{ '☑' if collected_on_spot else '☐' }} 当场缴纳：执法人员当场收缴罚款，"
              "并向当事人出具财政部门统一制发的专用票据。")
    para(doc, "{{ '☐' if collected_on_spot else '☑' }} 自收到本决定书之日起十五日内，"
              "通过指定银行或者电子支付系统缴纳罚款（缴款方式：" + BLANK + "）。")
    para(doc, "到期不缴纳罚款的，本局可以依照《中华人民共和国行政处罚法》第七十二条第一款第一项的规定，"
              "每日按罚款数额的百分之三加处罚款，加处罚款的数额不得超出罚款的数额。")
    control(doc, "{%p endif %}")
    rights(doc, "行政处罚决定")
    para(doc, "申请行政复议或者提起行政诉讼期间，本行政处罚决定不停止执行，法律另有规定的除外。")
    facts(doc, [("处罚时间", "{{ at or '" + BLANK + "' }}"), ("处罚地点", "{{ place or '" + BLANK + "' }}"),
                ("执法人员签名\n及执法证号", "{% for o in officers %}{% if o.signature_image %}{{ o.signature_image }}"
                                          "{% else %}{{ o.name }}{% endif %}（{{ o.credential or '—' }}）"
                                          "{% if not loop.last %}　{% endif %}{% endfor %}"),
                ("当事人签收",
                 "签名（盖章）：" + SHORT + "　　" + DATE_BLANK
                 + "　　时　　分\n（当事人拒绝签收的，由执法人员在此注明）")])
    signoff(doc)
    doc.save(OUT / "simple_decision.docx")


def service_receipt() -> None:
    doc = new()
    facts(doc, [("送达文书名称\n及文号", "{{ served_document.title }}"
                                         "（{{ served_document.number or '" + SHORT + "' }}）"),
                ("受送达人", "{{ recipient or party.name }}"), ("送达地点", BLANK + BLANK),
                ("送达方式", "{{ method or '" + SHORT + "' }}"),
                ("送达日期", "{{ served_on_cn or '" + DATE_BLANK + "' }}"),
                ("受送达人\n签名（盖章）", "\n\n签收日期：" + DATE_BLANK), ("代收人及\n代收理由", BLANK + BLANK),
                ("送达人签名", "{% for o in officers %}{% if o.signature_image %}{{ o.signature_image }}{% else %}"
                               "{{ o.name }}{% endif %}（执法证号 {{ o.credential or '—' }}）{% if not loop.last %}"
                               "　{% endif %}{% endfor %}"),
                ("见证人签名", SHORT),
                ("备注", "{% if method == '留置送达' %}拒收事由和日期：" + BLANK
                 + "{% elif method == '邮寄送达' %}邮件号码：" + BLANK + "（以回执上注明的收件日期为送达日期）"
                 "{% elif method == '电子送达' %}送达地址确认书已签署；"
                 "电子送达的，以到达受送达人特定系统的日期为送达日期。"
                 "{% elif method == '公告送达' %}公告方式及经过：" + BLANK
                 + "（自公告发布之日起经过三十日，视为送达）{% endif %}\n")])
    para(doc, "注：依照《市场监督管理行政处罚程序规定》第八十二条，直接送达的，"
              "以受送达人在本回证上注明的签收日期为送达日期；受送达人拒绝签收的，载明拒收事由和日期，由送达人、"
              "见证人签名或者以其他方式确认。", indent=False, size=10.5)
    signoff(doc)
    doc.save(OUT / "service_receipt.docx")


def closing_form() -> None:
    doc = new(seal=False)
    facts(doc, [("案由", "{{ case.title }}"),
                ("案件编号", "{{ case.code }}　　立案日期：{{ case.filed_on_cn or '—' }}"),
                ("当事人", "{{ party.name }}"),
                ("统一社会信用代码\n（身份证件号码）", "{{ party.uscc or '" + BLANK + "' }}"),
                ("处理结果", "{{ outcome or '" + SHORT + "' }}　　决定书文号：{{ decision_number or '—' }}"),
                ("行政处罚内容", "{{ penalty or '—' }}"),
                ("执行情况", "{{ executed or '" + SHORT + "' }}　　执行完毕日期：{{ executed_on_cn or '—' }}"),
                ("结案理由", "{% if outcome == '给予行政处罚' %}{% if executed_on_cn %}行政处罚决定执行完毕{% else %}"
                 + BLANK + "{% endif %}，符合《市场监督管理行政处罚程序规定》第七十七条"
                 "{% if executed_on_cn %}第一项{% endif %}规定的结案条件。"
                 "{% elif outcome %}已作出{{ outcome }}的决定，"
                 "符合《市场监督管理行政处罚程序规定》第七十七条第四项规定的结案条件。"
                 "{% else %}" + BLANK + BLANK + "{% endif %}"),
                ("办案人员", SIGNATURES + "\n" + DATE_BLANK),
                ("办案机构\n负责人意见", opinion()),
                ("部门负责人\n审批意见", "同意结案。" + opinion("approver", "{{ issued_on_cn }}")),
                ("备注", "结案后，案件材料按照档案管理的有关规定立卷归档（《市场监督管理行政处罚程序规定》第七十八条）"
                         "。")])
    doc.save(OUT / "closing_form.docx")


if __name__ == "__main__":
    for make in (inspection_notice, inspection_record, inspection_feedback, rectification_order, review_opinion,
                 case_source_form, filing_form, not_filed_form, inquiry_record, case_site_record,
                 investigation_report, review_form, prior_notice, hearing_notice, penalty_decision,
                 no_penalty_decision, simple_decision, service_receipt, closing_form):
        make()
        print("wrote", make.__name__)
