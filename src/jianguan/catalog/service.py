"""Supervision items: proposal, versions, approval effects, legal bases, check points, the negative
list and joint-visit candidates. Checklists are in ``checklists.py``, indicators in ``indicators.py``.

A version is edited only as a draft; a change to an item in force is a new version (copied from the
one in force) approved on the ``catalog_item`` workflow. Flushes, never commits.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from jianguan.audit import service as audit
from jianguan.auth.models import User
from jianguan.catalog import workflow as wf
from jianguan.catalog.models import CheckPoint, ItemVersion, LegalBasis, NegativeListEntry, SupervisionItem
from jianguan.catalog.schemas import BasisIn, ItemChanges, ItemIn, PointIn
from jianguan.core import workflow
from jianguan.core.errors import Conflict, Invalid, NotFound
from jianguan.core.i18n import N_
from jianguan.core.workdays import today_shanghai
from jianguan.reference import laws
from jianguan.reference import service as ref

COPIED = ("name", "implementation_code", "national_code", "power_code", "agency_codes", "object_kinds", "methods",
          "key_item", "sampling_ratio", "frequency_per_year", "recognition_days", "description")
POINT_FIELDS = ("text", "law_slug", "law_title", "article_no", "article_text", "indicator_code", "severity",
                "answer_type", "unit", "min_value", "max_value", "choices", "photo_required", "evidence_required",
                "guidance", "score")
OPEN = (wf.DRAFT, wf.UNDER_REVIEW, wf.AWAITING_APPROVAL)


# --------------------------------------------------------------------------- reads


def get_item(db: Session, *, item_id: int) -> SupervisionItem:
    item = db.get(SupervisionItem, item_id)
    if item is None:
        raise NotFound(N_("No such catalog item."))
    return item


def item_by_code(db: Session, code: str) -> SupervisionItem | None:
    return db.scalar(select(SupervisionItem).where(SupervisionItem.code == code.strip()))


def get_version(db: Session, *, version_id: int) -> ItemVersion:
    version = db.get(ItemVersion, version_id)
    if version is None:
        raise NotFound(N_("No such catalog item version."))
    return version


def current_version(db: Session, item: SupervisionItem) -> ItemVersion | None:
    """The version in force (or, for a retired item, the last one that was)."""
    if item.current_number is None:
        return None
    return db.scalar(select(ItemVersion).where(ItemVersion.item_id == item.id,
                                               ItemVersion.number == item.current_number))


def latest_version(db: Session, item: SupervisionItem) -> ItemVersion:
    version = db.scalar(select(ItemVersion).where(ItemVersion.item_id == item.id)
                        .order_by(ItemVersion.number.desc()).limit(1))
    assert version is not None  # an item is created with its first version
    return version


def open_version(db: Session, item: SupervisionItem) -> ItemVersion | None:
    """The change in progress (draft or in approval), if any: an item has at most one."""
    return db.scalar(select(ItemVersion).where(ItemVersion.item_id == item.id, ItemVersion.state.in_(OPEN)))


@dataclass
class ItemRow:
    item: SupervisionItem
    version: ItemVersion  # in force, else the latest
    children: int = 0


def list_items(db: Session, *, q: str = "", domain: str = "", status: str = "", key_item: bool | None = None,
               object_kind: str = "", parent_id: int | None = None, top_only: bool = False,
               offset: int = 0, limit: int = 100) -> tuple[list[ItemRow], int]:
    """Items with the version to show (in force, else the latest), filtered; → (rows, total).
    A catalog holds hundreds of items, not millions: filtered in Python after two queries."""
    stmt = select(SupervisionItem).order_by(SupervisionItem.code)
    if domain:
        stmt = stmt.where(SupervisionItem.domain == domain)
    if status:
        stmt = stmt.where(SupervisionItem.status == status)
    if parent_id is not None:
        stmt = stmt.where(SupervisionItem.parent_id == parent_id)
    elif top_only:
        stmt = stmt.where(SupervisionItem.parent_id.is_(None))
    items = list(db.scalars(stmt))
    shown: dict[int, ItemVersion] = {}
    for v in db.scalars(select(ItemVersion).where(ItemVersion.item_id.in_([i.id for i in items]))
                        .order_by(ItemVersion.number)):
        if v.item.current_number in (None, v.number):  # in force; else the latest (they come in order)
            shown[v.item_id] = v
    text = q.strip()
    rows = [(i, shown[i.id]) for i in items if i.id in shown]
    if text:
        rows = [(i, v) for i, v in rows if text in v.name or text in i.code or text in (v.description or "")]
    if key_item is not None:
        rows = [(i, v) for i, v in rows if v.key_item == key_item]
    if object_kind:
        rows = [(i, v) for i, v in rows if object_kind in (v.object_kinds or [])]
    page = rows[offset:offset + limit]
    counts = dict(db.execute(select(SupervisionItem.parent_id, func.count()).where(
        SupervisionItem.parent_id.in_([i.id for i, _ in page])).group_by(SupervisionItem.parent_id)).all())
    return [ItemRow(i, v, counts.get(i.id, 0)) for i, v in page], len(rows)


def history(db: Session, item: SupervisionItem) -> list[ItemVersion]:
    return list(db.scalars(select(ItemVersion).where(ItemVersion.item_id == item.id)
                           .options(selectinload(ItemVersion.legal_bases), selectinload(ItemVersion.check_points))
                           .order_by(ItemVersion.number)))


# --------------------------------------------------------------------------- checks


def _codes(db: Session, domain: str, values: Iterable[str], field_name: str) -> list[str]:
    known = {i.code for i in ref.domain_items(db, domain)}
    values = [v.strip() for v in values if v and v.strip()]
    bad = [v for v in values if v not in known]
    if bad:
        raise Invalid(field_name, N_("Unknown code(s) {codes} for {name}."), codes=", ".join(bad), name=field_name)
    return list(dict.fromkeys(values))


def _bases(bases: Sequence[BasisIn], on: dt.date) -> list[LegalBasis]:
    out = []
    for n, b in enumerate(bases):
        article = laws.cite(b.law, b.article, on=on, field=f"legal_basis[{n}]")
        out.append(LegalBasis(position=n, law_slug=article.law.slug, law_title=article.law.title,
                              article_no=article.article_no, article_text=article.text))
    return out


def _points(db: Session, points: Sequence[PointIn], on: dt.date) -> list[CheckPoint]:
    from jianguan.catalog import indicators

    leaves = indicators.leaf_codes(db)
    seen: set[str] = set()
    out = []
    severities = {i.code for i in ref.domain_items(db, "check_severity")}
    answers = {i.code for i in ref.domain_items(db, "answer_type")}
    for n, p in enumerate(points):
        where = f"check_points[{n}]"
        if p.code in seen:
            raise Invalid(f"{where}.code", N_("Check point code {code} is used twice."), code=p.code)
        seen.add(p.code)
        if p.severity not in severities:
            raise Invalid(f"{where}.severity", N_("Unknown severity {value}."), value=p.severity)
        if p.answer_type not in answers:
            raise Invalid(f"{where}.answer_type", N_("Unknown answer type {value}."), value=p.answer_type)
        if p.answer_type == "number" and p.min is None and p.max is None:
            raise Invalid(f"{where}.min", N_("A number answer needs a lower or an upper limit."))
        if p.min is not None and p.max is not None and p.min > p.max:
            raise Invalid(f"{where}.max", N_("The upper limit is below the lower limit."))
        if p.answer_type == "choice" and len([c for c in p.choices if c.strip()]) < 2:
            raise Invalid(f"{where}.choices", N_("A choice answer needs at least two options."))
        if p.indicator and leaves and p.indicator not in leaves:
            raise Invalid(f"{where}.indicator", N_("{code} is not a leaf indicator of the indicator system."),
                          code=p.indicator)
        point = CheckPoint(code=p.code, position=n, text=p.text.strip(), indicator_code=p.indicator,
                           severity=p.severity, answer_type=p.answer_type, unit=p.unit, min_value=p.min,
                           max_value=p.max, choices=[c.strip() for c in p.choices if c.strip()],
                           photo_required=p.photo_required or p.answer_type == "photo",
                           evidence_required=p.evidence_required, guidance=p.guidance.strip(), score=p.score)
        if p.law or p.article:
            article = laws.cite(p.law, p.article, on=on, field=f"{where}.article")
            point.law_slug, point.law_title = article.law.slug, article.law.title
            point.article_no, point.article_text = article.article_no, article.text
        out.append(point)
    return out


def ensure_complete(db: Session, version: ItemVersion) -> None:
    """What a version needs before review (the ``submit`` guard): a legal basis still in force on
    the day it takes effect, and nothing the negative list forbids."""
    on = version.effective_from or today_shanghai()
    if version.change != "exit":
        if not version.legal_bases:
            raise Invalid("legal_basis", N_("An item needs at least one legal basis (no basis, no inspection)."))
        for n, basis in enumerate(version.legal_bases):
            laws.cite(basis.law_slug, basis.article_no, on=on, field=f"legal_basis[{n}]")
        found = negative_matches(db, version=version, on=on)
        if found:
            raise Invalid("name", N_("The negative list forbids this: {matters}."),
                          matters="；".join(f"{m.entry.code} {m.entry.matter}（{m.where}）" for m in found[:3]))


# --------------------------------------------------------------------------- changes


def propose_item(db: Session, *, data: ItemIn, reason: str = "", actor: User | None,
                 load: bool = False) -> ItemVersion:
    """Admission (纳入): a new item with its first version, as a draft on the approval workflow.
    ``load``: the package's published catalog (``jianguan catalog load``) goes straight into force."""
    if item_by_code(db, data.code) is not None:
        raise Conflict(N_("Catalog code {code} exists already."), code=data.code)
    parent = None
    if data.parent:
        parent = item_by_code(db, data.parent)
        if parent is None:
            raise Invalid("parent", N_("No catalog item {code} to be the parent."), code=data.parent)
        if parent.parent_id is not None:
            raise Invalid("parent", N_("A sub-item cannot have sub-items of its own."))
        if data.code[:11] != parent.code[:11] or data.code[11:] == "000":
            raise Invalid("code", N_("A sub-item's code continues its main item's: {prefix}001–999."),
                          prefix=parent.code[:11])
    domain = _codes(db, "enforcement_domain", [data.domain], "domain")[0]
    on = data.effective_from or today_shanghai()  # everything checked before anything is written
    _codes(db, "entity_kind", data.object_kinds, "object_kinds")
    _codes(db, "inspection_method", data.methods, "methods")
    _bases(data.legal_basis, on)
    _points(db, data.check_points, on)
    item = SupervisionItem(code=data.code, parent_id=parent.id if parent else None, domain=domain,
                           department=data.department.strip(), status="draft")
    db.add(item)
    db.flush()
    version = _new_version(db, item, number=1, change="admission", reason=reason, actor=actor)
    workflow.start(db, version, workflow=wf.ITEM_VERSION, actor=actor, comment=reason, payload={"code": data.code})
    _apply(db, version, data.model_dump(exclude={"code", "parent", "domain"}, exclude_unset=False), actor=actor)
    if load:
        workflow.act(db, version, action="load", actor=None, system=True, comment=reason)
    audit.record(db, actor=actor, action="catalog.item.propose", object_type="supervision_item", object_id=item.id,
                 payload={"code": item.code, "version": 1}, detail={"code": item.code, "load": load})
    return version


