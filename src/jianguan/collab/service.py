"""Complaints and tips: intake (web form, hotline staff, Open311 clients), matching the entity, routing
to the agency by rules as data, duplicate suggestions and merging, the handling loop's rules, and the
complainant's own view by tracking number and access code. Flush only; audited."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import secrets
import string
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml
from rapidfuzz import fuzz, process
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.auth.models import Role, User
from jianguan.auth.scope import can_see, visible
from jianguan.collab import workflow as wf
from jianguan.collab.models import Complaint
from jianguan.collab.schemas import ComplaintIn
from jianguan.core import workflow
from jianguan.core.crypto import lookup_hash
from jianguan.core.errors import Conflict, Invalid, NotFound, TooManyRequests
from jianguan.core.i18n import N_
from jianguan.core.masking import mask_name, mask_phone
from jianguan.core.workdays import DueDate, WorkCalendar, today_shanghai
from jianguan.core.workflow import Context
from jianguan.db import utcnow
from jianguan.entities.models import Entity
from jianguan.officers.models import Agency
from jianguan.reference import service as ref

KINDS = ("complaint", "tip")
CHANNELS = ("web", "hotline", "api", "import")
OUTCOMES = ("inspection", "case", "mediation", "no_violation", "other")
CODE_ALPHABET = string.ascii_uppercase.replace("O", "").replace("I", "") + "23456789"
STAFF = (Role.officer, Role.leader, Role.agency_admin, Role.system_admin)


def today() -> dt.date:
    return today_shanghai()


@cache
def rules() -> dict[str, Any]:
    text = resources.files("jianguan.collab").joinpath("data/handling.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


@cache
def routing_rules() -> list[dict[str, Any]]:
    text = resources.files("jianguan.collab").joinpath("data/routing.yaml").read_text(encoding="utf-8")
    data: list[dict[str, Any]] = yaml.safe_load(text)
    return data


# --------------------------------------------------------------------------- deadlines (read on entering)


def accept_due(record: Complaint, calendar: WorkCalendar) -> DueDate:
    start = record.state_since.date() if record.state_since is not None and record.transfers else record.received_on
    return calendar.add_working_days(start, int(rules()["accept_working_days"]))


def reply_due(record: Complaint, calendar: WorkCalendar) -> DueDate | None:
    if record.accepted_on is None:
        return None
    return calendar.add_working_days(record.accepted_on, int(rules()["reply_working_days"][record.kind]))


# --------------------------------------------------------------------------- matching and routing


def normalise(text: str) -> str:
    """For comparing names and texts: no spaces or punctuation, full-width folded."""
    folded = text.translate({ord(c): ord(c) - 0xFEE0 for c in text if 0xFF01 <= ord(c) <= 0xFF5E})
    return re.sub(r"[\s\W_]+", "", folded).lower()


@dataclass(frozen=True)
class Match:
    entity: Entity | None
    score: float


def match_entity(db: Session, *, uscc: str, name: str, region_code: str) -> Match:
    """By USCC when given; else the closest registered name in the complaint's county (rapidfuzz WRatio
    over the normalised names, at least 85) — 西湖面馆 finds 杭州市西湖区西湖面馆."""
    if uscc.strip():
        entity = db.scalar(select(Entity).where(Entity.uscc == uscc.strip().upper()))
        if entity is not None:
            return Match(entity, 100.0)
    wanted = normalise(name)
    if len(wanted) < 2 or not region_code:
        return Match(None, 0.0)
    ids, names, postings = county_names(db, region_code)
    pool = _candidates(wanted, len(names), postings)
    choices = names if pool is None else [names[i] for i in pool]
    best = process.extractOne(wanted, choices, scorer=fuzz.WRatio, score_cutoff=85) if choices else None
    if best is None:
        return Match(None, 0.0)
    index = best[2] if pool is None else int(pool[best[2]])
    return Match(db.get(Entity, ids[index]), float(best[1]))


NAMES_TTL = dt.timedelta(minutes=10)
COMMON_SHARE = 0.05  # a character in more than 5 % of a county's names (杭, 州, 有限公司 …) says little
CANDIDATES = 400
Postings = dict[str, npt.NDArray[np.int32]]
_names: dict[tuple[str, str], tuple[dt.datetime, list[int], list[str], Postings]] = {}


def county_names(db: Session, region_code: str) -> tuple[list[int], list[str], Postings]:
    """A county's entity ids, normalised names and which names hold each character, kept ten minutes per
    process (the registry changes slowly; a business registered minutes ago is matched by hand)."""
    key = (str(db.get_bind().engine.url), region_code)
    now = utcnow()
    cached = _names.get(key)
    if cached is None or now - cached[0] > NAMES_TTL:
        rows = db.execute(select(Entity.id, Entity.name).where(Entity.region_code == region_code)).all()
        names = [normalise(r[1]) for r in rows]
        where: dict[str, list[int]] = {}
        for i, name in enumerate(names):
            for ch in set(name):
                where.setdefault(ch, []).append(i)
        postings = {ch: np.array(at, dtype=np.int32) for ch, at in where.items()}
        cached = (now, [r[0] for r in rows], names, postings)
        if len(_names) > 64:
            _names.clear()
        _names[key] = cached
    return cached[1], cached[2], cached[3]


def _candidates(wanted: str, total: int, postings: Postings) -> npt.NDArray[np.int64] | None:
    """The names sharing most of the query's telling characters (None: score them all), so the fuzzy
    score runs over a few hundred names instead of a county's hundreds of thousands. Telling: in at most
    5 % of the names; when none is, the four rarest."""
    if total <= CANDIDATES:
        return None
    known = sorted((postings[ch] for ch in set(wanted) if ch in postings), key=len)
    if not known:
        return None
    telling = [p for p in known if len(p) <= COMMON_SHARE * total] or known[:4]
    counts = np.bincount(np.concatenate(telling), minlength=total)
    top = np.argpartition(-counts, CANDIDATES)[:CANDIDATES]
    return top[counts[top] > 0]


def route(db: Session, *, category: str, region_code: str) -> tuple[Agency | None, str]:
    """The agency that handles this category here (routing.yaml), and the rule's name."""
    county, city = region_code, region_code[:4] + "00"
    for rule in routing_rules():
        if category not in rule["categories"]:
            continue
        for pattern in rule["agency"]:
            code = pattern.format(county=county, city=city)
            agency = db.scalar(select(Agency).where(Agency.code == code))
            if agency is not None:
                return agency, rule["name"]
    return None, ""


