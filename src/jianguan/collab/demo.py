"""The demo's complaints: a year of them written in bulk (collab/demo_year.py), then today's five made
by hand through intake — from the public form, a hotline call and a connected system, a pair that
repeat each other, an environment tip no rule can route, one accepted and one replied; and the joint
task board's examples (collab/joint_demo.py). Idempotent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.auth.models import User
from jianguan.collab import demo_year, joint_demo, service
from jianguan.collab.models import Complaint
from jianguan.collab.schemas import ComplaintIn
from jianguan.core import workflow
from jianguan.core.errors import DomainError
from jianguan.entities.models import Entity

YOGURT = "在该店买的酸奶已经过期三天，店员拒绝退换，要求依法处理。"


def load(db: Session) -> dict[str, Any]:
    return {**_complaints(db), **joint_demo.load(db)}


def _complaints(db: Session) -> dict[str, Any]:
    officer = db.scalar(select(User).where(User.username == "xihu_officer"))
    shop = db.scalar(select(Entity).where(Entity.region_code == "330106", Entity.kind == "enterprise",
                                          Entity.industry_code.like("62%")).order_by(Entity.id).limit(1))
    if officer is None or shop is None:
        return {"complaints": 0, "year": 0}
    year = demo_year.load(db)["complaints"]
    if year:  # the worker would have escalated the year's late ones by now (notify → 督办 → 挂牌督办)
        workflow.scan_overdue(db)
    if db.scalar(select(Complaint.id).where(Complaint.external_ref == "12345-0001").limit(1)) is not None:
        return {"complaints": 0, "year": year}

    def receive(channel: str, **data: Any) -> Complaint:
        base = {"category": "food_safety", "content": YOGURT, "region_code": "330106", "name": "陈女士",
                "phone": "13800138000", "latitude": 30.2741, "longitude": 120.1551}
        return service.receive(db, data=ComplaintIn.model_validate({**base, **data}), channel=channel,
                               actor=officer if channel == "hotline" else None)[0]

    try:
        with db.begin_nested():
            first = receive("web", party_name=shop.name)
            receive("hotline", party_name=shop.name, name="王先生", phone="13900139000",
                    content="12345 转办：市民反映该店冷柜内乳制品过期，店员拒绝退换。", external_ref="12345-0001")
            receive("web", category="price", party_name="", content="停车场收费未明码标价，多收费用二十元。",
                    latitude=30.2802, longitude=120.1301)
            receive("web", kind="tip", anonymous=True, name="", phone="", category="environment",
                    content="夜间有工厂向河道排放黑色污水，气味刺鼻。", latitude=30.29, longitude=120.10)
            accepted = receive("web", category="advertising", party_name="",
                               content="该店门口广告牌宣称“全市最低价”，涉嫌违反广告法。")
            service.act(db, complaint_id=accepted.id, action="accept", actor=officer)
            service.act(db, complaint_id=first.id, action="accept", actor=officer)
            service.act(db, complaint_id=first.id, action="take", actor=officer)
            service.act(db, complaint_id=first.id, action="reply", actor=officer, payload={"outcome": "inspection"},
                        comment="经现场核查，该店确有销售过期酸奶的行为，已责令下架并退款，另案立案查处。")
    except DomainError:
        return {"complaints": 0, "year": year}
    return {"complaints": 5, "year": year}