def _new_version(db: Session, item: SupervisionItem, *, number: int, change: str, reason: str,
                 actor: User | None) -> ItemVersion:
    version = ItemVersion(item_id=item.id, number=number, change=change, reason=reason.strip(), name="",
                          proposed_by=actor.id if actor else None)
    version.item = item
    return version


def _apply(db: Session, version: ItemVersion, values: dict[str, Any], *, actor: User | None) -> None:
    """Set a draft's fields from ``values`` (ItemIn / ItemChanges names), checking every code."""
    on = values.get("effective_from") or version.effective_from or today_shanghai()
    if values.get("effective_from") is not None:
        version.effective_from = values["effective_from"]
    for name in ("name", "implementation_code", "national_code", "power_code", "description"):
        if values.get(name) is not None:
            setattr(version, name, str(values[name]).strip())
    if values.get("agencies") is not None:
        version.agency_codes = [a.strip() for a in values["agencies"] if a.strip()]
    if values.get("object_kinds") is not None:
        version.object_kinds = _codes(db, "entity_kind", values["object_kinds"], "object_kinds")
    if values.get("methods") is not None:
        version.methods = _codes(db, "inspection_method", values["methods"], "methods")
    for name in ("key_item", "sampling_ratio", "frequency_per_year", "recognition_days"):
        if name in values and (values[name] is not None or name != "key_item"):
            setattr(version, name, values[name])
    if values.get("department") is not None:
        version.item.department = str(values["department"]).strip()
    if values.get("legal_basis") is not None:
        version.legal_bases = _bases([BasisIn.model_validate(b) for b in values["legal_basis"]], on)
    if values.get("check_points") is not None:
        points = _points(db, [PointIn.model_validate(p) for p in values["check_points"]], on)
        version.check_points.clear()
        db.flush()  # the old rows go first: the new ones reuse their codes
        version.check_points = points
    if not version.name:
        raise Invalid("name", N_("Give the item a name."))
    db.flush()


