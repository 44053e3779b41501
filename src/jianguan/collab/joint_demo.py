"""The demo's collaboration: a road transport company in Xihu that emergency management (隐患排查) and
transport (道路运输安全生产) both plan to inspect — proposed as one joint visit, waiting for transport to
agree — and Xihu market supervision asking
Binjiang to inspect a supplier there, accepted. Idempotent; skipped when the province lacks the parts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.auth.models import User
from jianguan.collab import assist, joint
from jianguan.collab.models import AssistRequest, JointTask
from jianguan.core.errors import DomainError
from jianguan.core.workdays import today_shanghai
from jianguan.entities.models import Entity
from jianguan.inspections import draws
from jianguan.inspections import service as inspections
from jianguan.inspections.models import Inspection
from jianguan.inspections.schemas import PlanIn
from jianguan.officers.models import Agency

SAFETY = {"330106-YJ": "33000003001003", "330106-JT": "33000004006000"}  # the catalog finds them overlapping


def load(db: Session) -> dict[str, Any]:
    out = {"joint_tasks": 0, "assist_requests": 0}
    admin = db.scalar(select(User).where(User.username == "admin"))
    officer = db.scalar(select(User).where(User.username == "xihu_officer"))
    if admin is None or officer is None or db.scalar(select(JointTask.id).limit(1)) is not None:
        return out
    try:
        with db.begin_nested():
            out["joint_tasks"] = _joint(db, admin, officer)
    except DomainError:
        pass
    if db.scalar(select(AssistRequest.id).limit(1)) is None:
        try:
            with db.begin_nested():
                out["assist_requests"] = _assist(db, officer)
        except DomainError:
            pass
    return out


def _joint(db: Session, admin: User, officer: User) -> int:
    company = db.scalar(select(Entity).where(Entity.region_code == "330106", Entity.industry_code.like("54%"),
                                            Entity.status == "active").order_by(Entity.id).limit(1))
    agencies = {a.code: a for a in db.scalars(select(Agency).where(Agency.code.in_(list(SAFETY))))}
    if company is None or len(agencies) != len(SAFETY):
        return 0
    today = today_shanghai()
    made: list[int] = []
    for code, item in SAFETY.items():
        plan = inspections.create_plan(db, actor=None, agency_id=agencies[code].id, data=PlanIn.model_validate({
            "title": f"{company.name}安全生产定向检查", "kind": "targeted", "methods": ["on_site"],
            "item_codes": [item], "target_usccs": [company.uscc], "starts_on": today,
            "ends_on": today + dt.timedelta(days=45), "scope": {"region_code": "330106"}}))
        inspections.decide(db, plan_id=plan.id, action="submit", actor=admin)
        inspections.decide(db, plan_id=plan.id, action="approve", comment="同意", actor=admin)
        draws.run_draw(db, plan_id=plan.id, seed=f"demo-joint-{code}", on=today, actor=admin)
        inspections.decide(db, plan_id=plan.id, action="begin", actor=admin)
        made += list(db.scalars(select(Inspection.id).where(Inspection.plan_id == plan.id)))
    lead = db.scalar(select(User).where(User.agency_id == agencies["330106-YJ"].id, User.is_active)) or admin
    joint.propose(db, inspection_ids=made, scheduled_on=today + dt.timedelta(days=10), source="overlap",
                  note="隐患排查与道路运输安全生产检查合并进行，上午9点在公司调度中心集合。", actor=lead)
    return 1


def _assist(db: Session, officer: User) -> int:
    binjiang = db.scalar(select(Agency).where(Agency.code == "330108-SJ"))
    supplier = db.scalar(select(Entity).where(Entity.region_code == "330108", Entity.status == "active",
                                              Entity.kind == "enterprise").order_by(Entity.id).limit(1))
    if binjiang is None or supplier is None:
        return 0
    record = assist.request(db, agency_id=binjiang.id, kind="inspect", subject=f"协查{supplier.name}进货查验记录",
                            reason="西湖区一家餐馆的冷链食品来自该企业，请协助核查其进货查验记录和冷链温度记录。",
                            uscc=supplier.uscc or "", wanted_by=today_shanghai() + dt.timedelta(days=30), actor=officer)
    other = db.scalar(select(User).where(User.username == "binjiang_officer"))
    if other is not None:
        assist.act(db, request_id=record.id, action="accept", actor=other)
    return 1
