"""Complaints import kind (12345 热线批量转办): one row per call, keyed by the hotline's own reference, so a
batch sent twice adds nothing the second time. Each row is checked as the intake checks a complaint
(category, district, phone, length of the text) and every problem is reported on its row; a file with
any error writes nothing (or only the valid rows, when asked). Written rows are received like any other
complaint (matched, routed, due for acceptance), channel ``import``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.auth.models import User
from jianguan.collab import service
from jianguan.collab.models import Complaint
from jianguan.collab.schemas import ComplaintIn
from jianguan.core.errors import Invalid
from jianguan.core.i18n import N_
from jianguan.imports.checks import ERROR, MESSAGES, PROBLEM_SCHEMA, ROW, Context, Field, Problems

KIND = "complaints"
KEY = "external_ref"
FIELDS: tuple[Field, ...] = (
    Field("external_ref", "热线工单号", required=True),
    Field("kind", "投诉或举报", help="complaint 投诉 / tip 举报，默认投诉"),
    Field("category", "类别", "domain", True, "complaint_category"),
    Field("content", "诉求内容", required=True),
    Field("party_name", "被投诉举报对象"),
    Field("party_uscc", "对象统一社会信用代码"),
    Field("address", "地址"),
    Field("region_code", "区县代码", required=True, help="6 位行政区划代码"),
    Field("latitude", "纬度", "decimal"),
    Field("longitude", "经度", "decimal"),
    Field("name", "诉求人姓名"),
    Field("phone", "诉求人电话"),
    Field("anonymous", "匿名", help="是 / 否"),
)
MESSAGES.update({"complaint.row": N_("This row is not a valid complaint.")})
YES = ("是", "true", "1", "y", "yes")


def _complaint(row: dict[str, object]) -> ComplaintIn:
    text = {k: str(v).strip() if v is not None else "" for k, v in row.items()}
    try:
        return ComplaintIn(
            kind=text.get("kind") or "complaint", category=text.get("category", ""), content=text.get("content", ""),
            party_name=text.get("party_name", ""), party_uscc=text.get("party_uscc", ""),
            address=text.get("address", ""), region_code=text.get("region_code", ""),
            latitude=float(text["latitude"]) if text.get("latitude") else None,
            longitude=float(text["longitude"]) if text.get("longitude") else None,
            name=text.get("name", ""), phone=text.get("phone", ""),
            anonymous=text.get("anonymous", "").lower() in YES, external_ref=text.get("external_ref", ""))
    except ValidationError as error:
        raise Invalid.from_validation(error.errors()) from None
    except ValueError:
        raise Invalid("latitude", N_("Latitude must be between -90 and 90.")) from None


def check(df: pl.DataFrame, problems: Problems, ctx: Context) -> None:
    """Each row as the intake would check it (without writing anything)."""
    keys = {f.key for f in FIELDS}
    found = []
    for row in df.iter_rows(named=True):
        try:
            data = _complaint(row)
            if data.kind not in service.KINDS:
                raise Invalid("kind", N_("A complaint or a tip."))
            if not data.anonymous and not (data.name.strip() and data.phone.strip()):
                raise Invalid("phone", N_("Leave your name and phone, or complain anonymously (a tip)."))
            if data.region_code not in ctx.regions:
                raise Invalid("region_code", N_("Choose the district where it happened."))
        except Invalid as error:
            for problem in (error, *error.others):
                found.append({ROW: row[ROW], "field": problem.field if problem.field in keys else KEY,
                              "code": "complaint.row", "severity": ERROR, "message": problem.localized("zh_CN")})
    if found:
        problems.frames.append(pl.DataFrame(found, schema=PROBLEM_SCHEMA))


def existing_keys(db: Session, keys: Sequence[str]) -> set[str]:
    """Calls of the hotline already received (a batch sent twice adds nothing)."""
    if not keys:
        return set()
    return set(db.scalars(select(Complaint.external_ref).where(Complaint.external_ref.in_(list(keys)))))


def write(db: Session, frame: pl.DataFrame, *, actor: User | None, batch: str, source: str = "",
          as_of: dt.datetime | None = None) -> tuple[int, int]:
    rows = list(frame.iter_rows(named=True))
    known = existing_keys(db, [str(r[KEY]).strip() for r in rows if r.get(KEY)])
    created = 0
    for row in rows:
        if str(row[KEY]).strip() in known:
            continue
        service.receive(db, data=_complaint(row), channel="import", actor=actor)
        created += 1
    return created, 0
