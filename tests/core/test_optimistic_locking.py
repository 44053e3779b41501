"""Two people editing the same record: the second write is refused, never silently applied."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from jianguan.auth import service
from jianguan.core.errors import Conflict
from jianguan.db import session_factory, session_scope
from jianguan.officers import service as agencies
from jianguan.officers.models import Agency


def test_two_concurrent_sessions_second_commit_is_stale(fresh_db_url: str) -> None:
    with session_scope() as db:
        agency_id = agencies.create_agency(db, code="T1", name="测试局", region_code="330106", actor=None).id
    make = session_factory()
    first: Session = make()
    second: Session = make()
    try:
        a = first.get(Agency, agency_id)
        b = second.get(Agency, agency_id)
        assert a is not None and b is not None and a.version == b.version
        read_version = a.version
        a.name = "第一次修改"
        first.commit()
        b.name = "第二次修改"
        with pytest.raises(StaleDataError):
            second.commit()
        second.rollback()
    finally:
        first.close()
        second.close()
    with session_scope() as db:
        stored = db.get(Agency, agency_id)
        assert stored is not None
        assert stored.name == "第一次修改"
        assert stored.version == read_version + 1


def test_edit_based_on_a_stale_read_is_a_conflict(db: Session) -> None:
    admin = service.create_user(db, username="root", display_name="管理员", password="Admin-pass-2026",
                                roles=["system_admin"], data_scope="all", actor=None)
    agency = agencies.create_agency(db, code="T2", name="测试局", region_code="330106", actor=None)
    read_version = agency.version
    agencies.update_agency(db, agency_id=agency.id, name="甲", version=read_version, actor=admin)
    with pytest.raises(Conflict) as caught:
        agencies.update_agency(db, agency_id=agency.id, name="乙", version=read_version, actor=admin)
    assert caught.value.details == {"expected_version": read_version, "current_version": read_version + 1}
    assert agency.name == "甲"
