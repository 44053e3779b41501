"""Agencies (a tree with region and enforcement domains), officers, credentials 执法证 and what the
draw needs to know about officers: leave periods and conflicts with entities (回避)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jianguan.core.crypto import EncryptedString
from jianguan.db import Base, IdMixin, Record, UTCDateTime, utcnow


class Agency(Record, Base):
    __tablename__ = "agencies"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    # Materialised path "/1/4/9/" so a subtree is one LIKE query on both databases.
    path: Mapped[str] = mapped_column(String(400), index=True, default="/")
    domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_active: Mapped[bool] = mapped_column(default=True)

    parent: Mapped[Agency | None] = relationship(remote_side="Agency.id")

    def __repr__(self) -> str:
        return f"<Agency {self.code} {self.name}>"


class Officer(Record, Base):
    """An enforcement officer (执法人员). Scope columns ``agency_id``/``region_code`` come from the agency.

    ``id_number`` and ``phone`` are restricted: encrypted at rest, looked up by keyed hash (the
    officers import upserts on ``id_number_hash``).
    """

    __tablename__ = "officers"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    id_number: Mapped[str | None] = mapped_column(EncryptedString())
    id_number_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    phone: Mapped[str | None] = mapped_column(EncryptedString())
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    gender: Mapped[str | None] = mapped_column(String(8))  # "male" / "female"
    domains: Mapped[list[str]] = mapped_column(JSON, default=list)  # enforcement_domain codes
    qualifications: Mapped[list[str]] = mapped_column(JSON, default=list)  # e.g. 法律职业资格
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    is_active: Mapped[bool] = mapped_column(default=True)

    agency: Mapped[Agency] = relationship()
    credentials: Mapped[list[Credential]] = relationship(
        back_populates="officer", order_by="Credential.expires_on.desc()")

    def __repr__(self) -> str:
        return f"<Officer {self.id} {self.name}>"


class CredentialStatus(enum.StrEnum):
    """Value domain ``credential_status``; expiry is derived from dates, not a status."""

    valid = "valid"
    suspended = "suspended"
    revoked = "revoked"


class Credential(Record, Base):
    """执法证: the card an officer shows (亮证) and anyone can check (查证) by its number."""

    __tablename__ = "credentials"

    number: Mapped[str] = mapped_column(String(32), unique=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    # Copied from the officer so scope filters need no join.
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    issued_on: Mapped[dt.date] = mapped_column(Date)
    expires_on: Mapped[dt.date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(16), default=CredentialStatus.valid.value, index=True)
    issuer: Mapped[str] = mapped_column(String(200), default="")

    officer: Mapped[Officer] = relationship(back_populates="credentials")
    agency: Mapped[Agency] = relationship()
    events: Mapped[list[CredentialEvent]] = relationship(
        back_populates="credential", order_by="CredentialEvent.id")

    def __repr__(self) -> str:
        return f"<Credential {self.number} {self.status}>"


class CredentialEvent(IdMixin, Base):
    """History of a credential: issue, renewal, suspension, reinstatement, revocation (append-only)."""

    __tablename__ = "credential_events"

    credential_id: Mapped[int] = mapped_column(ForeignKey("credentials.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(64), default="system")
    kind: Mapped[str] = mapped_column(String(16))  # issue / renew / suspend / reinstate / revoke / import
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    from_expires_on: Mapped[dt.date | None] = mapped_column(Date)
    to_expires_on: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")

    credential: Mapped[Credential] = relationship(back_populates="events")


class OfficerLeave(Record, Base):
    """A period (inclusive dates) in which the officer cannot be drawn (休假、培训、借调…)."""

    __tablename__ = "officer_leaves"

    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")

    officer: Mapped[Officer] = relationship()


class OfficerConflict(Record, Base):
    """A relation between an officer and a supervised entity that requires recusal (回避) in draws.

    ``entity_id`` points at the supervised entity when it is in the registry; ``entity_uscc`` +
    ``entity_name`` are copied from it (or given alone, before the entity is registered).
    """

    __tablename__ = "officer_conflicts"

    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    entity_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id", ondelete="SET NULL"), index=True)
    entity_uscc: Mapped[str | None] = mapped_column(String(18), index=True)
    entity_name: Mapped[str] = mapped_column(String(200), default="")
    relation: Mapped[str] = mapped_column(String(32))  # see service.CONFLICT_RELATIONS
    note: Mapped[str] = mapped_column(Text, default="")

    officer: Mapped[Officer] = relationship()


class CredentialVerifyHit(IdMixin, Base):
    """One public 查证 lookup, counted per IP in the database so every web process limits alike."""

    __tablename__ = "credential_verify_hits"

    ip: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
