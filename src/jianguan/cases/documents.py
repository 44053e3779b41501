"""The documents of a penalty case (domain-rules §5): what each says, taken from the case when the step
that produces it is taken, issued through the one document service (numbering, rendering, signing).

| step | document |
|---|---|
| lead registered | 案件来源登记表 |
| file / decline | 立案审批表 / 不予立案审批表 |
| inquiry, on-site record | 询问笔录, 现场笔录 |
| report | 案件调查终结报告 |
| approve | 案件审核表 |
| notify | 行政处罚告知书 |
| request_hearing | 听证通知书 |
| decide | 行政处罚决定书 (every item of 行政处罚法第五十九条) / 不予行政处罚决定书 |
| simple procedure | 当场行政处罚决定书 (第五十二条) |
| serve | 送达回证 |
| close | 结案审批表 |
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.auth.models import User
from jianguan.cases.models import Case
from jianguan.documents import service as documents
from jianguan.documents.models import Document
from jianguan.documents.service import chinese_date
from jianguan.entities.models import Entity
from jianguan.officers.models import Officer
from jianguan.reference import laws
from jianguan.reference.service import label

TIER_CN = {"no_penalty": "不予处罚", "mitigated": "减轻处罚", "lighter": "从轻处罚", "ordinary": "一般",
           "heavier": "从重处罚"}
SERVICE_METHOD_CN = {"direct": "直接送达", "left": "留置送达", "post": "邮寄送达", "electronic": "电子送达",
                     "entrusted": "委托送达", "public_notice": "公告送达"}
OUTCOME_CN = {"penalty": "给予行政处罚", "no_penalty": "不予行政处罚", "transfer": "移送司法机关"}
EVIDENCE_CN = {"document": "书证", "photo": "照片", "video": "视听资料", "testimony": "证人证言",
               "inquiry": "询问笔录", "on_site": "现场笔录", "test_report": "检测报告", "electronic": "电子数据",
               "other": "其他"}


def yuan_text(amount: Decimal | None) -> str:
    return "" if amount is None else f"{amount:,.2f}元"


def _today() -> dt.date:
    from jianguan.cases.steps import today

    return today()


def _user_name(db: Session, user_id: int | None) -> str:
    user = db.get(User, user_id) if user_id is not None else None
    return (user.display_name or user.username) if user is not None else ""


def kinds_text(db: Session, kinds: list[str], fine: Decimal | None, confiscation: Decimal | None) -> str:
    parts = []
    for code in kinds:
        name = label(db, "penalty_kind", code)
        if code == "3" and fine is not None:
            name = f"罚款{yuan_text(fine)}"
        elif code == "4" and confiscation is not None:
            name = f"没收违法所得{yuan_text(confiscation)}"
        parts.append(name)
    return "；".join(parts)


def government_of(db: Session, region_code: str) -> str:
    """The people's government of a region, by its usual name (杭州市西湖区人民政府, 北京市朝阳区人民政府)."""
    from jianguan.entities import codes

    if region_code.endswith("00"):  # a province or a city
        names = [region_code]
    elif region_code[:2] in ("11", "12", "31", "50"):  # 直辖市: the city is the province
        names = [region_code[:2] + "0000", region_code]
    else:
        names = [region_code[:4] + "00", region_code]
    return "".join(codes.region_name(db, code) for code in names) + "人民政府"


def _rights(db: Session, case: Case) -> dict[str, Any]:
    """The review organ is the government of the agency's own level (行政复议法第二十四条); the court is
    left for the agency's template, since provinces centralise administrative cases differently."""
    from jianguan.officers.models import Agency

    agency = db.get(Agency, case.agency_id)
    rights: dict[str, Any] = documents.appeal_rights()
    rights["reconsideration"]["body"] = government_of(db, agency.region_code) if agency is not None else ""
    rights["litigation"]["court"] = ""
    return rights


def articles(suggestion: dict[str, Any]) -> dict[str, str]:
    """The article violated, the article imposing the penalty and its text, from the rule the suggestion
    used (the templates quote them; no parsing of the basis sentence)."""
    from jianguan.cases import discretion

    rule = next((r for r in discretion.rules().get(suggestion.get("rule", ""), [])
                 if r.version == suggestion.get("version")), None)
    if rule is None:
        return {"violated": "", "imposing": "", "quoted": ""}
    violated, imposing = laws.cite(*rule.violated), laws.cite(*rule.imposing)
    return {"violated": f"《{violated.law.title}》{violated.article_no}",
            "imposing": f"《{imposing.law.title}》{imposing.article_no}", "quoted": imposing.text}


