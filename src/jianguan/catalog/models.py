"""The supervision catalog (统一事项目录): items and their versions, legal bases, check points,
checklist templates, the negative list, the indicator tree with yearly weights, and the checklists
made for an entity.

"No legal basis, no inspection": an inspection names the item *version* and the check points
(rows of that version) it used. A version in force is never edited — a change is a new version,
approved on the workflow engine (``catalog/workflow.py``) — so an old inspection always shows the
text it was done under. Check points and template points keep a stable ``code`` across versions.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jianguan.core.workflow import WorkflowMixin
from jianguan.db import Base, BinaryString, IdMixin, Record, UTCDateTime, utcnow


class SupervisionItem(Record, Base):
    """An item of the catalog (监管事项): its stable identity. What it says lives in its versions."""

    __tablename__ = "supervision_items"

    code: Mapped[str] = mapped_column(BinaryString(14), unique=True)  # 14-digit catalog code
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("supervision_items.id"), index=True)
    domain: Mapped[str] = mapped_column(String(32), index=True)  # enforcement_domain
    department: Mapped[str] = mapped_column(String(100), default="")
    # draft (no version approved yet) / in_force / retired — follows the approved versions.
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    current_number: Mapped[int | None]  # the version in force (None while none is)

    parent: Mapped[SupervisionItem | None] = relationship(remote_side="SupervisionItem.id")
    versions: Mapped[list[ItemVersion]] = relationship(
        back_populates="item", order_by="ItemVersion.number", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<SupervisionItem {self.code}>"


class ItemVersion(WorkflowMixin, Record, Base):
    """One version of an item; admission, adjustment and exit each go through approval as a version
    (``change``). Editable only as a draft."""

    __tablename__ = "supervision_item_versions"
    __table_args__ = (UniqueConstraint("item_id", "number"),)

    item_id: Mapped[int] = mapped_column(ForeignKey("supervision_items.id", ondelete="CASCADE"))
    number: Mapped[int]
    change: Mapped[str] = mapped_column(String(16))  # admission / adjustment / exit
    reason: Mapped[str] = mapped_column(Text, default="")
    name: Mapped[str] = mapped_column(String(200))
    implementation_code: Mapped[str] = mapped_column(String(60), default="")  # 实施清单编码
    national_code: Mapped[str] = mapped_column(String(60), default="")  # 国家监管事项目录编码
    power_code: Mapped[str] = mapped_column(String(60), default="")  # 权力清单编码
    agency_codes: Mapped[list[str]] = mapped_column(JSON, default=list)  # responsible agencies
    object_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)  # entity_kind codes
    methods: Mapped[list[str]] = mapped_column(JSON, default=list)  # inspection_method codes
    key_item: Mapped[bool] = mapped_column(default=False)  # 重点事项 (else 一般事项)
    sampling_ratio: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))  # percent a year
    frequency_per_year: Mapped[int | None]
    # 结果互认: another department's inspection of this item counts for this many days (None: not recognised)
    recognition_days: Mapped[int | None]
    description: Mapped[str] = mapped_column(Text, default="")
    effective_from: Mapped[dt.date | None] = mapped_column(Date)
    effective_to: Mapped[dt.date | None] = mapped_column(Date)
    proposed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    item: Mapped[SupervisionItem] = relationship(back_populates="versions")
    legal_bases: Mapped[list[LegalBasis]] = relationship(
        back_populates="version", order_by="LegalBasis.position", cascade="all, delete-orphan")
    check_points: Mapped[list[CheckPoint]] = relationship(
        back_populates="version", order_by="CheckPoint.position", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<ItemVersion {self.item_id} v{self.number} {self.state}>"


class LegalBasis(IdMixin, Base):
    """A law article an item version rests on. The text is copied from the law library when cited,
    so the version keeps the wording it was approved with."""

    __tablename__ = "item_legal_bases"

    version_id: Mapped[int] = mapped_column(ForeignKey("supervision_item_versions.id", ondelete="CASCADE"),
                                            index=True)
    position: Mapped[int] = mapped_column(default=0)
    law_slug: Mapped[str] = mapped_column(String(60))
    law_title: Mapped[str] = mapped_column(String(120))
    article_no: Mapped[str] = mapped_column(String(30))
    article_text: Mapped[str] = mapped_column(Text, default="")

    version: Mapped[ItemVersion] = relationship(back_populates="legal_bases")


class CheckPoint(IdMixin, Base):
    """A check point (检查要点) of one item version. ``code`` is stable across versions."""

    __tablename__ = "check_points"
    __table_args__ = (UniqueConstraint("version_id", "code"),)

    version_id: Mapped[int] = mapped_column(ForeignKey("supervision_item_versions.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(BinaryString(24), index=True)
    position: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(Text)
    law_slug: Mapped[str] = mapped_column(String(60), default="")
    law_title: Mapped[str] = mapped_column(String(120), default="")
    article_no: Mapped[str] = mapped_column(String(30), default="")
    article_text: Mapped[str] = mapped_column(Text, default="")
    indicator_code: Mapped[str] = mapped_column(String(20), default="")
    severity: Mapped[str] = mapped_column(String(16), default="general")  # general / serious
    answer_type: Mapped[str] = mapped_column(String(16), default="yes_no")  # yes_no number choice text photo
    unit: Mapped[str] = mapped_column(String(20), default="")
    min_value: Mapped[Decimal | None] = mapped_column(Numeric(12, 3))
    max_value: Mapped[Decimal | None] = mapped_column(Numeric(12, 3))
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)
    photo_required: Mapped[bool] = mapped_column(default=False)
    evidence_required: Mapped[bool] = mapped_column(default=False)
    guidance: Mapped[str] = mapped_column(Text, default="")
    score: Mapped[int] = mapped_column(default=0)  # points deducted when not met

    version: Mapped[ItemVersion] = relationship(back_populates="check_points")

    def __repr__(self) -> str:
        return f"<CheckPoint {self.code}>"


class ChecklistTemplate(Record, Base):
    """A checklist template (检查表单模板): stable identity; its points and rules live in versions."""

    __tablename__ = "checklist_templates"

    code: Mapped[str] = mapped_column(BinaryString(40), unique=True)
    domain: Mapped[str] = mapped_column(String(32), default="")
    current_number: Mapped[int | None]  # the version in force

    versions: Mapped[list[TemplateVersion]] = relationship(
        back_populates="template", order_by="TemplateVersion.number", cascade="all, delete-orphan")


class TemplateVersion(Record, Base):
    """draft → in_force → superseded. ``applies``: the applicability rule (data, see catalog/rules.py)."""

    __tablename__ = "checklist_template_versions"
    __table_args__ = (UniqueConstraint("template_id", "number"),)

    template_id: Mapped[int] = mapped_column(ForeignKey("checklist_templates.id", ondelete="CASCADE"))
    number: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="draft")
    name: Mapped[str] = mapped_column(String(200))
    item_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    priority: Mapped[int] = mapped_column(default=0)
    simplified: Mapped[bool] = mapped_column(default=False)
    applies: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    template: Mapped[ChecklistTemplate] = relationship(back_populates="versions")
    points: Mapped[list[TemplatePoint]] = relationship(
        back_populates="version", order_by="TemplatePoint.position", cascade="all, delete-orphan")


class TemplatePoint(IdMixin, Base):
    """A check point in a template version, by its stable code; ``when``: an extra rule for this point."""

    __tablename__ = "checklist_template_points"

    version_id: Mapped[int] = mapped_column(ForeignKey("checklist_template_versions.id", ondelete="CASCADE"),
                                            index=True)
    position: Mapped[int] = mapped_column(default=0)
    section: Mapped[str] = mapped_column(String(100), default="")
    point_code: Mapped[str] = mapped_column(BinaryString(24))
    mandatory: Mapped[bool] = mapped_column(default=False)  # 必查项: answered or marked N/A with a reason
    when: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    version: Mapped[TemplateVersion] = relationship(back_populates="points")


class NegativeListEntry(Record, Base):
    """A matter that may not be inspected (监管负面清单); plans are checked against it."""

    __tablename__ = "negative_list_entries"

    code: Mapped[str] = mapped_column(BinaryString(20), unique=True)
    matter: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    item_codes: Mapped[list[str]] = mapped_column(JSON, default=list)  # codes or code prefixes
    law_slug: Mapped[str] = mapped_column(String(60), default="")
    law_title: Mapped[str] = mapped_column(String(120), default="")
    article_no: Mapped[str] = mapped_column(String(30), default="")
    article_text: Mapped[str] = mapped_column(Text, default="")
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)


class Indicator(Record, Base):
    """A node of the "8+36" indicator tree: a domain (level 0), an indicator, a sub-indicator…"""

    __tablename__ = "indicators"

    code: Mapped[str] = mapped_column(BinaryString(20), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("indicators.id"), index=True)
    level: Mapped[int] = mapped_column(default=0)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(100))
    definition: Mapped[str] = mapped_column(Text, default="")
    data_source: Mapped[str] = mapped_column(Text, default="")
    scoring_method: Mapped[str] = mapped_column(Text, default="")


class IndicatorWeight(IdMixin, Base):
    """An indicator's weight in a year; the weights of siblings sum to 100."""

    __tablename__ = "indicator_weights"
    __table_args__ = (UniqueConstraint("indicator_id", "year"),)

    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"))
    year: Mapped[int]
    weight: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    set_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Checklist(Record, Base):
    """A checklist made for one entity (智能清单): the template chosen, and why, and its points."""

    __tablename__ = "checklists"
    __table_args__ = (Index("ix_checklists_entity", "entity_id", "created_at"),)

    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"))
    template_version_id: Mapped[int | None] = mapped_column(ForeignKey("checklist_template_versions.id"))
    item_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)  # why this template
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    points: Mapped[list[ChecklistPoint]] = relationship(
        back_populates="checklist", order_by="ChecklistPoint.position", cascade="all, delete-orphan")


class ChecklistPoint(IdMixin, Base):
    """A point of a checklist: the check point row (so its version), whether it is mandatory, and
    why it is there — from the template's rule, or added by the officer (recorded)."""

    __tablename__ = "checklist_points"

    checklist_id: Mapped[int] = mapped_column(ForeignKey("checklists.id", ondelete="CASCADE"), index=True)
    check_point_id: Mapped[int] = mapped_column(ForeignKey("check_points.id"))
    position: Mapped[int] = mapped_column(default=0)
    section: Mapped[str] = mapped_column(String(100), default="")
    mandatory: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str] = mapped_column(String(300), default="")
    added_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # set when an officer added it
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    checklist: Mapped[Checklist] = relationship(back_populates="points")
    check_point: Mapped[CheckPoint] = relationship()
