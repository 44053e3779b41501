"""Enforcement documents: each step of the inspection loop issues its document with the next number of
its agency, series and year; files are rendered once, signed, and any change is detected; templates are
an agency's own only when they render; numbers are never reused."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.audit.models import AuditEntry
from jianguan.auth import service as auth
from jianguan.core.errors import Forbidden, Invalid, NotFound
from jianguan.documents import art, service
from jianguan.documents.models import Document
from jianguan.inspections import visits
from jianguan.inspections.models import Inspection
from tests.auth.conftest import PASSWORD
from tests.inspections.conftest import World
from tests.inspections.test_visits import TODAY, begun, member, on_site

SIGNATURE = art.signature("李四")


def kinds_of(db: Session, record: Inspection) -> list[str]:
    return [d.kind for d in service.for_subject(db, subject_type="inspection", subject_id=record.id, actor=None)]


def through_feedback(db: Session, world: World, record: Inspection) -> None:
    """On site, the first point failed, signed, feedback sent: notice, record, feedback and order issued."""
    a, _ = on_site(db, world, record)
    for answer in record.answers:
        first = answer is record.answers[0]
        visits.save_answer(db, inspection_id=record.id, point_code=answer.point_code, answer="no" if first else "yes",
                           value="" if first else "5", note="许可证已过期" if first else "", actor=a)
    visits.sign(db, inspection_id=record.id, signer="店长 李四", stream=io.BytesIO(SIGNATURE), actor=a)
    visits.decide(db, inspection_id=record.id, action="finish_visit", actor=a)
    visits.decide(db, inspection_id=record.id, action="send_feedback", actor=a)


def test_each_step_of_the_loop_issues_its_document_numbered_per_agency_series_and_year(
        db: Session, world: World) -> None:
    first, second = begun(db, world)[:2]
    through_feedback(db, world, first)
    assert kinds_of(db, first) == ["inspection_notice", "inspection_record", "inspection_feedback",
                                   "rectification_order"]
    docs = service.for_subject(db, subject_type="inspection", subject_id=first.id, actor=None)
    assert [d.number for d in docs] == ["西湖市监检通〔2026〕1号", "西湖市监检记〔2026〕1号", "西湖市监检反〔2026〕1号",
                                        "西湖市监责改〔2026〕1号"]
    other = member(db, world, second, 0)
    visits.schedule(db, inspection_id=second.id, on=dt.date(2026, 12, 21), actor=other)
    visits.decide(db, inspection_id=second.id, action="send_notice", actor=other)
    assert service.for_subject(db, subject_type="inspection", subject_id=second.id,
                               actor=None)[0].number == "西湖市监检通〔2026〕2号"
    order = docs[3].context
    assert order["entity"]["uscc"] and order["findings"][0]["basis"]
    assert order["findings"][0]["rectify_by_cn"].startswith("2027年1月")  # 30 calendar days for a general problem
    assert order["reconsideration"]["basis"] == "《中华人民共和国行政复议法》第二十条"
    assert order["litigation"]["basis"] == "《中华人民共和国行政诉讼法》第四十六条"
    record = docs[1].context
    assert record["party_signer"] == "店长 李四" and record["party_signature_image"] == first.signature_sha256
    assert record["answers"][0] == {"n": 1, "text": first.answers[0].text, "answer": "否", "note": "许可证已过期"}
    # Each issue is in the audit chain with the hash of what the document says.
    issued = db.scalars(select(AuditEntry).where(AuditEntry.action == "document.issue")).all()
    assert {json.loads(e.detail)["context_sha256"] for e in issued} >= {d.context_sha256 for d in docs}


def test_the_review_opinion_is_issued_when_the_inspection_closes(db: Session, world: World) -> None:
    record = begun(db, world)[0]
    through_feedback(db, world, record)
    officer = member(db, world, record, 0)
    finding = record.findings[0]
    visits.decide_finding(db, finding_id=finding.id, action="submit_plan", actor=officer,
                          payload={"responsible": "李四", "measures": "补办许可证", "timetable": "两周内"})
    visits.decide_finding(db, finding_id=finding.id, action="approve_plan", actor=officer)
    visits.attach(db, inspection_id=record.id, stream=io.BytesIO(SIGNATURE), filename="许可证.png",
                  content_type="image/png", kind="photo", finding_id=finding.id, actor=officer)
    visits.decide_finding(db, finding_id=finding.id, action="submit_evidence", actor=officer)
    visits.decide(db, inspection_id=record.id, action="review", actor=officer)
    visits.decide_finding(db, finding_id=finding.id, action="accept", actor=officer)
    visits.decide(db, inspection_id=record.id, action="close", actor=officer)
    review = service.for_subject(db, subject_type="inspection", subject_id=record.id, actor=None)[-1]
    assert review.kind == "review_opinion" and review.number == "西湖市监复查〔2026〕1号"
    assert review.context["findings"][0]["measures"] == "补办许可证"
    assert review.context["conclusion"].endswith("予以销号。")


def test_a_refused_step_takes_no_number(db: Session, world: World) -> None:
    record = begun(db, world)[0]
    officer = member(db, world, record, 0)
    visits.schedule(db, inspection_id=record.id, on=dt.date(2026, 12, 10), actor=officer)  # too soon
    with pytest.raises(Invalid):
        visits.decide(db, inspection_id=record.id, action="send_notice", actor=officer)
    assert db.scalar(select(Document.id)) is None
    visits.schedule(db, inspection_id=record.id, on=dt.date(2026, 12, 21), actor=officer)
    visits.decide(db, inspection_id=record.id, action="send_notice", actor=officer)
    assert db.scalars(select(Document.number)).all() == ["西湖市监检通〔2026〕1号"]


def test_the_pdf_is_signed_rendered_once_and_any_change_is_detected(db: Session, world: World) -> None:
    record = begun(db, world)[0]
    through_feedback(db, world, record)
    order = service.for_subject(db, subject_type="inspection", subject_id=record.id, actor=None)[-1]
    _, pdf = service.render_files(db, document_id=order.id, fmt="pdf", actor=world.author)
    assert pdf.startswith(b"%PDF-") and order.signer == "杭州市西湖区市场监督管理局"
    _, again = service.render_files(db, document_id=order.id, fmt="pdf", actor=world.author)
    assert again == pdf  # kept, not re-rendered
    verdict = service.verify_pdf(db, pdf)
    assert verdict["genuine"] and verdict["number"] == order.number and verdict["trusted"]
    # One byte changed inside the signed content: the signature no longer matches.
    tampered = bytearray(pdf)
    at = pdf.index(b"stream") + 300
    tampered[at] ^= 0x01
    broken = service.verify_pdf(db, bytes(tampered))
    assert not broken["genuine"] and not broken["intact"] and not broken["registered"]
    # Something appended after signing (an incremental update): still intact, but not the whole file.
    appended = service.verify_pdf(db, pdf + b"\n% added later\n")
    assert not appended["genuine"] and not appended["registered"]
    assert not service.verify_pdf(db, b"not a pdf")["signed"]
    rendered = db.scalars(select(AuditEntry).where(AuditEntry.action == "document.render")).all()
    assert [json.loads(e.detail)["sha256"] for e in rendered] == [order.pdf_sha256]


def test_the_docx_carries_the_number_the_party_and_the_findings(db: Session, world: World) -> None:
    record = begun(db, world)[0]
    through_feedback(db, world, record)
    order = service.for_subject(db, subject_type="inspection", subject_id=record.id, actor=None)[-1]
    _, docx = service.render_files(db, document_id=order.id, fmt="docx", actor=None)
    xml = zipfile.ZipFile(io.BytesIO(docx)).read("word/document.xml").decode()
    assert order.number in xml and order.context["entity"]["name"] in xml
    assert order.context["findings"][0]["text"] in xml and "{{" not in xml and "{%" not in xml
    assert "word/media/" in " ".join(zipfile.ZipFile(io.BytesIO(docx)).namelist()) or not order.context["seal_image"]


def test_an_agencys_template_is_accepted_only_when_it_renders(db: Session, world: World) -> None:
    admin = auth.create_user(db, username="xh_admin", display_name="管理员", password=PASSWORD, roles=["agency_admin"],
                             agency_id=world.xihu.id, actor=None)
    good = ('{% extends "base.html" %}{% block body %}<p>本局自定义：{{ entity.name }}，{{ scheduled_on_cn }}。</p>'
            '{% endblock %}')
    with pytest.raises(Invalid) as broken:
        service.upload_template(db, agency_id=world.xihu.id, kind="inspection_notice", fmt="html",
                                stream=io.BytesIO(b"{% if %}"), filename="bad.html", actor=admin)
    assert broken.value.field == "template" and "line 1" in broken.value.localized("en")
    with pytest.raises(Invalid):  # the sandbox: no reaching into Python from a template
        service.upload_template(db, agency_id=world.xihu.id, kind="inspection_notice", fmt="html",
                                stream=io.BytesIO(b"{{ ''.__class__.__mro__[1].__subclasses__() }}"),
                                filename="evil.html", actor=admin)
    with pytest.raises(Invalid):
        service.upload_template(db, agency_id=world.xihu.id, kind="inspection_notice", fmt="docx",
                                stream=io.BytesIO(b"PK not really"), filename="x.docx", actor=admin)
    with pytest.raises(Forbidden):  # an officer does not change the agency's templates
        service.upload_template(db, agency_id=world.xihu.id, kind="inspection_notice", fmt="html",
                                stream=io.BytesIO(good.encode()), filename="t.html", actor=world.author)
    own = service.upload_template(db, agency_id=world.xihu.id, kind="inspection_notice", fmt="html",
                                  stream=io.BytesIO(good.encode()), filename="通知书.html", actor=admin)
    assert service.template_for(db, world.xihu.id, "inspection_notice", "pdf")[1] == own.sha256
    service.retire_template(db, template_id=own.id, actor=admin)
    assert service.template_for(db, world.xihu.id, "inspection_notice", "pdf")[1] != own.sha256


def test_a_template_cannot_fetch_files_or_the_network(db: Session, world: World) -> None:
    from jianguan.documents import render

    html = (b'{% extends "base.html" %}{% block body %}<img src="file:///etc/hostname">'
            b'<img src="http://127.0.0.1:9/x.png"><p>ok</p>{% endblock %}')
    pdf = render.render_pdf(html, service.sample_context("inspection_notice"), lambda _sha: None)
    assert pdf.startswith(b"%PDF-") and b"/Subtype /Image" not in pdf


def test_who_reads_and_who_voids(db: Session, world: World) -> None:
    record = begun(db, world)[0]
    through_feedback(db, world, record)
    notice = service.for_subject(db, subject_type="inspection", subject_id=record.id, actor=None)[0]
    with pytest.raises(NotFound):
        service.get_document(db, document_id=notice.id, actor=world.outsider)
    shop = auth.create_user(db, username="shop", display_name="店主", password=PASSWORD, roles=["entity_user"],
                            entity_id=record.entity_id, actor=None)
    other = auth.create_user(db, username="other", display_name="别家", password=PASSWORD, roles=["entity_user"],
                             entity_id=world.entities[-1].id, actor=None)
    assert service.list_documents(db, actor=shop)[1] == 4 and service.list_documents(db, actor=other)[1] == 0
    assert service.list_documents(db, actor=world.city_leader)[1] == 4  # the city sees its districts'
    with pytest.raises(Forbidden):
        service.void(db, document_id=notice.id, reason="错发", actor=world.author)
    with pytest.raises(Invalid):
        service.void(db, document_id=notice.id, reason=" ", actor=world.leader)
    service.void(db, document_id=notice.id, reason="送达地址有误，重新制发", actor=world.leader)
    assert service.list_documents(db, actor=shop)[1] == 3  # a void document is no longer shown to the party
    again = service.issue(db, kind="inspection_notice", agency_id=world.xihu.id, subject_type="inspection",
                          subject_id=record.id, entity_id=record.entity_id, region_code=record.region_code,
                          context={}, actor=world.author, on=TODAY)
    assert again.number == "西湖市监检通〔2026〕2号"  # the void number is not given again


@pytest.mark.parametrize(("name", "short"), [
    ("杭州市西湖区市场监督管理局", "西湖市监"), ("杭州市市场监督管理局", "杭州市监"),
    ("浙江省市场监督管理局", "浙江市监"), ("杭州市生态环境局", "杭州环"),
    ("西湖区应急管理局", "西湖应急"), ("某某办公室", "某某办公室"),
])
def test_the_default_issuing_abbreviation(name: str, short: str) -> None:
    assert service.default_abbreviation(name) == short


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(["xihu", "binjiang"]), st.sampled_from(["inspection_notice",
                                                                                         "rectification_order"]),
                                st.sampled_from([2026, 2027]), st.booleans()), min_size=1, max_size=12))
def test_numbers_run_without_gaps_or_repeats_per_agency_series_and_year(
        db: Session, world: World, steps: list[tuple[str, str, int, bool]]) -> None:
    savepoint = db.begin_nested()  # each example starts from the same world
    try:
        expected: dict[tuple[str, str, int], int] = {}
        for agency_key, kind, year, void_it in steps:
            agency = getattr(world, agency_key)
            doc = service.issue(db, kind=kind, agency_id=agency.id, subject_type="test", subject_id=1, entity_id=None,
                                region_code=agency.region_code, context={}, actor=None, on=dt.date(year, 3, 2))
            key = (agency_key, kind, year)
            expected[key] = expected.get(key, 0) + 1
            assert doc.seq == expected[key] and doc.number.endswith(f"〔{year}〕{doc.seq}号")
            if void_it:
                doc.voided_at = doc.created_at
        numbers = db.scalars(select(Document.number).where(Document.subject_type == "test")).all()
        assert len(numbers) == len(set(numbers)) == len(steps)
    finally:
        savepoint.rollback()