# --------------------------------------------------------------------------- intake


def _number(db: Session, day: dt.date) -> str:
    """The day's next number (a range on the unique index, not a LIKE, which SQLite cannot serve from it)."""
    prefix = f"TS{day:%Y%m%d}"
    last = db.scalar(select(func.max(Complaint.number)).where(Complaint.number >= prefix,
                                                               Complaint.number < prefix + "~"))
    n = int(last[len(prefix):]) if last else 0
    return f"{prefix}{n + 1:06d}"


CELL_DEGREES = 0.005  # about 550 m north–south


def cell_of(latitude: float | None, longitude: float | None) -> int | None:
    """The grid square of a place, as one integer (rows of 100,000 squares)."""
    if latitude is None or longitude is None:
        return None
    return math.floor((latitude + 90) / CELL_DEGREES) * 100_000 + math.floor((longitude + 180) / CELL_DEGREES)


def cells_around(latitude: float, longitude: float, metres: float) -> list[int]:
    """The squares within ``metres`` of a place (its own and enough neighbours)."""
    reach = math.ceil(metres / (CELL_DEGREES * 111_320 * max(math.cos(math.radians(latitude)), 0.2)))
    centre = cell_of(latitude, longitude)
    assert centre is not None
    return [centre + dy * 100_000 + dx for dy in range(-reach, reach + 1) for dx in range(-reach, reach + 1)]


def access_hash(number: str, code: str) -> str:
    return hashlib.sha256(f"{number}:{code.strip().upper()}".encode()).hexdigest()


def throttle(db: Session, ip: str | None) -> str | None:
    """The public form and Open311 take no account: one network sending more than the hourly limit
    (handling.yaml) is refused with 429 for a while. Only a keyed hash of the address is kept."""
    if not ip:
        return None
    hashed = lookup_hash(ip)
    limit = int(rules()["intake_limit_per_hour"])
    since = utcnow() - dt.timedelta(hours=1)
    recent = db.scalar(select(func.count()).select_from(Complaint)
                       .where(Complaint.ip_hash == hashed, Complaint.created_at >= since)) or 0
    if recent >= limit:
        raise TooManyRequests(N_("Too many complaints from your network within an hour. Please call 12345, or "
                                 "try again later."), details={"retry_after": 3600})
    return hashed


