"""Reference tables: administrative divisions (GB/T 2260), industries (GB/T 4754-2017) and value domains.

Regions and industries are national standards loaded from packaged data and never edited in the UI;
value domains are data too, but a system admin may add, rename or retire items (never delete one).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from jianguan.db import Base, Record

REGION_LEVELS = ("province", "city", "county")
INDUSTRY_LEVELS = ("section", "division", "group", "class")


class Region(Base):
    """One GB/T 2260 division, six-digit code; ``kind`` keeps the package's type (地级市, 市辖区 …)."""

    __tablename__ = "regions"
    __table_args__ = (Index("ix_regions_parent_level", "parent_code", "level"),)

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    level: Mapped[str] = mapped_column(String(10))  # province / city / county
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))
    kind: Mapped[str] = mapped_column(String(20), default="")

    def __repr__(self) -> str:
        return f"<Region {self.code} {self.name}>"


class Industry(Base):
    """One GB/T 4754-2017 category: section letter, or a 2/3/4-digit division/group/class code."""

    __tablename__ = "industries"

    code: Mapped[str] = mapped_column(String(4), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    level: Mapped[str] = mapped_column(String(10), index=True)  # section / division / group / class
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("industries.code"), index=True)
    sort_order: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<Industry {self.code} {self.name}>"


class ValueDomain(Record, Base):
    """A code table (值域) such as ``entity_kind``; its items are the allowed codes."""

    __tablename__ = "value_domains"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))  # Chinese name, e.g. 主体类型
    description: Mapped[str] = mapped_column(String(400), default="")
    sort_order: Mapped[int] = mapped_column(default=0)


class ValueDomainItem(Record, Base):
    """One allowed value: code (stored by every record), Chinese name, order, validity.

    ``valid_to`` is the last day the code may be used for new data; a retired code still labels
    old records. ``is_standard`` is False for extensions outside a national catalogue (penalty kinds
    90/99), which quality reports flag.
    """

    __tablename__ = "value_domain_items"
    __table_args__ = (UniqueConstraint("domain", "code", name="uq_value_domain_items_domain_code"),)

    domain: Mapped[str] = mapped_column(ForeignKey("value_domains.code"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    sort_order: Mapped[int] = mapped_column(default=0)
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    is_standard: Mapped[bool] = mapped_column(default=True)

    def valid_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)
