"""The columnar writer behind `jianguan import entities`: the same results as the per-row service."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from jianguan.audit.models import AuditEntry
from jianguan.core.errors import Forbidden, Invalid
from jianguan.core.workdays import today_shanghai
from jianguan.entities import bulk
from jianguan.entities.models import CreditHistory, Entity, EntityLicence, EntityTag, RiskHistory
from jianguan.entities.uscc import make_uscc
from jianguan.reference import service as ref
from tests.auth.conftest import TwoDistricts, make_two_districts

ID = "110101199003078515"


@pytest.fixture
def world(db: Session) -> TwoDistricts:
    ref.load_all(db)
    return make_two_districts(db)


def rows(n: int, *, series: str = "MA2H", region: str = "330106", **extra: str | None
         ) -> list[dict[str, str | None]]:
    return [{"uscc": make_uscc("9", "1", region, f"{series}{i:04d}"), "name": f" 西湖测试公司{i} ",
             "kind": "enterprise",
             "status": "active", "region_code": region, "industry_code": "6210", "credit_class": "B",
             "risk_level": "blue", "registered_capital": "12.5", "longitude": "120.1", "established_on": "2020-05-06",
             "legal_rep_name": "王芳", "legal_rep_id_number": ID, "contact_phone": "13800138000",
             "tags": "key_industry", "address": "", **extra} for i in range(n)]


def frame(data: list[dict[str, str | None]]) -> pl.DataFrame:
    df = pl.DataFrame(data, schema=dict.fromkeys(data[0], pl.String))
    return df.with_row_index("__row", offset=2).with_columns(pl.col("__row").cast(pl.Int64))


def count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_new_rows_then_an_unchanged_reimport_then_a_credit_change(db: Session, world: TwoDistricts) -> None:
    first = bulk.write_frame(db, frame(rows(30)), actor=world.a_officer, batch="b1", source="market_registration")
    assert (first.created, first.updated, first.unchanged) == (30, 0, 0)
    versions = {i: v for i, v in db.execute(select(Entity.id, Entity.version))}
    again = bulk.write_frame(db, frame(rows(30)), actor=world.a_officer, batch="b2")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 30)
    db.expire_all()
    assert {i: v for i, v in db.execute(select(Entity.id, Entity.version))} == versions
    assert count(db, Entity) == 30 and count(db, CreditHistory) == 30 and count(db, EntityTag) == 30
    changed = bulk.write_frame(db, frame(rows(30, credit_class="C")), actor=world.a_officer, batch="b3")
    assert (changed.created, changed.updated) == (0, 30)
    db.expire_all()
    assert set(db.scalars(select(CreditHistory.value).where(CreditHistory.valid_to.is_(None)))) == {"C"}
    closed = db.scalars(select(CreditHistory).where(CreditHistory.valid_to.is_not(None))).all()
    assert len(closed) == 30 and {c.value for c in closed} == {"B"} and closed[0].valid_to == today_shanghai()
    assert count(db, RiskHistory) == 30
    assert {v for v in db.scalars(select(Entity.version))} == {2}
    actions = db.scalars(select(AuditEntry.action).where(AuditEntry.action.like("entity.%"))).all()
    assert actions == ["entity.import"] * 3


def test_empty_cells_never_overwrite_and_the_row_counts_as_unchanged(db: Session, world: TwoDistricts) -> None:
    bulk.write_frame(db, frame(rows(3, address="文三路1号")), actor=world.a_officer)
    blanks = bulk.write_frame(db, frame(rows(3, address=None, credit_class=None, legal_rep_id_number=None)),
                              actor=world.a_officer)
    assert blanks.unchanged == 3
    db.expire_all()
    entity = db.scalars(select(Entity)).first()
    assert entity is not None and entity.address == "文三路1号" and entity.credit_class == "B"
    assert entity.legal_rep_id_number == ID


def test_the_same_columns_as_the_per_row_service(db: Session, world: TwoDistricts) -> None:
    """Write the same rows through ``upsert_many`` (series A) and ``write_frame`` (series B)."""
    extra = {"licence_type": "food_business", "licence_number": "JY1", "licence_valid_until": "2031-01-01",
             "scale": "small", "closed_on": None}
    service_rows = [{k: v for k, v in r.items() if v not in (None, "")} for r in rows(5, series="MA2A")]
    for i, r in enumerate(service_rows):
        r.update({k: v for k, v in extra.items() if v}, licence_number=f"JYA{i}", agency_code="330106-SJ")
    bulk.upsert_many(db, rows=service_rows, actor=world.a_officer)
    ours = rows(5, series="MA2B", **extra)
    for i, r in enumerate(ours):
        r.update(licence_number=f"JYB{i}", agency_code="330106-SJ")
    bulk.write_frame(db, frame(ours), actor=world.a_officer)
    db.expire_all()
    skip = {"id", "uscc", "created_at", "updated_at", "version", "legal_rep_id_number", "contact_phone",
            "uscc_warnings"}
    columns = [c.key for c in Entity.__table__.columns if c.key not in skip]

    def look(series: str) -> list[tuple[object, ...]]:
        found = db.scalars(select(Entity).where(Entity.uscc.like(f"%{series}%")).order_by(Entity.uscc)).all()
        return [(*(getattr(e, c) for c in columns), e.legal_rep_id_number, e.contact_phone,
                 tuple(e.uscc_warnings)) for e in found]

    assert look("MA2A") == look("MA2B") and len(look("MA2B")) == 5
    sample = db.scalars(select(Entity).where(Entity.uscc.like("%MA2B%"))).first()
    assert sample is not None and sample.registered_capital == Decimal("12.5000") and sample.name == "西湖测试公司0"
    assert sample.under_supervision_since == today_shanghai()
    assert db.scalar(select(EntityLicence.valid_until).where(EntityLicence.number == "JYB0")) == dt.date(2031, 1, 1)


def test_restricted_values_are_encrypted_at_rest(db: Session, world: TwoDistricts) -> None:
    bulk.write_frame(db, frame(rows(1)), actor=world.a_officer)
    raw = db.execute(text("SELECT legal_rep_id_number, contact_phone FROM entities")).one()
    assert raw[0].startswith("jg1$") and ID not in raw[0] and "13800138000" not in raw[1]
    db.expire_all()
    assert db.scalars(select(Entity)).one().legal_rep_id_number == ID


def test_a_natural_person_is_keyed_by_id_number(db: Session, world: TwoDistricts) -> None:
    person = {"uscc": None, "id_number": "330106198807154321", "name": "张三", "kind": "natural_person",
              "region_code": "330106"}
    assert bulk.write_frame(db, frame([person]), actor=world.a_officer).created == 1
    assert bulk.write_frame(db, frame([{**person, "name": "张三（个人）"}]), actor=world.a_officer).updated == 1
    db.expire_all()
    assert db.scalars(select(Entity.name)).all() == ["张三（个人）"]


def test_rows_outside_the_scope_are_flagged_and_refused(db: Session, world: TwoDistricts) -> None:
    bulk.write_frame(db, frame(rows(2, region="330108")), actor=world.b_officer)
    mixed = frame(rows(2, region="330108") + rows(1, series="MA2C"))
    assert bulk.out_of_scope(db, mixed, world.a_officer).to_list() == [True, True, False]
    assert bulk.out_of_scope(db, mixed, world.admin).to_list() == [False, False, False]
    assert bulk.out_of_scope(db, frame(rows(1, series="MA2D", region="330108")), world.a_officer).to_list() == [True]
    with pytest.raises(Forbidden):
        bulk.write_frame(db, mixed, actor=world.a_officer)


def licensed(i: int, number: str | None, until: str | None) -> dict[str, str | None]:
    return {**rows(i + 1)[i], "licence_type": "food_business" if number else None, "licence_number": number,
            "licence_valid_until": until}


def test_licences_are_renewed_put_entities_under_supervision_and_never_change_hands(
        db: Session, world: TwoDistricts) -> None:
    bulk.write_frame(db, frame([licensed(0, None, None), licensed(1, "JY9", "2030-01-01")]), actor=world.a_officer)
    first, second = db.scalars(select(Entity).order_by(Entity.id)).all()
    assert (first.under_supervision_since, second.under_supervision_since) == (None, today_shanghai())
    # The same licence again with a later date: renewed in place, one row, a new version.
    bulk.write_frame(db, frame([licensed(1, "JY9", "2032-06-30")]), actor=world.a_officer)
    licence = db.scalars(select(EntityLicence)).one()
    db.refresh(licence)
    assert (licence.valid_until, licence.version, licence.entity_id) == (dt.date(2032, 6, 30), 2, second.id)
    # An existing entity granted a licence is under supervision from today.
    bulk.write_frame(db, frame([licensed(0, "JY10", "2031-01-01")]), actor=world.a_officer)
    db.refresh(first)
    assert first.under_supervision_since == today_shanghai() and count(db, EntityLicence) == 2
    # Another entity's licence number: refused, naming the row, and nothing of the slice is kept.
    savepoint = db.begin_nested()
    with pytest.raises(Invalid) as refused:
        bulk.write_frame(db, frame([licensed(2, None, None), licensed(0, "JY9", "2033-01-01")]), actor=world.a_officer)
    savepoint.rollback()
    assert refused.value.details[0]["field"] == "licence_number" and refused.value.details[0]["row"] == 3
    assert count(db, Entity) == 2 and db.scalars(select(EntityLicence.entity_id).where(
        EntityLicence.number == "JY9")).one() == second.id
