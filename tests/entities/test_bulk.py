"""Bulk upsert (the import pipeline's write path): no duplicates, one audit entry per batch."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jianguan.audit.models import AuditEntry
from jianguan.core.errors import Forbidden, Invalid
from jianguan.entities import bulk
from jianguan.entities.models import CreditHistory, Entity, EntityLicence
from jianguan.entities.uscc import make_uscc
from tests.auth.conftest import TwoDistricts, make_two_districts


@pytest.fixture
def world(db: Session) -> TwoDistricts:
    return make_two_districts(db)


def rows(n: int, region: str = "330106", **extra: str) -> list[dict[str, str]]:
    return [{"uscc": make_uscc("9", "1", region, f"MA2H{i:04d}"), "name": f"西湖测试公司{i}", "kind": "企业",
             "status": "存续", "region_code": region, "industry_code": "6210", "credit_class": "B",
             "risk_level": "blue", "registered_capital": "12.5", "established_on": "2020-05-06",
             "legal_rep_id_number": "110101199003078515", **extra} for i in range(n)]


def test_reimporting_the_same_rows_never_duplicates(db: Session, world: TwoDistricts) -> None:
    first = bulk.upsert_many(db, rows=rows(30), actor=world.a_officer, batch="b1")
    assert (first.created, first.updated) == (30, 0)
    again = bulk.upsert_many(db, rows=rows(30, credit_class="C"), actor=world.a_officer, batch="b2")
    assert (again.created, again.updated, again.unchanged) == (0, 30, 0)
    assert again.entity_ids == first.entity_ids
    assert db.scalar(select(func.count()).select_from(Entity)) == 30
    open_rows = db.scalars(select(CreditHistory.value).where(CreditHistory.valid_to.is_(None))).all()
    assert len(open_rows) == 30 and set(open_rows) == {"C"}
    same = bulk.upsert_many(db, rows=rows(30, credit_class="C"), actor=world.a_officer, batch="b3")
    assert same.unchanged == 30
    actions = db.scalars(select(AuditEntry.action).where(AuditEntry.action.like("entity.%"))).all()
    assert actions == ["entity.import"] * 3


def test_duplicate_rows_inside_one_batch_upsert_into_one_entity(db: Session, world: TwoDistricts) -> None:
    data = rows(2)
    data[1]["uscc"] = data[0]["uscc"]
    result = bulk.upsert_many(db, rows=data, actor=None)
    assert result.created == 1 and result.updated == 1 and len(set(result.entity_ids)) == 1


def test_an_imported_licence_puts_the_entity_under_supervision(db: Session, world: TwoDistricts) -> None:
    data = rows(1, licence_type="食品经营许可证", licence_number="JY13301060001111",
                licence_valid_until="2031-01-01")
    bulk.upsert_many(db, rows=data, actor=None)
    entity = db.scalars(select(Entity)).one()
    assert entity.under_supervision_since is not None
    assert db.scalar(select(EntityLicence.valid_until)) == dt.date(2031, 1, 1)


def test_a_bad_row_is_reported_with_its_row_number(db: Session, world: TwoDistricts) -> None:
    data = rows(3)
    data[2]["kind"] = "外星企业"
    with pytest.raises(Invalid) as caught:
        bulk.upsert_many(db, rows=data, actor=None, row_offset=100)
    assert caught.value.details[0]["row"] == 103


def test_a_district_cannot_overwrite_another_districts_entity(db: Session, world: TwoDistricts) -> None:
    bulk.upsert_many(db, rows=rows(1, "330108"), actor=world.b_officer)
    with pytest.raises(Forbidden):
        bulk.upsert_many(db, rows=rows(1, "330108"), actor=world.a_officer)