def _copy(db: Session, source: ItemVersion, target: ItemVersion) -> None:
    for name in (*COPIED, "effective_from"):
        setattr(target, name, getattr(source, name))
    target.effective_from = None  # a new version takes effect when approved, unless set
    target.legal_bases = [LegalBasis(position=b.position, law_slug=b.law_slug, law_title=b.law_title,
                                     article_no=b.article_no, article_text=b.article_text)
                          for b in source.legal_bases]
    target.check_points = [CheckPoint(code=p.code, position=p.position,
                                      **{f: getattr(p, f) for f in POINT_FIELDS}) for p in source.check_points]


def revise_item(db: Session, *, item_id: int, changes: ItemChanges, reason: str, actor: User | None,
                load: bool = False) -> ItemVersion:
    """Adjustment (调整): a new draft version copied from the one in force, with ``changes``."""
    return _derive(db, item_id=item_id, change="adjustment", reason=reason, actor=actor, load=load,
                   values=changes.model_dump(exclude_unset=True))


def propose_exit(db: Session, *, item_id: int, reason: str, actor: User | None) -> ItemVersion:
    """Exit (退出): a version that, once approved, retires the item."""
    return _derive(db, item_id=item_id, change="exit", reason=reason, actor=actor, load=False, values={})


def _derive(db: Session, *, item_id: int, change: str, reason: str, actor: User | None, load: bool,
            values: dict[str, Any]) -> ItemVersion:
    if not reason.strip():
        raise Invalid("reason", N_("Give the reason for this change."))
    item = get_item(db, item_id=item_id)
    if item.status != "in_force":
        raise Conflict(N_("Only an item in force can be adjusted or retired (this one is {status})."),
                       status=item.status)
    pending = open_version(db, item)
    if pending is not None:
        raise Conflict(N_("Version {number} of this item is still being decided; finish it first."),
                       number=pending.number)
    source = current_version(db, item)
    assert source is not None
    version = _new_version(db, item, number=latest_version(db, item).number + 1, change=change, reason=reason,
                           actor=actor)
    with db.no_autoflush:  # the new version joins the session in workflow.start, complete
        _copy(db, source, version)
    workflow.start(db, version, workflow=wf.ITEM_VERSION, actor=actor, comment=reason,
                   payload={"code": item.code, "change": change})
    _apply(db, version, values, actor=actor)
    if load:
        workflow.act(db, version, action="load", actor=None, system=True, comment=reason)
    audit.record(db, actor=actor, action=f"catalog.item.{change}", object_type="supervision_item", object_id=item.id,
                 payload={"code": item.code, "version": version.number, **values},
                 detail={"code": item.code, "version": version.number})
    return version


