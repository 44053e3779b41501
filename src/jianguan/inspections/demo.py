"""The demo's inspection plans: one for Xihu's restaurants, approved, filed and drawn at a "public
drawing", and a follow-up plan waiting for the Xihu leader's approval. Idempotent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.auth.models import User
from jianguan.core.errors import DomainError
from jianguan.core.workdays import today_shanghai
from jianguan.documents import demo as documents_demo
from jianguan.inspections import draws, matter_demo, rules, service
from jianguan.inspections.models import InspectionPlan
from jianguan.inspections.schemas import PlanIn

CATERING = "33000001001000"
DEMO_SEED = "2026年西湖区双随机摇号会 第1轮 73915"


def _plan(title: str, start: dt.date, **extra: Any) -> PlanIn:
    return PlanIn.model_validate({
        "title": title, "kind": "routine_random", "methods": ["on_site"], "item_codes": [CATERING],
        "scope": {"region_code": "330106", "industry_code": "62"}, "ratio": "5", "starts_on": start,
        "ends_on": start + dt.timedelta(days=60), **extra})


def load(db: Session) -> dict[str, Any]:
    rules.load(db)
    documents_demo.load(db)  # seals and signatures for the synthetic province's agencies and officers too
    try:
        with db.begin_nested():  # all or nothing
            supervision = matter_demo.load(db, today_shanghai())
    except DomainError:  # a trimmed demo without the 督查 offices: keep the rest
        supervision = {"matters": 0}
    return {**_plans(db), "supervision": supervision}


def logins() -> list[tuple[str, str, str]]:
    return matter_demo.logins()


def _plans(db: Session) -> dict[str, Any]:
    author = db.scalar(select(User).where(User.username == "xihu_officer"))
    leader = db.scalar(select(User).where(User.username == "xihu_leader"))
    if author is None or leader is None or db.scalar(select(InspectionPlan.id).limit(1)) is not None:
        return {"plans": 0}
    start = today_shanghai()
    try:
        plan = service.create_plan(db, data=_plan("西湖区餐饮服务食品安全双随机抽查", start,
                                                  description="按风险和信用分层抽取，高风险60%、低风险20%的权重。"),
                                   actor=author)
        service.decide(db, plan_id=plan.id, action="submit", actor=author)
        service.decide(db, plan_id=plan.id, action="approve", comment="同意，按期开展。", actor=leader)
        draw = draws.run_draw(db, plan_id=plan.id, seed=DEMO_SEED, on=start, actor=author)
        service.decide(db, plan_id=plan.id, action="begin", actor=leader)
        on_site = _one_on_site(db, plan.id, author, leader)
        _one_concluded(db, _one_on_site(db, plan.id, author, leader), author)
        follow = service.create_plan(db, data=_plan("西湖区餐饮服务“回头看”检查", start, kind="follow_up",
                                                    ratio=None, count=10), actor=author)
        service.decide(db, plan_id=follow.id, action="submit", actor=author)
    except DomainError:  # e.g. a trimmed demo without officers: keep the rest of the demo
        return {"plans": 0}
    return {"plans": 2, "drawn": draw.selected_count, "on_site": on_site}


def _one_on_site(db: Session, plan_id: int, author: User, leader: User, *, skip: int = 0) -> int:
    """Take one of xihu_officer's inspections to the visit, so 掌上执法 can be tried at once."""
    from jianguan.core import workflow
    from jianguan.inspections import visits
    from jianguan.inspections.models import Inspection
    from jianguan.officers.models import Officer

    mine = db.scalar(select(Officer.id).where(Officer.user_id == author.id))
    for record in db.scalars(select(Inspection).where(Inspection.plan_id == plan_id, Inspection.state == "notice")
                             .order_by(Inspection.id)):
        if mine not in {m.officer_id for m in record.officers}:
            continue
        if skip:
            skip -= 1
            continue
        day = workflow.calendar(db).add_working_days(today_shanghai(), 6).date
        visits.schedule(db, inspection_id=record.id, on=day, actor=author)
        visits.decide(db, inspection_id=record.id, action="send_notice", actor=author)
        visits.prepare(db, inspection_id=record.id, actor=author)
        visits.decide(db, inspection_id=record.id, action="approve_preparation", actor=leader)
        for member in record.officers:  # the team's one phone records both cards shown
            visits.show_credential(db, inspection_id=record.id, actor=author, officer_id=member.officer_id)
        visits.decide(db, inspection_id=record.id, action="start_visit", actor=author)
        return record.id
    return 0


def _one_concluded(db: Session, inspection_id: int, author: User) -> None:
    """Finish another visit with nothing found, so 结果公示 has a record due."""
    from jianguan.inspections import visits
    from jianguan.inspections.models import Inspection

    record = db.get(Inspection, inspection_id)
    if record is None:
        return
    for answer in record.answers:
        visits.save_answer(db, inspection_id=record.id, point_code=answer.point_code, answer="yes", actor=author)
    visits.refuse_signature(db, inspection_id=record.id, reason="负责人外出，店员无权签字，两名执法人员在场见证",
                            actor=author)
    visits.decide(db, inspection_id=record.id, action="finish_visit", actor=author)
    visits.decide(db, inspection_id=record.id, action="conclude", actor=author)
