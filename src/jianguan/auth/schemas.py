"""API shapes for accounts and agencies."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class AgencyBase(BaseModel):
    code: str = Field(examples=["330106-SJ"])
    name: str = Field(examples=["杭州市西湖区市场监督管理局"])
    region_code: str = Field(examples=["330106"], description="GB/T 2260 six-digit code")
    parent_id: int | None = None
    domains: list[str] = Field(default_factory=list, examples=[["market", "food"]])


class AgencyCreate(AgencyBase):
    pass


class AgencyUpdate(BaseModel):
    name: str | None = None
    domains: list[str] | None = None
    version: int = Field(description="The version you read; a stale one is refused with 409.")


class AgencyRead(AgencyBase):
    model_config = ConfigDict(from_attributes=True)
    id: int
    path: str
    version: int


class UserCreate(BaseModel):
    username: str
    display_name: str
    password: str
    roles: list[str]
    agency_id: int | None = None
    region_code: str | None = None
    data_scope: str = "agency"
    id_number: str | None = None
    phone: str | None = None


class UserUpdate(BaseModel):
    display_name: str | None = None
    roles: list[str] | None = None
    data_scope: str | None = None
    is_active: bool | None = None
    email: str | None = Field(default=None, description="Address for e-mail notifications; \"\" removes it.")
    version: int = Field(description="The version you read; a stale one is refused with 409.")


class UserRead(BaseModel):
    id: int
    username: str
    display_name: str
    roles: list[str]
    agency_id: int | None
    agency_name: str | None
    region_code: str | None
    data_scope: str
    is_active: bool
    id_number: str | None = Field(description="Masked unless it is your own account.")
    phone: str | None = Field(description="Masked unless it is your own account.")
    email: str | None = Field(default=None, description="Where e-mail notifications go.")
    last_login_at: dt.datetime | None
    version: int


class PasswordChange(BaseModel):
    current_password: str
    new_password: str


class TokenCreate(BaseModel):
    name: str
    expires_days: int | None = Field(default=365, ge=1, le=3650)


class TokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenCreated(TokenRead):
    token: str = Field(description="Shown once; store it now.")
