"""The pool of third-party experts (专家库) drawn with the officers for technical items. Phone numbers
are restricted: never shown by the lists, encrypted at rest."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.auth.models import Role, User
from jianguan.core.errors import Forbidden, Invalid, NotFound, check_version
from jianguan.core.i18n import N_
from jianguan.core.masking import mask_phone
from jianguan.inspections.models import Expert
from jianguan.officers.roster import clean_domains


def _may_manage(actor: User | None) -> None:
    if actor is not None and not (actor.is_system_admin or actor.has_role(Role.agency_admin)):
        raise Forbidden(N_("Only agency admins manage the expert pool."))


def add_expert(db: Session, *, name: str, domains: Sequence[str], organisation: str = "", title: str = "",
               specialities: str = "", phone: str | None = None, actor: User | None) -> Expert:
    _may_manage(actor)
    problems = []
    if len(name.strip()) < 2:
        problems.append(Invalid("name", N_("Name is required.")))
    try:
        cleaned = clean_domains(db, domains)
        if not cleaned:
            problems.append(Invalid("domains", N_("Give at least one enforcement domain.")))
    except Invalid as error:
        problems.append(error)
    if problems:
        raise Invalid.all(problems)
    expert = Expert(name=name.strip(), domains=cleaned, organisation=organisation.strip(), title=title.strip(),
                    specialities=specialities.strip(), phone=(phone or "").strip() or None,
                    agency_id=actor.agency_id if actor is not None and not actor.is_system_admin else None,
                    region_code=(actor.region_code or "") if actor is not None else "")
    db.add(expert)
    db.flush()
    audit.record(db, actor=actor, action="expert.add", object_type="expert", object_id=expert.id,
                 payload={"name": expert.name, "domains": cleaned}, detail={"name": expert.name})
    return expert


def set_active(db: Session, *, expert_id: int, active: bool, expected_version: int | None = None,
               actor: User | None) -> Expert:
    _may_manage(actor)
    expert = db.get(Expert, expert_id)
    if expert is None:
        raise NotFound(N_("No such expert."))
    check_version(expert, expected_version)
    expert.is_active = active
    db.flush()
    audit.record(db, actor=actor, action="expert.activate" if active else "expert.deactivate", object_type="expert",
                 object_id=expert.id, payload={"active": active}, detail={"name": expert.name})
    return expert


def list_experts(db: Session, *, domain: str = "", active_only: bool = False) -> list[Expert]:
    rows = db.scalars(select(Expert).order_by(Expert.id)).all()
    return [e for e in rows if (not domain or domain in e.domains) and (e.is_active or not active_only)]


def expert_dict(expert: Expert) -> dict[str, Any]:
    return {"id": expert.id, "name": expert.name, "organisation": expert.organisation, "title": expert.title,
            "domains": expert.domains, "specialities": expert.specialities, "phone": mask_phone(expert.phone),
            "is_active": expert.is_active, "version": expert.version}
