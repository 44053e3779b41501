"""Officers (执法人员): the roster, leave periods and conflicts with entities, and who may be drawn.

Officers hang from agencies and carry the agency's scope columns (``agency_id``, ``region_code``),
so ``auth.scope.visible(Officer, actor)`` scopes them like every other record. ID numbers and
phones are restricted: encrypted at rest, found by keyed hash, shown masked except to the officer
themself (``officer_view``). The draw of the inspections issue calls ``qualified_officers``,
``conflicted_officer_ids`` and ``workload``.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from jianguan import registry
from jianguan.audit import service as audit
from jianguan.auth.models import Role, User
from jianguan.auth.scope import ensure_visible, visible
from jianguan.core.crypto import lookup_hash
from jianguan.core.errors import Forbidden, Invalid, NotFound, check_version
from jianguan.core.i18n import N_
from jianguan.core.masking import mask_id_number, mask_phone
from jianguan.officers.models import Agency, Credential, CredentialStatus, Officer, OfficerConflict, OfficerLeave
from jianguan.officers.service import DOMAIN_LABELS

GENDERS = ("male", "female")
# Relation kinds for recusal (回避): 近亲属, 曾任职, 持股/投资, 其他利害关系.
CONFLICT_RELATIONS = {
    "relative": N_("Close relative"),
    "former_employer": N_("Former employer"),
    "shareholding": N_("Shareholding or investment"),
    "other": N_("Other interest"),
}
PHONE_RE = re.compile(r"^[0-9+\- ]{5,20}$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_number_ok(value: str) -> bool:
    """GB 11643 citizen ID: 17 digits and a check character (mod 11-2)."""
    value = value.strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return False
    try:
        dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    total = sum(int(c) * w for c, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17]


def known_domains(db: Session) -> set[str]:
    """Enforcement-domain codes: from the reference value domain when loaded, else the built-in list."""
    codes: set[str] = set()
    if registry.has_module("reference", "service"):
        reference = importlib.import_module("jianguan.reference.service")
        codes = {str(item.code) for item in reference.domain_items(db, "enforcement_domain")}
    return codes or set(DOMAIN_LABELS)


def domain_choices(db: Session) -> list[str]:
    """Known domain codes in the usual order (built-in order first, then any added as data)."""
    known = known_domains(db)
    return [d for d in DOMAIN_LABELS if d in known] + sorted(known - set(DOMAIN_LABELS))


def clean_domains(db: Session, domains: Sequence[str], field: str = "domains") -> list[str]:
    known = known_domains(db)
    result: list[str] = []
    for code in (d.strip() for d in domains):
        if not code:
            continue
        if code not in known:
            raise Invalid(field, N_("Unknown enforcement domain: {code}."), code=code)
        if code not in result:
            result.append(code)
    return result


def can_manage(actor: User | None, agency_id: int) -> bool:
    """The system (actor None), a system admin, or the admin of the officer's own agency."""
    if actor is None or actor.is_system_admin:
        return True
    return actor.has_role(Role.agency_admin) and actor.agency_id == agency_id


def require_manage(actor: User | None, agency_id: int) -> None:
    if not can_manage(actor, agency_id):
        raise Forbidden(N_("Only an admin of the officer's agency can change officers and credentials."))


def _check_person(id_number: str | None, phone: str | None) -> None:
    if id_number is not None and id_number.strip() and not id_number_ok(id_number):
        raise Invalid("id_number", N_("This is not a valid 18-character citizen ID number."))
    if phone is not None and phone.strip() and not PHONE_RE.match(phone.strip()):
        raise Invalid("phone", N_("Phone number must be 5–20 digits."))


def _blank(value: str | None) -> str | None:
    return value.strip().upper() if value and value.strip() else None


def create_officer(
    db: Session, *, agency_id: int, name: str, id_number: str | None = None, phone: str | None = None,
    gender: str | None = None, domains: Sequence[str] = (), qualifications: Sequence[str] = (),
    user_id: int | None = None, actor: User | None,
) -> Officer:
    agency = db.get(Agency, agency_id)
    if agency is None:
        raise Invalid("agency_id", N_("No such agency."))
    require_manage(actor, agency_id)
    if not name.strip():
        raise Invalid("name", N_("Name is required."))
    _check_person(id_number, phone)
    if gender is not None and gender and gender not in GENDERS:
        raise Invalid("gender", N_("Gender must be male or female."))
    id_number = _blank(id_number)
    if id_number and db.scalar(select(Officer.id).where(Officer.id_number_hash == lookup_hash(id_number))):
        raise Invalid("id_number", N_("An officer with this ID number is already registered."))
    _check_user(db, user_id, None)
    officer = Officer(
        agency_id=agency.id, region_code=agency.region_code, name=name.strip(), id_number=id_number,
        id_number_hash=lookup_hash(id_number), phone=phone.strip() if phone and phone.strip() else None,
        phone_hash=lookup_hash(phone.strip()) if phone and phone.strip() else None, gender=gender or None,
        domains=clean_domains(db, domains), qualifications=[q.strip() for q in qualifications if q.strip()],
        user_id=user_id,
    )
    db.add(officer)
    db.flush()
    audit.record(db, actor=actor, action="officer.create", object_type="officer", object_id=officer.id,
                 payload={"name": officer.name, "id_number_hash": officer.id_number_hash},
                 detail={"name": officer.name, "agency_id": agency.id, "domains": officer.domains})
    return officer


