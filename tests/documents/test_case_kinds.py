"""Every document kind renders its sample to DOCX and PDF with nothing left unfilled, and the case
documents say what the law requires them to say (行政处罚法第五十二条、第五十九条; SAMR 程序规定第五十七条)."""

from __future__ import annotations

import io
import zipfile

import pytest

from jianguan.documents import render, service

# What a reader must find in the text (sample values from documents/data/samples.yaml).
REQUIRED = {
    "penalty_decision": ["当事人", "违反", "依据", "罚款", "十五日", "百分之三", "行政复议", "六十日",
                         "行政诉讼", "六个月", "人民政府"],
    "prior_notice": ["陈述", "申辩", "五个工作日", "听证"],
    "simple_decision": ["罚款", "行政复议", "行政诉讼", "执法证"],
    "hearing_notice": ["回避", "委托", "放弃听证"],
    "service_receipt": ["送达"],
    "no_penalty_decision": ["不予行政处罚", "行政复议", "行政诉讼"],
}


def _html(kind: str, context: dict[str, object]) -> str:
    template = render.default_template(kind, "html").decode("utf-8")
    return render._html_env().from_string(template).render(context)


@pytest.mark.parametrize("kind", sorted(service.kinds()))
def test_each_kind_renders_its_sample(kind: str) -> None:
    context = {**service.sample_context(kind), "number": f"西湖市监样〔2026〕{len(kind)}号"}
    docx = render.render_docx(render.default_template(kind, "docx"), context, lambda _sha: None)
    xml = zipfile.ZipFile(io.BytesIO(docx)).read("word/document.xml").decode()
    assert context["number"] in xml and service.kind_of(kind).title in xml
    assert "{{" not in xml and "{%" not in xml
    pdf = render.render_pdf(render.default_template(kind, "html"), context, lambda _sha: None)
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000
    text = _html(kind, context)
    assert context["number"] in text and "{{" not in text
    missing = [word for word in REQUIRED.get(kind, []) if word not in text]
    assert not missing, f"{kind} lacks {missing}"
