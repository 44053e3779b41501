"""Entity registry services: create/update/upsert, credit and risk history, tags, licences, related
parties, 审管衔接 (a licence grant puts the entity under supervision) and scoped, masked reads.

Writes flush and audit; they never commit. ``actor=None`` means the system itself (imports run by
an operator, the licensing system's token is a real user).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.auth.models import Role, User
from jianguan.auth.scope import can_see, ensure_visible
from jianguan.core.crypto import lookup_hash
from jianguan.core.errors import Forbidden, Invalid, NotFound, check_version
from jianguan.core.i18n import N_
from jianguan.core.workdays import today_shanghai
from jianguan.db import utcnow
from jianguan.entities import codes, uscc
from jianguan.entities.models import (
    CreditHistory,
    Entity,
    EntityLicence,
    EntityTag,
    HistoryRow,
    RelatedParty,
    RiskHistory,
)
from jianguan.officers.models import Agency

WRITE_ROLES = (Role.system_admin, Role.agency_admin, Role.officer)
REGION_RE = re.compile(r"^\d{6}$")
INDUSTRY_CLASS_RE = re.compile(r"^\d{4}$")
# Plain fields copied as given (after trimming); coded, dated, numeric and restricted ones below.
TEXT_FIELDS = ("name", "address", "legal_rep_name", "source_system")
CODED_FIELDS = {"kind": "entity_kind", "status": "entity_status", "scale": "enterprise_scale"}
DATE_FIELDS = ("established_on", "closed_on")
DECIMAL_FIELDS = {"registered_capital": 4, "longitude": 6, "latitude": 6}
RESTRICTED = ("legal_rep_id_number", "contact_phone")
EDITABLE = (*TEXT_FIELDS, *CODED_FIELDS, *DATE_FIELDS, *DECIMAL_FIELDS, *RESTRICTED, "region_code",
            "industry_code", "uscc", "id_number", "agency_id", "as_of")


BULK = "jianguan.entities.bulk"  # db.info key: inside upsert_many, one audit entry per batch


def _audit(db: Session, **kwargs: Any) -> None:
    if not db.info.get(BULK):
        audit.record(db, **kwargs)


def require_writer(actor: User | None) -> None:
    if actor is not None and not actor.has_role(*WRITE_ROLES):
        raise Forbidden(N_("You may not change supervised entities."))


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _date(field: str, value: Any) -> dt.date | None:
    if _blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise Invalid(field, N_("Not a date (YYYY-MM-DD): {value}"), value=str(value)) from None


def _decimal(field: str, value: Any, places: int) -> Decimal | None:
    if _blank(value):
        return None
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise Invalid(field, N_("Not a number: {value}"), value=str(value)) from None
    if not number.is_finite():
        raise Invalid(field, N_("Not a number: {value}"), value=str(value))
    return number.quantize(Decimal(1).scaleb(-places))


def _datetime(field: str, value: Any) -> dt.datetime | None:
    if _blank(value):
        return None
    if isinstance(value, dt.datetime):
        moment = value
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise Invalid(field, N_("Not a date and time: {value}"), value=str(value)) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def check_uscc(db: Session, code: str) -> uscc.UsccResult:
    """Validate with the GB/T 2260 division check when the regions are loaded; errors raise."""
    result = uscc.validate(code, is_region=codes.is_region_checker(db))
    if not result.valid:
        raise Invalid("uscc", uscc.MESSAGES[result.errors[0]])
    return result


def _apply(db: Session, entity: Entity, data: Mapping[str, Any]) -> dict[str, Any]:
    """Set the given fields (only those present) and return what changed (restricted ones named only)."""
    changes: dict[str, Any] = {}

    def put(field: str, value: Any) -> None:
        if getattr(entity, field) != value:
            setattr(entity, field, value)
            changes[field] = "***" if field in RESTRICTED or field == "id_number" else value

    for key, value in data.items():
        if key in TEXT_FIELDS:
            put(key, "" if value is None else str(value).strip())
        elif key in CODED_FIELDS:
            code = codes.resolve(db, CODED_FIELDS[key], value)
            if code is None and not (_blank(value) and key == "scale"):
                raise Invalid(key, N_("Unknown value for {name}: {value}"), name=key, value=str(value))
            put(key, code)
        elif key in DATE_FIELDS:
            put(key, _date(key, value))
        elif key in DECIMAL_FIELDS:
            put(key, _decimal(key, value, DECIMAL_FIELDS[key]))
        elif key == "as_of":
            put(key, _datetime(key, value))
        elif key == "region_code":
            region = str(value or "").strip()
            if not REGION_RE.match(region):
                raise Invalid("region_code", N_("Region code must be six digits (GB/T 2260)."))
            put(key, region)
        elif key == "industry_code":
            industry = None if _blank(value) else str(value).strip()
            if industry is not None and not INDUSTRY_CLASS_RE.match(industry):
                raise Invalid("industry_code", N_("Industry code must be a four-digit GB/T 4754 class."))
            put(key, industry)
        elif key == "uscc":
            code = None if _blank(value) else str(value).strip().upper()
            if code is not None:
                put("uscc_warnings", check_uscc(db, code).warnings)
            put(key, code)
        elif key in ("legal_rep_id_number", "contact_phone", "id_number"):
            clear = None if _blank(value) else str(value).strip().upper()
            if getattr(entity, f"{key}_hash") != lookup_hash(clear):
                put(key, clear)
                setattr(entity, f"{key}_hash", lookup_hash(clear))
        elif key == "agency_id":
            put(key, None if value is None else int(value))
    if not entity.name:
        raise Invalid("name", N_("Name is required."))
    if not entity.uscc and not entity.id_number_hash:
        raise Invalid("uscc", N_("A unified social credit code is required (or an ID number for a "
                                 "natural person)."))
    if entity.closed_on and entity.established_on and entity.closed_on < entity.established_on:
        raise Invalid("closed_on", N_("The closing date is before the establishment date."))
    return changes


def default_agency(db: Session, actor: User | None, data: Mapping[str, Any]) -> dict[str, Any]:
    """Fill ``agency_id`` from ``agency_code`` or the actor's agency; and the region from the agency."""
    out = {k: v for k, v in data.items() if k != "agency_code"}
    code = data.get("agency_code")
    if not _blank(code):
        agency_id = db.scalar(select(Agency.id).where(Agency.code == str(code).strip()))
        if agency_id is None:
            raise Invalid("agency_code", N_("No agency with code {code}."), code=str(code))
        out["agency_id"] = agency_id
    elif out.get("agency_id") is None and actor is not None and actor.agency_id is not None:
        out["agency_id"] = actor.agency_id
    return out


