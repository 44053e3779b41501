"""A small district world for plans and draws: two district agencies under a city bureau, people with
roles, officers with credentials, entities with risk and credit, and one catering item in force."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy.orm import Session

from jianguan.auth import service as auth
from jianguan.auth.models import User
from jianguan.catalog import service as catalog
from jianguan.entities.models import Entity, EntityTag
from jianguan.inspections import rules
from jianguan.inspections.schemas import PlanIn
from jianguan.officers import credentials, roster
from jianguan.officers import service as agencies
from jianguan.officers.models import Agency, Officer
from jianguan.reference import service as ref
from tests.auth.conftest import PASSWORD
from tests.catalog.conftest import item_data

ITEM = "33000001901000"
DAY = dt.date(2026, 12, 15)


@dataclass
class World:
    city: Agency
    xihu: Agency
    binjiang: Agency
    author: User  # officer of Xihu
    leader: User  # leader of Xihu
    city_leader: User
    outsider: User  # officer of Binjiang
    admin: User
    city_officer: User
    officers: list[Officer] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)


def make_world(db: Session, *, n_entities: int = 120, officers: int = 6) -> World:
    ref.load_all(db)
    rules.load(db)
    city = agencies.create_agency(db, code="3301-SJ", name="杭州市市场监督管理局", region_code="330100",
                                  domains=["market", "food"], actor=None)
    xihu = agencies.create_agency(db, code="330106-SJ", name="杭州市西湖区市场监督管理局", region_code="330106",
                                  parent_id=city.id, domains=["market", "food"], actor=None)
    binjiang = agencies.create_agency(db, code="330108-SJ", name="杭州市滨江区市场监督管理局", region_code="330108",
                                      parent_id=city.id, domains=["market", "food"], actor=None)

    def user(name: str, roles: list[str], agency: Agency, scope: str = "agency") -> User:
        return auth.create_user(db, username=name, display_name=name, password=PASSWORD, roles=roles,
                                agency_id=agency.id, data_scope=scope, actor=None)

    world = World(city, xihu, binjiang, user("author", ["officer"], xihu), user("leader", ["leader"], xihu),
                  user("city_leader", ["leader"], city, "region"), user("outsider", ["officer"], binjiang),
                  user("root", ["system_admin"], city, "all"), user("city_officer", ["officer"], city, "region"))
    catalog.propose_item(db, data=item_data(ITEM, effective_from=dt.date(2026, 1, 1)), actor=None, load=True)
    for i in range(officers):
        officer = roster.create_officer(db, agency_id=xihu.id, name=f"执法员{i}", domains=["food"], actor=None)
        credentials.issue_credential(db, officer_id=officer.id, number=f"XH2026{i:04d}", domains=["food"],
                                     issued_on=dt.date(2025, 1, 1), expires_on=dt.date(2030, 1, 1), actor=None)
        world.officers.append(officer)
    risks, credits = ("red", "yellow", "blue", None), ("A", "B", "C", None)
    for i in range(n_entities):
        entity = Entity(uscc=f"91330106TEST{i:06d}", name=f"西湖餐馆{i:03d}", kind="enterprise", status="active",
                        region_code="330106", agency_id=xihu.id, industry_code="6210",
                        risk_level=risks[i % 4], credit_class=credits[(i // 4) % 4])
        db.add(entity)
        world.entities.append(entity)
    db.flush()
    return world


def tag(db: Session, entity: Entity, name: str) -> None:
    db.add(EntityTag(entity_id=entity.id, tag=name, source="test"))
    db.flush()


def plan_data(**extra: Any) -> PlanIn:
    data: dict[str, Any] = {
        "title": "2026年西湖区餐饮服务食品安全双随机抽查", "kind": "routine_random", "methods": ["on_site"],
        "item_codes": [ITEM], "scope": {"region_code": "330106"}, "ratio": "20",
        "starts_on": dt.date(2026, 12, 1), "ends_on": dt.date(2026, 12, 31),
    }
    data.update(extra)
    return PlanIn.model_validate(data)


@pytest.fixture
def world(db: Session) -> World:
    return make_world(db)
