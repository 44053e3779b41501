"""The JSON shapes of complaints."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class ComplaintIn(BaseModel):
    """A complaint or tip as received (web form, hotline staff, API)."""

    model_config = ConfigDict(extra="forbid")

    kind: str = "complaint"  # complaint 投诉 / tip 举报
    category: str
    content: str = Field(min_length=10, max_length=4000)
    party_name: str = Field(default="", max_length=200)
    party_uscc: str = Field(default="", max_length=18)
    address: str = Field(default="", max_length=300)
    region_code: str = Field(min_length=6, max_length=6)
    latitude: float | None = None
    longitude: float | None = None
    name: str = Field(default="", max_length=50)
    phone: str = Field(default="", max_length=20)
    anonymous: bool = False
    external_ref: str = Field(default="", max_length=60)


class StepIn(BaseModel):
    comment: str = Field(default="", max_length=4000)
    expected_version: int | None = None
    payload: dict[str, str] = Field(default_factory=dict)


class JointTaskIn(BaseModel):
    """A joint visit: the inspections (by code) of two or more departments at one entity."""

    model_config = ConfigDict(extra="forbid")

    inspection_codes: list[str] = Field(min_length=2, max_length=20)
    scheduled_on: dt.date
    note: str = Field(default="", max_length=2000)


class AssistIn(BaseModel):
    """A request to another agency to inspect (协查) or assist (协助)."""

    model_config = ConfigDict(extra="forbid")

    agency_id: int
    kind: str = "inspect"
    subject: str = Field(max_length=200)
    reason: str = Field(max_length=4000)
    uscc: str = Field(default="", max_length=18)
    party_name: str = Field(default="", max_length=200)
    item_codes: list[str] = Field(default_factory=list, max_length=50)
    wanted_by: dt.date | None = None
