"""Tables of supervised entities, their licences, tags, related parties and credit/risk history.

Sized for millions of rows: every search filter has its own index (the search combines them), the
upsert keys (``uscc``, ``id_number_hash``) are unique, and histories are indexed by entity. The
PostgreSQL trigram index for name substrings cannot be expressed portably, so its DDL is kept in
``PG_NAME_TRGM_DDL`` for a PostgreSQL-only migration.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jianguan.core.crypto import EncryptedString
from jianguan.db import Base, BinaryString, IdMixin, Record, UTCDateTime, utcnow

# Name substring search (LIKE '%…%') on PostgreSQL; SQLite scans (fine for its sizes).
PG_NAME_TRGM_DDL = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm;\n"
    "CREATE INDEX IF NOT EXISTS ix_entities_name_trgm ON entities USING gin (name gin_trgm_ops);"
)
PG_NAME_TRGM_DROP = "DROP INDEX IF EXISTS ix_entities_name_trgm;"


class Entity(Record, Base):
    """A supervised entity (监管对象). ``agency_id``/``region_code`` are its data-scope columns."""

    __tablename__ = "entities"
    __table_args__ = (
        # Scope + the usual sort in one index: a district's list ordered by name. They also serve
        # region / agency alone, so those columns have no index of their own; nor have kind, status
        # and the lookup hashes (few values, or not searched): every index costs each bulk import.
        Index("ix_entities_region_name", "region_code", "name"),
        Index("ix_entities_agency_name", "agency_id", "name"),
    )

    uscc: Mapped[str | None] = mapped_column(BinaryString(18), unique=True)
    name: Mapped[str] = mapped_column(BinaryString(200), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # entity_kind
    status: Mapped[str] = mapped_column(String(32), default="active")  # entity_status
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    region_code: Mapped[str] = mapped_column(BinaryString(6))
    address: Mapped[str] = mapped_column(String(400), default="")
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(10, 6))
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(10, 6))
    industry_code: Mapped[str | None] = mapped_column(BinaryString(5), index=True)  # GB/T 4754 class
    scale: Mapped[str | None] = mapped_column(String(16))  # enterprise_scale
    registered_capital: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))  # 万元
    established_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    legal_rep_name: Mapped[str] = mapped_column(String(100), default="")
    legal_rep_id_number: Mapped[str | None] = mapped_column(EncryptedString())
    legal_rep_id_number_hash: Mapped[str | None] = mapped_column(String(64))
    # Natural persons (特定自然人) have no USCC: their ID number hash is the upsert key.
    id_number: Mapped[str | None] = mapped_column(EncryptedString())
    id_number_hash: Mapped[str | None] = mapped_column(BinaryString(64), unique=True)
    contact_phone: Mapped[str | None] = mapped_column(EncryptedString())
    contact_phone_hash: Mapped[str | None] = mapped_column(String(64))
    credit_class: Mapped[str | None] = mapped_column(BinaryString(2), index=True)  # current value
    risk_level: Mapped[str | None] = mapped_column(BinaryString(8), index=True)  # current value
    under_supervision_since: Mapped[dt.date | None] = mapped_column(Date)
    uscc_warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    source_system: Mapped[str] = mapped_column(String(60), default="")
    as_of: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    licences: Mapped[list[EntityLicence]] = relationship(
        back_populates="entity", order_by="EntityLicence.id", cascade="all, delete-orphan")
    tags: Mapped[list[EntityTag]] = relationship(
        back_populates="entity", order_by="EntityTag.id", cascade="all, delete-orphan")
    related_parties: Mapped[list[RelatedParty]] = relationship(
        back_populates="entity", order_by="RelatedParty.id", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Entity {self.id} {self.uscc} {self.name}>"


class EntityLicence(Record, Base):
    """A licence held by an entity (许可证). Granting one puts the entity under supervision (审管衔接)."""

    __tablename__ = "entity_licences"
    __table_args__ = (Index("ix_entity_licences_type_number", "licence_type", "number", unique=True),)

    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"), index=True)
    licence_type: Mapped[str] = mapped_column(BinaryString(40))  # licence_type
    number: Mapped[str] = mapped_column(BinaryString(60))
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_until: Mapped[dt.date | None] = mapped_column(Date, index=True)
    issuer: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="valid")  # valid / suspended / revoked
    source_system: Mapped[str] = mapped_column(String(60), default="")

    entity: Mapped[Entity] = relationship(back_populates="licences")


class EntityTag(IdMixin, Base):
    """A tag (entity_tag) with the period it applies; ``until`` NULL = still applies."""

    __tablename__ = "entity_tags"
    __table_args__ = (Index("ix_entity_tags_tag_entity", "tag", "entity_id"),)

    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"), index=True)
    tag: Mapped[str] = mapped_column(String(40))
    since: Mapped[dt.date | None] = mapped_column(Date)
    until: Mapped[dt.date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(60), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    entity: Mapped[Entity] = relationship(back_populates="tags")


class RelatedParty(IdMixin, Base):
    """A person related to an entity (shareholder, manager, relative); the draw's recusal reads it."""

    __tablename__ = "entity_related_parties"

    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    id_number: Mapped[str | None] = mapped_column(EncryptedString())
    id_number_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    relation: Mapped[str] = mapped_column(String(60), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    entity: Mapped[Entity] = relationship(back_populates="related_parties")


class HistoryRow(IdMixin, Base):
    """Value over a period; the open row (valid_to NULL) mirrors the entity's current column."""

    __abstract__ = True

    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"))
    value: Mapped[str] = mapped_column(String(8))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(60), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CreditHistory(HistoryRow):
    __tablename__ = "entity_credit_history"
    __table_args__ = (Index("ix_entity_credit_history_entity", "entity_id", "valid_from"),)


class RiskHistory(HistoryRow):
    __tablename__ = "entity_risk_history"
    __table_args__ = (Index("ix_entity_risk_history_entity", "entity_id", "valid_from"),)