def _check_scope(entity: Entity, actor: User | None) -> None:
    if actor is not None and not can_see(entity, actor):
        raise Forbidden(N_("This entity is outside your data scope."))


def find(db: Session, *, uscc_code: str | None = None, id_number: str | None = None) -> Entity | None:
    """The entity with this USCC (or natural person's ID number), unscoped: for upserts only."""
    if uscc_code:
        return db.scalar(select(Entity).where(Entity.uscc == uscc_code.strip().upper()))
    if id_number:
        return db.scalar(select(Entity).where(Entity.id_number_hash == lookup_hash(id_number)))
    return None


def create_entity(db: Session, *, data: Mapping[str, Any], actor: User | None) -> Entity:
    require_writer(actor)
    data = default_agency(db, actor, data)
    for required in ("name", "kind", "region_code"):
        if _blank(data.get(required)):
            raise Invalid(required, N_("{name} is required."), name=required)
    existing = find(db, uscc_code=data.get("uscc"), id_number=data.get("id_number"))
    if existing is not None:
        raise Invalid("uscc", N_("An entity with this code already exists."))
    entity = Entity(status="active", uscc_warnings=[])
    changes = _apply(db, entity, {"status": "active", **data})
    _check_scope(entity, actor)
    db.add(entity)
    db.flush()
    _sync_current(db, entity, data, actor)
    _audit(db, actor=actor, action="entity.create", object_type="entity", object_id=entity.id,
                 payload=changes, detail={"uscc": entity.uscc, "name": entity.name})
    return entity


def update_entity(
    db: Session, *, entity_id: int, data: Mapping[str, Any], version: int | None, actor: User | None
) -> Entity:
    """Change fields (only those given). ``version`` is the one the client read (409 when stale)."""
    require_writer(actor)
    entity = get_entity(db, entity_id=entity_id, actor=actor)
    check_version(entity, version)
    changes = _apply(db, entity, {k: v for k, v in data.items() if k in EDITABLE})
    _check_scope(entity, actor)
    _sync_current(db, entity, data, actor)
    if changes:
        entity.updated_at = utcnow()
        _audit(db, actor=actor, action="entity.update", object_type="entity", object_id=entity.id,
                     payload=changes, detail={"fields": sorted(changes)})
    return entity


def upsert_entity(db: Session, *, data: Mapping[str, Any], actor: User | None) -> tuple[Entity, bool]:
    """Create or update by USCC (or natural person's ID number); never duplicates. → (entity, created)."""
    existing = find(db, uscc_code=data.get("uscc"), id_number=data.get("id_number"))
    if existing is None:
        return create_entity(db, data=data, actor=actor), True
    if actor is not None:
        ensure_visible(existing, actor)
    data = default_agency(db, actor, data) if "agency_code" in data else data
    return update_entity(db, entity_id=existing.id, data=data, version=None, actor=actor), False