def receive(db: Session, *, data: ComplaintIn, channel: str, actor: User | None = None,
            photo_sha256: str | None = None, ip: str | None = None) -> tuple[Complaint, str]:
    """A complaint received: numbered, its entity matched, routed, and due for acceptance. Returns the
    complaint and its access code (shown once to the complainant; only its hash is kept). ``ip``: the
    sender's address when it came without an account (throttled)."""
    ip_hash = throttle(db, ip)
    problems: list[Invalid] = []
    if channel not in CHANNELS:
        problems.append(Invalid("channel", N_("Unknown code(s) {codes} for {name}."), codes=channel, name="channel"))
    if data.kind not in KINDS:
        problems.append(Invalid("kind", N_("A complaint or a tip.")))
    category = ref.resolve(db, "complaint_category", data.category)
    if category is None:
        problems.append(Invalid("category", N_("Choose what the complaint is about.")))
    region = data.region_code.strip()
    if not re.fullmatch(r"\d{6}", region) or not ref.is_region(db, region):
        problems.append(Invalid("region_code", N_("Choose the district where it happened.")))
    if not data.anonymous and not (data.name.strip() and data.phone.strip()):
        problems.append(Invalid("phone", N_("Leave your name and phone, or complain anonymously (a tip).")))
    if data.phone.strip() and not re.fullmatch(r"1\d{10}|0\d{2,3}-?\d{7,8}", data.phone.strip()):
        problems.append(Invalid("phone", N_("A mobile number has 11 digits; a landline starts with its area code.")))
    if data.latitude is not None and not (-90 <= data.latitude <= 90):
        problems.append(Invalid("latitude", N_("Latitude must be between -90 and 90.")))
    if data.longitude is not None and not (-180 <= data.longitude <= 180):
        problems.append(Invalid("longitude", N_("Longitude must be between -180 and 180.")))
    if problems:
        raise Invalid.all(problems)
    assert category is not None
    day = today()
    match = match_entity(db, uscc=data.party_uscc, name=data.party_name, region_code=region)
    agency, rule = route(db, category=category, region_code=region)
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    number = _number(db, day)
    complaint = Complaint(
        number=number, access_hash=access_hash(number, code), kind=data.kind, channel=channel,
        external_ref=data.external_ref.strip(), category=category, content=data.content.strip(),
        complainant_name=None if data.anonymous else data.name.strip(),
        complainant_phone=data.phone.strip() or None, phone_hash=lookup_hash(data.phone.strip() or None),
        anonymous=data.anonymous, party_name=data.party_name.strip(),
        party_uscc=data.party_uscc.strip().upper(), address=data.address.strip(), latitude=data.latitude,
        longitude=data.longitude, cell=cell_of(data.latitude, data.longitude),
        region_code=region, entity_id=match.entity.id if match.entity else None,
        match_score=match.score or None, agency_id=agency.id if agency else None, routed_by=rule,
        photo_sha256=photo_sha256, received_on=day, ip_hash=ip_hash)
    workflow.start(db, complaint, workflow=wf.COMPLAINT, actor=actor, payload={"number": number})
    flag_repeated(db, complaint)
    if complaint.agency_id is not None:
        tell_agency(db, complaint, kind="complaint.assigned", title=N_("New complaint to handle: {number}"),
                    actor=actor)
    audit.record(db, actor=actor, action="complaint.receive", object_type="complaint", object_id=complaint.id,
                 payload={"number": number, "channel": channel, "category": category},
                 detail={"agency_id": complaint.agency_id, "entity_id": complaint.entity_id, "rule": rule})
    return complaint, code


def tell_agency(db: Session, complaint: Complaint, *, kind: str, title: str, actor: User | None) -> None:
    """The handling agency's leaders and administrators — who hand complaints out — hear of one routed or
    transferred to it (not every officer: a county bureau receives hundreds a month)."""
    from jianguan.notify import service as notify
    from jianguan.officers.service import staff_of

    users = [u.id for u in staff_of(db, agency_ids=[complaint.agency_id] if complaint.agency_id else [],
                                    roles=[Role.leader, Role.agency_admin])]
    if users:
        notify.send(db, user_ids=users, kind=kind, title=title, params={"number": complaint.number},
                    link=f"/complaints/{complaint.id}", actor=actor)


