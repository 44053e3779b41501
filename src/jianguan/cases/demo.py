"""The demo's penalty cases, one at each point of the procedure: a lead waiting for the filing decision,
a case under investigation (with the discretion panel to try), one in the legal review queue with a
deviation to clear, one noticed to the party, one served with its fine to pay, one closed and written up
as a typical case, and a warning given on the spot. Idempotent."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import case as when
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.auth.models import User
from jianguan.cases import execution, service
from jianguan.cases.models import Case
from jianguan.cases.schemas import LeadIn, ProposalIn, SimpleIn
from jianguan.core.errors import DomainError
from jianguan.entities.models import Entity
from jianguan.officers.models import Credential, Officer

FACTS = "当事人经营场所冷藏柜内存放的酸奶24盒已超过保质期，货值金额8000元。"


def _user(db: Session, name: str) -> User | None:
    return db.scalar(select(User).where(User.username == name))


def _investigated(db: Session, case: Case, officer: User, officers: list[int], *, fine: Decimal,
                  facts: dict[str, Any], reason: str = "") -> None:
    service.assign_officers(db, case_id=case.id, officer_ids=officers, actor=officer)
    service.add_record(db, case_id=case.id, kind="inquiry", actor=officer, content={
        "started_at": "", "ended_at": "", "place": "当事人经营场所", "recorder": officer.display_name,
        "respondent": {"name": "陈店长", "role": "店长", "id_number": "", "phone": ""},
        "qa": [{"q": "冷藏柜里过期的酸奶是什么时候进的货？", "a": "上个月进的，没注意保质期。"},
               {"q": "一共卖出去多少？", "a": "大概卖了十几盒。"}]})
    service.propose(db, case_id=case.id, data=ProposalIn(facts=facts, kinds=["3", "5"], fine=fine, reason=reason),
                    actor=officer)


def load(db: Session) -> dict[str, Any]:
    officer, leader, legal = _user(db, "xihu_officer"), _user(db, "xihu_leader"), _user(db, "xihu_legal")
    parties = list(db.scalars(select(Entity).where(Entity.region_code == "330106", Entity.kind == "enterprise",
                                                   Entity.industry_code.like("62%")).order_by(Entity.id).limit(6)))
    if (officer is None or leader is None or legal is None or len(parties) < 6
            or db.scalar(select(Case.id).limit(1)) is not None):
        return {"cases": 0}
    today = service.today()
    valid = (select(Officer.id).join(Credential, Credential.officer_id == Officer.id)
             .where(Officer.agency_id == officer.agency_id, Officer.is_active, Credential.status == "valid",
                    Credential.issued_on <= today, Credential.expires_on >= today)
             .order_by(when((Officer.user_id == officer.id, 0), else_=1), Officer.id))
    officers = list(dict.fromkeys(db.scalars(valid)))[:2]

    def lead(party: Entity, title: str, days_ago: int, **extra: Any) -> Case:
        data = {"title": title, "source_type": "complaint", "party_uscc": party.uscc or "", "violation_code": "SP-124",
                "discovered_on": today - dt.timedelta(days=days_ago),
                "act_ended_on": today - dt.timedelta(days=days_ago + 3), "facts": FACTS, **extra}
        return service.register_lead(db, data=LeadIn.model_validate(data), actor=officer)

    def step(case: Case, action: str, actor: User, comment: str = "", **payload: Any) -> None:
        service.decide(db, case_id=case.id, action=action, comment=comment, payload=payload, actor=actor)

    try:
        with db.begin_nested():
            lead(parties[0], "销售超过保质期的食品", 2,
                 facts="12345 转办：消费者反映在该店购买的酸奶已过保质期三天。")
            filed = service.register_lead(db, data=LeadIn(
                title="未取得食品经营许可从事食品经营活动", source_type="inspection_finding",
                party_name="西湖区某流动摊贩", party_kind="person", violation_code="SP-122",
                discovered_on=today - dt.timedelta(days=6), facts="日常检查发现：未办理食品经营许可，现场销售熟食。"),
                actor=officer)
            step(filed, "file", leader, "证据初步确实，同意立案")
            if len(officers) < 2:
                return {"cases": 2}
            service.assign_officers(db, case_id=filed.id, officer_ids=officers, actor=officer)
            service.preserve(db, case_id=filed.id, items="熟食 12 份、电子秤 1 台", actor=officer)

            reviewing = lead(parties[1], "经营超过保质期的食品", 10)
            step(reviewing, "file", leader, "同意立案")
            _investigated(db, reviewing, officer, officers, fine=Decimal(80000),
                          facts={"goods_value": "8000", "first_violation": True},
                          reason="涉及学校周边，社会影响较大")
            step(reviewing, "report", officer, FACTS)

            noticed = lead(parties[2], "经营超过保质期的食品", 20)
            step(noticed, "file", leader, "同意立案")
            _investigated(db, noticed, officer, officers, fine=Decimal(70000), facts={"goods_value": "8000"})
            step(noticed, "report", officer, FACTS)
            step(noticed, "approve", legal, "事实清楚，证据确凿，适用依据正确，裁量适当，同意")
            step(noticed, "notify", officer)

            served = lead(parties[3], "经营超过保质期的食品", 30)
            step(served, "file", leader, "同意立案")
            _investigated(db, served, officer, officers, fine=Decimal(70000), facts={"goods_value": "8000"})
            step(served, "report", officer, FACTS)
            step(served, "approve", legal, "同意")
            step(served, "notify", officer)
            step(served, "waive", officer, "当事人书面放弃陈述、申辩和听证权利")
            step(served, "decide", leader, "同意")
            step(served, "serve", officer, served_on=today.isoformat(), method="direct")

            closed = lead(parties[4], "经营超过保质期的食品", 40)
            step(closed, "file", leader, "同意立案")
            _investigated(db, closed, officer, officers, fine=Decimal(60000),
                          facts={"goods_value": "8000", "first_violation": True})
            step(closed, "report", officer, FACTS)
            step(closed, "approve", legal, "同意")
            step(closed, "notify", officer)
            step(closed, "waive", officer, "当事人书面放弃陈述、申辩和听证权利")
            step(closed, "decide", leader, "同意")
            step(closed, "serve", officer, served_on=today.isoformat(), method="electronic")
            execution.record_payment(db, case_id=closed.id, amount=Decimal(60000), receipt="浙财非税2026-000188",
                                   actor=officer)
            step(closed, "execute", officer)
            step(closed, "close", leader, "罚款已缴清，同意结案")
            execution.mark_typical(db, case_id=closed.id, actor=leader)

            service.simple_penalty(db, data=SimpleIn(
                title="未按规定公示食品经营许可证", party_uscc=parties[5].uscc or "",
                facts="经营场所未在醒目位置公示食品经营许可证", kinds=["1"], place="店堂前厅",
                statement="当事人表示立即改正", officer_ids=officers), actor=officer)
    except DomainError:
        return {"cases": 0}
    return {"cases": 7}
