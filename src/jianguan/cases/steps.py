"""The rules of each step of a penalty case after filing, as guards and effects of the case workflow
(cases/workflow.py). A guard refuses with the field and the law; when it passes it sets what the new
state's deadline is computed from (the engine computes it on entering). Documents are issued in the
effects, in the same transaction, so a refused step takes no document number."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

from jianguan.auth.models import User
from jianguan.cases import deadlines, procedure
from jianguan.cases.models import Case, CaseSuspension
from jianguan.core.errors import Conflict, Invalid
from jianguan.core.i18n import N_
from jianguan.core.workdays import today_shanghai
from jianguan.core.workflow import Context, calendar, reason_required

OUTCOMES = ("penalty", "no_penalty", "transfer")  # 给予处罚 / 不予处罚 / 移送司法机关
SERVICE_METHODS = ("direct", "left", "post", "electronic", "entrusted", "public_notice")
MIN_OFFICERS = 2  # 行政处罚法第四十二条
ZERO = Decimal("0.00")
SIMPLE_FILING_WORKING_DAYS = 7  # simple-procedure files handed in for archiving (SAMR 程序规定第七十条)


def today() -> dt.date:
    return today_shanghai()


# --------------------------------------------------------------------------- payload reading


def day_of(payload: dict[str, Any], field: str, *, default: dt.date | None = None,
           not_before: dt.date | None = None) -> dt.date:
    """A date the person gave (ISO text or a date), not in the future and not before ``not_before``."""
    raw = payload.get(field)
    if raw in (None, ""):
        if default is None:
            raise Invalid(field, N_("Give the date."))
        return default
    try:
        day = raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw))
    except ValueError:
        raise Invalid(field, N_("Not a date: {value}."), value=str(raw)) from None
    if day > today():
        raise Invalid(field, N_("The date cannot be in the future."))
    if not_before is not None and day < not_before:
        raise Invalid(field, N_("The date cannot be before {day}."), day=not_before.isoformat())
    return day


def money_of(payload: dict[str, Any], field: str, default: Decimal | None) -> Decimal | None:
    raw = payload.get(field)
    if raw in (None, ""):
        return default
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise Invalid(field, N_("Not an amount of money: {value}."), value=str(raw)) from None
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        raise Invalid(field, N_("An amount is zero or more, in yuan to the fen."))
    return value.quantize(Decimal("0.01"))


def officer_id_of(db: Session, user: User | None) -> int | None:
    from jianguan.officers.roster import officer_for_user

    officer = officer_for_user(db, user) if user is not None else None
    return officer.id if officer is not None else None


# --------------------------------------------------------------------------- deadlines (read on entering)


def suspensions_of(record: Case) -> list[tuple[dt.date, dt.date | None]]:
    return [(s.started_on, s.ended_on) for s in record.suspensions]


def decision_due(record: Case, cal: Any) -> Any:
    if record.filed_on is None:
        return None
    return deadlines.decision_due(cal, record.filed_on, extended=record.decision_extended,
                                  suspensions=suspensions_of(record), today=today())


def review_due(record: Case, cal: Any) -> Any:
    return deadlines.legal_review_due(cal, record.review_received_on) if record.review_received_on else None


def hearing_due(record: Case, cal: Any) -> Any:
    from jianguan.core.workdays import DueDate

    return DueDate(record.hearing_on) if record.hearing_on else None


def service_due(record: Case, cal: Any) -> Any:
    return deadlines.service_due(cal, record.decided_on) if record.decided_on else None


def payment_due(record: Case, cal: Any) -> Any:
    from jianguan.core.workdays import DueDate

    return DueDate(record.payment_due_on) if record.payment_due_on else None


def closing_due(record: Case, cal: Any) -> Any:
    if record.procedure == "simple" and record.decided_on is not None:  # SAMR 程序规定第七十条
        return cal.add_working_days(record.decided_on, SIMPLE_FILING_WORKING_DAYS)
    return deadlines.closing_due(cal, record.executed_on) if record.executed_on else None


# --------------------------------------------------------------------------- investigation → review


def report(ctx: Context) -> None:
    """调查终结: two officers, evidence, every preservation decided, a proposal; the facts found."""
    record: Case = ctx.record
    problems: list[Invalid] = []
    if len(record.officers) < MIN_OFFICERS:
        problems.append(Invalid("officers", N_("At least two officers handle a case (行政处罚法第四十二条).")))
    if not record.evidence:
        problems.append(Invalid("evidence", N_("Collect the evidence first: the case has none.")))
    if any(p.decided_on is None for p in record.preservations):
        problems.append(Invalid("preservations", N_("Decide how the preserved items are handled first.")))
    if not record.outcome:
        problems.append(Invalid("outcome", N_("Propose the penalty (or no penalty) with the discretion panel first.")))
    if len(ctx.comment) < 10:
        problems.append(Invalid("comment", N_("Write the facts found (at least 10 characters).")))
    if problems:
        raise Invalid.all(problems)
    declared = [str(g) for g in ctx.payload.get("grounds", []) or []]
    unknown = [g for g in declared if g not in procedure.ground_labels()]
    if unknown:
        raise Invalid("grounds", N_("Unknown code(s) {codes} for {name}."), codes=", ".join(unknown), name="grounds")
    record.findings = ctx.comment
    record.reported_on = record.review_received_on = today()
    record.major_grounds = procedure.major_grounds(
        party_kind=record.party_kind, kinds=record.proposed_kinds, fine=record.proposed_fine,
        confiscation=record.proposed_confiscation, declared=declared) if record.outcome == "penalty" else declared
    record.major = bool(record.major_grounds)


def _not_handler(ctx: Context) -> None:
    """办案人员不得作为审核人员 (SAMR 程序规定第四十九条)."""
    mine = officer_id_of(ctx.db, ctx.actor)
    if mine is not None and any(o.officer_id == mine for o in ctx.record.officers):
        raise Invalid("reviewer", N_("You handle this case, so you cannot review it (SAMR 程序规定第四十九条)."))


def approve(ctx: Context) -> None:
    """审核通过; a deviation from the benchmark is cleared only with the reviewer's written reason."""
    record: Case = ctx.record
    _not_handler(ctx)
    if record.deviation and record.deviation_cleared_by is None and len(ctx.comment) < 4:
        raise Invalid("comment", N_("The proposal is outside the suggested range; state why you accept it."))
    if record.deviation:
        record.deviation_cleared_by = ctx.actor.id if ctx.actor is not None else None
    record.review_opinion = ctx.comment or "同意"
    record.reviewed_by = ctx.actor.id if ctx.actor is not None else None
    record.reviewed_on = today()


