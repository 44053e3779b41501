"""Accounts and agencies for the auth tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from jianguan.auth import service
from jianguan.auth.models import User
from jianguan.db import session_scope
from jianguan.officers import service as agencies
from jianguan.officers.models import Agency

PASSWORD = "Passw0rd-2026"


@dataclass
class TwoDistricts:
    """A city bureau with two district bureaus, and people in each."""

    city: Agency
    district_a: Agency
    district_b: Agency
    admin: User
    city_leader: User
    a_admin: User
    a_officer: User
    b_admin: User
    b_officer: User


def make_two_districts(db: Session) -> TwoDistricts:
    city = agencies.create_agency(db, code="3301-SJ", name="杭州市市场监督管理局", region_code="330100", actor=None)
    a = agencies.create_agency(db, code="330106-SJ", name="西湖区市场监督管理局", region_code="330106",
                               parent_id=city.id, actor=None)
    b = agencies.create_agency(db, code="330108-SJ", name="滨江区市场监督管理局", region_code="330108",
                               parent_id=city.id, actor=None)

    def user(name: str, roles: list[str], agency: Agency, scope: str = "agency", **kw: str) -> User:
        return service.create_user(db, username=name, display_name=name, password=PASSWORD, roles=roles,
                                   agency_id=agency.id, data_scope=scope, actor=None, **kw)

    return TwoDistricts(
        city=city, district_a=a, district_b=b,
        admin=user("sysadmin", ["system_admin"], city, "all"),
        city_leader=user("city_leader", ["leader"], city, "region"),
        a_admin=user("a_admin", ["agency_admin"], a),
        a_officer=user("a_officer", ["officer"], a, id_number="110101199003078515", phone="13800138000"),
        b_admin=user("b_admin", ["agency_admin"], b),
        b_officer=user("b_officer", ["officer"], b, id_number="330106198807154321", phone="13900139000"),
    )


@pytest.fixture
def districts(fresh_db_url: str) -> TwoDistricts:
    """Committed for real, so the app (which opens its own sessions) sees them."""
    with session_scope() as db:
        world = make_two_districts(db)
    return world


@pytest.fixture
def client(fresh_db_url: str) -> Iterator[TestClient]:
    from jianguan.app import create_app

    with TestClient(create_app()) as c:
        yield c


def token_for(username: str) -> dict[str, str]:
    from sqlalchemy import select

    with session_scope() as db:
        user = db.scalars(select(User).where(User.username == username)).one()
        token, _ = service.create_api_token(db, user=user, name="test", actor=user)
    return {"Authorization": f"Bearer {token}"}