def flag_repeated(db: Session, complaint: Complaint) -> None:
    """The same phone many times in the window: flagged as repeated, never discarded."""
    if not complaint.phone_hash:
        return
    spec = rules()["repeated"]
    since = complaint.received_on - dt.timedelta(days=int(spec["per_phone_days"]))
    same = db.scalar(select(func.count()).select_from(Complaint).where(
        Complaint.phone_hash == complaint.phone_hash, Complaint.received_on >= since)) or 0
    if same >= int(spec["per_phone_count"]):
        complaint.flagged = "repeated"


# --------------------------------------------------------------------------- duplicates


def _metres_to(a: Complaint, latitude: float | None, longitude: float | None) -> float:
    if a.latitude is None or a.longitude is None or latitude is None or longitude is None:
        return math.inf
    dy = (a.latitude - latitude) * 111_320
    dx = (a.longitude - longitude) * 111_320 * math.cos(math.radians(a.latitude))
    return math.hypot(dx, dy)


def duplicates_of(db: Session, complaint: Complaint, *, limit: int = 10) -> list[tuple[Complaint, str]]:
    """Earlier complaints this one probably repeats, with why: the same entity and category within the
    window, or a similar text near the same place. Staff decide (merge).

    Each query filters only on what its index holds (entity, category, date; grid square, date), so the
    planner cannot wander onto a poorer index; the rest is checked here, and only the texts of the
    complaints that are really near are read (decrypted)."""
    spec = rules()["duplicate"]
    since = complaint.received_on - dt.timedelta(days=int(spec["window_days"]))
    found: dict[int, tuple[Complaint, str]] = {}

    def still_open(other: Complaint) -> bool:
        return other.id != complaint.id and other.master_id is None and other.state != wf.MERGED

    if complaint.entity_id is not None:
        for other in db.scalars(select(Complaint).where(Complaint.entity_id == complaint.entity_id,
                                                        Complaint.category == complaint.category,
                                                        Complaint.received_on >= since)):
            if still_open(other):
                found[other.id] = (other, "same_entity")
    if complaint.latitude is not None and complaint.longitude is not None:
        metres = float(spec["near_metres"])
        places = db.execute(select(Complaint.id, Complaint.latitude, Complaint.longitude, Complaint.master_id,
                                   Complaint.state)
                            .where(Complaint.cell.in_(cells_around(complaint.latitude, complaint.longitude, metres)),
                                   Complaint.received_on >= since)).all()
        near = sorted((row[0] for row in places if row[0] != complaint.id and row[0] not in found
                       and row[3] is None and row[4] != wf.MERGED and _metres_to(complaint, row[1], row[2]) <= metres),
                      reverse=True)[:500]
        if near:
            mine = normalise(complaint.content)
            for other_id, content in db.execute(select(Complaint.id, Complaint.content)
                                                .where(Complaint.id.in_(near))):
                if fuzz.partial_ratio(mine, normalise(content)) >= float(spec["similarity"]):
                    near_one = db.get(Complaint, other_id)
                    assert near_one is not None
                    found[other_id] = (near_one, "similar_text")
    ordered = sorted(found.values(), key=lambda pair: pair[0].id, reverse=True)
    return ordered[:limit]


def merge(db: Session, *, master_id: int, duplicate_ids: list[int], actor: User) -> list[Complaint]:
    """The duplicates follow the master (its status and reply); their counts stay for risk."""
    master = get(db, complaint_id=master_id, actor=actor, audit_read=False)
    if master.master_id is not None or master.state == wf.MERGED:
        raise Invalid("master_id", N_("The master complaint is itself merged into another."))
    merged = []
    for duplicate_id in duplicate_ids:
        other = get(db, complaint_id=duplicate_id, actor=actor, audit_read=False)
        if other.id == master.id:
            raise Invalid("duplicate_ids", N_("A complaint cannot be merged into itself."))
        other.master_id = master.id
        workflow.act(db, other, action="merge", actor=actor, comment=f"并入 {master.number}",
                     payload={"master": master.number})
        merged.append(other)
    audit.record(db, actor=actor, action="complaint.merge", object_type="complaint", object_id=master.id,
                 payload={"duplicates": duplicate_ids}, detail={"count": len(merged)})
    return merged


# --------------------------------------------------------------------------- the loop's guards


def accepting(ctx: Context) -> None:
    ctx.record.accepted_on = today()


def rejecting(ctx: Context) -> None:
    workflow.reason_required(ctx)
    ctx.record.rejected_reason = ctx.comment


