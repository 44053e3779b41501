"""Accounts and their credentials."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jianguan.core.crypto import EncryptedString
from jianguan.core.workflow import WorkflowMixin
from jianguan.db import Base, IdMixin, Record, utcnow
from jianguan.officers.models import Agency


class Role(enum.StrEnum):
    system_admin = "system_admin"
    agency_admin = "agency_admin"
    officer = "officer"
    legal_reviewer = "legal_reviewer"
    leader = "leader"
    entity_user = "entity_user"
    public = "public"


class DataScope(enum.StrEnum):
    """What a user may see: own agency, own region and below, or everything (数据权限)."""

    agency = "agency"
    region = "region"
    all = "all"


class User(Record, Base):
    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    # 企业端: the supervised entity an entity user speaks for (their findings, their rectification).
    entity_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id"), index=True)
    region_code: Mapped[str | None] = mapped_column(String(6), index=True)
    data_scope: Mapped[str] = mapped_column(String(16), default=DataScope.agency.value)
    is_active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    # Restricted personal data: encrypted at rest, with keyed hashes for exact lookup.
    id_number: Mapped[str | None] = mapped_column(EncryptedString())
    id_number_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    phone: Mapped[str | None] = mapped_column(EncryptedString())
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    # Where e-mail notifications go (notify outbox); set by an admin or by the user themselves.
    email: Mapped[str | None] = mapped_column(String(200))
    # Bumped on password change / sign-out everywhere: older session cookies stop working.
    session_epoch: Mapped[int] = mapped_column(default=0)
    password_changed_at: Mapped[dt.datetime | None]
    oidc_subject: Mapped[str | None] = mapped_column(String(200), unique=True)
    last_login_at: Mapped[dt.datetime | None]

    agency: Mapped[Agency | None] = relationship()

    def has_role(self, *roles: Role | str) -> bool:
        return any(str(r) in self.roles for r in roles)

    @property
    def is_system_admin(self) -> bool:
        return Role.system_admin.value in self.roles

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class ApiToken(IdMixin, Base):
    """Bearer tokens for machines; only a SHA-256 of the token is stored."""

    __tablename__ = "api_tokens"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()


class LoginAttempt(IdMixin, Base):
    """Failed and successful sign-ins, kept in the database so every web process throttles alike."""

    __tablename__ = "login_attempts"

    username: Mapped[str] = mapped_column(String(64), index=True)
    ip: Mapped[str | None] = mapped_column(String(64))
    succeeded: Mapped[bool]
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class AccountRequest(WorkflowMixin, Record, Base):
    """Someone asks for an account at an agency; that agency's admin approves or rejects it.

    The loop is declared in auth/workflow.py; the requester, who has no account, follows and
    amends the request with the token handed out once at submission (only its hash is kept).
    """

    __tablename__ = "account_requests"

    username: Mapped[str] = mapped_column(String(64), index=True)
    display_name: Mapped[str] = mapped_column(String(100))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    requested_roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(Text, default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(EncryptedString())
    decision_comment: Mapped[str] = mapped_column(Text, default="")
    created_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), default="")
    submitted_ip: Mapped[str | None] = mapped_column(String(64), index=True)

    agency: Mapped[Agency] = relationship()
