"""The demo's penalty cases: a lead from a complaint waiting for the filing decision, and a filed case
for which the discretion panel can be tried. Idempotent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.auth.models import User
from jianguan.cases import service
from jianguan.cases.models import Case
from jianguan.cases.schemas import LeadIn
from jianguan.core.errors import DomainError
from jianguan.entities.models import Entity


def load(db: Session) -> dict[str, Any]:
    officer = db.scalar(select(User).where(User.username == "xihu_officer"))
    leader = db.scalar(select(User).where(User.username == "xihu_leader"))
    party = db.scalar(select(Entity).where(Entity.region_code == "330106", Entity.kind == "enterprise",
                                           Entity.industry_code.like("62%")).order_by(Entity.id).limit(1))
    if officer is None or leader is None or party is None or db.scalar(select(Case.id).limit(1)) is not None:
        return {"cases": 0}
    today = service.today()
    try:
        with db.begin_nested():
            service.register_lead(db, data=LeadIn(
                title="销售超过保质期的食品", source_type="complaint", party_uscc=party.uscc or "",
                violation_code="SP-124", discovered_on=today - dt.timedelta(days=2),
                act_ended_on=today - dt.timedelta(days=5),
                facts="12345 转办：消费者反映在该店购买的酸奶已过保质期三天。"), actor=officer)
            filed = service.register_lead(db, data=LeadIn(
                title="未取得食品经营许可从事食品经营活动", source_type="inspection_finding",
                party_name="西湖区某流动摊贩",
                party_kind="person", violation_code="SP-122", discovered_on=today - dt.timedelta(days=6),
                facts="日常检查发现：未办理食品经营许可，现场销售熟食。"), actor=officer)
            service.decide(db, case_id=filed.id, action="file", comment="证据初步确实，同意立案", actor=leader)
    except DomainError:
        return {"cases": 0}
    return {"cases": 2}
