"""National reporting records of penalty behaviour (行政处罚行为数据, domain-rules §6): one record per
decision to penalise, as JSON lines or XLSX, built in Polars.

Besides what an inspection record carries (agency, party name and USCC, division code, officers with
their credential numbers): the case source, the facts, the article violated and the article imposing
the penalty, the procedure flags (simple procedure, hearing, legal review, collective discussion), the
decision's document number and date, the penalty kinds and amounts, execution and the closing date.
Scoped and audited like every export.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.auth.models import User
from jianguan.auth.scope import visible
from jianguan.cases import documents
from jianguan.cases.models import Case, CaseOfficer
from jianguan.core import exporting
from jianguan.core.errors import Invalid
from jianguan.core.i18n import N_
from jianguan.entities.models import Entity
from jianguan.officers.models import Agency, Officer

COLUMNS = {  # field → Chinese header (the XLSX)
    "case_code": "案件编号", "decision_number": "处罚决定书文号", "agency_code": "处罚机关编码",
    "agency_name": "处罚机关", "party_name": "当事人名称", "party_kind": "当事人类型", "uscc": "统一社会信用代码",
    "division_code": "行政区划代码",
    "source": "案件来源", "facts": "违法事实", "violated": "违反的法律条款", "basis": "处罚依据",
    "simple_procedure": "是否简易程序", "hearing": "是否听证", "legal_review": "是否法制审核",
    "collective_discussion": "是否集体讨论", "decided_on": "处罚决定日期", "penalty_kinds": "处罚种类",
    "fine": "罚款金额（元）", "confiscation": "没收金额（元）", "paid": "已缴金额（元）", "executed": "是否履行完毕",
    "executed_on": "履行日期", "closed_on": "结案日期", "officers": "执法人员及执法证号",
}
BOOLEAN = {"simple_procedure", "hearing", "legal_review", "collective_discussion", "executed"}


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def records(db: Session, *, actor: User | None, since: dt.date, until: dt.date) -> pl.DataFrame:
    """Decisions to penalise made between ``since`` and ``until`` (inclusive) in the actor's scope."""
    if until < since:
        raise Invalid("until", N_("The end date must not be before the start date."))
    stmt = (select(Case, Agency.code, Agency.name, Entity.uscc)
            .join(Agency, Agency.id == Case.agency_id).outerjoin(Entity, Entity.id == Case.entity_id)
            .where(Case.outcome == "penalty", Case.decided_on >= since, Case.decided_on <= until)
            .order_by(Case.decided_on, Case.id))
    if actor is not None:
        stmt = stmt.where(visible(Case, actor))
    rows = db.execute(stmt).all()
    ids = [r[0].id for r in rows]
    team: dict[int, list[str]] = {}
    if ids:
        for case_id, name, number in db.execute(
                select(CaseOfficer.case_id, Officer.name, CaseOfficer.credential_number)
                .join(Officer, Officer.id == CaseOfficer.officer_id)
                .where(CaseOfficer.case_id.in_(ids)).order_by(CaseOfficer.id)):
            team.setdefault(case_id, []).append(f"{name}（{number}）")
    out = []
    for case, agency_code, agency_name, uscc in rows:
        articles = documents.articles(case.suggestion or {})
        paid = sum((p.amount + p.surcharge for p in case.payments), Decimal("0.00"))
        out.append({
            "case_code": case.code, "decision_number": case.decision_number, "agency_code": agency_code,
            "agency_name": agency_name, "party_name": case.party_name,
            "party_kind": "法人及其他组织" if case.party_kind == "organisation" else "自然人", "uscc": uscc or "",
            "division_code": case.region_code, "source": case.source_type, "facts": case.findings or case.facts,
            "violated": articles["violated"], "basis": articles["imposing"],
            "simple_procedure": case.procedure == "simple", "hearing": case.hearing_held_on is not None,
            "legal_review": case.reviewed_on is not None, "collective_discussion": case.discussed_on is not None,
            "decided_on": case.decided_on.isoformat() if case.decided_on else "",
            "penalty_kinds": ";".join(case.decision_kinds), "fine": _money(case.decision_fine),
            "confiscation": _money(case.decision_confiscation), "paid": _money(paid),
            "executed": case.executed_on is not None,
            "executed_on": case.executed_on.isoformat() if case.executed_on else "",
            "closed_on": case.closed_on.isoformat() if case.closed_on else "",
            "officers": "；".join(team.get(case.id, [])),
        })
    return pl.DataFrame(out, schema={k: pl.Boolean if k in BOOLEAN else pl.Utf8 for k in COLUMNS})


def export(db: Session, *, actor: User | None, since: dt.date, until: dt.date, fmt: str = "jsonl") -> bytes:
    """The records as JSON lines (UTF-8, one object per line) or XLSX with Chinese headers; audited."""
    exporting.check_format(fmt)
    frame = records(db, actor=actor, since=since, until=until)
    audit.record_export(db, actor=actor, what="penalty_records", row_count=frame.height, fmt=fmt,
                        filters={"since": since.isoformat(), "until": until.isoformat()})
    return exporting.as_bytes(frame, fmt, headers=COLUMNS, worksheet="行政处罚行为")