def _sync_current(db: Session, entity: Entity, data: Mapping[str, Any], actor: User | None) -> None:
    """``credit_class``/``risk_level``/``tags``/licence columns given with entity data."""
    source = str(data.get("source_system") or "")
    if not _blank(data.get("credit_class")):
        set_credit(db, entity=entity, value=str(data["credit_class"]), source=source, actor=actor)
    if not _blank(data.get("risk_level")):
        set_risk(db, entity=entity, value=str(data["risk_level"]), source=source, actor=actor)
    tags = data.get("tags")
    if isinstance(tags, str):
        tags = [t for t in (p.strip() for p in tags.split(";")) if t]
    for tag in tags or ():
        add_tag(db, entity=entity, tag=str(tag), source=source, actor=actor)
    if not _blank(data.get("licence_type")) and not _blank(data.get("licence_number")):
        licence = upsert_licence(db, entity=entity, data={
            "licence_type": data["licence_type"], "number": data["licence_number"],
            "valid_until": data.get("licence_valid_until"), "source_system": source}, actor=actor)
        supervise(db, entity=entity, since=licence.valid_from or today_shanghai(), licence=licence, actor=actor)


def _change_history(
    db: Session, *, model: type[HistoryRow], entity: Entity, column: str,
    domain: str, value: str, on: dt.date | None, source: str, reason: str, actor: User | None,
) -> bool:
    code = codes.resolve(db, domain, value)
    if code is None:
        raise Invalid(column, N_("Unknown value for {name}: {value}"), name=column, value=value)
    if getattr(entity, column) == code:
        return False
    on = on or today_shanghai()
    if getattr(entity, column) is not None or entity.id is None:  # a first value has no open row
        db.flush()
        current = db.scalars(select(model).where(model.entity_id == entity.id, model.valid_to.is_(None))).all()
        for row in current:
            row.valid_to = on
    db.add(model(entity_id=entity.id, value=code, valid_from=on, valid_to=None, source=source,
                 reason=reason, actor_id=actor.id if actor else None))
    previous = getattr(entity, column)
    setattr(entity, column, code)
    _audit(db, actor=actor, action=f"entity.{column}", object_type="entity", object_id=entity.id,
                 payload={"from": previous, "to": code, "on": on.isoformat(), "reason": reason},
                 detail={"from": previous, "to": code, "on": on.isoformat(), "source": source})
    return True


def set_credit(db: Session, *, entity: Entity, value: str, on: dt.date | None = None, source: str = "",
               reason: str = "", actor: User | None) -> bool:
    """Change the credit class: closes the open history row and opens one. False when unchanged."""
    return _change_history(db, model=CreditHistory, entity=entity, column="credit_class",
                           domain="credit_class", value=value, on=on, source=source, reason=reason,
                           actor=actor)


def set_risk(db: Session, *, entity: Entity, value: str, on: dt.date | None = None, source: str = "",
             reason: str = "", actor: User | None) -> bool:
    return _change_history(db, model=RiskHistory, entity=entity, column="risk_level",
                           domain="risk_level", value=value, on=on, source=source, reason=reason,
                           actor=actor)


def history(db: Session, *, entity_id: int, actor: User) -> dict[str, list[dict[str, Any]]]:
    get_entity(db, entity_id=entity_id, actor=actor)
    out: dict[str, list[dict[str, Any]]] = {}
    models: tuple[tuple[str, type[HistoryRow]], ...] = (
        ("credit", CreditHistory), ("risk", RiskHistory))
    for key, model in models:
        rows = db.scalars(select(model).where(model.entity_id == entity_id)
                          .order_by(model.valid_from.desc(), model.id.desc())).all()
        out[key] = [{"value": r.value, "valid_from": r.valid_from, "valid_to": r.valid_to,
                     "source": r.source, "reason": r.reason} for r in rows]
    return out


def add_tag(db: Session, *, entity: Entity, tag: str, since: dt.date | None = None, source: str = "",
            actor: User | None) -> EntityTag | None:
    """Add a tag unless it already applies; None when it did."""
    code = codes.resolve(db, "entity_tag", tag)
    if code is None:
        raise Invalid("tags", N_("Unknown value for {name}: {value}"), name="tags", value=tag)
    if any(t.tag == code and t.until is None for t in entity.tags):
        return None
    row = EntityTag(tag=code, since=since or today_shanghai(), source=source)
    entity.tags.append(row)
    _audit(db, actor=actor, action="entity.tag", object_type="entity", object_id=entity.id,
                 payload={"tag": code}, detail={"tag": code, "source": source})
    return row


