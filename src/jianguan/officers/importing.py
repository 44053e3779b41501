"""Officer import kind (执法人员及执法证): the columns, the officer-specific checks, and the writer.

Officer files are thousands of rows, so the writer goes through the roster and credential services
row by row — the same rules as the pages — and the checks stay columnar like every import's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.auth.models import User
from jianguan.core.bulkload import one_of
from jianguan.core.crypto import lookup_hash, lookup_hash_many
from jianguan.core.i18n import N_
from jianguan.imports.checks import ERROR, MESSAGES, WARNING, Context, Field, Problems, blank
from jianguan.officers import credentials, roster
from jianguan.officers.models import Agency, Credential, Officer

KIND = "officers"
KEY = "id_number"
FIELDS: tuple[Field, ...] = (
    Field("agency_code", "所属机构代码", "agency", True, help="执法主体（机构）的代码"),
    Field("name", "姓名", required=True),
    Field("id_number", "身份证号", "id_number", True, help="敏感，加密存储；据此更新已有人员"),
    Field("phone", "手机号", help="敏感，加密存储"),
    Field("domains", "执法领域", "domains", False, "enforcement_domain", help="多个用 ; 分隔"),
    Field("credential_number", "执法证号"),
    Field("credential_domains", "执法证执法领域", "domains", False, "enforcement_domain", help="多个用 ; 分隔"),
    Field("credential_issued_on", "发证日期", "date", help="YYYY-MM-DD"),
    Field("credential_expires_on", "有效期至", "date", future=True, help="YYYY-MM-DD"),
    Field("credential_status", "执法证状态", "domain", False, "credential_status"),
)
MESSAGES.update({
    "credential.number": N_("A credential number is 4–32 letters, digits or '-'."),
    "credential.dates": N_("A credential needs its issue and expiry dates."),
    "credential.order": N_("The credential expires before it is issued."),
    "credential.domains": N_("The credential covers a domain the officer does not have."),
    "credential.duplicate": N_("This credential number already appears on an earlier row of the file."),
    "credential.taken": N_("This credential number belongs to another officer."),
})
REASONS = {"suspended": "批量导入：执法证状态为暂扣", "revoked": "批量导入：执法证状态为吊销"}


def _date(key: str) -> pl.Expr:
    return pl.col(key).str.strip_chars().str.slice(0, 10).str.strptime(pl.Date, "%Y-%m-%d", strict=False)


def check(df: pl.DataFrame, problems: Problems, ctx: Context) -> None:
    """Credential fields come together and in order; its domains within the officer's; numbers unique."""
    has_number = ~blank("credential_number")
    problems.add(df, has_number & ~pl.col("credential_number").str.strip_chars().str.contains(
        credentials.NUMBER_RE.pattern), "credential_number", "credential.number")
    problems.add(df, has_number & (blank("credential_issued_on") | blank("credential_expires_on")),
                 "credential_number", "credential.dates")
    problems.add(df, _date("credential_expires_on") < _date("credential_issued_on"), "credential_expires_on",
                 "credential.order")
    own = pl.col("domains").fill_null("").str.split(";")
    granted = pl.col("credential_domains").fill_null("").str.split(";")
    outside = granted.list.set_difference(own).list.eval(pl.element().filter(pl.element() != "")).list.len() > 0
    problems.add(df, has_number & ~blank("domains") & ~blank("credential_domains") & outside, "credential_domains",
                 "credential.domains", WARNING)
    number = pl.col("credential_number").str.strip_chars().str.to_uppercase()
    problems.add(df, has_number & (pl.int_range(pl.len()).over(number) > 0), "credential_number",
                 "credential.duplicate", ERROR)


def existing_keys(db: Session, keys: Sequence[str]) -> set[str]:
    """Which ID numbers belong to registered officers (matched by their keyed hashes)."""
    hashes = dict(zip(lookup_hash_many(list(keys)), keys, strict=True))
    names = [h for h in hashes if h]
    return {hashes[h] for h in db.scalars(select(Officer.id_number_hash).where(
        one_of(db, Officer.id_number_hash, names))) if h} if names else set()


