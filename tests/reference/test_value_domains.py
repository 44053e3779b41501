"""Value domains (值域): seeded as the issue-4 spec lists them, resolved by code or name, edited by admins."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.audit.models import AuditEntry
from jianguan.auth.models import User
from jianguan.core.errors import Conflict, Forbidden, Invalid
from jianguan.reference import service
from jianguan.reference.data.value_domains import DOMAINS
from jianguan.reference.models import ValueDomainItem

SPEC = {
    "entity_kind": ["enterprise", "individual_business", "cooperative", "natural_person", "government_unit"],
    "entity_status": ["active", "cancelled", "revoked", "moved_out"],
    "enterprise_scale": ["large", "medium", "small", "micro"],
    "credit_class": ["A", "B", "C", "D"],
    "risk_level": ["red", "yellow", "blue"],
    "licence_type": ["food_business", "food_production", "pollutant_discharge", "road_transport",
                     "hazardous_chemicals", "special_equipment", "industrial_product", "drug_business"],
    "penalty_kind": ["1", "2", "3", "4", "5", "6", "7", "8", "9", "90", "99"],
    "entity_tag": ["abnormal_list", "key_industry", "complaint_heavy", "serious_violation", "first_violation_waiver"],
    "enforcement_domain": ["market", "food", "special_equipment", "ecology", "emergency", "transport", "health",
                           "urban", "inspection"],
    "credential_status": ["valid", "suspended", "revoked"],
    # the catalog's (issue 5)
    "inspection_method": ["on_site", "online", "documents", "remote_video", "mystery_shopper"],
    "item_change": ["admission", "adjustment", "exit"],
    "check_severity": ["general", "serious"],
    "answer_type": ["yes_no", "number", "choice", "text", "photo"],
    # the inspections' (issue 6)
    "plan_kind": ["routine_random", "targeted", "campaign", "follow_up", "complaint", "unannounced", "joint"],
    "case_source": ["inspection_finding", "complaint", "risk_warning", "transfer", "assigned", "other"],
    "matter_level": ["central", "provincial", "city", "county"],
    "accountability_measure": ["interview", "circulate_criticism", "self_review", "admonish", "organisational",
                               "disciplinary", "refer"],
    # the collaboration centre's (issue 8)
    "complaint_category": ["food_safety", "product_quality", "price", "advertising", "consumer_rights",
                           "special_equipment", "licence", "environment", "work_safety", "transport", "urban",
                           "other"],
}


def test_every_domain_of_the_spec_is_seeded_in_order(ref: Session) -> None:
    assert [d.code for d in service.list_domains(ref)] == list(SPEC)
    for domain, codes in SPEC.items():
        assert [i.code for i in service.domain_items(ref, domain)] == codes


def test_penalty_kinds_are_nine_standard_options_and_two_extensions(ref: Session) -> None:
    items = service.domain_items(ref, "penalty_kind")
    assert [i.code for i in items if i.is_standard] == [str(n) for n in range(1, 10)]
    assert {i.code: i.name for i in items if not i.is_standard} == {
        "90": "行政拘留", "99": "法律、行政法规规定的其他行政处罚"}
    assert service.label(ref, "penalty_kind", "9") == "限制开展生产经营活动、责令停产停业、责令关闭、限制从业"


def test_a_value_resolves_from_its_code_or_its_chinese_name(ref: Session) -> None:
    assert service.resolve(ref, "entity_kind", "个体工商户") == "individual_business"
    assert service.resolve(ref, "entity_kind", "individual_business") == "individual_business"
    assert service.resolve(ref, "credit_class", " C级（失信） ") == "C"
    assert service.resolve(ref, "credit_class", "c") == "C"
    assert service.resolve(ref, "risk_level", "purple") is None
    assert service.resolve(ref, "risk_level", "") is None
    assert service.label(ref, "risk_level", "red") == "高风险（红）"
    assert service.label(ref, "risk_level", "nope") == "nope"


SHIPPED = [service.DomainItem(d[0], it[0], it[1], n, None, None, True) for d in DOMAINS for n, it in enumerate(d[3])]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(SHIPPED), st.sampled_from(["", " ", "\t"]))
def test_the_snapshot_resolves_every_shipped_item_by_code_and_by_name(item: service.DomainItem, pad: str) -> None:
    snapshot = service.ValueDomains.from_items(SHIPPED, on=dt.date(2026, 11, 23))
    assert snapshot.resolve(item.domain, pad + item.code + pad) == item.code
    assert snapshot.resolve(item.domain, item.name + pad) == item.code
    assert item.code in snapshot.codes(item.domain)
    assert snapshot.resolve(item.domain, item.name + "X") is None


def test_a_retired_item_leaves_the_snapshot_from_the_day_after_it_ends() -> None:
    retired = service.DomainItem("risk_level", "orange", "较高风险（橙）", 40, None, dt.date(2026, 6, 30), True)
    before = service.ValueDomains.from_items([retired], on=dt.date(2026, 6, 30))
    after = service.ValueDomains.from_items([retired], on=dt.date(2026, 7, 1))
    assert before.resolve("risk_level", "orange") == "orange"
    assert after.resolve("risk_level", "orange") is None and after.codes("risk_level") == set()
    assert after.label("risk_level", "orange") == "较高风险（橙）"


def test_the_snapshot_loaded_from_the_database_matches_the_service(ref: Session) -> None:
    snapshot = service.ValueDomains.load(ref)
    assert snapshot.codes("enterprise_scale") == {"large", "medium", "small", "micro"}
    assert snapshot.resolve("entity_status", "吊销") == "revoked"
    assert snapshot.resolve("entity_status", "歇业") is None
    assert snapshot.label("licence_type", "food_business") == "食品经营许可证"
    assert snapshot.is_standard("penalty_kind", "3") and not snapshot.is_standard("penalty_kind", "90")


def _item(db: Session, domain: str, code: str) -> ValueDomainItem:
    return db.scalars(select(ValueDomainItem).where(ValueDomainItem.domain == domain,
                                                    ValueDomainItem.code == code)).one()


def test_an_admin_adds_renames_and_retires_an_item_and_each_step_is_audited(ref: Session, admin: User) -> None:
    item = service.add_item(ref, domain="licence_type", code="fireworks", name="烟花爆竹经营许可证", actor=admin)
    assert service.domain_items(ref, "licence_type")[-1].code == "fireworks"
    assert service.resolve(ref, "licence_type", "烟花爆竹经营许可证") == "fireworks"
    service.update_item(ref, item_id=item.id, version=item.version, name="烟花爆竹经营（零售）许可证", actor=admin)
    assert service.label(ref, "licence_type", "fireworks") == "烟花爆竹经营（零售）许可证"
    service.retire_item(ref, item_id=item.id, version=item.version, valid_to=dt.date(2026, 11, 1), actor=admin)
    assert "fireworks" not in {i.code for i in service.domain_items(ref, "licence_type")}
    assert "fireworks" in {i.code for i in service.domain_items(ref, "licence_type", on=dt.date(2026, 10, 31))}
    assert service.resolve(ref, "licence_type", "fireworks") is None  # no longer for new data …
    assert service.label(ref, "licence_type", "fireworks") == "烟花爆竹经营（零售）许可证"  # … old ones keep a label
    actions = list(ref.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "value_domain_item",
                                                               AuditEntry.object_id == str(item.id))
                               .order_by(AuditEntry.id)))
    assert actions == ["value_domain.item_add", "value_domain.item_update", "value_domain.item_retire"]


def test_a_retired_item_can_be_restored(ref: Session, admin: User) -> None:
    item = _item(ref, "entity_tag", "complaint_heavy")
    service.retire_item(ref, item_id=item.id, version=item.version, actor=admin)
    assert service.resolve(ref, "entity_tag", "投诉集中") is None
    service.update_item(ref, item_id=item.id, version=item.version, valid_to=None, actor=admin)
    assert service.resolve(ref, "entity_tag", "投诉集中") == "complaint_heavy"


def test_a_stale_edit_is_refused(ref: Session, admin: User) -> None:
    item = _item(ref, "entity_status", "moved_out")
    read_version = item.version
    service.update_item(ref, item_id=item.id, version=read_version, name="迁出（已迁往外省）", actor=admin)
    with pytest.raises(Conflict):
        service.update_item(ref, item_id=item.id, version=read_version, name="迁出", actor=admin)


def test_only_a_system_admin_edits(ref: Session, officer: User) -> None:
    item = _item(ref, "risk_level", "red")
    with pytest.raises(Forbidden):
        service.update_item(ref, item_id=item.id, version=item.version, name="红", actor=officer)
    with pytest.raises(Forbidden):
        service.add_item(ref, domain="risk_level", code="orange", name="较高风险（橙）", actor=officer)


def test_codes_are_never_duplicated_or_deleted(ref: Session, admin: User) -> None:
    with pytest.raises(Conflict):
        service.add_item(ref, domain="risk_level", code="red", name="红色", actor=admin)
    with pytest.raises(Invalid) as bad:
        service.add_item(ref, domain="risk_level", code="or ange", name="橙", actor=admin)
    assert bad.value.field == "code"
    with pytest.raises(Invalid):
        service.add_item(ref, domain="risk_level", code="orange", name="高风险（红）", actor=admin)
    with pytest.raises(Conflict):
        service.delete_item(ref, item_id=_item(ref, "risk_level", "blue").id, actor=admin)


def test_reloading_keeps_an_admins_rename(ref: Session, admin: User) -> None:
    item = _item(ref, "enterprise_scale", "micro")
    service.update_item(ref, item_id=item.id, version=item.version, name="微型企业", actor=admin)
    service.load_value_domains(ref)
    assert service.label(ref, "enterprise_scale", "micro") == "微型企业"
