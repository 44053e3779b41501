"""Inputs of the risk centre's API and forms."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class IncidentIn(BaseModel):
    uscc: str = Field(min_length=18, max_length=18)
    kind: str
    severity: str
    occurred_on: dt.date
    source: str = Field(default="", max_length=100)
    description: str = Field(default="", max_length=4000)


class WithdrawIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
