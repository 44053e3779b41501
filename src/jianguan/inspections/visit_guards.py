"""The guards and effects the inspection and finding loops name (``workflow.py``): what must hold
before a step is taken, and what taking it does. Split from ``visits.py``, which holds the steps taken
between transitions."""

from __future__ import annotations

from sqlalchemy import select

from jianguan.auth.models import Role, User
from jianguan.core import workflow
from jianguan.core.errors import Invalid
from jianguan.core.i18n import N_
from jianguan.core.workdays import local_date
from jianguan.db import utcnow
from jianguan.entities.models import Entity
from jianguan.inspections import documents, visits
from jianguan.inspections import workflow as wf
from jianguan.inspections.models import Finding, Inspection, InspectionEvidence, InspectionPlan
from jianguan.inspections.visits import NO_NOTICE, RECTIFY_DAYS, recipients


def notice_in_time(ctx: workflow.Context) -> None:
    record: Inspection = ctx.record
    if record.scheduled_on is None:
        raise Invalid("scheduled_on", N_("Schedule the visit before giving notice."))
    earliest = workflow.calendar(ctx.db).add_working_days(visits.today(), wf.NOTICE_WORKING_DAYS).date
    if earliest > record.scheduled_on:
        raise Invalid("scheduled_on", N_("Too late to give {n} working days' notice of a visit on {date}; move the "
                                         "visit to {earliest} or later."), n=wf.NOTICE_WORKING_DAYS,
                      date=record.scheduled_on.isoformat(), earliest=earliest.isoformat())


def notice_sent(ctx: workflow.Context) -> None:
    ctx.record.notice_sent_on = visits.today()
    ctx.payload["document"] = documents.notice(ctx.db, ctx.record, actor=ctx.actor, on=visits.today()).number


def notice_skippable(ctx: workflow.Context) -> None:
    if ctx.record.kind not in NO_NOTICE:
        raise Invalid("kind", N_("Only complaint-triggered and unannounced inspections skip the notice."))
    if not ctx.comment:
        raise Invalid("comment", N_("Give the reason for this decision in the comment."))
    ctx.record.notice_skip_reason = ctx.comment


def prepared(ctx: workflow.Context) -> None:
    record: Inspection = ctx.record
    if record.checklist_id is None or not record.answers:
        raise Invalid("checklist", N_("Prepare the checklist before approving the preparation."))
    if sum(1 for o in record.officers if o.officer_id is not None) < 2:
        raise Invalid("officers", N_("An inspection needs at least two officers."))


def copy_departments(ctx: workflow.Context) -> None:
    """抄送: the other departments of a joint plan are told the inspection is prepared (and when)."""
    from jianguan.notify import service as notify
    from jianguan.officers.models import Agency

    record: Inspection = ctx.record
    plan = ctx.db.get(InspectionPlan, record.plan_id) if record.plan_id else None
    others = [a for a in (plan.agency_ids if plan is not None else []) if a != record.agency_id]
    if not others:
        return
    users = ctx.db.scalars(select(User).where(User.is_active, User.agency_id.in_(others))).all()
    told = [u.id for u in users if u.has_role(Role.leader, Role.agency_admin)]
    entity, agency = ctx.db.get(Entity, record.entity_id), ctx.db.get(Agency, record.agency_id)
    if told:
        notify.send(ctx.db, user_ids=told, kind="inspection.copied", title=N_("Copied: inspection {code}"),
                    body=N_("{agency} will inspect {entity} on {date}."),
                    params={"code": record.code, "agency": agency.name if agency else "",
                            "entity": entity.name if entity else "", "date": str(record.scheduled_on or "—")},
                    link=f"/inspections/visits/{record.id}", actor=ctx.actor)
    ctx.payload["copied_agencies"] = others


def credentials_shown(ctx: workflow.Context) -> None:
    today = local_date(utcnow())  # shown today, on site
    shown = [o for o in ctx.record.officers if o.officer_id is not None and o.shown_at is not None
             and local_date(o.shown_at) == today]
    if len(shown) < 2:
        raise Invalid("credentials", N_("At least two officers must show their credentials (亮证) first."))


def visit_started(ctx: workflow.Context) -> None:
    ctx.record.visit_started_at = utcnow()


def visit_complete(ctx: workflow.Context) -> None:
    record: Inspection = ctx.record
    open_points = [a for a in record.answers if a.answer is None]
    problems = []
    if open_points:
        problems.append(Invalid("answers", N_("{n} points are not answered yet (first: {text})."),
                                n=len(open_points), text=open_points[0].text[:40]))
    if not record.signature_sha256 and not record.refusal_reason:
        problems.append(Invalid("signature", N_("The representative signs, or the refusal is recorded.")))
    if problems:
        raise Invalid.all(problems)