def common(db: Session, case: Case) -> dict[str, Any]:
    """Fields every case document may use (documents/data/samples.yaml, `case_common`)."""
    entity = db.get(Entity, case.entity_id) if case.entity_id is not None else None
    ids = [o.officer_id for o in case.officers]
    names = {officer_id: name for officer_id, name in db.execute(select(Officer.id, Officer.name)
                                                                  .where(Officer.id.in_(ids)))}
    signatures = documents.signature_of(db, ids)
    suggestion = case.suggestion or {}
    party = {"name": case.party_name, "kind": "单位" if case.party_kind == "organisation" else "个人",
             "uscc": entity.uscc if entity is not None and entity.uscc else "",
             "address": case.party_address or (entity.address if entity is not None else ""),
             "legal_representative": entity.legal_rep_name if entity is not None else ""}
    return {
        "case": {"code": case.code, "title": case.title, "source": label(db, "case_source", case.source_type),
                 "source_ref": case.source_ref, "facts": case.facts, "findings": case.findings,
                 "discovered_on_cn": chinese_date(case.discovered_on), "lead_on_cn": chinese_date(case.lead_on),
                 "filed_on_cn": chinese_date(case.filed_on), "procedure": "简易程序" if case.procedure == "simple"
                 else "普通程序"},
        "party": party,
        "entity": {"name": party["name"], "uscc": party["uscc"], "address": party["address"]},
        "officers": [{"name": names.get(o.officer_id, ""), "credential": o.credential_number,
                      "signature_image": signatures.get(o.officer_id), "lead": o.lead} for o in case.officers],
        "violation": {"code": case.violation_code, "basis": suggestion.get("basis", ""),
                      "rule_version": suggestion.get("version", ""), **articles(suggestion)},
        "proposal": {"tier": TIER_CN.get(suggestion.get("tier", ""), ""),
                     "range": "—".join(yuan_text(Decimal(x)) for x in suggestion.get("range") or []),
                     "legal_range": "—".join(yuan_text(Decimal(x)) for x in suggestion.get("legal_range") or []),
                     "penalty": kinds_text(db, case.proposed_kinds, case.proposed_fine, case.proposed_confiscation),
                     "reasons": list(suggestion.get("reasons", [])), "deviation_reason": case.deviation_reason},
    }


def _issue(db: Session, case: Case, kind: str, context: dict[str, Any], actor: User | None,
           on: dt.date | None = None) -> Document:
    return documents.issue(db, kind=kind, agency_id=case.agency_id, subject_type="case", subject_id=case.id,
                           entity_id=case.entity_id, region_code=case.region_code,
                           context={**common(db, case), **context}, actor=actor, on=on or _today())


def source_form(db: Session, case: Case, *, actor: User | None) -> Document:
    return _issue(db, case, "case_source_form", {"registered_by": _user_name(db, case.created_by)}, actor)


def filing_form(db: Session, case: Case, *, actor: User | None, filed: bool) -> Document:
    if filed:
        return _issue(db, case, "filing_form", {"approver": _user_name(db, actor.id if actor else None),
                                                "limitation_years": 5 if case.severe else 2}, actor)
    return _issue(db, case, "not_filed_form", {"approver": _user_name(db, actor.id if actor else None),
                                               "reason": case.not_filed_reason}, actor)


def inquiry_record(db: Session, case: Case, content: dict[str, Any], *, actor: User | None) -> Document:
    return _issue(db, case, "inquiry_record", content, actor)


def on_site_record(db: Session, case: Case, content: dict[str, Any], *, actor: User | None) -> Document:
    return _issue(db, case, "case_site_record", content, actor)


def investigation_report(db: Session, case: Case, *, actor: User | None) -> Document:
    from jianguan.cases import procedure

    labels = procedure.ground_labels()
    evidence = [{"n": i, "kind": EVIDENCE_CN.get(e.kind, e.kind), "title": e.title,
                 "collected_on_cn": chinese_date(e.collected_on)} for i, e in enumerate(case.evidence, 1)]
    grounds = [labels.get(g, {"fine": "拟罚款数额较大", "confiscation": "拟没收数额较大"}.get(g, "")) or
               label(db, "penalty_kind", g.removeprefix("kind:")) for g in case.major_grounds]
    preservations = [{"items": p.items, "preserved_on_cn": chinese_date(p.preserved_on), "handling": p.handling}
                     for p in case.preservations]
    return _issue(db, case, "investigation_report", {"evidence": evidence, "major": case.major,
                                                     "preservations": preservations,
                                                     "major_grounds": grounds,
                                                     "outcome": {"penalty": "建议给予行政处罚",
                                                                 "no_penalty": "建议不予行政处罚",
                                                                 "transfer": "建议移送司法机关"}[case.outcome]}, actor)