def _check_user(db: Session, user_id: int | None, officer_id: int | None) -> None:
    if user_id is None:
        return
    if db.get(User, user_id) is None:
        raise Invalid("user_id", N_("No such account."))
    taken = db.scalar(select(Officer.id).where(Officer.user_id == user_id))
    if taken is not None and taken != officer_id:
        raise Invalid("user_id", N_("This account is already linked to another officer."))


_UNSET: Any = object()


def update_officer(
    db: Session, *, officer_id: int, version: int | None, actor: User | None, name: str | None = None,
    id_number: str | None = _UNSET, phone: str | None = _UNSET, gender: str | None = _UNSET,
    domains: Sequence[str] | None = None, qualifications: Sequence[str] | None = None,
    user_id: int | None = _UNSET, is_active: bool | None = None, agency_id: int | None = None,
) -> Officer:
    """Edit an officer; a stale ``version`` is refused with 409. Omitted fields stay as they are."""
    officer = get_officer(db, officer_id=officer_id, actor=actor)
    require_manage(actor, officer.agency_id)
    check_version(officer, version)
    changed: list[str] = []
    if name is not None:
        if not name.strip():
            raise Invalid("name", N_("Name is required."))
        officer.name = name.strip()
        changed.append("name")
    if id_number is not _UNSET:
        _check_person(id_number, None)
        value = _blank(id_number)
        other = db.scalar(select(Officer.id).where(Officer.id_number_hash == lookup_hash(value)))
        if value and other is not None and other != officer.id:
            raise Invalid("id_number", N_("An officer with this ID number is already registered."))
        officer.id_number, officer.id_number_hash = value, lookup_hash(value)
        changed.append("id_number")
    if phone is not _UNSET:
        _check_person(None, phone)
        value = phone.strip() if phone and phone.strip() else None
        officer.phone, officer.phone_hash = value, lookup_hash(value)
        changed.append("phone")
    if gender is not _UNSET:
        if gender and gender not in GENDERS:
            raise Invalid("gender", N_("Gender must be male or female."))
        officer.gender = gender or None
        changed.append("gender")
    if domains is not None:
        officer.domains = clean_domains(db, domains)
        changed.append("domains")
    if qualifications is not None:
        officer.qualifications = [q.strip() for q in qualifications if q.strip()]
        changed.append("qualifications")
    if user_id is not _UNSET:
        _check_user(db, user_id, officer.id)
        officer.user_id = user_id
        changed.append("user_id")
    if is_active is not None and is_active != officer.is_active:
        officer.is_active = is_active
        changed.append("is_active")
    if agency_id is not None and agency_id != officer.agency_id:
        agency = db.get(Agency, agency_id)
        if agency is None:
            raise Invalid("agency_id", N_("No such agency."))
        require_manage(actor, agency_id)
        officer.agency_id, officer.region_code = agency.id, agency.region_code
        for credential in officer.credentials:
            credential.agency_id, credential.region_code = agency.id, agency.region_code
        changed.append("agency_id")
    db.flush()
    audit.record(db, actor=actor, action="officer.update", object_type="officer", object_id=officer.id,
                 payload={"changed": changed, "id_number_hash": officer.id_number_hash},
                 detail={"name": officer.name, "changed": changed})
    return officer


def get_officer(db: Session, *, officer_id: int, actor: User | None) -> Officer:
    officer = db.get(Officer, officer_id)
    if officer is None:
        raise NotFound()
    if actor is not None:
        ensure_visible(officer, actor)
    return officer


def find_by_id_number(db: Session, id_number: str) -> Officer | None:
    """Exact lookup by keyed hash (the officers import upserts on it). Not scoped: system use."""
    return db.scalar(select(Officer).where(Officer.id_number_hash == lookup_hash(id_number)))


def officer_for_user(db: Session, user: User) -> Officer | None:
    return db.scalar(select(Officer).where(Officer.user_id == user.id))


