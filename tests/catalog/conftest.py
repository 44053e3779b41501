"""People with the catalog roles, and a small item to run through approval."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session

from jianguan.auth import service as auth
from jianguan.auth.models import User
from jianguan.catalog.schemas import ItemIn
from jianguan.officers import service as agencies
from jianguan.reference import service as ref

PASSWORD = "Passw0rd-2026"


@dataclass
class People:
    proposer: User  # an officer
    colleague: User  # another officer
    reviewer: User  # 法制审核
    approver: User  # a leader
    admin: User


def make_people(db: Session) -> People:
    agency = agencies.create_agency(db, code="3301-SJ", name="杭州市市场监督管理局", region_code="330100", actor=None)

    def user(name: str, roles: list[str]) -> User:
        return auth.create_user(db, username=name, display_name=name, password=PASSWORD, roles=roles,
                                agency_id=agency.id, data_scope="region", actor=None)

    return People(user("zhang", ["officer"]), user("lisi", ["officer"]), user("wang", ["legal_reviewer"]),
                  user("zhao", ["leader"]), user("root", ["system_admin"]))


@pytest.fixture
def people(db: Session) -> People:
    ref.load_all(db)
    return make_people(db)


def item_data(code: str = "33000001901000", **extra: Any) -> ItemIn:
    """A catering item with two check points, citing the food safety law (2025 text)."""
    data: dict[str, Any] = {
        "code": code, "name": "对餐饮服务提供者食品安全的监督检查", "domain": "food", "department": "市场监督管理局",
        "object_kinds": ["enterprise", "individual_business"], "methods": ["on_site"], "key_item": True,
        "sampling_ratio": "20", "frequency_per_year": 2,
        "legal_basis": [{"law": "food-safety-law", "article": "第一百一十条"}],
        "check_points": [
            {"code": f"{code}-01", "text": "是否依法取得食品经营许可证", "law": "food-safety-law",
             "article": "第三十五条"},
            {"code": f"{code}-02", "text": "冷藏设施温度是否不高于8℃", "law": "food-safety-law",
             "article": "第五十四条", "answer_type": "number", "unit": "℃", "max": "8"},
        ],
        "effective_from": dt.date(2026, 12, 1),
    }
    data.update(extra)
    return ItemIn.model_validate(data)