def send_back(ctx: Context) -> None:
    _not_handler(ctx)
    reason_required(ctx)
    ctx.record.review_opinion = ctx.comment


def discuss(ctx: Context) -> None:
    """集体讨论: the minutes, and the day the heads met."""
    record: Case = ctx.record
    if len(ctx.comment) < 10:
        raise Invalid("comment", N_("Write the conclusion of the collective discussion (at least 10 characters)."))
    record.discussed_on = day_of(ctx.payload, "discussed_on", default=today(), not_before=record.reported_on)
    record.discussion_minutes = ctx.comment


def extend_decision(ctx: Context) -> None:
    reason_required(ctx)
    if ctx.record.decision_extended:
        raise Invalid("decision_extended", N_("The decision period can be extended by 30 days only once; a further "
                                              "extension is decided by the heads collectively."))
    ctx.record.decision_extended = True


# --------------------------------------------------------------------------- notice, statement, hearing


def notify(ctx: Context) -> None:
    """告知: the proposal as it stands is what the party is told; nothing heavier may follow."""
    record: Case = ctx.record
    if record.outcome != "penalty":
        raise Invalid("outcome", N_("Only a proposed penalty is noticed to the party."))
    if record.notice_served_on is not None:
        raise Invalid("notice_served_on", N_("The party has already been noticed."))
    record.notice_served_on = day_of(ctx.payload, "served_on", default=today(), not_before=record.reported_on)
    record.noticed_kinds = list(record.proposed_kinds)
    record.noticed_fine, record.noticed_confiscation = record.proposed_fine, record.proposed_confiscation
    record.hearing_right = bool(procedure.hearing_grounds(
        party_kind=record.party_kind, kinds=record.noticed_kinds, fine=record.noticed_fine,
        confiscation=record.noticed_confiscation))


def statement_period_end(db: Session, record: Case) -> dt.date | None:
    if record.notice_served_on is None:
        return None
    return deadlines.hearing_request_due(calendar(db), record.notice_served_on).date


def record_statement(ctx: Context) -> None:
    """陈述申辩, as the party made it (记入笔录)."""
    if len(ctx.comment) < 2:
        raise Invalid("comment", N_("Write what the party stated."))
    record: Case = ctx.record
    on = day_of(ctx.payload, "stated_on", default=today(), not_before=record.notice_served_on)
    record.statement = (record.statement + "\n" if record.statement else "") + f"{on.isoformat()} {ctx.comment}"
    record.statement_on = on


