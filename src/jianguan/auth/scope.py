"""Data scopes (数据权限): the one place that decides which rows a user may see.

Every list, read and export in every service filters with ``visible`` / ``ensure_visible``.
A record is scoped by its ``agency_id`` and/or ``region_code`` (GB/T 2260, six digits).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute

from jianguan.auth.models import DataScope, User
from jianguan.core.errors import NotFound
from jianguan.officers.models import Agency


def region_prefix(code: str) -> str:
    """330000 → 33 (province), 330100 → 3301 (city), 330106 → 330106 (county)."""
    code = code.strip()
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def actor_region(actor: User) -> str | None:
    if actor.region_code:
        return actor.region_code
    return actor.agency.region_code if actor.agency is not None else None


def in_region(column: Any, region_code: str) -> ColumnElement[bool]:
    result: ColumnElement[bool] = column.like(region_prefix(region_code) + "%")
    return result


def visible(model: Any, actor: User) -> ColumnElement[bool]:
    """A WHERE clause limiting ``model`` to what ``actor`` may see."""
    scope = actor.data_scope
    if scope == DataScope.all.value:
        return true()
    agency_col: InstrumentedAttribute[Any] | None = getattr(model, "agency_id", None)
    region_col: InstrumentedAttribute[Any] | None = getattr(model, "region_code", None)
    if scope == DataScope.region.value:
        region = actor_region(actor)
        if region is None:
            return false()
        clauses = []
        if region_col is not None:
            clauses.append(in_region(region_col, region))
        if agency_col is not None:
            agencies = select(Agency.id).where(in_region(Agency.region_code, region))
            clauses.append(agency_col.in_(agencies))
        return or_(*clauses) if clauses else false()
    # Own agency only.
    if actor.agency_id is None or agency_col is None:
        return false()
    return agency_col == actor.agency_id


def can_see(record: Any, actor: User) -> bool:
    """The same rule for one loaded object (used by ``ensure_visible``)."""
    scope = actor.data_scope
    if scope == DataScope.all.value:
        return True
    agency_id = getattr(record, "agency_id", None)
    region_code = getattr(record, "region_code", None)
    if scope == DataScope.region.value:
        region = actor_region(actor)
        if region is None:
            return False
        prefix = region_prefix(region)
        if region_code is not None and str(region_code).startswith(prefix):
            return True
        agency = getattr(record, "agency", None)
        return agency is not None and agency.region_code.startswith(prefix)
    return actor.agency_id is not None and agency_id == actor.agency_id


def ensure_visible(record: Any, actor: User) -> None:
    """Out-of-scope records are reported as missing, so their existence does not leak."""
    if record is None or not can_see(record, actor):
        raise NotFound()