def transferring(ctx: Context) -> None:
    """To another agency, with the reason; counted (wrong routing is measured)."""
    workflow.reason_required(ctx)
    record: Complaint = ctx.record
    raw = ctx.payload.get("agency_id")
    agency = ctx.db.get(Agency, int(str(raw))) if str(raw or "").isdigit() else None
    if agency is None or agency.id == record.agency_id:
        raise Invalid("agency_id", N_("Choose the agency that should handle it."))
    record.agency_id, record.routed_by, record.transfers = agency.id, "manual", record.transfers + 1
    record.accepted_on = None
    tell_agency(ctx.db, record, kind="complaint.transferred", title=N_("Complaint transferred to you: {number}"),
                actor=ctx.actor)


def taking(ctx: Context) -> None:
    ctx.record.handler_id = ctx.actor.id if ctx.actor is not None else None


def replying(ctx: Context) -> None:
    record: Complaint = ctx.record
    outcome = str(ctx.payload.get("outcome") or "")
    if outcome not in OUTCOMES:
        raise Invalid("outcome", N_("Say how it was handled."))
    if len(ctx.comment) < 10:
        raise Invalid("comment", N_("Write the reply to the complainant (at least 10 characters)."))
    # The plan or case made while handling it stays named unless the officer names another.
    record.outcome = outcome
    record.outcome_ref = str(ctx.payload.get("outcome_ref") or record.outcome_ref or "")[:60]
    record.reply, record.replied_at = ctx.comment, utcnow()


def reopening(ctx: Context) -> None:
    record: Complaint = ctx.record
    if record.reopened:
        raise Conflict(N_("A complaint can be reopened only once."))
    limit = int(rules()["reopen_days"])
    if record.replied_at is not None and (utcnow() - record.replied_at).days > limit:
        raise Conflict(N_("A complaint can be reopened within {days} days of the reply."), days=limit)
    if len(ctx.comment) < 4:
        raise Invalid("comment", N_("Say why the reply does not settle it."))
    record.reopened = True
    record.accepted_on = today()  # a new period to reply


# --------------------------------------------------------------------------- reading


def may_handle(complaint: Complaint, actor: User) -> bool:
    return actor.is_system_admin or (complaint.agency_id is not None and actor.agency_id == complaint.agency_id)


def get(db: Session, *, complaint_id: int, actor: User, audit_read: bool = True) -> Complaint:
    """A complaint for staff; reading its restricted content is audited."""
    complaint = db.get(Complaint, complaint_id)
    if complaint is None or not actor.has_role(*STAFF) or not (
            can_see(complaint, actor) or may_handle(complaint, actor)):
        raise NotFound(N_("No such complaint."))
    if audit_read:
        audit.record(db, actor=actor, action="complaint.read", object_type="complaint", object_id=complaint.id,
                     payload={}, detail={"number": complaint.number, "masked": not may_handle(complaint, actor)})
    return complaint


def view(complaint: Complaint, actor: User) -> dict[str, Any]:
    """What this person may see: the handling agency sees everything; others see the content and the
    complainant masked."""
    full = may_handle(complaint, actor)
    content = complaint.content if full else (complaint.content[:6] + "……（仅承办部门可见）")
    return {"id": complaint.id, "number": complaint.number, "kind": complaint.kind, "channel": complaint.channel,
            "category": complaint.category, "state": complaint.state, "content": content,
            "complainant_name": complaint.complainant_name if full else mask_name(complaint.complainant_name),
            "complainant_phone": complaint.complainant_phone if full else mask_phone(complaint.complainant_phone),
            "anonymous": complaint.anonymous, "party_name": complaint.party_name, "address": complaint.address,
            "latitude": complaint.latitude, "longitude": complaint.longitude, "region_code": complaint.region_code,
            "entity_id": complaint.entity_id, "match_score": complaint.match_score, "agency_id": complaint.agency_id,
            "routed_by": complaint.routed_by, "transfers": complaint.transfers, "received_on": complaint.received_on,
            "due_date": complaint.due_date, "due_unconfirmed": complaint.due_unconfirmed,
            "outcome": complaint.outcome, "reply": complaint.reply, "rating": complaint.rating,
            "reopened": complaint.reopened, "master_id": complaint.master_id, "flagged": complaint.flagged,
            "version": complaint.version, "full": full}