def list_officers(
    db: Session, *, actor: User, q: str | None = None, agency_id: int | None = None,
    domain: str | None = None, active: bool | None = None, offset: int = 0, limit: int = 50,
) -> tuple[list[Officer], int]:
    """Officers in the actor's scope; ``q`` matches the name or a credential number."""
    stmt = select(Officer).where(visible(Officer, actor))
    if q and q.strip():
        text = q.strip()
        by_number = exists().where(Credential.officer_id == Officer.id, Credential.number.like(f"%{text}%"))
        stmt = stmt.where(or_(Officer.name.like(f"%{text}%"), by_number))
    if agency_id is not None:
        stmt = stmt.where(Officer.agency_id == agency_id)
    if active is not None:
        stmt = stmt.where(Officer.is_active == active)
    rows = list(db.scalars(stmt.order_by(Officer.agency_id, Officer.name, Officer.id)
                           .options(selectinload(Officer.credentials), selectinload(Officer.agency))))
    if domain:  # JSON membership differs by database; officer lists are small per scope
        rows = [o for o in rows if domain in o.domains]
    total = len(rows)
    return rows[offset:offset + min(limit, 500)], total


def officer_view(officer: Officer, viewer: User | None) -> dict[str, Any]:
    """The officer as shown to ``viewer``: restricted fields masked unless it is the officer themself."""
    own = viewer is not None and officer.user_id is not None and officer.user_id == viewer.id
    return {
        "id": officer.id, "name": officer.name, "agency_id": officer.agency_id,
        "agency_name": officer.agency.name, "region_code": officer.region_code,
        "id_number": officer.id_number if own else mask_id_number(officer.id_number),
        "phone": officer.phone if own else mask_phone(officer.phone),
        "gender": officer.gender, "domains": officer.domains, "qualifications": officer.qualifications,
        "user_id": officer.user_id, "is_active": officer.is_active, "version": officer.version,
    }


# --------------------------------------------------------------------------- leave


def add_leave(db: Session, *, officer_id: int, starts_on: dt.date, ends_on: dt.date, reason: str = "",
              actor: User | None) -> OfficerLeave:
    officer = get_officer(db, officer_id=officer_id, actor=actor)
    require_manage(actor, officer.agency_id)
    if ends_on < starts_on:
        raise Invalid("ends_on", N_("The end date cannot be before the start date."))
    leave = OfficerLeave(officer_id=officer.id, starts_on=starts_on, ends_on=ends_on, reason=reason.strip())
    db.add(leave)
    db.flush()
    audit.record(db, actor=actor, action="officer.leave.add", object_type="officer", object_id=officer.id,
                 payload={"leave_id": leave.id},
                 detail={"leave_id": leave.id, "from": starts_on, "to": ends_on})
    return leave


def remove_leave(db: Session, *, leave_id: int, actor: User | None) -> None:
    leave = db.get(OfficerLeave, leave_id)
    if leave is None:
        raise NotFound()
    officer = get_officer(db, officer_id=leave.officer_id, actor=actor)
    require_manage(actor, officer.agency_id)
    db.delete(leave)
    db.flush()
    audit.record(db, actor=actor, action="officer.leave.remove", object_type="officer", object_id=officer.id,
                 payload={"leave_id": leave_id},
                 detail={"leave_id": leave_id, "from": leave.starts_on, "to": leave.ends_on})


def leaves_of(db: Session, officer_id: int) -> list[OfficerLeave]:
    return list(db.scalars(select(OfficerLeave).where(OfficerLeave.officer_id == officer_id)
                           .order_by(OfficerLeave.starts_on.desc())))


def on_leave(db: Session, *, officer_id: int, on: dt.date) -> bool:
    return db.scalar(select(OfficerLeave.id).where(
        OfficerLeave.officer_id == officer_id, OfficerLeave.starts_on <= on, OfficerLeave.ends_on >= on,
    ).limit(1)) is not None


# --------------------------------------------------------------------------- conflicts (回避)