def waive(ctx: Context) -> None:
    """The party gave up statement and hearing in writing; the decision need not wait for the 5 days."""
    reason_required(ctx)
    ctx.record.rights_waived = True


def request_hearing(ctx: Context) -> None:
    """听证: asked within 5 working days of the notice; the notice of the hearing precedes it by 7."""
    record: Case = ctx.record
    if not record.hearing_right:
        raise Invalid("hearing", N_("This proposed penalty carries no right to a hearing (行政处罚法第六十三条)."))
    requested = day_of(ctx.payload, "requested_on", default=today(), not_before=record.notice_served_on)
    last = statement_period_end(ctx.db, record)
    if last is not None and requested > last:
        raise Invalid("requested_on", N_("A hearing must be asked for within 5 working days of the notice, by {day} "
                                         "(行政处罚法第六十四条)."), day=last.isoformat())
    raw = ctx.payload.get("hearing_on")
    try:
        hearing_on = dt.date.fromisoformat(str(raw)) if not isinstance(raw, dt.date) else raw
    except ValueError:
        raise Invalid("hearing_on", N_("Give the date of the hearing.")) from None
    latest = deadlines.hearing_notice_latest(calendar(ctx.db), hearing_on)
    notice_on = today()
    if notice_on > latest.date:
        raise Invalid("hearing_on", N_("The hearing notice must be served 7 working days before the hearing: for a "
                                       "hearing on {day}, by {latest}. Choose a later day."),
                      day=hearing_on.isoformat(), latest=latest.date.isoformat())
    record.hearing_requested_on, record.hearing_on, record.hearing_notice_on = requested, hearing_on, notice_on
    record.suspensions.append(CaseSuspension(reason="hearing", started_on=requested, note="听证"))


def hold_hearing(ctx: Context) -> None:
    """The hearing report; the time from the request to the hearing is not counted; the case goes back for
    法制审核 after the hearing (SAMR 程序规定第五十条第二款)."""
    record: Case = ctx.record
    if len(ctx.comment) < 10:
        raise Invalid("comment", N_("Write the hearing report (at least 10 characters)."))
    held = day_of(ctx.payload, "held_on", default=today(), not_before=record.hearing_requested_on)
    record.hearing_held_on = held
    for s in record.suspensions:
        if s.reason == "hearing" and s.ended_on is None:
            s.ended_on = held
    record.review_received_on = today()
    record.statement = (record.statement + "\n" if record.statement else "") + f"{held.isoformat()} 听证：{ctx.comment}"


# --------------------------------------------------------------------------- decision


def _legal_range(record: Case) -> tuple[Decimal, Decimal] | None:
    rng = (record.suggestion or {}).get("legal_range")
    return (Decimal(rng[0]), Decimal(rng[1])) if rng else None