def queue_filter(actor: User, *, state: str = "", category: str = "",
                 unrouted: bool = False) -> list[ColumnElement[bool]]:
    """The queue's filters and data scope as WHERE clauses (the list and its map read the same)."""
    clauses: list[ColumnElement[bool]]
    if unrouted:
        clauses = [Complaint.agency_id.is_(None)]
        if not actor.is_system_admin:
            clauses.append(visible(Complaint, actor))
    else:
        clauses = [or_(visible(Complaint, actor), Complaint.agency_id == actor.agency_id)]
    if state:
        clauses.append(Complaint.state == state)
    if category:
        clauses.append(Complaint.category == category)
    return clauses


def queue(db: Session, *, actor: User, state: str = "", category: str = "", unrouted: bool = False,
          limit: int = 200) -> list[Complaint]:
    stmt = select(Complaint).where(*queue_filter(actor, state=state, category=category, unrouted=unrouted))
    return list(db.scalars(stmt.order_by(Complaint.due_date.is_(None), Complaint.due_date, Complaint.id.desc())
                           .limit(limit)))


def act(db: Session, *, complaint_id: int, action: str, comment: str = "", payload: dict[str, Any] | None = None,
        expected_version: int | None = None, actor: User) -> Complaint:
    complaint = get(db, complaint_id=complaint_id, actor=actor, audit_read=False)
    workflow.act(db, complaint, action=action, actor=actor, comment=comment, payload=payload,
                 expected_version=expected_version)
    return complaint


def assign_agency(db: Session, *, complaint_id: int, agency_id: int, actor: User) -> Complaint:
    """Route an unrouted complaint by hand (a dispatcher whose region covers it, or an administrator)."""
    complaint = db.get(Complaint, complaint_id)
    if complaint is None or not (actor.is_system_admin or can_see(complaint, actor)):
        raise NotFound(N_("No such complaint."))
    if complaint.agency_id is not None:
        raise Conflict(N_("This complaint is already routed; transfer it instead."))
    agency = db.get(Agency, agency_id)
    if agency is None:
        raise Invalid("agency_id", N_("Choose the agency that should handle it."))
    complaint.agency_id, complaint.routed_by = agency.id, "manual"
    db.flush()
    tell_agency(db, complaint, kind="complaint.assigned", title=N_("New complaint to handle: {number}"), actor=actor)
    audit.record(db, actor=actor, action="complaint.route", object_type="complaint", object_id=complaint.id,
                 payload={"agency_id": agency.id}, detail={"number": complaint.number})
    return complaint


# --------------------------------------------------------------------------- the complainant's own view


def by_code(db: Session, *, number: str, code: str) -> Complaint:
    """The complaint for whoever holds its number and access code (nothing tells which one was wrong)."""
    complaint = db.scalar(select(Complaint).where(Complaint.number == number.strip().upper()))
    if complaint is None or not secrets.compare_digest(complaint.access_hash, access_hash(complaint.number, code)):
        raise NotFound(N_("No complaint with this number and access code."))
    return complaint


def public_status(db: Session, complaint: Complaint) -> dict[str, Any]:
    """What the complainant sees: status, dates, the agency, the reply; never staff notes."""
    agency = db.get(Agency, complaint.agency_id) if complaint.agency_id else None
    master = db.get(Complaint, complaint.master_id) if complaint.master_id else None
    shown = master or complaint
    return {"number": complaint.number, "state": shown.state, "received_on": complaint.received_on,
            "agency": agency.name if agency else "", "reply": shown.reply, "replied_at": shown.replied_at,
            "merged_into": master.number if master else "", "rating": complaint.rating,
            "may_reopen": shown.state in (wf.REPLIED, wf.CLOSED) and not shown.reopened and master is None,
            "may_rate": shown.state in (wf.REPLIED, wf.CLOSED) and complaint.rating is None}


def rate(db: Session, *, number: str, code: str, rating: int, comment: str = "") -> Complaint:
    complaint = by_code(db, number=number, code=code)
    if complaint.state not in (wf.REPLIED, wf.CLOSED):
        raise Conflict(N_("Rate the reply once you have it."))
    if not 1 <= rating <= 5:
        raise Invalid("rating", N_("Rate from 1 to 5."))
    if complaint.rating is not None:
        raise Conflict(N_("Already rated."))
    complaint.rating = rating
    db.flush()
    audit.record(db, actor=None, action="complaint.rate", object_type="complaint", object_id=complaint.id,
                 payload={"rating": rating, "comment": comment}, detail={"number": complaint.number})
    return complaint


def reopen(db: Session, *, number: str, code: str, reason: str) -> Complaint:
    complaint = by_code(db, number=number, code=code)
    workflow.act(db, complaint, action="reopen", actor=None, comment=reason)
    return complaint