def review_form(db: Session, case: Case, *, actor: User | None) -> Document:
    return _issue(db, case, "review_form", {
        "reviewer": _user_name(db, case.reviewed_by), "opinion": case.review_opinion,
        "reviewed_on_cn": chinese_date(case.reviewed_on), "major": case.major,
        "kind": "法制审核" if case.major else "案件审核", "deviation": case.deviation,
        "after_hearing": case.hearing_held_on is not None}, actor)


def prior_notice(db: Session, case: Case, *, actor: User | None) -> Document:
    from jianguan.cases.steps import statement_period_end

    last = statement_period_end(db, case)
    return _issue(db, case, "prior_notice", {
        "evidence": _evidence(case),
        "penalty": kinds_text(db, case.noticed_kinds, case.noticed_fine, case.noticed_confiscation),
        "statement_by_cn": chinese_date(last), "hearing_right": case.hearing_right}, actor,
        on=case.notice_served_on)


def hearing_notice(db: Session, case: Case, *, actor: User | None) -> Document:
    agency_place = ""
    from jianguan.officers.models import Agency

    agency = db.get(Agency, case.agency_id)
    if agency is not None:
        agency_place = f"{agency.name}听证室"
    return _issue(db, case, "hearing_notice", {"hearing_on_cn": chinese_date(case.hearing_on),
                                               "requested_on_cn": chinese_date(case.hearing_requested_on),
                                               "place": agency_place}, actor)


def _evidence(case: Case) -> list[dict[str, Any]]:
    return [{"n": i, "kind": EVIDENCE_CN.get(e.kind, e.kind), "title": e.title} for i, e in enumerate(case.evidence, 1)]


def decision(db: Session, case: Case, *, actor: User | None) -> Document | None:
    """行政处罚决定书: the items of 行政处罚法第五十九条, plus how the statement was taken (SAMR 第六十二条)."""
    if case.outcome == "transfer":
        return None
    evidence = _evidence(case)
    fine = case.decision_fine or Decimal(0)
    context = {
        "penalty": kinds_text(db, case.decision_kinds, case.decision_fine, case.decision_confiscation),
        "decided_on_cn": chinese_date(case.decided_on), "evidence": evidence,
        "statement": case.statement or "当事人在法定期限内未提出陈述、申辩意见。",
        "hearing_held_on_cn": chinese_date(case.hearing_held_on), "fine": yuan_text(case.decision_fine),
        "notice_served_on_cn": chinese_date(case.notice_served_on), "hearing_right": case.hearing_right,
        "pays": fine > 0 or (case.decision_confiscation or 0) > 0,
        "payment": {"days": "十五日", "method": "指定银行或者电子支付系统（凭本决定书编号缴款）",
                    "surcharge": "每日按罚款数额的百分之三加处罚款，加处罚款的数额不得超出罚款的数额"},
        **_rights(db, case),
    }
    kind = "penalty_decision" if case.outcome == "penalty" else "no_penalty_decision"
    return _issue(db, case, kind, context, actor)


def simple_decision(db: Session, case: Case, *, place: str, at: dt.datetime, collected: bool,
                    actor: User | None) -> Document:
    from jianguan.core.workdays import SHANGHAI

    local = at.astimezone(SHANGHAI)
    return _issue(db, case, "simple_decision", {
        "penalty": kinds_text(db, case.decision_kinds, case.decision_fine, None), "place": place,
        "at": f"{chinese_date(local.date())} {local:%H:%M}", "fine": yuan_text(case.decision_fine),
        "collected_on_spot": collected, "statement": case.statement, **_rights(db, case)}, actor)


def service_receipt(db: Session, case: Case, *, actor: User | None) -> Document:
    return _issue(db, case, "service_receipt", {
        "served_document": {"title": "行政处罚决定书" if case.outcome == "penalty" else "不予行政处罚决定书",
                            "number": case.decision_number},
        "method": SERVICE_METHOD_CN.get(case.service_method, case.service_method),
        "served_on_cn": chinese_date(case.served_on), "recipient": case.party_name}, actor)


def closing_form(db: Session, case: Case, *, actor: User | None) -> Document:
    paid = sum((p.amount for p in case.payments), Decimal(0))
    surcharge = sum((p.surcharge for p in case.payments), Decimal(0))
    return _issue(db, case, "closing_form", {
        "decision_number": case.decision_number,
        "outcome": OUTCOME_CN.get(case.outcome, ""),
        "penalty": kinds_text(db, case.decision_kinds, case.decision_fine, case.decision_confiscation),
        "executed": f"已缴纳{yuan_text(paid)}" + (f"（含加处罚款{yuan_text(surcharge)}）" if surcharge else "")
        if paid else "无需缴纳", "executed_on_cn": chinese_date(case.executed_on),
        "approver": _user_name(db, actor.id if actor else None)}, actor)
