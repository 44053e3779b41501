"""Input and output shapes of the catalog (Pydantic v2). Codes are checked here for form; the
service checks them against the value domains, the law library and each other."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

ITEM_CODE = r"^\d{14}$"
RULE_KEYS = ("entity_kind", "industry_prefix", "scale", "risk_level", "credit_class", "licence_type", "tags")


class BasisIn(BaseModel):
    """A legal basis by law (slug of the law library) and article number as written (第三十三条)."""

    law: str = Field(min_length=1, max_length=60)
    article: str = Field(min_length=2, max_length=30)


class PointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=24)
    text: str = Field(min_length=2, max_length=500)
    law: str = ""
    article: str = ""
    indicator: str = ""
    severity: str = "general"
    answer_type: str = "yes_no"
    unit: str = ""
    min: Decimal | None = None
    max: Decimal | None = None
    choices: list[str] = []
    photo_required: bool = False
    evidence_required: bool = False
    guidance: str = ""
    score: int = Field(default=0, ge=0, le=100)


class ItemIn(BaseModel):
    """An item as proposed (admission) or as loaded from the package."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=ITEM_CODE)
    parent: str | None = Field(default=None, pattern=ITEM_CODE)
    name: str = Field(min_length=2, max_length=200)
    domain: str
    department: str = ""
    implementation_code: str = Field(default="", max_length=60)
    national_code: str | None = Field(default="", max_length=60)
    power_code: str | None = Field(default="", max_length=60)
    agencies: list[str] = []
    object_kinds: list[str] = Field(min_length=1)
    methods: list[str] = Field(min_length=1)
    key_item: bool = False
    sampling_ratio: Decimal | None = Field(default=None, ge=0, le=100)
    frequency_per_year: int | None = Field(default=None, ge=0, le=365)
    recognition_days: int | None = Field(default=None, ge=1, le=1095)
    description: str = ""
    effective_from: dt.date | None = None
    legal_basis: list[BasisIn] = Field(min_length=1)
    check_points: list[PointIn] = []

    @field_validator("national_code", "power_code", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return "" if value is None else value


class ItemChanges(BaseModel):
    """What an adjustment changes (fields left out stay as they are)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=2, max_length=200)
    department: str | None = None
    implementation_code: str | None = Field(default=None, max_length=60)
    national_code: str | None = Field(default=None, max_length=60)
    power_code: str | None = Field(default=None, max_length=60)
    agencies: list[str] | None = None
    object_kinds: list[str] | None = None
    methods: list[str] | None = None
    key_item: bool | None = None
    sampling_ratio: Decimal | None = Field(default=None, ge=0, le=100)
    frequency_per_year: int | None = Field(default=None, ge=0, le=365)
    recognition_days: int | None = Field(default=None, ge=1, le=1095)
    description: str | None = None
    effective_from: dt.date | None = None
    legal_basis: list[BasisIn] | None = None
    check_points: list[PointIn] | None = None


class TemplatePointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    mandatory: bool = False
    when: dict[str, list[str]] = {}


class SectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=100)
    points: list[TemplatePointIn] = []


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=2, max_length=40)
    name: str = Field(min_length=2, max_length=200)
    domain: str = ""
    items: list[str] = []
    priority: int = 0
    simplified: bool = False
    applies: dict[str, list[str]] = {}
    sections: list[SectionIn] = Field(min_length=1)
    note: str = ""


class Decision(BaseModel):
    """A workflow action on an item version; ``version`` guards against a decision on a stale page."""

    action: str
    comment: str = ""
    version: int | None = None


class ProposalIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
    item: ItemIn


class RevisionIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
    changes: ItemChanges = ItemChanges()


class DraftEdit(BaseModel):
    version: int
    changes: ItemChanges


class ExitIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class ChecklistIn(BaseModel):
    uscc: str = Field(min_length=15, max_length=18)
    items: list[str] = []


class PointAdd(BaseModel):
    code: str
    section: str = ""
    version: int | None = None


class PointDrop(BaseModel):
    code: str
    reason: str = Field(min_length=1, max_length=500)


class WeightsIn(BaseModel):
    weights: dict[str, Decimal]


# --------------------------------------------------------------------------- output shapes


def point_dict(p: Any) -> dict[str, Any]:
    return {"id": p.id, "code": p.code, "text": p.text, "severity": p.severity, "answer_type": p.answer_type,
            "unit": p.unit, "min": p.min_value, "max": p.max_value, "choices": p.choices,
            "photo_required": p.photo_required, "evidence_required": p.evidence_required, "guidance": p.guidance,
            "score": p.score, "indicator": p.indicator_code,
            "legal_basis": {"law": p.law_slug, "title": p.law_title, "article": p.article_no,
                            "text": p.article_text} if p.law_slug else None}


def version_dict(v: Any, *, points: bool = True) -> dict[str, Any]:
    out = {"id": v.id, "item_id": v.item_id, "code": v.item.code, "number": v.number, "state": v.state,
           "change": v.change, "reason": v.reason, "name": v.name, "domain": v.item.domain,
           "department": v.item.department, "implementation_code": v.implementation_code,
           "national_code": v.national_code, "power_code": v.power_code, "agencies": v.agency_codes,
           "object_kinds": v.object_kinds, "methods": v.methods, "key_item": v.key_item,
           "sampling_ratio": v.sampling_ratio, "frequency_per_year": v.frequency_per_year,
           "recognition_days": v.recognition_days,
           "description": v.description, "effective_from": v.effective_from, "effective_to": v.effective_to,
           "due_date": v.due_date, "version": v.version,
           "legal_basis": [{"law": b.law_slug, "title": b.law_title, "article": b.article_no, "text": b.article_text}
                           for b in v.legal_bases]}
    if points:
        out["check_points"] = [point_dict(p) for p in v.check_points]
    return out