def decide(ctx: Context) -> None:
    """作出决定 by the agency head: after the statement period (or a hearing), discussed when major, and never
    heavier than noticed (行政处罚法第四十五条; SAMR 程序规定第五十八条)."""
    record: Case = ctx.record
    outcome = str(ctx.payload.get("outcome") or record.outcome or "penalty")
    if outcome not in OUTCOMES:
        raise Invalid("outcome", N_("Unknown code(s) {codes} for {name}."), codes=outcome, name="outcome")
    problems: list[Invalid] = []
    if record.major and record.discussed_on is None and outcome == "penalty":
        problems.append(Invalid("discussed_on", N_("A major case is decided by the heads' collective discussion "
                                                   "(SAMR 程序规定第六十条); record it first.")))
    kinds: list[str] = []
    fine = confiscation = None
    if outcome == "penalty":
        if record.notice_served_on is None:
            raise Invalid("notice_served_on", N_("Notice the party of the proposed penalty first (告知)."))
        last = statement_period_end(ctx.db, record)
        if ctx.from_state == "notified" and not record.rights_waived and last is not None and today() <= last:
            problems.append(Invalid("notice_served_on", N_("The party may state a defence or ask for a hearing until "
                                                           "{day}; decide after that."), day=last.isoformat()))
        if record.hearing_requested_on is not None and record.hearing_held_on is None:
            problems.append(Invalid("hearing", N_("Hold the hearing first.")))
        kinds = [str(k) for k in ctx.payload.get("kinds") or record.noticed_kinds]
        fine = money_of(ctx.payload, "fine", record.noticed_fine)
        confiscation = money_of(ctx.payload, "confiscation", record.noticed_confiscation)
        if not kinds:
            problems.append(Invalid("kinds", N_("Choose the penalty kinds.")))
        heavier = sorted(set(kinds) - set(record.noticed_kinds))
        if heavier:
            problems.append(Invalid("kinds", N_("Kinds not in the notice ({codes}) would make the penalty heavier "
                                                "after the party's statement (行政处罚法第四十五条); notice the party "
                                                "again."),
                                    codes=", ".join(heavier)))
        for field, value, noticed in (("fine", fine, record.noticed_fine),
                                      ("confiscation", confiscation, record.noticed_confiscation)):
            if value is not None and value > (noticed or ZERO):
                problems.append(Invalid(field, N_("¥{value} is more than the ¥{noticed} noticed: a statement or "
                                                  "hearing never makes the penalty heavier (行政处罚法第四十五条)."),
                                        value=f"{value:,.2f}", noticed=f"{noticed or ZERO:,.2f}"))
        legal = _legal_range(record)
        tier = (record.suggestion or {}).get("tier")
        if legal is not None and fine is not None and "3" in kinds and fine > legal[1]:
            problems.append(Invalid("fine", N_("¥{value} is above the legal maximum ¥{high}."),
                                    value=f"{fine:,.2f}", high=f"{legal[1]:,.2f}"))
        if (legal is not None and fine is not None and "3" in kinds and fine < legal[0] and tier != "mitigated"
                and len(ctx.comment) < 4):
            problems.append(Invalid("comment", N_("¥{value} is below the legal minimum ¥{low}: only a mitigated "
                                                  "(减轻) penalty may be, with the reason written."),
                                    value=f"{fine:,.2f}", low=f"{legal[0]:,.2f}"))
    if problems:
        raise Invalid.all(problems)
    record.outcome = outcome
    record.decided_on = today()
    record.decision_kinds, record.decision_fine, record.decision_confiscation = kinds, fine, confiscation


def decided(ctx: Context) -> None:
    from jianguan.cases import documents

    doc = documents.decision(ctx.db, ctx.record, actor=ctx.actor)
    if doc is not None:
        ctx.record.decision_number = doc.number


def on_the_spot(ctx: Context) -> None:
    """当场处罚 (行政处罚法第五十一条): a warning, or a fine within the limits, decided and handed over on site
    by two officers who showed their credentials; the party was told and heard (SAMR 程序规定第六十九条)."""
    from jianguan.cases import money

    record: Case = ctx.record
    kinds = [str(k) for k in ctx.payload.get("kinds") or []]
    fine = money_of(ctx.payload, "fine", ZERO) or ZERO
    problems: list[Invalid] = []
    if not set(kinds) <= {"1", "3"} or not kinds:
        problems.append(Invalid("kinds", N_("On the spot only a warning or a fine may be decided.")))
    if ("3" in kinds) != (fine > 0):
        problems.append(Invalid("fine", N_("Give the fine when (and only when) the penalty is a fine.")))
    if len(record.officers) < MIN_OFFICERS:
        problems.append(Invalid("officers", N_("At least two officers handle a case (行政处罚法第四十二条).")))
    if not str(ctx.payload.get("place", "")).strip():
        problems.append(Invalid("place", N_("Say where the decision is made.")))
    if problems:
        raise Invalid.all(problems)
    money.check_simple_procedure(party=record.party_kind, fine=fine, warning="1" in kinds,
                                 collect_on_spot=bool(ctx.payload.get("collect_on_spot")))
    record.procedure, record.outcome = "simple", "penalty"
    record.decision_kinds, record.decision_fine = kinds, fine if fine > 0 else None
    record.decided_on = record.served_on = today()
    record.service_method = "direct"
    record.statement = str(ctx.payload.get("statement", "")).strip()
    record.findings = ctx.comment
    if fine > 0:
        record.payment_due_on = deadlines.payment_due(calendar(ctx.db), record.served_on).date


def decided_on_the_spot(ctx: Context) -> None:
    from jianguan.cases import documents
    from jianguan.db import utcnow

    record: Case = ctx.record
    doc = documents.simple_decision(ctx.db, record, place=str(ctx.payload.get("place", "")), at=utcnow(),
                                    collected=bool(ctx.payload.get("collect_on_spot")), actor=ctx.actor)
    record.decision_number = doc.number


# --------------------------------------------------------------------------- service, payment, closing


def amount_due(record: Case) -> Decimal:
    if record.outcome != "penalty":
        return ZERO
    return (record.decision_fine or ZERO) + (record.decision_confiscation or ZERO)