def add_conflict(
    db: Session, *, officer_id: int, relation: str, entity_id: int | None = None,
    entity_uscc: str | None = None, entity_name: str = "", note: str = "", actor: User | None,
) -> OfficerConflict:
    """Record that the officer must not inspect an entity (by entity id, USCC, or name for a person)."""
    officer = get_officer(db, officer_id=officer_id, actor=actor)
    require_manage(actor, officer.agency_id)
    if relation not in CONFLICT_RELATIONS:
        raise Invalid("relation", N_("Unknown relation kind."))
    uscc = entity_uscc.strip().upper() if entity_uscc and entity_uscc.strip() else None
    if entity_id is not None:
        from jianguan.entities.models import Entity

        entity = db.get(Entity, entity_id)
        if entity is None:
            raise Invalid("entity_id", N_("No such entity."))
        uscc, entity_name = entity.uscc or uscc, entity_name.strip() or entity.name
    elif uscc is not None and registry.has_module("entities", "models"):
        from jianguan.entities.models import Entity

        found = db.scalar(select(Entity).where(Entity.uscc == uscc))
        if found is not None:
            entity_id, entity_name = found.id, entity_name.strip() or found.name
    if uscc is not None and len(uscc) != 18:
        raise Invalid("entity_uscc", N_("A unified social credit code has 18 characters."))
    if entity_id is None and uscc is None and not entity_name.strip():
        raise Invalid("entity_name", N_("Name the entity (its code or its name)."))
    conflict = OfficerConflict(officer_id=officer.id, entity_id=entity_id, entity_uscc=uscc,
                               entity_name=entity_name.strip(), relation=relation, note=note.strip())
    db.add(conflict)
    db.flush()
    audit.record(db, actor=actor, action="officer.conflict.add", object_type="officer", object_id=officer.id,
                 payload={"conflict_id": conflict.id, "note": conflict.note},
                 detail={"conflict_id": conflict.id, "entity_id": entity_id, "entity_uscc": uscc,
                         "relation": relation})
    return conflict


def remove_conflict(db: Session, *, conflict_id: int, actor: User | None) -> None:
    conflict = db.get(OfficerConflict, conflict_id)
    if conflict is None:
        raise NotFound()
    officer = get_officer(db, officer_id=conflict.officer_id, actor=actor)
    require_manage(actor, officer.agency_id)
    db.delete(conflict)
    db.flush()
    audit.record(db, actor=actor, action="officer.conflict.remove", object_type="officer",
                 object_id=officer.id, payload={"conflict_id": conflict_id},
                 detail={"conflict_id": conflict_id, "entity_uscc": conflict.entity_uscc})


def conflicts_of(db: Session, officer_id: int) -> list[OfficerConflict]:
    return list(db.scalars(select(OfficerConflict).where(OfficerConflict.officer_id == officer_id)
                           .order_by(OfficerConflict.id)))


def conflicted_officer_ids(db: Session, *, entity_id: int | None = None, uscc: str | None = None) -> set[int]:
    """Officers who must recuse themselves from this entity (matched by id or by USCC)."""
    clauses = []
    if entity_id is not None:
        clauses.append(OfficerConflict.entity_id == entity_id)
    if uscc:
        clauses.append(OfficerConflict.entity_uscc == uscc.strip().upper())
    if not clauses:
        return set()
    return set(db.scalars(select(OfficerConflict.officer_id).where(or_(*clauses))))


# --------------------------------------------------------------------------- draw support

# Later issues (inspection tasks, cases) register a counter here: (db, officer_id, since) -> count.
# There are no assignments yet, so the workload is 0 until one is registered.
WORKLOAD_SOURCES: list[Callable[[Session, int, dt.date | None], int]] = []


def workload(db: Session, *, officer_id: int, since: dt.date | None = None) -> int:
    """Open assignments of the officer, summed over the registered sources (derived, never stored)."""
    return sum(source(db, officer_id, since) for source in WORKLOAD_SOURCES)


def qualified_officers(
    db: Session, *, domain: str, on: dt.date, agency_ids: Sequence[int] | None = None,
) -> list[Officer]:
    """Who may be drawn for ``domain`` on ``on``: active, not on leave, holding a credential that is
    valid that day (status valid, issued on or before, expires on or after) and covers the domain."""
    on_leave_then = exists().where(OfficerLeave.officer_id == Officer.id, OfficerLeave.starts_on <= on,
                                   OfficerLeave.ends_on >= on)
    stmt = (
        select(Officer, Credential)
        .join(Credential, Credential.officer_id == Officer.id)
        .where(Officer.is_active, ~on_leave_then, Credential.status == CredentialStatus.valid.value,
               Credential.issued_on <= on, Credential.expires_on >= on)
        .order_by(Officer.id)
    )
    if agency_ids is not None:
        stmt = stmt.where(Officer.agency_id.in_(list(agency_ids)))
    found: dict[int, Officer] = {}
    for officer, credential in db.execute(stmt):
        if domain in credential.domains:  # JSON membership, checked here for both databases
            found.setdefault(officer.id, officer)
    return list(found.values())


def count_officers(db: Session, *, actor: User) -> int:
    return db.scalar(select(func.count()).select_from(Officer).where(visible(Officer, actor))) or 0