def visit_finished(ctx: workflow.Context) -> None:
    """Points not met become findings with their basis and a rectification deadline."""
    record: Inspection = ctx.record
    db = ctx.db
    record.visit_ended_at = utcnow()
    today = visits.today()
    calendar = workflow.calendar(db)
    failed = [a for a in record.answers if a.answer == "no"]
    record.result = "problems" if failed else "no_problem"
    from jianguan.catalog.models import CheckPoint

    for answer in failed:
        point = db.get(CheckPoint, answer.check_point_id) if answer.check_point_id else None
        severity = point.severity if point is not None else "general"
        basis = f"《{point.law_title}》{point.article_no}" if point is not None and point.law_slug else ""
        due = calendar.add_calendar_days(today, RECTIFY_DAYS.get(severity, 30)).date
        finding = Finding(inspection_id=record.id, entity_id=record.entity_id, agency_id=record.agency_id,
                          region_code=record.region_code, point_code=answer.point_code,
                          text=answer.text + (f"（{answer.note}）" if answer.note else ""), severity=severity,
                          basis=basis, rectify_by=due)
        workflow.start(db, finding, workflow=wf.FINDING, actor=ctx.actor, payload={"point": answer.point_code})
    db.expire(record, ["findings"])
    ctx.payload["document"] = documents.on_site_record(db, record, actor=ctx.actor, on=today).number


def has_findings(ctx: workflow.Context) -> None:
    if not ctx.record.findings:
        raise Invalid("findings", N_("No problems were found: conclude the inspection instead."))


def no_findings(ctx: workflow.Context) -> None:
    if ctx.record.findings:
        raise Invalid("findings", N_("Problems were found: send the feedback letter; rectification follows."))


def feedback_sent(ctx: workflow.Context) -> None:
    """反馈意见书 and 责令整改通知书 go out together."""
    today = visits.today()
    ctx.record.feedback_sent_on = today
    ctx.payload["documents"] = [documents.feedback(ctx.db, ctx.record, actor=ctx.actor, on=today).number,
                                documents.rectification_order(ctx.db, ctx.record, actor=ctx.actor, on=today).number]


def concluded(ctx: workflow.Context) -> None:
    """Closed (or concluded without findings): the result is due for publication (一公开)."""
    from jianguan.disclosure import service as disclosure

    record: Inspection = ctx.record
    today = visits.today()
    if ctx.from_state == wf.REVIEWING:  # 销号 after re-inspection
        ctx.payload["document"] = documents.review_opinion(ctx.db, record, actor=ctx.actor, on=today).number
    elif record.feedback_sent_on is None:  # no problems: the feedback letter says so
        record.feedback_sent_on = today
        ctx.payload["document"] = documents.feedback(ctx.db, record, actor=ctx.actor, on=today).number
    record.closed_at = utcnow()
    ctx.db.flush()
    disclosure.for_inspection(ctx.db, record, actor=ctx.actor)


def ready_for_review(ctx: workflow.Context) -> None:
    waiting = [f for f in ctx.record.findings if f.state not in (wf.EVIDENCE_SUBMITTED, wf.ACCEPTED, wf.TRANSFERRED)]
    if waiting:
        raise Invalid("findings", N_("{n} findings have no rectification evidence yet."), n=len(waiting))


def all_accepted(ctx: workflow.Context) -> None:
    """销号 only when every finding is accepted (or handed to a penalty case)."""
    waiting = [f for f in ctx.record.findings if f.state not in (wf.ACCEPTED, wf.TRANSFERRED)]
    if waiting:
        raise Invalid("findings", N_("{n} findings are not accepted yet; the inspection cannot be closed."),
                      n=len(waiting))


def plan_given(ctx: workflow.Context) -> None:
    plan = {k: str(ctx.payload.get(k, "")).strip() for k in ("responsible", "measures", "timetable")}
    missing = [k for k, v in plan.items() if not v]
    if missing:
        raise Invalid.all([Invalid(k, N_("Required: {name}."), name=k) for k in missing])
    ctx.record.rectification = plan


def evidence_given(ctx: workflow.Context) -> None:
    found = ctx.db.scalar(select(InspectionEvidence.id).where(InspectionEvidence.finding_id == ctx.record.id)
                          .limit(1))
    if found is None:
        raise Invalid("evidence", N_("Attach the rectification evidence first."))


def rejected(ctx: workflow.Context) -> None:
    """A finding rejected twice is escalated at once (督办), whatever its deadline."""
    finding: Finding = ctx.record
    finding.rejections += 1
    if finding.rejections >= 2 and finding.escalation_level < 2:
        finding.escalation_level = 2
        from jianguan.notify import service as notify

        users = recipients(ctx.db, finding.inspection, workflow.Escalation(2, "督办", 3))
        if users:
            notify.send(ctx.db, user_ids=users, kind="finding.escalated", title=N_("Supervised (督办): {code}"),
                        body=N_("Rectification rejected twice: {text}"),
                        params={"code": finding.inspection.code, "text": finding.text[:60]},
                        link=f"/inspections/visits/{finding.inspection_id}", actor=ctx.actor)


def transferred(ctx: workflow.Context) -> None:
    """移送立案: the finding becomes a case lead of the agency, linked both ways."""
    from jianguan.cases import service as cases

    case = cases.from_finding(ctx.db, ctx.record, actor=ctx.actor, comment=ctx.comment)
    ctx.record.case_ref = case.code
    ctx.payload["case"] = case.code