def update_draft(db: Session, *, version_id: int, changes: ItemChanges, expected_version: int | None,
                 actor: User) -> ItemVersion:
    """Edit a draft in place (409 when someone else saved it meanwhile, or it left the draft state)."""
    version = get_version(db, version_id=version_id)
    if expected_version is not None and version.version != expected_version:
        raise Conflict()
    if version.state not in wf.EDITABLE:
        raise Conflict(N_("Only a draft can be edited; this version is {state}."), state=version.state)
    _apply(db, version, changes.model_dump(exclude_unset=True), actor=actor)
    audit.record(db, actor=actor, action="catalog.item.edit", object_type="supervision_item",
                 object_id=version.item_id, payload=changes.model_dump(mode="json", exclude_unset=True),
                 detail={"version": version.number})
    return version


def bring_into_force(db: Session, version: ItemVersion, *, actor: User | None) -> None:
    """The ``approve`` / ``load`` effect: this version is the item's text from its effective date;
    the one in force before is superseded the day before."""
    item = version.item
    version.effective_from = version.effective_from or today_shanghai()
    previous = current_version(db, item)
    if previous is not None and previous.id != version.id and previous.state == wf.IN_FORCE:
        previous.effective_to = version.effective_from - dt.timedelta(days=1)
        workflow.act(db, previous, action="supersede", actor=None, system=True,
                     comment=f"v{version.number}")
    item.current_number = version.number
    item.status = "in_force"


