"""After the decision: payments (with the late surcharge split out), administrative review and lawsuit
outcomes (and the share revoked for want of evidence), and typical cases written up anonymised.
Flush only; audited."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.auth.models import Role, User
from jianguan.auth.scope import visible
from jianguan.cases import service, steps
from jianguan.cases import workflow as wf
from jianguan.cases.models import Case, CaseChallenge, CasePayment
from jianguan.core.errors import Conflict, Forbidden, Invalid, NotFound
from jianguan.core.i18n import N_
from jianguan.entities.models import Entity

CHALLENGE_KINDS = ("review", "lawsuit")
CHALLENGE_OUTCOMES = ("upheld", "revoked", "changed", "unlawful", "dismissed", "withdrawn")
CHALLENGE_REASONS = ("evidence", "procedure", "law", "discretion", "jurisdiction", "other")


def record_payment(db: Session, *, case_id: int, amount: Decimal, paid_on: dt.date | None = None,
                   receipt: str = "", actor: User) -> CasePayment:
    """A payment received; what it covers of the late surcharge owed that day is split out."""
    case = service._handling(db, case_id, actor, states=(wf.SERVED, wf.ENFORCING))
    day = paid_on or service.today()
    if day > service.today() or (case.served_on is not None and day < case.served_on):
        raise Invalid("paid_on", N_("A payment is made between service and today."))
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise Invalid("amount", N_("An amount is zero or more, in yuan to the fen."))
    owed = steps.outstanding(case, day)
    if amount > owed:
        raise Invalid("amount", N_("¥{amount} is more than the ¥{owed} owed."), amount=f"{amount:,.2f}",
                      owed=f"{owed:,.2f}")
    surcharge_owed = steps.surcharge_on(case, day) - sum((p.surcharge for p in case.payments), Decimal("0.00"))
    principal_owed = steps.amount_due(case) - sum((p.amount for p in case.payments), Decimal("0.00"))
    principal = min(amount, max(principal_owed, Decimal("0.00")))
    surcharge = min(amount - principal, max(surcharge_owed, Decimal("0.00")))
    row = CasePayment(paid_on=day, amount=principal, surcharge=surcharge, receipt=receipt.strip()[:60],
                      recorded_by=actor.id)
    case.payments.append(row)
    service._touch(case)
    db.flush()
    audit.record(db, actor=actor, action="case.payment", object_type="case", object_id=case.id,
                 payload={"amount": f"{amount:.2f}", "paid_on": day.isoformat(), "receipt": receipt},
                 detail={"principal": f"{principal:.2f}", "surcharge": f"{surcharge:.2f}"})
    return row


def add_challenge(db: Session, *, case_id: int, kind: str, filed_on: dt.date, body: str = "",
                  actor: User) -> CaseChallenge:
    """行政复议 or 行政诉讼 filed against the decision; the late surcharge stops while it is pending."""
    case = service.get_case(db, case_id=case_id, actor=actor)
    if case.decided_on is None or case.outcome == "transfer":
        raise Conflict(N_("There is no decision to challenge."))
    if kind not in CHALLENGE_KINDS:
        raise Invalid("kind", N_("Unknown code(s) {codes} for {name}."), codes=kind, name="kind")
    if filed_on > service.today() or filed_on < case.decided_on:
        raise Invalid("filed_on", N_("A challenge is filed between the decision and today."))
    row = CaseChallenge(kind=kind, filed_on=filed_on, body=body.strip()[:200])
    case.challenges.append(row)
    service._touch(case)
    db.flush()
    audit.record(db, actor=actor, action="case.challenge", object_type="case", object_id=case.id,
                 payload={"kind": kind, "filed_on": filed_on.isoformat(), "body": body}, detail={})
    return row


def conclude_challenge(db: Session, *, challenge_id: int, outcome: str, reason: str = "",
                       decided_on: dt.date | None = None, note: str = "", actor: User) -> CaseChallenge:
    """How the review or lawsuit ended, and why (for the share revoked for want of evidence)."""
    row = db.get(CaseChallenge, challenge_id)
    if row is None:
        raise NotFound(N_("No such review or lawsuit."))
    case = service.get_case(db, case_id=row.case_id, actor=actor)
    problems = []
    if outcome not in CHALLENGE_OUTCOMES:
        problems.append(Invalid("outcome", N_("Unknown code(s) {codes} for {name}."), codes=outcome, name="outcome"))
    if outcome in ("revoked", "changed", "unlawful") and reason not in CHALLENGE_REASONS:
        problems.append(Invalid("reason", N_("Say why the decision did not stand.")))
    day = decided_on or service.today()
    if day < row.filed_on or day > service.today():
        problems.append(Invalid("decided_on", N_("The outcome comes between filing and today.")))
    if row.outcome:
        problems.append(Invalid("outcome", N_("Already concluded.")))
    if problems:
        raise Invalid.all(problems)
    row.outcome, row.outcome_reason, row.decided_on, row.note = outcome, reason, day, note.strip()
    service._touch(case)
    db.flush()
    audit.record(db, actor=actor, action="case.challenge_outcome", object_type="case", object_id=case.id,
                 payload={"challenge_id": row.id, "outcome": outcome, "reason": reason}, detail={})
    return row


def challenge_figures(db: Session, *, actor: User) -> dict[str, Any]:
    """Decisions challenged and how they ended; the share revoked for evidence problems (target < 5 %)."""
    decided = db.scalar(select(func.count()).select_from(Case).where(visible(Case, actor),
                                                                     Case.decided_on.is_not(None))) or 0
    rows = db.execute(select(CaseChallenge.outcome, CaseChallenge.outcome_reason, func.count())
                      .join(Case, Case.id == CaseChallenge.case_id).where(visible(Case, actor))
                      .group_by(CaseChallenge.outcome, CaseChallenge.outcome_reason)).all()
    by_outcome: dict[str, int] = {}
    for outcome, _, n in rows:
        by_outcome[outcome or "pending"] = by_outcome.get(outcome or "pending", 0) + n
    evidence = sum(n for outcome, reason, n in rows if outcome in ("revoked", "unlawful") and reason == "evidence")
    share = Decimal(evidence * 100) / decided if decided else Decimal(0)
    return {"decided": decided, "by_outcome": by_outcome, "revoked_for_evidence": evidence,
            "revoked_for_evidence_pct": f"{share:.2f}", "target_pct": "5.00", "met": share < 5}


def mask_name(name: str) -> str:
    """某某: an anonymised party for a typical case (杭州示例餐饮有限公司 → 杭州某餐饮有限公司; 张三 → 张某)."""
    if len(name) <= 4:
        return name[:1] + "某"
    for suffix in ("有限责任公司", "股份有限公司", "有限公司", "公司", "店", "厂", "中心"):
        if name.endswith(suffix):
            core = name[: -len(suffix)]
            return f"{core[:2]}某{core[-2:] if len(core) > 6 else ''}{suffix}"
    return name[:2] + "某某"


def mark_typical(db: Session, *, case_id: int, summary: str = "", actor: User) -> Case:
    """典型案例: a decided case written up without the party's name, for training and publication."""
    case = service.get_case(db, case_id=case_id, actor=actor)
    if (actor.agency_id != case.agency_id and not actor.is_system_admin) or not actor.has_role(
            Role.leader, Role.legal_reviewer, Role.system_admin):
        raise Forbidden(N_("A leader or legal reviewer of the agency chooses its typical cases."))
    if case.decided_on is None:
        raise Conflict(N_("Only a decided case can be a typical case."))
    text = summary.strip() or typical_text(db, case)
    entity = db.get(Entity, case.entity_id) if case.entity_id is not None else None
    leaks = [x for x in (case.party_name, entity.uscc if entity is not None else None) if x and x in text]
    if leaks:
        raise Invalid("summary", N_("The summary names the party; anonymise it."))
    case.typical, case.typical_summary = True, text
    service._touch(case)
    db.flush()
    audit.record(db, actor=actor, action="case.typical", object_type="case", object_id=case.id,
                 payload={"summary": text}, detail={})
    return case


def typical_text(db: Session, case: Case) -> str:
    from jianguan.cases.documents import kinds_text

    party = mask_name(case.party_name)
    penalty = kinds_text(db, case.decision_kinds, case.decision_fine, case.decision_confiscation) or "不予行政处罚"
    basis = (case.suggestion or {}).get("basis", "").split("：")[0]
    findings = case.findings.replace(case.party_name, party)
    return f"【案由】{case.title}\n【当事人】{party}\n【基本案情】{findings}\n【处理结果】{basis}，决定{penalty}。"


def typical_cases(db: Session, *, q: str = "", limit: int = 50) -> list[Case]:
    stmt = select(Case).where(Case.typical)
    if q.strip():
        stmt = stmt.where(Case.typical_summary.contains(q.strip()) | Case.title.contains(q.strip()))
    return list(db.scalars(stmt.order_by(Case.decided_on.desc(), Case.id.desc()).limit(limit)))
