"""Entity services: upsert by USCC, history, 审管衔接, scope and masking."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from jianguan.audit.models import AuditEntry
from jianguan.core.errors import Conflict, Forbidden, Invalid, NotFound
from jianguan.entities import search, service
from jianguan.entities.models import CreditHistory, Entity, RiskHistory
from jianguan.entities.uscc import make_uscc
from tests.auth.conftest import TwoDistricts, make_two_districts
from tests.entities.conftest import BINJIANG_USCC, XIHU_USCC, entity_data


@pytest.fixture
def world(db: Session) -> TwoDistricts:
    return make_two_districts(db)


def test_creating_an_entity_stores_codes_decimals_and_encrypted_restricted_fields(
        db: Session, world: TwoDistricts) -> None:
    e = service.create_entity(db, data=entity_data(XIHU_USCC, "杭州西湖茶叶有限公司", "330106",
                                                   registered_capital="100.5", kind="企业"),
                              actor=world.a_officer)
    assert e.kind == "enterprise" and e.status == "active"
    assert e.registered_capital == Decimal("100.5000")
    assert e.agency_id == world.district_a.id
    assert e.legal_rep_id_number == "110101199003078515" and e.legal_rep_id_number_hash
    db.flush()
    stored = db.execute(text("SELECT legal_rep_id_number FROM entities WHERE id = :i"), {"i": e.id}).scalar_one()
    assert "110101199003078515" not in stored


def test_an_invalid_uscc_is_rejected_and_a_warning_is_stored(db: Session, world: TwoDistricts) -> None:
    with pytest.raises(Invalid):
        service.create_entity(db, data=entity_data(XIHU_USCC[:17] + "0" if XIHU_USCC[17] != "0" else
                                                   XIHU_USCC[:17] + "1", "坏码公司", "330106"), actor=None)
    warned = make_uscc("9", "9", "330106", "MA2H0009")
    e = service.create_entity(db, data=entity_data(warned, "过渡期公司", "330106"), actor=None)
    assert e.uscc_warnings == ["uscc.category"]


def test_upsert_by_uscc_never_duplicates(db: Session, world: TwoDistricts) -> None:
    data = entity_data(XIHU_USCC, "杭州西湖茶叶有限公司", "330106")
    first, created = service.upsert_entity(db, data=data, actor=world.a_officer)
    again, created_again = service.upsert_entity(db, data={**data, "uscc": XIHU_USCC.lower(),
                                                           "name": "杭州西湖龙井茶叶有限公司"},
                                                 actor=world.a_officer)
    assert created and not created_again and first.id == again.id
    assert again.name == "杭州西湖龙井茶叶有限公司"
    assert db.scalar(select(func.count()).select_from(Entity)) == 1


def test_natural_persons_upsert_by_id_number(db: Session, world: TwoDistricts) -> None:
    data = {"id_number": "330106198807154321", "name": "张三", "kind": "natural_person",
            "region_code": "330106"}
    a, _ = service.upsert_entity(db, data=data, actor=None)
    b, created = service.upsert_entity(db, data={**data, "address": "文三路1号"}, actor=None)
    assert a.id == b.id and not created and b.uscc is None


def test_a_stale_version_is_a_conflict(db: Session, world: TwoDistricts) -> None:
    e = service.create_entity(db, data=entity_data(XIHU_USCC, "甲公司", "330106"), actor=world.a_officer)
    db.flush()
    service.update_entity(db, entity_id=e.id, data={"address": "天目山路1号"}, version=e.version,
                          actor=world.a_officer)
    db.flush()
    with pytest.raises(Conflict):
        service.update_entity(db, entity_id=e.id, data={"address": "x"}, version=1, actor=world.a_officer)


def test_credit_change_closes_the_previous_history_row(db: Session, world: TwoDistricts) -> None:
    e = service.create_entity(db, data=entity_data(XIHU_USCC, "甲公司", "330106"), actor=None)
    service.set_credit(db, entity=e, value="A", on=dt.date(2026, 1, 5), source="credit", actor=None)
    service.set_credit(db, entity=e, value="C级（失信）", on=dt.date(2026, 3, 2), reason="行政处罚", actor=None)
    assert not service.set_credit(db, entity=e, value="C", actor=None)  # unchanged: no new row
    rows = db.scalars(select(CreditHistory).where(CreditHistory.entity_id == e.id)
                      .order_by(CreditHistory.valid_from)).all()
    assert [(r.value, r.valid_from, r.valid_to) for r in rows] == [
        ("A", dt.date(2026, 1, 5), dt.date(2026, 3, 2)), ("C", dt.date(2026, 3, 2), None)]
    assert e.credit_class == "C"
    service.set_risk(db, entity=e, value="red", on=dt.date(2026, 4, 1), actor=None)
    assert db.scalar(select(RiskHistory.value).where(RiskHistory.valid_to.is_(None))) == "red"
    with pytest.raises(Invalid):
        service.set_risk(db, entity=e, value="purple", actor=None)


def test_grant_licence_creates_the_entity_and_puts_it_under_supervision(db: Session, world: TwoDistricts) -> None:
    e, licence = service.grant_licence(
        db, uscc_code=XIHU_USCC, entity={"name": "西湖餐饮店", "kind": "individual_business",
                                          "region_code": "330106"},
        licence={"licence_type": "食品经营许可证", "number": "JY13301060001234",
                 "valid_from": dt.date(2026, 3, 16), "valid_until": dt.date(2031, 3, 15)},
        actor=world.a_admin)
    assert e.under_supervision_since == dt.date(2026, 3, 16)
    assert licence.licence_type == "food_business" and e.licences == [licence]
    # A second licence later keeps the earlier supervision date; the same licence again is updated.
    e2, _ = service.grant_licence(db, uscc_code=XIHU_USCC, entity={}, licence={
        "licence_type": "food_business", "number": "JY13301060001234", "valid_from": dt.date(2026, 5, 6)},
        actor=world.a_admin)
    assert e2.id == e.id and len(e2.licences) == 1 and e2.under_supervision_since == dt.date(2026, 3, 16)


def test_tags_and_related_parties(db: Session, world: TwoDistricts) -> None:
    e = service.create_entity(db, data=entity_data(XIHU_USCC, "甲公司", "330106", tags="经营异常名录;key_industry"),
                              actor=None)
    assert sorted(t.tag for t in e.tags) == ["abnormal_list", "key_industry"]
    assert service.add_tag(db, entity=e, tag="abnormal_list", actor=None) is None
    assert service.end_tag(db, entity=e, tag="abnormal_list", on=dt.date(2026, 6, 1), actor=None)
    party = service.add_related_party(db, entity=e, name="李四", id_number="110101199003078515",
                                      relation="股东", actor=None)
    assert party.id_number_hash and service.add_related_party(
        db, entity=e, name="李四", id_number="110101199003078515", actor=None) is party


def _two(db: Session, world: TwoDistricts) -> tuple[Entity, Entity]:
    a = service.create_entity(db, data=entity_data(XIHU_USCC, "西湖甲公司", "330106", credit_class="A"),
                              actor=world.a_officer)
    b = service.create_entity(db, data=entity_data(BINJIANG_USCC, "滨江乙公司", "330108", industry_code="1310"),
                              actor=world.b_officer)
    return a, b


def test_district_a_cannot_see_or_change_district_b_entities(db: Session, world: TwoDistricts) -> None:
    a, b = _two(db, world)
    rows, total = search.search_entities(db, actor=world.a_officer)
    assert [r.id for r in rows] == [a.id] and total == 1
    with pytest.raises(NotFound):
        service.get_entity(db, entity_id=b.id, actor=world.a_officer)
    with pytest.raises(NotFound):
        service.update_entity(db, entity_id=b.id, data={"name": "x"}, version=None, actor=world.a_officer)
    with pytest.raises(Forbidden):
        service.create_entity(db, data={**entity_data(make_uscc("9", "1", "330108", "MA2H0003"), "丙", "330108"),
                                        "agency_code": "330108-SJ"}, actor=world.a_officer)
    city_rows, _ = search.search_entities(db, actor=world.city_leader)
    assert {r.id for r in city_rows} == {a.id, b.id}
    with pytest.raises(Forbidden):
        service.create_entity(db, data=entity_data(make_uscc("9", "1", "330106", "MA2H0004"), "丁", "330106"),
                              actor=world.city_leader)  # a leader reads, does not edit the registry


def test_search_filters(db: Session, world: TwoDistricts) -> None:
    a, b = _two(db, world)
    admin = world.admin

    def ids(**kw: object) -> set[int]:
        return {r.id for r in search.search_entities(db, actor=admin, **kw)[0]}

    assert ids(q="西湖") == {a.id}
    assert ids(q=BINJIANG_USCC) == {b.id}
    assert ids(q="%") == set()
    assert ids(region_code="330100") == {a.id, b.id}
    assert ids(region_code="330108") == {b.id}
    assert ids(industry_code="C") == {b.id} and ids(industry_code="H") == {a.id}
    assert ids(industry_code="13") == {b.id} and ids(industry_code="621") == {a.id}
    assert ids(industry_code="6210") == {a.id}
    assert ids(credit_class="A") == {a.id}
    assert ids(kind="enterprise") == {a.id, b.id}
    service.add_tag(db, entity=b, tag="key_industry", actor=None)
    assert ids(tag="key_industry") == {b.id}
    rows, _ = search.search_entities(db, actor=admin, sort="-name")
    assert [r.name for r in rows] == ["西湖甲公司", "滨江乙公司"]  # code point order: 西 U+897F > 滨 U+6EE8
    with pytest.raises(Invalid):
        search.search_entities(db, actor=admin, sort="password")


def test_restricted_fields_are_masked_for_an_officer_and_clear_only_for_an_admin_with_a_purpose(
        db: Session, world: TwoDistricts) -> None:
    a, _ = _two(db, world)
    seen = search.read_entity(db, entity_id=a.id, actor=world.a_officer)
    assert seen["legal_rep_id_number"] == "110101********8515" and seen["contact_phone"] == "138****8000"
    with pytest.raises(Forbidden):
        search.read_entity(db, entity_id=a.id, actor=world.a_officer, purpose="执法检查")
    clear = search.read_entity(db, entity_id=a.id, actor=world.admin, purpose="案件调查")
    assert clear["legal_rep_id_number"] == "110101199003078515"
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "data.restricted_read")).one()
    assert "案件调查" in entry.detail


def test_exports_are_scoped_masked_and_audited(db: Session, world: TwoDistricts) -> None:
    _two(db, world)
    body = search.export_entities(db, actor=world.a_officer, filters=search.Filters(), fmt="csv").decode()
    assert "西湖甲公司" in body and "滨江乙公司" not in body
    assert "110101199003078515" not in body and "110101********8515" in body
    xlsx = search.export_entities(db, actor=world.a_officer, filters=search.Filters(), fmt="xlsx")
    assert xlsx[:2] == b"PK"
    assert db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "data.export")) == 2


def test_sorting_by_risk_level_follows_severity(db: Session, world: TwoDistricts) -> None:
    for i, level in enumerate(("blue", "red", "yellow")):
        e = service.create_entity(db, data=entity_data(make_uscc("9", "1", "330106", f"MA2H01{i:02d}"),
                                                       f"公司{i}", "330106"), actor=None)
        service.set_risk(db, entity=e, value=level, actor=None)
    rows, _ = search.search_entities(db, actor=world.admin, sort="-risk_level")
    assert [r.risk_level for r in rows] == ["red", "yellow", "blue"]