def out_of_scope(db: Session, frame: pl.DataFrame, actor: User) -> pl.Series:
    """Rows for an agency the actor may not manage (its own agency for an agency admin)."""
    codes = frame.get_column("agency_code").str.strip_chars().to_list()
    ids = {c: i for c, i in db.execute(select(Agency.code, Agency.id).where(
        Agency.code.in_([c for c in set(codes) if c])))}
    return pl.Series("out", [c in ids and not roster.can_manage(actor, ids[c]) for c in codes])


def write(db: Session, frame: pl.DataFrame, *, actor: User | None, batch: str, source: str = "",
          as_of: dt.datetime | None = None) -> tuple[int, int]:
    """Upsert officers by ID number and their credentials by number; → (created, updated)."""
    agencies = {a.code: a.id for a in db.scalars(select(Agency))}
    created = updated = 0
    for row in frame.iter_rows(named=True):
        clean = {k: (v.strip() if isinstance(v, str) else v) for k, v in row.items()}
        domains = [d for d in (clean.get("domains") or "").split(";") if d]
        agency_id = agencies[clean["agency_code"]]
        officer = roster.find_by_id_number(db, clean["id_number"])
        if officer is None:
            officer = roster.create_officer(db, agency_id=agency_id, name=clean["name"],
                                            id_number=clean["id_number"], phone=clean.get("phone") or None,
                                            domains=domains, actor=actor)
            created += 1
        else:
            changes: dict[str, object] = {}
            if officer.name != clean["name"]:
                changes["name"] = clean["name"]
            if officer.agency_id != agency_id:
                changes["agency_id"] = agency_id
            if clean.get("phone") and officer.phone_hash != lookup_hash(clean["phone"]):
                changes["phone"] = clean["phone"]
            if domains and sorted(officer.domains) != sorted(domains):
                changes["domains"] = domains
            if changes:  # an unchanged row writes nothing, not even an audit entry
                officer = roster.update_officer(db, officer_id=officer.id, version=None, actor=actor,
                                                **changes)  # type: ignore[arg-type]
                updated += 1
        if clean.get("credential_number"):
            _credential(db, officer, clean, domains, actor)
    return created, updated


def _credential(db: Session, officer: Officer, row: dict[str, str | None], domains: list[str],
                actor: User | None) -> None:
    """Issue a credential not yet registered; move a registered one to the file's status."""
    from jianguan.core.errors import Invalid

    number = credentials.normalise_number(row["credential_number"] or "")
    status = row.get("credential_status") or "valid"
    existing = db.scalar(select(Credential).where(Credential.number == number))
    if existing is None:
        granted = [d for d in (row.get("credential_domains") or "").split(";") if d] or domains
        credentials.issue_credential(
            db, officer_id=officer.id, number=number, domains=granted,
            issued_on=dt.date.fromisoformat((row["credential_issued_on"] or "")[:10]),
            expires_on=dt.date.fromisoformat((row["credential_expires_on"] or "")[:10]), issuer="",
            status=status, reason="批量导入", actor=actor)
        return
    if existing.officer_id != officer.id:
        raise Invalid("credential_number", MESSAGES["credential.taken"])
    if existing.status == status:
        return
    if status == "suspended" and existing.status == "valid":
        credentials.suspend_credential(db, credential_id=existing.id, version=None, reason=REASONS[status],
                                       actor=actor)
    elif status == "revoked" and existing.status != "revoked":
        credentials.revoke_credential(db, credential_id=existing.id, version=None, reason=REASONS[status],
                                      actor=actor)
    elif status == "valid" and existing.status == "suspended":
        credentials.reinstate_credential(db, credential_id=existing.id, version=None,
                                         reason="批量导入：执法证状态为有效", actor=actor)
