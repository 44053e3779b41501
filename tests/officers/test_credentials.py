"""执法证: validity on a date, status changes with history and audit, renewals, the 查证 rate limit."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.audit.models import AuditEntry
from jianguan.core.errors import Forbidden, IllegalTransition, Invalid, NotFound, TooManyRequests
from jianguan.db import utcnow
from jianguan.officers import credentials
from jianguan.officers.models import Credential, CredentialStatus
from tests.officers.test_roster import issue, world


def card(status: str = "valid", issued: str = "2024-01-01", expires: str = "2026-06-30") -> Credential:
    return Credential(number="X", status=status, issued_on=dt.date.fromisoformat(issued),
                      expires_on=dt.date.fromisoformat(expires), domains=["market"])


def test_validity_by_date_and_status() -> None:
    assert credentials.credential_validity(card(), dt.date(2026, 6, 30)) == (True, "ok")
    assert credentials.credential_validity(card(), dt.date(2026, 7, 1)) == (False, "expired")
    assert credentials.credential_validity(card(), dt.date(2023, 12, 31)) == (False, "not_yet_valid")
    assert credentials.credential_validity(card("suspended"), dt.date(2026, 1, 1)) == (False, "suspended")
    assert credentials.credential_validity(card("revoked", expires="2025-01-01"), dt.date(2026, 1, 1)) == (
        False, "revoked")


@given(st.sampled_from(list(CredentialStatus)), st.dates(dt.date(2015, 1, 1), dt.date(2035, 12, 31)))
def test_a_credential_is_valid_exactly_when_valid_and_within_its_dates(status: CredentialStatus,
                                                                        on: dt.date) -> None:
    c = card(status.value)
    valid, reason = credentials.credential_validity(c, on)
    assert valid == (status == CredentialStatus.valid and c.issued_on <= on <= c.expires_on)
    assert (reason == "ok") == valid


def test_status_changes_are_kept_as_history_with_who_and_why(db: Session) -> None:
    d, a, _ = world(db)
    c = issue(db, a, "33010620260001")
    credentials.suspend_credential(db, credential_id=c.id, version=c.version, reason="涉嫌违规执法", actor=d.a_admin)
    credentials.reinstate_credential(db, credential_id=c.id, version=c.version, reason="调查结束", actor=d.a_admin)
    credentials.renew_credential(db, credential_id=c.id, version=c.version, expires_on=dt.date(2032, 12, 31),
                                 reason="换发新证", actor=d.a_admin)
    credentials.revoke_credential(db, credential_id=c.id, version=c.version, reason="调离执法岗位", actor=d.admin)
    events = credentials.events_of(db, c.id)
    assert [(e.kind, e.from_status, e.to_status) for e in events] == [
        ("issue", None, "valid"), ("suspend", "valid", "suspended"), ("reinstate", "suspended", "valid"),
        ("renew", "valid", "valid"), ("revoke", "valid", "revoked")]
    assert (events[3].from_expires_on, events[3].to_expires_on) == (dt.date(2030, 12, 31), dt.date(2032, 12, 31))
    assert [e.actor_name for e in events] == ["system", "a_admin", "a_admin", "a_admin", "sysadmin"]
    assert events[1].reason == "涉嫌违规执法"
    actions = db.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "credential",
                                                         AuditEntry.object_id == str(c.id))).all()
    assert actions == ["credential.issue", "credential.suspend", "credential.reinstate", "credential.renew",
                       "credential.revoke"]


def test_revocation_is_final_and_changes_need_a_reason(db: Session) -> None:
    _, a, _ = world(db)
    c = issue(db, a, "33010620260001")
    with pytest.raises(Invalid):
        credentials.suspend_credential(db, credential_id=c.id, version=c.version, reason=" ", actor=None)
    with pytest.raises(IllegalTransition):
        credentials.reinstate_credential(db, credential_id=c.id, version=c.version, reason="x", actor=None)
    credentials.revoke_credential(db, credential_id=c.id, version=c.version, reason="收回", actor=None)
    for change in (credentials.suspend_credential, credentials.reinstate_credential, credentials.revoke_credential):
        with pytest.raises(IllegalTransition):
            change(db, credential_id=c.id, version=c.version, reason="x", actor=None)
    with pytest.raises(IllegalTransition):
        credentials.renew_credential(db, credential_id=c.id, version=c.version, expires_on=dt.date(2040, 1, 1),
                                     actor=None)


def test_a_renewal_must_extend_and_numbers_are_unique(db: Session) -> None:
    _, a, b = world(db)
    c = issue(db, a, "33010620260001")
    with pytest.raises(Invalid):
        credentials.renew_credential(db, credential_id=c.id, version=c.version, expires_on=dt.date(2030, 1, 1),
                                     actor=None)
    with pytest.raises(Invalid) as dup:
        issue(db, b, " 33010620260001 ")
    assert dup.value.field == "number"
    with pytest.raises(Invalid):
        issue(db, b, "33010820260009", issued="2026-01-02", expires="2026-01-01")


def test_another_agencys_admin_cannot_change_a_credential(db: Session) -> None:
    d, a, _ = world(db)
    c = issue(db, a, "33010620260001")
    with pytest.raises(NotFound):
        credentials.suspend_credential(db, credential_id=c.id, version=c.version, reason="x", actor=d.b_admin)
    with pytest.raises(Forbidden):
        credentials.suspend_credential(db, credential_id=c.id, version=c.version, reason="x", actor=d.a_officer)


def test_verify_shows_only_what_is_printed_and_validity_on_the_day(db: Session) -> None:
    _, a, _ = world(db)
    issue(db, a, "33010620260001", domains=["market", "food"], expires="2026-06-30")
    ok = credentials.verify(db, "33010620260001", on=dt.date(2026, 6, 30))
    assert (ok.name, ok.agency, ok.valid) == ("王建国", "西湖区市场监督管理局", True)
    assert ok.domain_names == ["市场监管", "食品安全"]
    late = credentials.verify(db, "33010620260001", on=dt.date(2026, 7, 1))
    assert (late.valid, late.reason, late.reason_text) == (False, "expired", "已过期")
    assert "330106198503127713" not in str(late.as_dict()) and "13857100001" not in str(late.as_dict())
    with pytest.raises(NotFound) as missing:
        credentials.verify(db, "33010620260002")
    assert missing.value.localized("zh_CN") == "未查到该执法证。"


def test_the_verify_rate_limit_counts_per_ip_within_the_window(db: Session) -> None:
    now = utcnow()
    for _ in range(3):
        credentials.check_verify_rate(db, ip="10.0.0.1", limit=3, now=now)
    with pytest.raises(TooManyRequests) as refused:
        credentials.check_verify_rate(db, ip="10.0.0.1", limit=3, now=now)
    assert refused.value.localized("zh_CN") == "您所在网络查询过于频繁，请一分钟后再试。"
    credentials.check_verify_rate(db, ip="10.0.0.2", limit=3, now=now)  # another address is not affected
    credentials.check_verify_rate(db, ip="10.0.0.1", limit=3, now=now + dt.timedelta(seconds=61))