def retire_item(db: Session, version: ItemVersion, *, actor: User | None) -> None:
    """The ``approve_exit`` effect: the item leaves the catalog; its last text stays readable."""
    item = version.item
    version.effective_from = version.effective_from or today_shanghai()
    previous = current_version(db, item)
    if previous is not None and previous.state == wf.IN_FORCE:
        previous.effective_to = version.effective_from - dt.timedelta(days=1)
        workflow.act(db, previous, action="supersede", actor=None, system=True, comment=f"v{version.number}")
    item.status = "retired"


def decide(db: Session, *, version_id: int, action: str, comment: str = "", expected_version: int | None = None,
           actor: User) -> ItemVersion:
    """Take a workflow action (submit, pass_review, return, reject, approve, approve_exit)."""
    version = get_version(db, version_id=version_id)
    if expected_version is not None and version.version != expected_version:
        raise Conflict()
    workflow.act(db, version, action=action, actor=actor, comment=comment)
    return version


def approval_queue(db: Session, *, actor: User) -> list[ItemVersion]:
    """Versions waiting for something this user may do."""
    waiting = db.scalars(select(ItemVersion).where(ItemVersion.state.in_(OPEN)).order_by(ItemVersion.due_date,
                                                                                          ItemVersion.id))
    return [v for v in waiting if workflow.allowed_actions(v, actor)]


# --------------------------------------------------------------------------- diff


@dataclass
class Change:
    name: str  # a field, "legal_basis", or "check_point:<code>"
    before: str
    after: str
    diff: list[tuple[str, str]] = field(default_factory=list)  # (op, text): op in "=", "-", "+"


def _words(before: str, after: str) -> list[tuple[str, str]]:
    """A character-level diff of Chinese text (difflib): runs of kept, removed and added text."""
    out: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            out.append(("=", before[a1:a2]))
            continue
        if a2 > a1:
            out.append(("-", before[a1:a2]))
        if b2 > b1:
            out.append(("+", after[b1:b2]))
    return out


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if value is None:
        return ""
    return str(value)


def diff(a: ItemVersion, b: ItemVersion) -> list[Change]:
    """What changed from version ``a`` to ``b``: fields, legal bases and check points (by code)."""
    changes = []
    for name in COPIED:
        before, after = _show(getattr(a, name)), _show(getattr(b, name))
        if before != after:
            changes.append(Change(name, before, after, _words(before, after)))
    bases_a = [f"{x.law_title}{x.article_no}" for x in a.legal_bases]
    bases_b = [f"{x.law_title}{x.article_no}" for x in b.legal_bases]
    if bases_a != bases_b:
        changes.append(Change("legal_basis", "；".join(bases_a), "；".join(bases_b)))
    points_a = {p.code: p for p in a.check_points}
    points_b = {p.code: p for p in b.check_points}
    for code in sorted(points_a.keys() | points_b.keys()):
        pa, pb = points_a.get(code), points_b.get(code)
        before = "" if pa is None else f"{pa.text}（{pa.law_title}{pa.article_no}）"
        after = "" if pb is None else f"{pb.text}（{pb.law_title}{pb.article_no}）"
        if before != after or (pa and pb and any(getattr(pa, f) != getattr(pb, f) for f in POINT_FIELDS)):
            changes.append(Change(f"check_point:{code}", before, after, _words(before, after)))
    return changes