def end_tag(db: Session, *, entity: Entity, tag: str, on: dt.date | None = None, actor: User | None) -> bool:
    code = codes.resolve(db, "entity_tag", tag) or tag
    ended = False
    for row in entity.tags:
        if row.tag == code and row.until is None:
            row.until = on or today_shanghai()
            ended = True
    if ended:
        _audit(db, actor=actor, action="entity.untag", object_type="entity", object_id=entity.id,
                     payload={"tag": code}, detail={"tag": code})
    return ended


def upsert_licence(db: Session, *, entity: Entity, data: Mapping[str, Any], actor: User | None) -> EntityLicence:
    """Create or update a licence by (type, number)."""
    ltype = codes.resolve(db, "licence_type", data.get("licence_type"))
    if ltype is None:
        raise Invalid("licence_type", N_("Unknown value for {name}: {value}"), name="licence_type",
                      value=str(data.get("licence_type")))
    number = str(data.get("number") or "").strip()
    if not number:
        raise Invalid("licence_number", N_("{name} is required."), name="licence_number")
    db.flush()
    licence = db.scalar(select(EntityLicence).where(EntityLicence.licence_type == ltype,
                                                    EntityLicence.number == number))
    if licence is None:
        licence = EntityLicence(licence_type=ltype, number=number)
        entity.licences.append(licence)
    elif licence.entity_id != entity.id:
        raise Invalid("licence_number", N_("This licence number belongs to another entity."))
    for key in ("valid_from", "valid_until"):
        if key in data:
            setattr(licence, key, _date(key, data[key]))
    for key in ("issuer", "status", "source_system"):
        if key in data and data[key] is not None:
            setattr(licence, key, str(data[key]).strip())
    if licence.valid_from and licence.valid_until and licence.valid_until < licence.valid_from:
        raise Invalid("valid_until", N_("The licence expires before it starts."))
    _audit(db, actor=actor, action="entity.licence", object_type="entity", object_id=entity.id,
                 payload={"type": ltype, "number": number},
                 detail={"type": ltype, "number": number, "valid_until": licence.valid_until})
    return licence


def grant_licence(
    db: Session, *, uscc_code: str, entity: Mapping[str, Any], licence: Mapping[str, Any], actor: User | None
) -> tuple[Entity, EntityLicence]:
    """审管衔接: a licence granted creates/updates the entity and puts it under supervision from the
    grant date (``licence['valid_from']``, default today), so the inspection scheduler sees it."""
    data = {**entity, "uscc": uscc_code}
    subject, _ = upsert_entity(db, data=data, actor=actor)
    granted = _date("valid_from", licence.get("valid_from")) or today_shanghai()
    row = upsert_licence(db, entity=subject, data={**licence, "valid_from": granted}, actor=actor)
    supervise(db, entity=subject, since=granted, licence=row, actor=actor)
    return subject, row


def supervise(db: Session, *, entity: Entity, since: dt.date, licence: EntityLicence | None = None,
              actor: User | None) -> bool:
    """Put the entity under supervision from ``since`` (an earlier date already set is kept)."""
    if entity.under_supervision_since is not None and entity.under_supervision_since <= since:
        return False
    entity.under_supervision_since = since
    detail = {"since": since.isoformat(), "licence": licence.number if licence else None}
    _audit(db, actor=actor, action="entity.supervise", object_type="entity", object_id=entity.id,
           payload=detail, detail=detail)
    return True


def add_related_party(db: Session, *, entity: Entity, name: str, id_number: str | None = None,
                      relation: str = "", actor: User | None) -> RelatedParty:
    if not name.strip():
        raise Invalid("name", N_("Name is required."))
    clear = id_number.strip().upper() if id_number and id_number.strip() else None
    for party in entity.related_parties:
        if party.name == name.strip() and party.id_number_hash == lookup_hash(clear):
            party.relation = relation or party.relation
            return party
    party = RelatedParty(name=name.strip(), id_number=clear, id_number_hash=lookup_hash(clear),
                         relation=relation)
    entity.related_parties.append(party)
    _audit(db, actor=actor, action="entity.related_party", object_type="entity", object_id=entity.id,
                 payload={"name": party.name, "relation": relation}, detail={"relation": relation})
    return party


def get_entity(db: Session, *, entity_id: int, actor: User | None) -> Entity:
    entity = db.get(Entity, entity_id)
    if entity is None:
        raise NotFound()
    if actor is not None:
        ensure_visible(entity, actor)
    return entity
