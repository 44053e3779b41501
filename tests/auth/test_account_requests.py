"""账号申请: the public asks for an account, the agency's admin decides within 3 working days."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from jianguan.audit.models import AuditEntry
from jianguan.auth import account_requests as requests
from jianguan.auth import service as users
from jianguan.auth.models import AccountRequest, User
from jianguan.core import workflow
from jianguan.core.errors import Conflict, Forbidden, IllegalTransition, Invalid, NotFound, TooManyRequests
from jianguan.db import session_factory, session_scope
from jianguan.notify.models import Notification
from tests.auth.conftest import PASSWORD, TwoDistricts, make_two_districts, token_for

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_PASSWORD = "Zhang-2026-wei"


def submit(db: Session, world: TwoDistricts, username: str = "zhang.wei", **changes: Any) -> tuple[
        AccountRequest, str]:
    data: dict[str, Any] = {
        "agency_id": world.district_a.id, "username": username, "display_name": "张伟",
        "password": NEW_PASSWORD, "requested_roles": ["officer"], "reason": "新入职执法人员",
        "phone": "13712345678",
    }
    return requests.submit_request(db, **{**data, **changes})


def submitted_on(monkeypatch: pytest.MonkeyPatch, day: dt.date) -> None:
    when = dt.datetime(day.year, day.month, day.day, 10, tzinfo=SHANGHAI).astimezone(dt.UTC)
    monkeypatch.setattr(workflow, "utcnow", lambda: when)


@pytest.fixture
def world(db: Session) -> TwoDistricts:
    world = make_two_districts(db)
    world.city_admin = users.create_user(  # type: ignore[attr-defined]
        db, username="city_admin", display_name="市局管理员", password=PASSWORD, roles=["agency_admin"],
        agency_id=world.city.id, actor=None)
    return world


# --------------------------------------------------------------------------- service


def test_approval_creates_the_account_with_the_requested_password_and_roles(
    db: Session, world: TwoDistricts
) -> None:
    request, token = submit(db, world)
    assert (request.state, request.workflow, len(token) > 20) == ("submitted", "account_request", True)
    assert requests.allowed_actions(request, world.a_admin) == ["approve", "reject", "return"]
    requests.decide(db, request_id=request.id, action="approve", comment="同意", actor=world.a_admin,
                    version=request.version)
    assert (request.state, request.due_date, request.decision_comment) == ("approved", None, "同意")
    user = db.get(User, request.created_user_id)
    assert user is not None
    assert (user.username, user.roles, user.agency_id, user.phone) == (
        "zhang.wei", ["officer"], world.district_a.id, "13712345678")
    assert users.authenticate(db, username="zhang.wei", password=NEW_PASSWORD).id == user.id
    history = requests.history(db, request)
    assert [(e.action, e.actor_name) for e in history] == [("submit", "public"), ("approve", "a_admin")]
    actions = db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert {"account_request.submit", "user.create", "account_request.approve"} <= set(actions)


def test_rejection_needs_a_comment(db: Session, world: TwoDistricts) -> None:
    request, _ = submit(db, world)
    with pytest.raises(Invalid) as caught:
        requests.decide(db, request_id=request.id, action="reject", comment="  ", actor=world.a_admin)
    assert caught.value.field == "comment" and request.state == "submitted"
    requests.decide(db, request_id=request.id, action="reject", comment="非本单位人员", actor=world.a_admin)
    assert (request.state, request.decision_comment, request.created_user_id) == ("rejected", "非本单位人员",
                                                                                 None)
    assert db.scalar(select(User.id).where(User.username == "zhang.wei")) is None


def test_approving_twice_is_an_illegal_transition_listing_what_is_allowed(
    db: Session, world: TwoDistricts
) -> None:
    request, _ = submit(db, world)
    requests.decide(db, request_id=request.id, action="approve", actor=world.a_admin)
    with pytest.raises(IllegalTransition) as caught:
        requests.decide(db, request_id=request.id, action="approve", actor=world.a_admin)
    assert caught.value.http_status == 409 and caught.value.allowed == []


def test_returned_request_is_resubmitted_by_the_requester_with_the_token(
    db: Session, world: TwoDistricts
) -> None:
    request, token = submit(db, world)
    requests.decide(db, request_id=request.id, action="return", comment="请写明所在科室", actor=world.a_admin)
    assert request.state == "returned" and request.due_date is not None  # 30 days to come back
    with pytest.raises(IllegalTransition) as caught:
        requests.decide(db, request_id=request.id, action="approve", actor=world.a_admin)
    assert caught.value.allowed == ["reject", "resubmit"]
    with pytest.raises(NotFound):
        requests.resubmit(db, request_id=request.id, token="wrong-token")
    requests.resubmit(db, request_id=request.id, token=token, reason="新入职，食品安全科", comment="已补充")
    assert (request.state, request.reason) == ("submitted", "新入职，食品安全科")
    assert request.decision_comment == ""  # the return reason is answered
    assert [e.action for e in requests.history(db, request)] == ["submit", "return", "resubmit"]
    assert requests.history(db, request)[-1].actor_name == "public"


def test_admin_of_another_agency_can_neither_see_nor_act(db: Session, world: TwoDistricts) -> None:
    request, _ = submit(db, world)
    with pytest.raises(NotFound):
        requests.get_request(db, request_id=request.id, actor=world.b_admin)
    with pytest.raises(NotFound):
        requests.decide(db, request_id=request.id, action="approve", actor=world.b_admin)
    rows, total = requests.list_requests(db, actor=world.b_admin)
    assert (rows, total) == ([], 0)
    assert [r.id for r in requests.list_requests(db, actor=world.a_admin)[0]] == [request.id]


def test_officers_do_not_handle_account_requests(db: Session, world: TwoDistricts) -> None:
    request, _ = submit(db, world)
    with pytest.raises(Forbidden):
        requests.decide(db, request_id=request.id, action="approve", actor=world.a_officer)


def test_parent_agency_admin_with_region_scope_sees_but_cannot_decide(
    db: Session, world: TwoDistricts
) -> None:
    request, _ = submit(db, world)
    world.city_admin.data_scope = "region"  # type: ignore[attr-defined]
    assert requests.get_request(db, request_id=request.id, actor=world.city_admin).id == request.id  # type: ignore[attr-defined]
    assert requests.allowed_actions(request, world.city_admin) == []  # type: ignore[attr-defined]
    with pytest.raises(Forbidden):
        requests.decide(db, request_id=request.id, action="approve", actor=world.city_admin)  # type: ignore[attr-defined]
    assert requests.allowed_actions(request, world.admin) == ["approve", "reject", "return"]  # system admin


@pytest.mark.parametrize(("changes", "field"), [
    ({"requested_roles": ["agency_admin"]}, "requested_roles"),
    ({"requested_roles": []}, "requested_roles"),
    ({"password": "short1"}, "password"),
    ({"password": "zhang.wei-2026x"}, "password"),  # contains the username
    ({"username": "a_admin"}, "username"),  # already an account
    ({"username": "no spaces allowed"}, "username"),
    ({"reason": " "}, "reason"),
    ({"phone": "call me"}, "phone"),
    ({"agency_id": 999999}, "agency_id"),
])
def test_submission_is_checked_field_by_field(
    db: Session, world: TwoDistricts, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(Invalid) as caught:
        submit(db, world, **changes)
    assert caught.value.field == field


def test_the_same_username_cannot_be_requested_twice_while_open(db: Session, world: TwoDistricts) -> None:
    submit(db, world)
    with pytest.raises(Invalid) as caught:
        submit(db, world)
    assert caught.value.field == "username"


def test_approval_is_refused_when_the_username_was_taken_meanwhile(db: Session, world: TwoDistricts) -> None:
    request, _ = submit(db, world)
    users.create_user(db, username="zhang.wei", display_name="另一个张伟", password=PASSWORD,
                      roles=["officer"], agency_id=world.district_b.id, actor=None)
    with pytest.raises(Conflict):
        requests.decide(db, request_id=request.id, action="approve", actor=world.a_admin)
    assert request.state == "submitted"


def test_one_address_may_submit_only_a_few_requests_an_hour(db: Session, world: TwoDistricts) -> None:
    for i in range(requests.MAX_PER_IP_PER_HOUR):
        submit(db, world, username=f"user{i}", ip="203.0.113.9")
    with pytest.raises(TooManyRequests):
        submit(db, world, username="one.more", ip="203.0.113.9")
    submit(db, world, username="elsewhere", ip="198.51.100.1")


def test_phone_is_encrypted_at_rest(db: Session, world: TwoDistricts) -> None:
    request, _ = submit(db, world)
    raw = db.execute(text("SELECT phone, password_hash FROM account_requests WHERE id = :i"),
                     {"i": request.id}).one()
    assert "13712345678" not in raw.phone and raw.password_hash.startswith("$argon2")
    assert NEW_PASSWORD not in str(raw)


def test_stale_version_is_a_conflict(db: Session, world: TwoDistricts) -> None:
    request, _ = submit(db, world)
    with pytest.raises(Conflict):
        requests.decide(db, request_id=request.id, action="approve", actor=world.a_admin,
                        version=request.version - 1)


# --------------------------------------------------------------------------- deadlines and escalation


def test_review_falls_due_three_working_days_after_submission_across_national_day(
    db: Session, world: TwoDistricts, monkeypatch: pytest.MonkeyPatch
) -> None:
    submitted_on(monkeypatch, dt.date(2026, 9, 30))
    request, _ = submit(db, world)
    # 1–7 Oct are holidays; 8 (Thu), 9 (Fri) and 10 Oct (a working Saturday) are the three days.
    assert (request.due_date, request.due_unconfirmed) == (dt.date(2026, 10, 10), False)


def test_resubmission_gets_a_fresh_deadline(db: Session, world: TwoDistricts,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    submitted_on(monkeypatch, dt.date(2026, 9, 30))
    request, token = submit(db, world)
    requests.decide(db, request_id=request.id, action="return", comment="补充材料", actor=world.a_admin)
    assert request.due_date == dt.date(2026, 10, 30)  # 30 calendar days to come back
    submitted_on(monkeypatch, dt.date(2026, 10, 16))  # a Friday
    requests.resubmit(db, request_id=request.id, token=token)
    assert request.due_date == dt.date(2026, 10, 21)


def notified(db: Session, request: AccountRequest) -> list[tuple[str, str]]:
    rows = db.execute(select(User.username, Notification.params).join(User, User.id == Notification.user_id)
                      .where(Notification.kind == "workflow.escalation").order_by(Notification.id)).all()
    return [(name, params["level_label"]) for name, params in rows
            if params["subject"] == f"{request.display_name} ({request.username})"]


def test_late_review_escalates_to_the_agency_then_its_parent_step_by_step(
    db: Session, world: TwoDistricts, monkeypatch: pytest.MonkeyPatch
) -> None:
    submitted_on(monkeypatch, dt.date(2026, 9, 30))
    request, _ = submit(db, world)

    def scan(day: dt.date) -> list[int]:
        return [e.level for e in workflow.scan_overdue(db, today=day) if e.record_id == request.id]

    assert scan(dt.date(2026, 10, 10)) == []
    assert scan(dt.date(2026, 10, 11)) == [1]
    assert scan(dt.date(2026, 10, 11)) == []  # the same day again: nothing new
    assert notified(db, request) == [("a_admin", "Overdue reminder")]
    assert scan(dt.date(2026, 10, 14)) == []
    assert scan(dt.date(2026, 10, 15)) == [2]
    assert sorted(notified(db, request)[1:]) == [("a_admin", "Supervised (督办)"),
                                                 ("city_admin", "Supervised (督办)")]
    assert scan(dt.date(2026, 10, 24)) == [3]
    assert scan(dt.date(2026, 10, 24)) == []
    assert [e.comment for e in requests.history(db, request) if e.action == "escalate"] == [
        "notify", "督办", "挂牌督办"]
    # Deciding ends the step: nothing further escalates.
    requests.decide(db, request_id=request.id, action="approve", actor=world.a_admin)
    assert scan(dt.date(2026, 12, 31)) == []


def test_returned_requests_lapse_after_thirty_days(db: Session, world: TwoDistricts,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    submitted_on(monkeypatch, dt.date(2026, 9, 30))
    request, _ = submit(db, world)
    requests.decide(db, request_id=request.id, action="return", comment="补充材料", actor=world.a_admin)
    assert requests.expire_returned(db, today=dt.date(2026, 10, 30)) == {"expired": 0}
    assert requests.expire_returned(db, today=dt.date(2026, 10, 31)) == {"expired": 1}
    assert request.state == "expired"
    assert requests.history(db, request)[-1].actor_name == "system"


# --------------------------------------------------------------------------- two sessions


@pytest.fixture
def committed(fresh_db_url: str) -> TwoDistricts:
    with session_scope() as db:
        return make_two_districts(db)


def test_concurrent_decisions_on_one_request_give_the_second_a_conflict(committed: TwoDistricts) -> None:
    with session_scope() as db:
        request_id = submit(db, committed)[0].id
    first, second = session_factory()(), session_factory()()
    try:
        admin1 = first.get(User, committed.a_admin.id)
        admin2 = second.get(User, committed.a_admin.id)
        assert admin1 is not None and admin2 is not None
        seen_by_second = requests.get_request(second, request_id=request_id, actor=admin2)
        version = seen_by_second.version
        requests.decide(first, request_id=request_id, action="reject", comment="重复申请", actor=admin1,
                        version=version)
        first.commit()
        with pytest.raises(Conflict):  # same version read, but the row moved on underneath
            requests.decide(second, request_id=request_id, action="return", comment="补充", actor=admin2,
                            version=version)
        second.rollback()
    finally:
        first.close()
        second.close()
    with session_scope() as db:
        request = db.get(AccountRequest, request_id)
        assert request is not None and request.state == "rejected"
        assert [e.action for e in requests.history(db, request)] == ["submit", "reject"]


# --------------------------------------------------------------------------- API


@pytest.fixture
def api(fresh_db_url: str, committed: TwoDistricts) -> TestClient:
    from jianguan.app import create_app

    return TestClient(create_app())


BODY = {"username": "li.na", "display_name": "李娜", "password": NEW_PASSWORD,
        "requested_roles": ["officer", "legal_reviewer"], "reason": "法制科新进人员", "phone": "13712345678"}


def file_one(api: TestClient, world: TwoDistricts) -> dict[str, Any]:
    response = api.post("/api/v1/account-requests", json={**BODY, "agency_id": world.district_a.id})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_api_full_loop_from_public_submission_to_approval(api: TestClient, committed: TwoDistricts) -> None:
    response = api.post("/api/v1/account-requests", json={**BODY, "agency_id": committed.district_a.id})
    assert response.status_code == 201, response.text
    created = response.json()
    rid, token = created["id"], created["token"]
    assert created["state"] == "submitted" and created["due_date"]
    status = api.get(f"/api/v1/account-requests/{rid}/status", headers={"X-Request-Token": token}).json()
    assert (status["state"], [h["action"] for h in status["history"]]) == ("submitted", ["submit"])
    admin = token_for("a_admin")
    listed = api.get("/api/v1/account-requests", headers=admin, params={"state": "submitted"}).json()
    assert [r["id"] for r in listed["items"]] == [rid] and listed["total"] == 1
    detail = api.get(f"/api/v1/account-requests/{rid}", headers=admin).json()
    assert detail["allowed_actions"] == ["approve", "reject", "return"]
    assert detail["phone"] == "137****5678" and "password" not in str(detail) and "token" not in detail
    response = api.post(f"/api/v1/account-requests/{rid}/approve", headers=admin,
                        json={"comment": "同意", "version": detail["version"]})
    assert response.status_code == 200, response.text
    done = response.json()
    assert (done["state"], done["allowed_actions"]) == ("approved", [])
    assert done["created_user_id"] is not None
    assert [h["action"] for h in done["history"]] == ["submit", "approve"]
    again = api.post(f"/api/v1/account-requests/{rid}/approve", headers=admin,
                     json={"comment": "", "version": done["version"]})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "illegal_transition"
    assert again.json()["error"]["details"] == {"allowed_actions": []}
    login = api.get("/api/v1/auth/me", headers=token_for("li.na")).json()
    assert login["roles"] == ["officer", "legal_reviewer"]


def test_api_rejection_without_comment_names_the_field(api: TestClient, committed: TwoDistricts) -> None:
    rid = file_one(api, committed)["id"]
    response = api.post(f"/api/v1/account-requests/{rid}/reject", headers=token_for("a_admin"),
                        json={"comment": "", "version": 1})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "comment"


def test_api_stale_version_is_409(api: TestClient, committed: TwoDistricts) -> None:
    rid = file_one(api, committed)["id"]
    response = api.post(f"/api/v1/account-requests/{rid}/approve", headers=token_for("a_admin"),
                        json={"comment": "", "version": 99})
    assert response.status_code == 409 and response.json()["error"]["code"] == "conflict"


def test_api_hides_requests_from_another_districts_admin(api: TestClient, committed: TwoDistricts) -> None:
    rid = file_one(api, committed)["id"]
    other = token_for("b_admin")
    assert api.get(f"/api/v1/account-requests/{rid}", headers=other).status_code == 404
    assert api.post(f"/api/v1/account-requests/{rid}/approve", headers=other,
                    json={"comment": "", "version": 1}).status_code == 404
    assert api.get("/api/v1/account-requests", headers=other).json()["total"] == 0
    assert api.get(f"/api/v1/account-requests/{rid}/status",
                   headers={"X-Request-Token": "guess"}).status_code == 404


def test_api_requester_resubmits_and_admin_may_resubmit_on_their_behalf(
    api: TestClient, committed: TwoDistricts
) -> None:
    created = file_one(api, committed)
    rid, token = created["id"], created["token"]
    admin = token_for("a_admin")
    returned = api.post(f"/api/v1/account-requests/{rid}/return", headers=admin,
                        json={"comment": "请注明科室", "version": created["version"]}).json()
    assert returned["state"] == "returned"
    view = api.get(f"/api/v1/account-requests/{rid}/status", headers={"X-Request-Token": token}).json()
    assert view["decision_comment"] == "请注明科室"
    again = api.post(f"/api/v1/account-requests/{rid}/resubmit",
                     json={"token": token, "version": view["version"], "reason": "法制科"}).json()
    assert again["state"] == "submitted"
    returned = api.post(f"/api/v1/account-requests/{rid}/return", headers=admin,
                        json={"comment": "电话补充", "version": again["version"]}).json()
    assert api.post(f"/api/v1/account-requests/{rid}/resubmit",
                    json={"version": returned["version"]}).status_code == 401
    on_behalf = api.post(f"/api/v1/account-requests/{rid}/resubmit", headers=admin,
                         json={"version": returned["version"], "comment": "电话补充：法制科"}).json()
    assert on_behalf["state"] == "submitted" and on_behalf["history"][-1]["actor_name"] == "a_admin"