# --------------------------------------------------------------------------- negative list


@dataclass
class NegativeMatch:
    entry: NegativeListEntry
    where: str  # what matched: the item code, or the text containing a keyword


def active_negative_list(db: Session, on: dt.date | None = None) -> list[NegativeListEntry]:
    day = on or today_shanghai()
    return [e for e in db.scalars(select(NegativeListEntry).order_by(NegativeListEntry.code))
            if (e.valid_from is None or e.valid_from <= day) and (e.valid_to is None or day <= e.valid_to)]


def negative_matches(db: Session, *, version: ItemVersion | None = None, texts: Sequence[str] = (),
                     item_codes: Sequence[str] = (), on: dt.date | None = None) -> list[NegativeMatch]:
    """Negative-list entries that forbid an item (by code or code prefix) or whose keywords appear in
    its name, description or check points — or in free ``texts`` (a plan's own wording)."""
    codes = list(item_codes)
    candidates = [*texts]
    if version is not None:
        codes.append(version.item.code)
        candidates += [version.name, version.description, *(p.text for p in version.check_points)]
    found = []
    for entry in active_negative_list(db, on):
        code = next((c for c in codes for prefix in entry.item_codes if prefix and c.startswith(prefix)), None)
        if code is not None:
            found.append(NegativeMatch(entry, code))
            continue
        text = next((t for t in candidates for k in entry.keywords if k and k in (t or "")), None)
        if text is not None:
            found.append(NegativeMatch(entry, text[:60]))
    return found


# --------------------------------------------------------------------------- joint visits


@dataclass
class JointCandidate:
    """Two items of different departments, same kinds of object, overlapping check points: one visit
    could cover both (进一次门、查多项事)."""

    a: ItemVersion
    b: ItemVersion
    object_kinds: list[str]
    overlaps: list[tuple[str, str, str]]  # (point code of a, point code of b, why)


def _bigrams(text: str) -> set[str]:
    text = "".join(ch for ch in text if ch.isalnum())
    return {text[i:i + 2] for i in range(len(text) - 1)}


def joint_candidates(db: Session, *, similarity: float = 0.5) -> list[JointCandidate]:
    """Pairs of items in force, of different domains, sharing an object kind, whose check points
    cite the same article or read alike (character-bigram Jaccard ≥ ``similarity``)."""
    versions = [v for v in db.scalars(select(ItemVersion).where(ItemVersion.state == wf.IN_FORCE)
                                      .options(selectinload(ItemVersion.check_points)))]
    grams = {p.id: _bigrams(p.text) for v in versions for p in v.check_points}
    out = []
    for i, a in enumerate(versions):
        for b in versions[i + 1:]:
            if a.item.domain == b.item.domain:
                continue
            kinds = sorted(set(a.object_kinds) & set(b.object_kinds))
            if not kinds:
                continue
            overlaps = []
            for pa in a.check_points:
                for pb in b.check_points:
                    if pa.law_slug and (pa.law_slug, pa.article_no) == (pb.law_slug, pb.article_no):
                        overlaps.append((pa.code, pb.code, f"{pa.law_title}{pa.article_no}"))
                        continue
                    ga, gb = grams[pa.id], grams[pb.id]
                    if ga and gb and len(ga & gb) / len(ga | gb) >= similarity:
                        overlaps.append((pa.code, pb.code, "similar"))
            if overlaps:
                out.append(JointCandidate(a, b, kinds, overlaps))
    return sorted(out, key=lambda c: -len(c.overlaps))
