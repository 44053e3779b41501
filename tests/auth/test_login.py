"""Password sign-in: Argon2, throttling after repeated failures, password change."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.auth import service
from jianguan.auth.models import LoginAttempt, User
from jianguan.core.errors import Invalid, TooManyRequests, Unauthorized


@pytest.fixture
def officer(db: Session) -> User:
    return service.create_user(db, username="wang", display_name="王建国", password="Correct-horse-1",
                               roles=["officer"], data_scope="all", actor=None)


def test_password_is_stored_as_argon2_hash(officer: User) -> None:
    assert officer.password_hash is not None
    assert officer.password_hash.startswith("$argon2id$")
    assert "Correct-horse-1" not in officer.password_hash


def test_right_password_signs_in_and_wrong_one_does_not(db: Session, officer: User) -> None:
    assert service.authenticate(db, username="wang", password="Correct-horse-1").id == officer.id
    with pytest.raises(Unauthorized):
        service.authenticate(db, username="wang", password="wrong-password-1")
    with pytest.raises(Unauthorized):
        service.authenticate(db, username="nobody", password="Correct-horse-1")


def test_five_failures_lock_the_account_even_for_the_right_password(db: Session, officer: User) -> None:
    for _ in range(5):
        with pytest.raises(Unauthorized):
            service.authenticate(db, username="wang", password="guess-123456")
    with pytest.raises(TooManyRequests) as caught:
        service.authenticate(db, username="wang", password="Correct-horse-1")
    assert 0 < caught.value.details["retry_after"] <= 15 * 60 + 1


def test_lock_expires_after_the_window(db: Session, officer: User) -> None:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16)
    for _ in range(5):
        db.add(LoginAttempt(username="wang", ip=None, succeeded=False, at=past))
    db.flush()
    assert service.authenticate(db, username="wang", password="Correct-horse-1").id == officer.id


def test_failures_before_a_success_do_not_count(db: Session, officer: User) -> None:
    for _ in range(4):
        with pytest.raises(Unauthorized):
            service.authenticate(db, username="wang", password="guess-123456")
    service.authenticate(db, username="wang", password="Correct-horse-1")
    for _ in range(4):
        with pytest.raises(Unauthorized):
            service.authenticate(db, username="wang", password="guess-123456")
    assert service.authenticate(db, username="wang", password="Correct-horse-1").id == officer.id
    failures = db.scalars(select(LoginAttempt).where(~LoginAttempt.succeeded)).all()
    assert len(failures) == 8


def test_password_change_checks_current_policy_and_signs_out_elsewhere(db: Session, officer: User) -> None:
    epoch = officer.session_epoch
    with pytest.raises(Invalid) as wrong:
        service.change_password(db, user=officer, current_password="nope", new_password="New-pass-2026")
    assert wrong.value.field == "current_password"
    with pytest.raises(Invalid) as weak:
        service.change_password(db, user=officer, current_password="Correct-horse-1", new_password="short1")
    assert weak.value.field == "new_password"
    service.change_password(db, user=officer, current_password="Correct-horse-1", new_password="New-pass-2026")
    assert officer.session_epoch == epoch + 1
    assert service.authenticate(db, username="wang", password="New-pass-2026").id == officer.id


def test_api_token_works_until_revoked(db: Session, officer: User) -> None:
    token, row = service.create_api_token(db, user=officer, name="对接系统", actor=officer)
    assert token.startswith("jgt_")
    assert row.token_hash != token
    assert service.user_for_token(db, token) is officer
    service.revoke_api_token(db, token_id=row.id, actor=officer)
    assert service.user_for_token(db, token) is None
    assert service.user_for_token(db, "jgt_made-up") is None
