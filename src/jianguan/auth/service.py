"""Accounts: create, sign in (with throttling), change password, API tokens, scoped listing."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.auth.models import ApiToken, DataScope, LoginAttempt, Role, User
from jianguan.auth.passwords import DUMMY_HASH, check_policy, hash_password, needs_rehash, verify_password
from jianguan.auth.scope import ensure_visible, visible
from jianguan.config import get_settings
from jianguan.core.crypto import lookup_hash
from jianguan.core.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    TooManyRequests,
    Unauthorized,
    check_version,
)
from jianguan.core.i18n import N_
from jianguan.db import utcnow
from jianguan.officers.models import Agency

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")
REGION_RE = re.compile(r"^\d{6}$")
TOKEN_PREFIX = "jgt_"
# Deliberately loose (one @, a dot in the domain, no spaces): the mail server is the real judge.
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]+$")


def normalize_email(value: str | None) -> str | None:
    """An e-mail address for notifications, trimmed; empty means none."""
    value = (value or "").strip()
    if not value:
        return None
    if len(value) > 200 or not EMAIL_RE.match(value):
        raise Invalid("email", N_("Enter an e-mail address such as name@example.gov.cn."))
    return value


def require_role(actor: User, *roles: Role) -> None:
    if not actor.has_role(*roles) and not actor.is_system_admin:
        raise Forbidden()


def _validate_roles(roles: Sequence[str]) -> list[str]:
    valid = {r.value for r in Role}
    bad = [r for r in roles if r not in valid]
    if bad or not roles:
        raise Invalid("roles", N_("Unknown or missing role: {roles}"), roles=", ".join(bad) or "-")
    return list(dict.fromkeys(roles))


def create_user(
    db: Session,
    *,
    username: str,
    display_name: str,
    password: str | None,
    roles: Sequence[str],
    agency_id: int | None = None,
    region_code: str | None = None,
    data_scope: str = DataScope.agency.value,
    id_number: str | None = None,
    phone: str | None = None,
    actor: User | None,
    password_hash: str | None = None,
    entity_id: int | None = None,
) -> User:
    """Create an account. ``actor`` None means the system itself (init, demo). An entity user (企业端)
    speaks for one supervised entity and belongs to no agency: the data scopes show it nothing else."""
    if actor is not None:
        require_role(actor, Role.agency_admin)
        if not actor.is_system_admin and agency_id != actor.agency_id:
            raise Forbidden(N_("Agency admins can only create accounts in their own agency."))
        if not actor.is_system_admin and (data_scope == DataScope.all.value or Role.system_admin in roles):
            raise Forbidden(N_("Only a system admin can grant this scope or role."))
    username = username.strip()
    if not USERNAME_RE.match(username):
        raise Invalid("username", N_("Username must be 3–64 letters, digits, '.', '_' or '-'."))
    if not display_name.strip():
        raise Invalid("display_name", N_("Name is required."))
    roles = _validate_roles(roles)
    if data_scope not in {s.value for s in DataScope}:
        raise Invalid("data_scope", N_("Data scope must be agency, region or all."))
    agency = None
    if agency_id is not None:
        agency = db.get(Agency, agency_id)
        if agency is None:
            raise Invalid("agency_id", N_("No such agency."))
    if region_code is not None and not REGION_RE.match(region_code):
        raise Invalid("region_code", N_("Region code must be six digits (GB/T 2260)."))
    region_code = region_code or (agency.region_code if agency else None)
    if Role.entity_user.value in roles:
        if set(roles) != {Role.entity_user.value} or agency_id is not None:
            raise Invalid("roles", N_("An entity user has that role only and belongs to no agency."))
        if entity_id is None or not _entity_exists(db, entity_id):
            raise Invalid("entity_id", N_("An entity user speaks for a registered entity: give its USCC."))
        data_scope, region_code = DataScope.agency.value, None
    elif entity_id is not None:
        raise Invalid("entity_id", N_("Only an entity user is linked to an entity."))
    elif data_scope == DataScope.agency.value and agency is None:
        raise Invalid("agency_id", N_("An agency is required for the 'own agency' data scope."))
    if db.scalar(select(User.id).where(User.username == username)) is not None:
        raise Invalid("username", N_("This username is already taken."))
    if password_hash is None:
        if password is None:
            raise Invalid("password", N_("Password is required."))
        check_policy(password, username=username)
        password_hash = hash_password(password)
    user = User(
        username=username,
        display_name=display_name.strip(),
        password_hash=password_hash,
        roles=roles,
        agency_id=agency_id,
        entity_id=entity_id,
        region_code=region_code,
        data_scope=data_scope,
        id_number=id_number,
        id_number_hash=lookup_hash(id_number),
        phone=phone,
        phone_hash=lookup_hash(phone),
        password_changed_at=utcnow(),
    )
    db.add(user)
    db.flush()
    audit.record(db, actor=actor, action="user.create", object_type="user", object_id=user.id,
                 payload={"username": username, "roles": roles, "agency_id": agency_id},
                 detail={"username": username, "roles": roles})
    return user


def _entity_exists(db: Session, entity_id: int) -> bool:
    from jianguan.entities.models import Entity

    return db.get(Entity, entity_id) is not None


def _recent_failures(db: Session, username: str, since: dt.datetime) -> tuple[int, dt.datetime | None]:
    last_success = db.scalar(
        select(func.max(LoginAttempt.at)).where(LoginAttempt.username == username, LoginAttempt.succeeded)
    )
    start = max(since, last_success) if last_success else since
    row = db.execute(
        select(func.count(), func.max(LoginAttempt.at)).where(
            LoginAttempt.username == username, ~LoginAttempt.succeeded, LoginAttempt.at > start
        )
    ).one()
    return int(row[0]), row[1]


def authenticate(db: Session, *, username: str, password: str, ip: str | None = None) -> User:
    """Check a password. After N failures in the lock window the account is throttled (429)."""
    settings = get_settings()
    username = username.strip()
    now = utcnow()
    window = dt.timedelta(minutes=settings.login_lock_minutes)
    failures, last_failure = _recent_failures(db, username, now - window)
    if failures >= settings.login_max_failures and last_failure is not None:
        retry = int((last_failure + window - now).total_seconds()) + 1
        raise TooManyRequests(
            N_("Too many failed sign-ins. Try again in {minutes} minutes."),
            details={"retry_after": retry},
            minutes=max(1, retry // 60 + (1 if retry % 60 else 0)),
        )
    user = db.scalar(select(User).where(User.username == username))
    ok = verify_password(user.password_hash if user else DUMMY_HASH, password) and user is not None
    ok = ok and user is not None and user.is_active
    db.add(LoginAttempt(username=username, ip=ip, succeeded=ok, at=now))
    if not ok or user is None:
        audit.record(db, actor=None, action="auth.login_failed", object_type="user", object_id=None,
                     payload={"username": username, "ip": ip}, detail={"username": username})
        raise Unauthorized(N_("Wrong username or password."))
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    audit.record(db, actor=user, action="auth.login", object_type="user", object_id=user.id,
                 payload={"ip": ip})
    db.flush()
    return user


def change_password(db: Session, *, user: User, current_password: str, new_password: str) -> User:
    if not verify_password(user.password_hash, current_password):
        raise Invalid("current_password", N_("The current password is wrong."))
    if current_password == new_password:
        raise Invalid("new_password", N_("The new password must differ from the current one."))
    check_policy(new_password, field="new_password", username=user.username)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    user.session_epoch += 1  # every other signed-in browser is signed out
    db.flush()
    audit.record(db, actor=user, action="auth.password_change", object_type="user", object_id=user.id)
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(
    db: Session, *, user: User, name: str, expires_days: int | None = 365, actor: User
) -> tuple[str, ApiToken]:
    """Return the token once (only its hash is kept)."""
    if actor.id != user.id:
        require_role(actor, Role.system_admin)
    if not name.strip():
        raise Invalid("name", N_("Name is required."))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        name=name.strip(),
        prefix=token[:10],
        token_hash=_token_hash(token),
        expires_at=utcnow() + dt.timedelta(days=expires_days) if expires_days else None,
    )
    db.add(row)
    db.flush()
    audit.record(db, actor=actor, action="auth.token_create", object_type="api_token", object_id=row.id,
                 detail={"name": row.name, "user_id": user.id, "prefix": row.prefix})
    return token, row


def revoke_api_token(db: Session, *, token_id: int, actor: User) -> ApiToken:
    row = db.get(ApiToken, token_id)
    if row is None or (row.user_id != actor.id and not actor.is_system_admin):
        raise NotFound()
    if row.revoked_at is not None:
        raise Conflict(N_("This token is already revoked."))
    row.revoked_at = utcnow()
    audit.record(db, actor=actor, action="auth.token_revoke", object_type="api_token", object_id=row.id)
    return row


def user_for_token(db: Session, token: str) -> User | None:
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    now = utcnow()
    if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at < now):
        return None
    if not row.user.is_active:
        return None
    if row.last_used_at is None or (now - row.last_used_at) > dt.timedelta(minutes=5):
        row.last_used_at = now  # coarse, to avoid a write per request
    return row.user


def get_user(db: Session, *, user_id: int, actor: User) -> User:
    user = db.get(User, user_id)
    ensure_visible(user, actor)
    assert user is not None
    return user


def list_users(
    db: Session, *, actor: User, q: str | None = None, offset: int = 0, limit: int = 50
) -> tuple[list[User], int]:
    stmt = select(User).where(visible(User, actor))
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(User.username.like(like) | User.display_name.like(like))
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.scalars(stmt.order_by(User.id).offset(offset).limit(min(limit, 500))).all()
    return list(rows), total


def find_by_id_number(db: Session, *, id_number: str, actor: User) -> User | None:
    """Exact lookup through the keyed hash; the encrypted column is never scanned."""
    return db.scalar(
        select(User).where(User.id_number_hash == lookup_hash(id_number), visible(User, actor))
    )


def update_user(
    db: Session,
    *,
    user_id: int,
    version: int | None,
    actor: User,
    display_name: str | None = None,
    roles: Sequence[str] | None = None,
    data_scope: str | None = None,
    is_active: bool | None = None,
    email: str | None = None,
) -> User:
    """Edit an account; the version the editor read must still be current (else 409).
    ``email`` "" removes the address, None leaves it."""
    require_role(actor, Role.agency_admin)
    user = get_user(db, user_id=user_id, actor=actor)
    if not actor.is_system_admin and user.agency_id != actor.agency_id:
        raise Forbidden()
    check_version(user, version)
    changes: dict[str, object] = {}
    if display_name is not None:
        if not display_name.strip():
            raise Invalid("display_name", N_("Name is required."))
        user.display_name = changes["display_name"] = display_name.strip()
    if roles is not None:
        new_roles = _validate_roles(roles)
        if Role.system_admin in new_roles and not actor.is_system_admin:
            raise Forbidden(N_("Only a system admin can grant this scope or role."))
        user.roles = new_roles
        changes["roles"] = new_roles
    if data_scope is not None:
        if data_scope not in {s.value for s in DataScope}:
            raise Invalid("data_scope", N_("Data scope must be agency, region or all."))
        if data_scope == DataScope.all.value and not actor.is_system_admin:
            raise Forbidden(N_("Only a system admin can grant this scope or role."))
        user.data_scope = changes["data_scope"] = data_scope
    if email is not None and (address := normalize_email(email)) != user.email:
        user.email = address
        changes["email"] = address is not None  # whether one is set: the address stays out of the log
    if is_active is not None:
        user.is_active = changes["is_active"] = is_active
        if not is_active:
            user.session_epoch += 1
    db.flush()  # the UPDATE … WHERE version = n happens here: a concurrent edit raises StaleDataError
    audit.record(db, actor=actor, action="user.update", object_type="user", object_id=user.id,
                 payload=changes, detail={k: v for k, v in changes.items()})
    return user


EXPORT_COLUMNS = ("id", "username", "display_name", "roles", "agency", "region_code", "data_scope", "is_active")


def export_users(db: Session, *, actor: User) -> tuple[list[str], list[list[str]]]:
    """Scoped export of accounts (no restricted fields); the export itself is audited."""
    require_role(actor, Role.agency_admin, Role.leader)
    rows = db.scalars(select(User).where(visible(User, actor)).order_by(User.id)).all()
    data = [
        [str(u.id), u.username, u.display_name, ";".join(u.roles), u.agency.name if u.agency else "",
         u.region_code or "", u.data_scope, "1" if u.is_active else "0"]
        for u in rows
    ]
    audit.record_export(db, actor=actor, what="users", filters={"scope": actor.data_scope},
                        row_count=len(data), fmt="csv")
    return list(EXPORT_COLUMNS), data


def list_api_tokens(db: Session, *, user: User) -> list[ApiToken]:
    return list(db.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)).all())
