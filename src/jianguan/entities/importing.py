"""Entity import kind: the columns (keys = headers), the entity-specific checks, and the writer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jianguan.auth.models import User
from jianguan.core.bulkload import one_of
from jianguan.entities import bulk, uscc
from jianguan.entities.models import Entity
from jianguan.imports.checks import (
    ERROR,
    PY_SPACE,
    WARNING,
    Context,
    Field,
    Found,
    Problems,
    Stages,
    blank,
    date_stages,
    merge_stages,
    run_stages,
    stripped,
    uscc_clean_stages,
    uscc_stages,
)

KIND = "entities"
KEY = "uscc"
TOLERATED = ("source_system", "as_of")  # recorded per batch (its source and as-of time), not per row
# A first load (or one that more than doubles the registry) of at least this many entities rebuilds
# the indexes of these tables once at the end (core.bulkload); smaller imports keep them up to date.
BULK_MIN_ROWS = 100_000
# A licence belongs to one entity: two rows of a file naming the same one is an error.
_LICENCE = pl.col("licence_number").str.strip_chars(PY_SPACE)
# A natural person (no USCC) is keyed by the ID number: twice in a file is the same mistake as a USCC twice.
_PERSON = pl.col("id_number").str.strip_chars(PY_SPACE)
ALSO_UNIQUE = {
    "licence_number": (pl.when(_LICENCE != "").then(pl.col("licence_type").fill_null("") + "|" + _LICENCE),
                       "duplicate.licence"),  # on the checked rows: licence_type is its code by then
    "id_number": (pl.when(pl.col("uscc").str.strip_chars(PY_SPACE).fill_null("") == "").then(_PERSON),
                  "duplicate.file"),
}
BULK_TABLES = ("entities", "entity_credit_history", "entity_risk_history", "entity_licences", "entity_tags")
# Unique keys rebuilt (and so checked again) when the load ends; bulk.SNAPSHOTS matches rows meanwhile.
BULK_UNIQUE = ("entities", "entity_licences")
FIELDS: tuple[Field, ...] = (
    Field("uscc", "统一社会信用代码", "uscc", help="18位；特定自然人留空并填 id_number"),
    Field("id_number", "身份证号（特定自然人）", "id_number"),
    Field("name", "名称", required=True),
    Field("kind", "主体类型", "domain", True, "entity_kind"),
    Field("status", "登记状态", "domain", False, "entity_status"),
    Field("region_code", "行政区划代码", "region", True, help="6位 GB/T 2260"),
    Field("agency_code", "负责机构代码", "agency", help="留空则为导入人所在机构"),
    Field("address", "地址"),
    Field("longitude", "经度", "decimal"),
    Field("latitude", "纬度", "decimal"),
    Field("industry_code", "行业代码", "industry", help="GB/T 4754 小类，4位"),
    Field("scale", "企业规模", "domain", False, "enterprise_scale"),
    Field("registered_capital", "注册资本（万元）", "decimal"),
    Field("established_on", "成立日期", "date", help="YYYY-MM-DD"),
    Field("closed_on", "注销/吊销日期", "date", help="YYYY-MM-DD"),
    Field("legal_rep_name", "法定代表人"),
    Field("legal_rep_id_number", "法定代表人身份证号", "id_number", help="敏感，加密存储"),
    Field("contact_phone", "联系电话", help="敏感，加密存储"),
    Field("credit_class", "信用等级", "domain", False, "credit_class"),
    Field("risk_level", "风险等级", "domain", False, "risk_level"),
    Field("tags", "标签", "domains", False, "entity_tag", help="多个用 ; 分隔"),
    Field("licence_type", "许可证类型", "domain", False, "licence_type"),
    Field("licence_number", "许可证编号"),
    Field("licence_valid_until", "许可证有效期至", "date", future=True),
)


def check(df: pl.DataFrame, problems: Problems, ctx: Context) -> None:
    """USCC (errors reject, warnings flag), the natural-person key, USCC-vs-region, date order.

    Columnar: ``checks.uscc_stages`` is ``uscc.validate`` (with the GB/T 2260 division lookup) as
    column expressions; the mismatch with ``region_code`` is only reported for a well-formed code.
    Two passes, as in ``standard_checks``: a code that is clean as it is (``uscc_clean_stages``) and
    agrees with region_code as it is has nothing to report; only the other rows go through the exact
    program."""
    first, always, exact, found = ctx.memo(("entities.check", tuple(df.columns)), lambda: _plan(set(df.columns), ctx))
    work = run_stages(df, first)
    problems.add_many(work, always)
    doubt = work.get_column("__doubt")
    if doubt.any():
        problems.add_many(run_stages(df.filter(doubt), exact), found)


def _plan(columns: set[str], ctx: Context) -> tuple[Stages, Found, Stages, Found]:
    """The expressions of ``check`` for a slice with these columns (built once per import): the
    first pass and what it finds on every row (the date order), then the exact program of the rows
    in doubt and what it finds."""
    first, clean = uscc_clean_stages("uscc", "__uscc", ctx.regions)
    always: Found = []
    dates = [k for k in ("established_on", "closed_on") if k in columns]
    for k in dates:  # standard_checks leaves __<key>:date; computed here when called on its own
        if f"__{k}:date" not in columns:
            first[0][f"__{k}:s"] = stripped(k)
            merge_stages(first, date_stages(f"__{k}:s", f"__{k}")[0], at=1)
    if len(dates) == 2:
        always.append((pl.col("__closed_on:date") < pl.col("__established_on:date"), "closed_on", "dates.order",
                       ERROR, {}))
    doubt = ~pl.col(clean)
    if "region_code" in columns:  # agreeing as they are, they agree once stripped (a clean code has no spaces)
        region, code = pl.col("__region:b"), pl.col("__uscc:b")
        first[0]["__region:b"] = pl.col("region_code").cast(pl.Binary).bin.slice(0, 2).bin.reinterpret(
            dtype=pl.Array(pl.UInt8, 2))
        agree = (code.arr.get(2) == region.arr.get(0)) & (code.arr.get(3) == region.arr.get(1))
        doubt = doubt | ~agree.fill_null(pl.col("region_code").is_null())
    first.append({"__doubt": doubt})

    exact: Stages = [{"__uscc:s": stripped("uscc")}]
    more, flags = uscc_stages("__uscc:s", "__uscc", ctx.regions)
    merge_stages(exact, more, at=1)
    has = pl.col("__uscc:s") != ""
    found: Found = [(has & pl.col(flags[code]), "uscc", code, ERROR if code in uscc.ERRORS else WARNING, {})
                    for code in (*uscc.ERRORS, *uscc.WARNINGS) if code in flags]
    natural = pl.col("kind") == "natural_person"
    no_id = blank("id_number") if "id_number" in columns else pl.lit(True)
    found.append((~has & ~(natural & ~no_id), "uscc", "required", ERROR, {}))
    if "region_code" in columns:
        sound = ~pl.col(flags["uscc.length"]) & ~pl.col(flags["uscc.charset"]) & ~pl.col(flags["uscc.check"])
        region = pl.col("region_code").str.strip_chars(PY_SPACE)
        other = (region != "") & (pl.col("__uscc:s").str.slice(2, 2) != region.str.slice(0, 2))
        found.append((has & sound & other, "region_code", "uscc.region_mismatch", WARNING, {}))
    return first, always, exact, found


def existing_keys(db: Session, keys: Sequence[str]) -> set[str]:
    """Which USCCs are already in the database (those rows are updates)."""
    return {c for c in db.scalars(select(Entity.uscc).where(one_of(db, Entity.uscc, keys))) if c} if keys else set()


def registry_empty(db: Session) -> bool:
    """No entity yet (a first load): the pipeline then skips ``existing_keys``."""
    return db.scalar(select(Entity.id).limit(1)) is None


def context(db: Session) -> frozenset[str]:
    """What ``prepare`` needs from the database, read once per import (GB/T 2260 codes)."""
    return bulk.region_codes(db)


def prepare(frame: pl.DataFrame, context: frozenset[str], *, source: str, as_of: dt.datetime | None) -> pl.DataFrame:
    """The costly, database-free part of writing a slice (encryption); run one slice ahead."""
    return bulk.prepare(frame, regions=context, source=source, as_of=as_of)


def bulk_tables(db: Session, new_rows: int) -> tuple[str, ...]:
    """Tables whose indexes are rebuilt after the import instead of kept up to date row by row:
    only when the import adds at least ``BULK_MIN_ROWS`` entities and at least as many as exist."""
    if new_rows < BULK_MIN_ROWS or new_rows < (db.scalar(select(func.count()).select_from(Entity)) or 0):
        return ()
    return BULK_TABLES


def write(db: Session, frame: pl.DataFrame, *, actor: User | None, batch: str, source: str = "",
          as_of: dt.datetime | None = None, prepared: pl.DataFrame | None = None) -> tuple[int, int]:
    """Upsert one checked slice by USCC (or ID-number hash), set-based; → (created, updated)."""
    result = bulk.write_frame(db, frame, actor=actor, batch=batch, source=source, as_of=as_of, prepared=prepared)
    return result.created, result.updated


def out_of_scope(db: Session, frame: pl.DataFrame, actor: User) -> pl.Series:
    """Rows that would create or change an entity outside the actor's data scope."""
    return bulk.out_of_scope(db, frame, actor)
