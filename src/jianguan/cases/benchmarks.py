"""The discretion rules as a register (裁量基准管理): the shipped rules plus versions written in the rule
editor or imported from Excel. A new version is a draft until a legal reviewer or leader other than its
author approves it; approved versions are installed in the engine beside the shipped ones, each in
force from its date (a version without an end ends where the next begins). Flush only; audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jianguan.audit import service as audit
from jianguan.auth.models import Role, User
from jianguan.cases import discretion, rule_text
from jianguan.cases.models import DiscretionRuleVersion
from jianguan.core.errors import Conflict, Forbidden, Invalid, NotFound
from jianguan.core.i18n import N_
from jianguan.db import utcnow

EDITORS = (Role.legal_reviewer, Role.leader, Role.officer, Role.system_admin)
APPROVERS = (Role.legal_reviewer, Role.leader, Role.system_admin)
_installed_key: tuple[int, int] | None = None


def sync(db: Session) -> None:
    """Install the approved versions in this process when they changed since it last looked (one small
    query; other processes pick changes up the same way)."""
    global _installed_key
    count, last = db.execute(select(func.count(), func.max(DiscretionRuleVersion.id))
                             .where(DiscretionRuleVersion.status == "approved")).one()
    key = (int(count or 0), int(last or 0))
    if key == _installed_key:
        return
    specs = [_typed(v.spec) for v in db.scalars(select(DiscretionRuleVersion)
                                                .where(DiscretionRuleVersion.status == "approved")
                                                .order_by(DiscretionRuleVersion.id))]
    discretion.install(specs)
    _installed_key = key


def _typed(spec: dict[str, Any]) -> dict[str, Any]:
    """JSON keeps dates as text: back to dates for the engine."""
    out = dict(spec)
    for key in ("effective_from", "effective_to"):
        if isinstance(out.get(key), str):
            out[key] = dt.date.fromisoformat(out[key])
    return out


def _stored(spec: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in spec.items()}


def next_version(db: Session, code: str) -> int:
    shipped = max((int(s["version"]) for s in discretion.shipped_specs() if s["code"] == code), default=0)
    stored = db.scalar(select(func.max(DiscretionRuleVersion.number)).where(DiscretionRuleVersion.code == code))
    return max(shipped, int(stored or 0)) + 1


def parse_yaml(text: str) -> dict[str, Any]:
    try:
        spec = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise Invalid("spec", N_("The rule is not valid YAML: {problem}."), problem=str(error)[:200]) from None
    if isinstance(spec, list) and len(spec) == 1:
        spec = spec[0]
    if not isinstance(spec, dict):
        raise Invalid("spec", N_("Write one rule (a mapping of code, title, range, tiers …)."))
    return spec


def propose(db: Session, *, spec: dict[str, Any], note: str = "", source: str = "editor",
            actor: User | None) -> DiscretionRuleVersion:
    """A new version (draft) of a rule, checked first; its version number is the next free one."""
    if actor is not None and not actor.has_role(*EDITORS):
        raise Forbidden(N_("Only officers, legal reviewers and leaders write discretion rules."))
    spec = _typed(dict(spec))
    spec["version"] = next_version(db, str(spec.get("code", "")))
    discretion.check_spec(spec)
    discretion.build([spec])  # it must also build (brackets, shares)
    row = DiscretionRuleVersion(code=spec["code"], number=spec["version"], spec=_stored(spec), note=note.strip(),
                                source=source, created_by=actor.id if actor is not None else None)
    db.add(row)
    db.flush()
    audit.record(db, actor=actor, action="discretion.propose", object_type="discretion_rule", object_id=row.id,
                 payload=row.spec, detail={"code": row.code, "version": row.number, "source": source})
    return row


def decide(db: Session, *, rule_id: int, approve: bool, note: str = "", actor: User) -> DiscretionRuleVersion:
    """Approve (the engine uses it from its date) or reject a draft; never by its own author."""
    row = db.get(DiscretionRuleVersion, rule_id)
    if row is None:
        raise NotFound(N_("No such rule version."))
    if not actor.has_role(*APPROVERS):
        raise Forbidden(N_("A legal reviewer or leader approves discretion rules."))
    if row.created_by == actor.id:
        raise Forbidden(N_("The author of a rule version cannot approve it."))
    if row.status != "draft":
        raise Conflict(N_("This version has already been decided."))
    if not approve and not note.strip():
        raise Invalid("note", N_("Give the reason."))
    row.status = "approved" if approve else "rejected"
    row.decided_by, row.decided_at, row.decision_note = actor.id, utcnow(), note.strip()
    db.flush()
    audit.record(db, actor=actor, action="discretion.approve" if approve else "discretion.reject",
                 object_type="discretion_rule", object_id=row.id, payload={"note": note},
                 detail={"code": row.code, "version": row.number})
    if approve:
        sync(db)
    return row


def register(db: Session) -> list[dict[str, Any]]:
    """Every rule: code, title, the version in use today, and the drafts waiting."""
    sync(db)
    drafts: dict[str, int] = {}
    for code, n in db.execute(select(DiscretionRuleVersion.code, func.count())
                              .where(DiscretionRuleVersion.status == "draft").group_by(DiscretionRuleVersion.code)):
        drafts[code] = int(n)
    today = dt.date.today()
    out = []
    for code, versions in discretion.rules().items():
        current = next((r for r in versions if r.in_force(today)), versions[0])
        out.append({"code": code, "title": current.title, "version": current.version,
                    "effective_from": current.effective_from, "versions": len(versions), "drafts": drafts.get(code, 0)})
    for code in sorted(set(drafts) - set(discretion.rules())):
        out.append({"code": code, "title": "", "version": None, "effective_from": None, "versions": 0,
                    "drafts": drafts[code]})
    return sorted(out, key=lambda r: r["code"])


def versions_of(db: Session, code: str) -> list[dict[str, Any]]:
    """The shipped versions and those of the editor, newest first, each with its YAML."""
    shipped = [{"version": int(s["version"]), "status": "shipped", "spec": s, "id": None, "note": "",
                "source": "data file", "created_by": None, "decision_note": ""}
               for s in discretion.shipped_specs() if s["code"] == code]
    stored = [{"version": r.number, "status": r.status, "spec": _typed(r.spec), "id": r.id, "note": r.note,
               "source": r.source, "created_by": r.created_by, "decision_note": r.decision_note}
              for r in db.scalars(select(DiscretionRuleVersion).where(DiscretionRuleVersion.code == code))]
    out: list[dict[str, Any]] = sorted(shipped + stored, key=lambda v: int(str(v["version"])), reverse=True)
    for v in out:
        v["yaml"] = yaml.safe_dump(v["spec"], allow_unicode=True, sort_keys=False)
    return out


# --------------------------------------------------------------------------- spreadsheet rows

TIER_COLUMNS = ("no_penalty", "mitigated", "lighter", "heavier")


def row_of(spec: dict[str, Any]) -> dict[str, str]:
    """One rule as a spreadsheet row (the columns of cases/importing.py)."""
    tiers = spec.get("tiers") or {}
    shares = spec.get("shares") or {}
    end = spec.get("effective_to")
    return {
        "code": spec["code"], "title": spec["title"], "effective_from": str(spec["effective_from"]),
        "effective_to": str(end) if end else "", "violated_law": spec["violated"]["law"],
        "violated_article": spec["violated"]["article"], "penalty_law": spec["penalty"]["law"],
        "penalty_article": spec["penalty"]["article"], "kinds": ";".join(map(str, spec["kinds"])),
        "heavier_kinds": ";".join(map(str, spec.get("heavier_kinds") or [])),
        "range": rule_text.range_text(spec["range"]),
        **{t: rule_text.condition_text(tiers.get(t)) for t in TIER_COLUMNS},
        "lighter_share": str(shares.get("lighter", "")), "heavier_share": str(shares.get("heavier", "")),
    }


def spec_of(row: dict[str, Any]) -> dict[str, Any]:
    """A spreadsheet row as a rule (not yet checked: ``discretion.check_spec``)."""
    def text(key: str) -> str:
        return str(row.get(key) or "").strip()

    def day(key: str) -> dt.date | None:
        if not text(key):
            return None
        try:
            return dt.date.fromisoformat(text(key)[:10])
        except ValueError:
            raise Invalid(key, N_("Dates are written YYYY-MM-DD.")) from None

    spec: dict[str, Any] = {
        "code": text("code"), "title": text("title"), "effective_from": day("effective_from"),
        "violated": {"law": text("violated_law"), "article": text("violated_article")},
        "penalty": {"law": text("penalty_law"), "article": text("penalty_article")},
        "kinds": [k.strip() for k in text("kinds").replace("；", ";").split(";") if k.strip()],
        "range": rule_text.parse_range(text("range")),
    }
    if day("effective_to") is not None:
        spec["effective_to"] = day("effective_to")
    heavier = [k.strip() for k in text("heavier_kinds").replace("；", ";").split(";") if k.strip()]
    if heavier:
        spec["heavier_kinds"] = heavier
    tiers = {t: rule_text.parse_condition(text(t), t) for t in TIER_COLUMNS}
    spec["tiers"] = {t: c for t, c in tiers.items() if c is not None}
    shares = {k: text(f"{k}_share") for k in ("lighter", "heavier") if text(f"{k}_share")}
    if shares:
        spec["shares"] = {k: rule_text._scalar(v) for k, v in shares.items()}
    return spec


def same_rule(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two specs say the same (their rows are equal), whatever their version numbers."""
    return row_of(a) == row_of(b)


def current_spec(db: Session, code: str) -> dict[str, Any] | None:
    """The newest version (shipped or approved) of a rule, as a spec."""
    versions = [v for v in versions_of(db, code) if v["status"] in ("shipped", "approved")]
    return versions[0]["spec"] if versions else None
