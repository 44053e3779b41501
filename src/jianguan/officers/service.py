"""Agencies: the tree that users, data scopes and (later) officers hang from."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.auth.models import Role, User
from jianguan.auth.scope import visible
from jianguan.core.errors import Forbidden, Invalid, NotFound, check_version
from jianguan.core.i18n import N_
from jianguan.officers.models import Agency

# Enforcement domains (执法领域). Codes are stored; labels are message ids. The registries issue
# turns this into a value domain managed as data.
DOMAIN_LABELS = {
    "market": N_("Market supervision"),
    "food": N_("Food safety"),
    "special_equipment": N_("Special equipment"),
    "ecology": N_("Ecology and environment"),
    "transport": N_("Transport"),
    "emergency": N_("Emergency management"),
    "urban": N_("Urban management"),
    "health": N_("Health"),
    "inspection": N_("Policy implementation supervision"),
}

CODE_RE = re.compile(r"^[A-Za-z0-9_.-]{2,32}$")
REGION_RE = re.compile(r"^\d{6}$")


def _require_admin(actor: User | None) -> None:
    if actor is not None and not actor.is_system_admin:
        raise Forbidden(N_("Only a system admin can manage agencies."))


def create_agency(
    db: Session,
    *,
    code: str,
    name: str,
    region_code: str,
    parent_id: int | None = None,
    domains: Sequence[str] = (),
    actor: User | None,
) -> Agency:
    _require_admin(actor)
    code = code.strip()
    if not CODE_RE.match(code):
        raise Invalid("code", N_("Agency code must be 2–32 letters, digits, '.', '_' or '-'."))
    if not name.strip():
        raise Invalid("name", N_("Name is required."))
    if not REGION_RE.match(region_code):
        raise Invalid("region_code", N_("Region code must be six digits (GB/T 2260)."))
    if db.scalar(select(Agency.id).where(Agency.code == code)) is not None:
        raise Invalid("code", N_("This agency code is already used."))
    parent = None
    if parent_id is not None:
        parent = db.get(Agency, parent_id)
        if parent is None:
            raise Invalid("parent_id", N_("No such parent agency."))
    agency = Agency(code=code, name=name.strip(), region_code=region_code, parent_id=parent_id,
                    domains=list(domains))
    db.add(agency)
    db.flush()
    agency.path = f"{parent.path if parent else '/'}{agency.id}/"
    db.flush()
    audit.record(db, actor=actor, action="agency.create", object_type="agency", object_id=agency.id,
                 payload={"code": code, "name": agency.name, "region_code": region_code},
                 detail={"code": code, "name": agency.name})
    return agency


def update_agency(
    db: Session, *, agency_id: int, name: str | None = None, domains: Sequence[str] | None = None,
    version: int | None = None, actor: User,
) -> Agency:
    _require_admin(actor)
    agency = get_agency(db, agency_id=agency_id, actor=actor)
    check_version(agency, version)
    if name is not None:
        if not name.strip():
            raise Invalid("name", N_("Name is required."))
        agency.name = name.strip()
    if domains is not None:
        agency.domains = list(domains)
    db.flush()
    audit.record(db, actor=actor, action="agency.update", object_type="agency", object_id=agency.id,
                 payload={"name": agency.name, "domains": agency.domains})
    return agency


def _agency_scope(actor: User) -> ColumnElement[bool]:
    # An agency "belongs" to itself for the own-agency scope.
    if actor.data_scope == "agency":
        return Agency.id == actor.agency_id
    return visible(Agency, actor)


def list_agencies(db: Session, *, actor: User) -> list[Agency]:
    return list(db.scalars(select(Agency).where(_agency_scope(actor)).order_by(Agency.path)).all())


def get_agency(db: Session, *, agency_id: int, actor: User) -> Agency:
    agency = db.scalar(select(Agency).where(Agency.id == agency_id, _agency_scope(actor)))
    if agency is None:
        raise NotFound()
    return agency


def subtree_ids(db: Session, *, agency: Agency) -> list[int]:
    return list(db.scalars(select(Agency.id).where(Agency.path.like(agency.path + "%"))).all())


def count_agencies(db: Session, *, actor: User) -> int:
    return db.scalar(select(func.count()).select_from(Agency).where(_agency_scope(actor))) or 0


def staff_of(db: Session, *, agency_ids: Sequence[int], roles: Sequence[Role]) -> list[User]:
    """The active users of these agencies holding any of ``roles``: whom to tell about its business."""
    users = db.scalars(select(User).where(User.agency_id.in_(list(agency_ids) or [-1]), User.is_active)).all()
    return [u for u in users if u.has_role(*roles)]


def admins_of(db: Session, *, agency_id: int) -> list[User]:
    """Agency admins to notify about their agency's business (requests, escalations)."""
    return staff_of(db, agency_ids=[agency_id], roles=[Role.agency_admin])
