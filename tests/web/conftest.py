"""A signed-in officer and an app for the page tests (committed for real: the app opens its own sessions)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from jianguan.auth import service
from jianguan.db import session_scope
from jianguan.officers import service as agencies

PASSWORD = "Xihu-2026-pass"


@dataclass
class People:
    agency_id: int
    officer_id: int
    admin_id: int


@pytest.fixture
def people(fresh_db_url: str) -> People:
    with session_scope() as db:
        agency = agencies.create_agency(db, code="330106-SJ", name="西湖区市场监督管理局",
                                        region_code="330106", actor=None)
        officer = service.create_user(db, username="wangjg", display_name="王建国", password=PASSWORD,
                                      roles=["officer"], agency_id=agency.id, actor=None)
        admin = service.create_user(db, username="lihua", display_name="李华", password=PASSWORD,
                                    roles=["system_admin"], agency_id=agency.id, data_scope="all", actor=None)
        return People(agency.id, officer.id, admin.id)


@pytest.fixture
def client(fresh_db_url: str) -> Iterator[TestClient]:
    from jianguan.app import create_app

    with TestClient(create_app(), follow_redirects=False) as c:
        yield c


def csrf_from(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> None:
    token = csrf_from(client.get("/login").text)
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    assert response.status_code == 303, response.text
