"""Officers: creation and edits (stale edits refused), masking, scope, leave, conflicts and who may be drawn."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.audit.models import AuditEntry
from jianguan.core.errors import Conflict, Forbidden, Invalid, NotFound
from jianguan.officers import credentials, roster
from jianguan.officers.models import Officer
from tests.auth.conftest import TwoDistricts, make_two_districts

ID_A = "330106198503127713"
ID_B = "330108199203154426"


def world(db: Session) -> tuple[TwoDistricts, Officer, Officer]:
    d = make_two_districts(db)
    a = roster.create_officer(db, agency_id=d.district_a.id, name="王建国", id_number=ID_A, phone="13857100001",
                              domains=["market", "food"], user_id=d.a_officer.id, actor=None)
    b = roster.create_officer(db, agency_id=d.district_b.id, name="周敏", id_number=ID_B, phone="13857100004",
                              domains=["market"], actor=None)
    return d, a, b


def issue(db: Session, officer: Officer, number: str, *, domains: list[str] | None = None,
          issued: str = "2024-01-01", expires: str = "2030-12-31") -> credentials.Credential:
    return credentials.issue_credential(db, officer_id=officer.id, number=number, domains=domains or ["market"],
                                        issued_on=dt.date.fromisoformat(issued),
                                        expires_on=dt.date.fromisoformat(expires), actor=None)


def test_an_officer_takes_the_scope_columns_of_the_agency_and_is_audited(db: Session) -> None:
    d, a, _ = world(db)
    assert (a.agency_id, a.region_code) == (d.district_a.id, "330106")
    assert a.id_number_hash and roster.find_by_id_number(db, ID_A) is a
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "officer.create",
                                                AuditEntry.object_id == str(a.id))).one()
    assert ID_A not in entry.detail and "13857100001" not in entry.detail


def test_id_numbers_are_stored_encrypted(db: Session) -> None:
    _, a, _ = world(db)
    raw = db.connection().exec_driver_sql(f"SELECT id_number, phone FROM officers WHERE id = {a.id}").one()
    assert ID_A not in raw[0] and raw[0].startswith("jg1$")
    assert "13857100001" not in raw[1]


def test_a_bad_id_number_or_duplicate_is_refused(db: Session) -> None:
    d, _, _ = world(db)
    with pytest.raises(Invalid) as bad:
        roster.create_officer(db, agency_id=d.district_a.id, name="甲", id_number="330106198503127714", actor=None)
    assert bad.value.field == "id_number"
    with pytest.raises(Invalid):
        roster.create_officer(db, agency_id=d.district_a.id, name="乙", id_number=ID_A.lower(), actor=None)
    with pytest.raises(Invalid) as domain:
        roster.create_officer(db, agency_id=d.district_a.id, name="丙", domains=["astrology"], actor=None)
    assert domain.value.field == "domains"


def test_another_officer_sees_the_id_number_masked_and_the_officer_sees_their_own(db: Session) -> None:
    d, a, _ = world(db)
    assert roster.officer_view(a, d.a_admin)["id_number"] == "330106********7713"
    assert roster.officer_view(a, d.a_admin)["phone"] == "138****0001"
    assert roster.officer_view(a, d.a_officer)["id_number"] == ID_A


def test_listing_is_scoped_to_the_actors_agency_or_region(db: Session) -> None:
    d, a, b = world(db)
    rows, total = roster.list_officers(db, actor=d.a_admin)
    assert [o.id for o in rows] == [a.id] and total == 1
    rows, _ = roster.list_officers(db, actor=d.city_leader)
    assert {o.id for o in rows} == {a.id, b.id}
    with pytest.raises(NotFound):
        roster.get_officer(db, officer_id=b.id, actor=d.a_admin)


def test_search_finds_an_officer_by_name_or_credential_number(db: Session) -> None:
    d, a, _ = world(db)
    issue(db, a, "33010620260001")
    assert [o.id for o in roster.list_officers(db, actor=d.admin, q="建国")[0]] == [a.id]
    assert [o.id for o in roster.list_officers(db, actor=d.admin, q="20260001")[0]] == [a.id]
    assert roster.list_officers(db, actor=d.admin, q="不存在")[1] == 0


def test_only_the_admin_of_the_officers_agency_may_edit_and_a_stale_version_is_refused(db: Session) -> None:
    d, a, b = world(db)
    with pytest.raises(Forbidden):
        roster.update_officer(db, officer_id=a.id, version=a.version, actor=d.a_officer, name="王")
    with pytest.raises(NotFound):  # out of scope looks missing
        roster.update_officer(db, officer_id=b.id, version=b.version, actor=d.a_admin, name="周")
    old = a.version
    roster.update_officer(db, officer_id=a.id, version=old, actor=d.a_admin, domains=["food"])
    assert a.domains == ["food"]
    with pytest.raises(Conflict):
        roster.update_officer(db, officer_id=a.id, version=old, actor=d.a_admin, name="王建")


def test_moving_an_officer_moves_the_scope_of_their_credentials(db: Session) -> None:
    d, a, _ = world(db)
    card = issue(db, a, "33010620260001")
    roster.update_officer(db, officer_id=a.id, version=a.version, actor=d.admin, agency_id=d.district_b.id)
    assert (a.region_code, card.agency_id, card.region_code) == ("330108", d.district_b.id, "330108")


def test_qualified_officers_respect_domain_expiry_status_leave_and_activity(db: Session) -> None:
    d, a, b = world(db)
    issue(db, a, "33010620260001", domains=["market", "food"], expires="2026-12-31")
    issue(db, b, "33010820260001", domains=["market"])
    day = dt.date(2026, 11, 10)
    ids = lambda **kw: [o.id for o in roster.qualified_officers(db, on=day, **kw)]  # noqa: E731
    assert ids(domain="market") == [a.id, b.id]
    assert ids(domain="food") == [a.id]
    assert ids(domain="ecology") == []
    assert ids(domain="market", agency_ids=[d.district_b.id]) == [b.id]
    assert [o.id for o in roster.qualified_officers(db, domain="market", on=dt.date(2027, 1, 1))] == [b.id]
    assert [o.id for o in roster.qualified_officers(db, domain="market", on=dt.date(2023, 6, 1))] == []
    roster.add_leave(db, officer_id=a.id, starts_on=dt.date(2026, 11, 9), ends_on=dt.date(2026, 11, 10),
                     reason="年休假", actor=None)
    assert ids(domain="market") == [b.id]
    assert [o.id for o in roster.qualified_officers(db, domain="market", on=dt.date(2026, 11, 11))] == [a.id, b.id]
    card_b = b.credentials[0]
    credentials.suspend_credential(db, credential_id=card_b.id, version=card_b.version, reason="调查", actor=None)
    assert ids(domain="market") == []
    roster.update_officer(db, officer_id=a.id, version=a.version, actor=None, is_active=False)
    assert [o.id for o in roster.qualified_officers(db, domain="market", on=dt.date(2026, 11, 11))] == []


def test_an_officer_with_an_expired_and_a_valid_credential_is_drawn_once(db: Session) -> None:
    _, a, _ = world(db)
    issue(db, a, "OLD-0001", expires="2025-12-31", issued="2020-01-01")
    issue(db, a, "NEW-0001")
    assert [o.id for o in roster.qualified_officers(db, domain="market", on=dt.date(2026, 3, 1))] == [a.id]


def test_leave_must_end_on_or_after_it_starts(db: Session) -> None:
    _, a, _ = world(db)
    with pytest.raises(Invalid):
        roster.add_leave(db, officer_id=a.id, starts_on=dt.date(2026, 5, 2), ends_on=dt.date(2026, 5, 1),
                         actor=None)
    leave = roster.add_leave(db, officer_id=a.id, starts_on=dt.date(2026, 5, 1), ends_on=dt.date(2026, 5, 5),
                             actor=None)
    assert roster.on_leave(db, officer_id=a.id, on=dt.date(2026, 5, 5))
    roster.remove_leave(db, leave_id=leave.id, actor=None)
    assert not roster.on_leave(db, officer_id=a.id, on=dt.date(2026, 5, 5))


def test_conflicts_name_the_officers_to_recuse_by_uscc(db: Session) -> None:
    _, a, b = world(db)
    roster.add_conflict(db, officer_id=a.id, relation="relative", entity_uscc="91330106MA2XXXXX0X",
                        entity_name="杭州西湖明远餐饮有限公司", note="配偶为股东", actor=None)
    assert roster.conflicted_officer_ids(db, uscc="91330106ma2xxxxx0x") == {a.id}
    assert roster.conflicted_officer_ids(db, uscc="91330106MA2YYYYY0X") == set()
    with pytest.raises(Invalid):
        roster.add_conflict(db, officer_id=b.id, relation="enemy", entity_name="某公司", actor=None)
    with pytest.raises(Invalid):
        roster.add_conflict(db, officer_id=b.id, relation="other", actor=None)


def test_workload_is_zero_until_assignments_exist(db: Session) -> None:
    _, a, _ = world(db)
    assert roster.workload(db, officer_id=a.id) == 0


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_exactly_one_check_character_makes_an_id_number_valid(body: str) -> None:
    valid = [c for c in "0123456789X" if roster.id_number_ok(body + c)]
    try:
        dt.date(int(body[6:10]), int(body[10:12]), int(body[12:14]))
    except ValueError:
        assert valid == []
    else:
        assert len(valid) == 1
