"""API shapes of the entity registry. Restricted fields arrive in clear and leave masked."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class EntityFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    uscc: str | None = None
    id_number: str | None = None
    name: str | None = None
    kind: str | None = None
    status: str | None = None
    agency_code: str | None = None
    region_code: str | None = None
    address: str | None = None
    longitude: Decimal | None = None
    latitude: Decimal | None = None
    industry_code: str | None = None
    scale: str | None = None
    registered_capital: Decimal | None = None
    established_on: dt.date | None = None
    closed_on: dt.date | None = None
    legal_rep_name: str | None = None
    legal_rep_id_number: str | None = None
    contact_phone: str | None = None
    credit_class: str | None = None
    risk_level: str | None = None
    tags: list[str] | None = None
    source_system: str | None = None
    as_of: dt.datetime | None = None

    def data(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class EntityUpdate(EntityFields):
    version: int
    reason: str = ""


class EntityRead(BaseModel):
    id: int
    uscc: str | None
    name: str
    kind: str
    status: str
    agency_id: int | None
    region_code: str
    address: str
    longitude: Decimal | None
    latitude: Decimal | None
    industry_code: str | None
    scale: str | None
    registered_capital: Decimal | None
    established_on: dt.date | None
    closed_on: dt.date | None
    legal_rep_name: str
    legal_rep_id_number: str | None
    contact_phone: str | None
    credit_class: str | None
    risk_level: str | None
    under_supervision_since: dt.date | None
    uscc_warnings: list[str]
    tags: list[str]
    source_system: str
    as_of: dt.datetime | None
    masked: bool
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class LicenceIn(BaseModel):
    licence_type: str
    number: str
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    issuer: str = ""
    status: str = "valid"


class LicenceRead(LicenceIn):
    model_config = ConfigDict(from_attributes=True)

    id: int
    entity_id: int
    source_system: str


class LicenceGrant(BaseModel):
    """What the licensing system posts when it grants a licence (审管衔接)."""

    uscc: str
    entity: EntityFields = Field(default_factory=EntityFields)
    licence: LicenceIn


class LicenceGranted(BaseModel):
    entity: EntityRead
    licence: LicenceRead


class TagIn(BaseModel):
    tag: str
    since: dt.date | None = None


class TagRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    tag: str
    since: dt.date | None
    until: dt.date | None
    source: str


class HistoryRow(BaseModel):
    value: str
    valid_from: dt.date
    valid_to: dt.date | None
    source: str
    reason: str


class History(BaseModel):
    credit: list[HistoryRow]
    risk: list[HistoryRow]


class ValueChange(BaseModel):
    value: str
    on: dt.date | None = None
    reason: str = ""