def challenge_suspensions(record: Case) -> list[tuple[dt.date, dt.date | None]]:
    """While review or litigation is pending, no late surcharge accrues."""
    return [(c.filed_on, c.decided_on) for c in record.challenges]


def surcharge_on(record: Case, on: dt.date) -> Decimal:
    """加处罚款 owed on ``on`` for the fine still unpaid then (3 % a day, never above the fine)."""
    from jianguan.cases import money

    fine = record.decision_fine or ZERO
    if record.payment_due_on is None or fine == 0:
        return ZERO
    paid_before = sum((p.amount for p in record.payments if p.paid_on <= record.payment_due_on), ZERO)
    unpaid_fine = max(ZERO, fine - paid_before)
    return money.late_surcharge(unpaid_fine, due=record.payment_due_on, on=on,
                                suspensions=challenge_suspensions(record))


def outstanding(record: Case, on: dt.date) -> Decimal:
    """What is still owed on ``on``: fine and confiscation, plus the surcharge, less what was paid."""
    paid = sum((p.amount + p.surcharge for p in record.payments), ZERO)
    return max(ZERO, amount_due(record) + surcharge_on(record, on) - paid)


def serve(ctx: Context) -> None:
    """送达: the date on the receipt is the service date; payment falls due 15 days after it."""
    record: Case = ctx.record
    method = str(ctx.payload.get("method") or "direct")
    if method not in SERVICE_METHODS:
        raise Invalid("method", N_("Unknown code(s) {codes} for {name}."), codes=method, name="method")
    record.served_on = day_of(ctx.payload, "served_on", not_before=record.decided_on)
    record.service_method = method
    if amount_due(record) > 0:
        record.payment_due_on = deadlines.payment_due(calendar(ctx.db), record.served_on).date
    else:
        record.executed_on = record.served_on


def served(ctx: Context) -> None:
    from jianguan.cases import documents

    documents.service_receipt(ctx.db, ctx.record, actor=ctx.actor)


def defer(ctx: Context) -> None:
    """暂缓或者分期缴纳 (行政处罚法第六十六条), approved on the party's application: the new last day."""
    reason_required(ctx)
    record: Case = ctx.record
    raw = ctx.payload.get("until")
    try:
        until = raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw))
    except ValueError:
        raise Invalid("until", N_("Give the new last day to pay.")) from None
    if record.payment_due_on is None or until <= record.payment_due_on:
        raise Invalid("until", N_("A deferral moves the last day to pay later than {day}."),
                      day=str(record.payment_due_on))
    line = f"{today().isoformat()} 至{until}：{ctx.comment}"
    record.deferral = (record.deferral + "\n" if record.deferral else "") + line
    record.payment_due_on = until


def apply_enforcement(ctx: Context) -> None:
    """申请人民法院强制执行: only once the periods to challenge have lapsed with the fine unpaid."""
    record: Case = ctx.record
    if record.served_on is None:
        raise Invalid("served_on", N_("The decision has not been served."))
    if outstanding(record, today()) == 0:
        raise Invalid("payments", N_("Nothing is owed."))
    if any(c.decided_on is None for c in record.challenges):
        raise Conflict(N_("A review or lawsuit against the decision is pending."))
    opens, _ = deadlines.enforcement_window(calendar(ctx.db), record.served_on)
    if today() < opens:
        raise Invalid("enforcement", N_("The court can be asked from {day}, when the periods for review and lawsuit "
                                        "have lapsed (行政强制法第五十三条)."), day=opens.isoformat())
    record.enforcement_applied_on = today()


def execute(ctx: Context) -> None:
    record: Case = ctx.record
    owed = outstanding(record, today())
    if owed > 0:
        raise Invalid("payments", N_("¥{amount} is still owed (fine, confiscation and late surcharge)."),
                      amount=f"{owed:,.2f}")
    paid = [p.paid_on for p in record.payments]
    record.executed_on = max(paid) if paid else (record.served_on or today())


def close(ctx: Context) -> None:
    record: Case = ctx.record
    if ctx.from_state == "decided" and record.outcome != "transfer":
        raise Invalid("outcome", N_("Serve the decision first; only a case transferred to the judiciary closes now."))
    if ctx.from_state == "decided":
        record.executed_on = record.decided_on
    record.closed_on = today()


def closed(ctx: Context) -> None:
    from jianguan.cases import documents

    documents.closing_form(ctx.db, ctx.record, actor=ctx.actor)


def archive(ctx: Context) -> None:
    ctx.record.archived_on = today()
