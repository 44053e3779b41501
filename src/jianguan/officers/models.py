"""Agencies form a tree; each has a region (GB/T 2260) and enforcement domains."""

from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jianguan.db import Base, Record


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
