"""The five inspection documents (检查通知书, 现场检查记录, 反馈意见书, 责令整改通知书, 复查意见书): what each
says, taken from the inspection when the step that produces it is taken, and issued through the one
document service (numbering, rendering, signing live there)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.auth.models import User
from jianguan.core.workdays import SHANGHAI
from jianguan.documents import service as documents
from jianguan.documents.models import Document
from jianguan.documents.service import chinese_date
from jianguan.entities.models import Entity
from jianguan.inspections import workflow as wf
from jianguan.inspections.models import Finding, Inspection
from jianguan.officers.models import Officer
from jianguan.reference.service import label

ANSWER_CN = {"yes": "是", "no": "否", "na": "不适用"}
MATERIALS = ("营业执照及许可证件", "与检查事项有关的台账、记录和票据", "从业人员资质证明")


def _moment(at: dt.datetime | None) -> str:
    if at is None:
        return ""
    local = at.astimezone(SHANGHAI)
    return f"{chinese_date(local.date())} {local:%H:%M}"


def _common(db: Session, record: Inspection) -> dict[str, Any]:
    from jianguan.catalog import service as catalog

    entity = db.get(Entity, record.entity_id)
    officers = [o for o in record.officers if o.officer_id is not None]
    signatures = documents.signature_of(db, [o.officer_id for o in officers if o.officer_id is not None])
    items = []
    for code in record.item_codes:
        item = catalog.item_by_code(db, code)
        version = catalog.current_version(db, item) if item is not None else None
        bases = [f"《{b.law_title}》{b.article_no}" for b in version.legal_bases] if version is not None else []
        items.append({"code": code, "name": version.name if version is not None else code, "basis": "、".join(bases)})
    ids = [o.officer_id for o in officers]
    names = {officer_id: name for officer_id, name in db.execute(select(Officer.id, Officer.name)
                                                                  .where(Officer.id.in_(ids)))}
    return {
        "inspection_code": record.code,
        "entity": {"name": entity.name if entity else "", "uscc": entity.uscc if entity else "",
                   "address": entity.address if entity else ""},
        "officers": [{"name": names.get(o.officer_id or 0, ""), "credential": o.credential_number,
                      "signature_image": signatures.get(o.officer_id or 0)}
                     for o in officers],
        "items": items,
        "method": label(db, "inspection_method", record.method),
        "kind": label(db, "plan_kind", record.kind),
    }


def _issue(db: Session, record: Inspection, kind: str, context: dict[str, Any], actor: User | None,
           on: dt.date) -> Document:
    return documents.issue(db, kind=kind, agency_id=record.agency_id, subject_type="inspection",
                           subject_id=record.id, entity_id=record.entity_id, region_code=record.region_code,
                           context={**_common(db, record), **context}, actor=actor, on=on)


def notice(db: Session, record: Inspection, *, actor: User | None, on: dt.date) -> Document:
    common = _common(db, record)
    basis = "、".join(dict.fromkeys(i["basis"] for i in common["items"] if i["basis"]))
    return _issue(db, record, "inspection_notice", {"scheduled_on_cn": chinese_date(record.scheduled_on),
                                                    "materials": list(MATERIALS), "basis_text": basis}, actor, on)


def on_site_record(db: Session, record: Inspection, *, actor: User | None, on: dt.date) -> Document:
    from jianguan.inspections.models import InspectionEvidence

    answers = [{"n": i, "text": a.text, "answer": ANSWER_CN.get(a.answer or "", "—"),
                "note": a.note or a.value} for i, a in enumerate(sorted(record.answers, key=lambda a: a.position), 1)]
    evidence = db.query(InspectionEvidence).filter(InspectionEvidence.inspection_id == record.id,
                                                   InspectionEvidence.finding_id.is_(None)).count()
    gps = f"{record.latitude}, {record.longitude}" if record.latitude is not None else ""
    return _issue(db, record, "inspection_record", {
        "place": "", "started_at": _moment(record.visit_started_at), "ended_at": _moment(record.visit_ended_at),
        "gps": gps, "answers": answers, "evidence_count": evidence, "party_signer": record.signed_by,
        "party_signature_image": record.signature_sha256, "refusal_reason": record.refusal_reason}, actor, on)


def _visited(record: Inspection) -> str:
    return chinese_date(record.visit_started_at.astimezone(SHANGHAI).date()) if record.visit_started_at else ""


def _findings(db: Session, findings: list[Finding]) -> list[dict[str, Any]]:
    return [{"n": i, "text": f.text, "severity": label(db, "check_severity", f.severity), "basis": f.basis,
             "rectify_by_cn": chinese_date(f.rectify_by)} for i, f in enumerate(findings, 1)]


def feedback(db: Session, record: Inspection, *, actor: User | None, on: dt.date) -> Document:
    from jianguan.disclosure.service import RESULTS

    return _issue(db, record, "inspection_feedback", {
        "visited_on_cn": _visited(record), "result": RESULTS.get(record.result or "", ""),
        "findings": _findings(db, list(record.findings))}, actor, on)


def rectification_order(db: Session, record: Inspection, *, actor: User | None, on: dt.date) -> Document:
    """责令整改: with the party's rights, periods quoted from the law library (复议 60 days, 诉讼 6 months)."""
    return _issue(db, record, "rectification_order", {
        "visited_on_cn": _visited(record), "findings": _findings(db, list(record.findings)),
        **documents.appeal_rights()}, actor, on)


def review_opinion(db: Session, record: Inspection, *, actor: User | None, on: dt.date) -> Document:
    rows = []
    for i, f in enumerate(record.findings, 1):
        accepted = f.state == wf.ACCEPTED
        rows.append({"n": i, "text": f.text, "measures": str((f.rectification or {}).get("measures", "")),
                     "result": "整改到位" if accepted else "移送立案处理",
                     "accepted_on_cn": chinese_date(f.updated_at.astimezone(SHANGHAI).date()) if f.updated_at else ""})
    return _issue(db, record, "review_opinion", {
        "visited_on_cn": _visited(record), "reviewed_on_cn": chinese_date(on), "findings": rows,
        "conclusion": "经复查，上述问题已整改到位，予以销号。" if all(r["result"] == "整改到位" for r in rows)
        else "经复查，已整改到位的问题予以销号；移送立案的问题依法另行处理。"}, actor, on)
