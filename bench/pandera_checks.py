"""The import checks of ``jianguan.imports.checks`` + ``jianguan.entities.importing.check``, written as
pandera schemas — once for pandas, once for polars — so bench/import_entities.py can time them against
ours and assert that they find exactly the same (row, field, code) problems.

Written as a pandera user would: one named Check per problem code (column checks on the column,
cross-field rules as DataFrame checks named ``field|code``), each check standing alone. pandas: string
accessors, ``isin``, and the per-value rules (check digits, calendar, value domains) mapped once per
distinct value through an lru_cache. polars: column expressions, reusing jianguan's expression builders
so the rules are literally the same. Both keep the in-file duplicate state across slices in a closure.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import cache
from typing import Any

import pandas as pd
import pandera.pandas as pdx
import pandera.polars as plx
import polars as pl
from pandera.api.polars.types import PolarsData

from jianguan.entities import importing as entities
from jianguan.entities import uscc
from jianguan.imports import checks
from jianguan.imports.checks import Context

USCC_CODES = (*uscc.ERRORS, *uscc.WARNINGS)


def _pd_check(fn: Callable[..., Any], name: str) -> pdx.Check:
    return pdx.Check(fn, name=name, ignore_na=False)  # the checks decide about empty cells themselves


def _pl_check(fn: Callable[..., Any], name: str) -> plx.Check:
    return plx.Check(fn, name=name, ignore_na=False)


def _pd_first_time(key: pd.Series, seen: set[str]) -> pd.Series:
    """True where a key ("" = none) is new to the file: not earlier in this slice nor in ``seen``."""
    later = key.duplicated(keep="first") | key.isin(seen)
    seen.update(key[key != ""])
    return ~((key != "") & later)


def _pl_first_time(keys: pl.Series, seen: set[str]) -> pl.LazyFrame:
    """``_pd_first_time`` for a Polars column of keys."""
    earlier = pl.Series([v for v in keys.unique().to_list() if v in seen], dtype=pl.String)
    seen.update(v for v in keys.to_list() if v)
    return pl.LazyFrame({"k": keys}).select(
        ~((pl.col("k") != "") & (~pl.col("k").is_first_distinct() | pl.col("k").is_in(earlier.implode()))))


def _date(value: str) -> dt.date | None:
    v = value.strip()
    if not re.fullmatch(checks.DATE_RE.strip("^$"), v):
        return None
    try:
        return dt.date.fromisoformat(v[:10])
    except ValueError:
        return None


# --------------------------------------------------------------------------- pandas


def pandas_schema(ctx: Context) -> pdx.DataFrameSchema:
    """A schema over a slice of strings ("" for empty cells), index = the file row number."""
    resolve = cache(ctx.domains.resolve)
    date = cache(_date)
    id_ok = cache(lambda v: checks.id_number_ok(v, ctx.today))

    @cache
    def verdict(code: str) -> frozenset[str]:
        r = uscc.validate(code, is_region=ctx.regions.__contains__)
        return frozenset((*r.errors, *r.warnings))

    def present(s: pd.Series) -> pd.Series:
        return s.str.strip() != ""

    def one_list(domain: str, value: str) -> str | None:
        parts = [p for p in value.replace("；", ";").split(";") if p.strip()]
        got = [resolve(domain, p) for p in parts]
        return None if any(g is None for g in got) else ";".join(g or "" for g in got)

    def field_checks(f: checks.Field) -> list[pdx.Check]:
        out: list[pdx.Check] = []
        if f.required:
            out.append(_pd_check(present, name="required"))
        if f.type == "date":
            out.append(_pd_check(lambda s: ~present(s) | s.map(date).notna(), name="date"))
            if not f.future:
                out.append(_pd_check(lambda s: s.map(lambda v: (d := date(v)) is None or d <= ctx.today),
                                     name="date.future"))
        elif f.type == "decimal":
            out.append(_pd_check(lambda s: ~present(s) | s.str.strip().str.fullmatch(checks.DECIMAL_RE.strip("^$")),
                                 name="decimal"))
        elif f.type in ("region", "industry", "agency"):
            known = {"region": ctx.regions, "industry": ctx.industries, "agency": set(ctx.agencies)}[f.type]
            out.append(_pd_check(lambda s, known=known: ~present(s) | s.str.strip().isin(known), name=f.type))
        elif f.type == "id_number":
            out.append(_pd_check(lambda s: ~present(s) | s.map(id_ok), name="id_number"))
        elif f.type == "domain":
            out.append(_pd_check(lambda s, d=f.domain: ~present(s) | s.map(lambda v: resolve(d, v)).notna(),
                                 name="domain"))
        elif f.type == "domains":
            out.append(_pd_check(lambda s, d=f.domain: ~present(s) | s.map(lambda v: one_list(d, v)).notna(),
                                 name="domain"))
        elif f.type == "uscc":
            for code in USCC_CODES:
                out.append(_pd_check(lambda s, code=code: ~present(s) | ~s.map(lambda v: code in verdict(v)),
                                     name=code))
        return out

    seen: set[str] = set()

    def duplicate(s: pd.Series) -> pd.Series:
        key = s.str.strip().str.upper()
        return _pd_first_time(key, seen)

    licences: set[str] = set()

    def licence_duplicate(df: pd.DataFrame) -> pd.Series:
        number = df["licence_number"].str.strip()
        kind = df["licence_type"].map(lambda v: resolve("licence_type", v) or v.strip())
        key = (kind + "|" + number).str.upper().where(number != "", "")
        return _pd_first_time(key, licences)

    people: set[str] = set()

    def person_duplicate(df: pd.DataFrame) -> pd.Series:
        number = df["id_number"].str.strip()
        key = number.str.upper().where((df["uscc"].str.strip() == "") & (number != ""), "")
        return _pd_first_time(key, people)

    def natural_key(df: pd.DataFrame) -> pd.Series:
        natural = df["kind"].map(lambda v: resolve("entity_kind", v)) == "natural_person"
        return present(df["uscc"]) | (natural & present(df["id_number"]))

    def region_mismatch(df: pd.DataFrame) -> pd.Series:
        code, region = df["uscc"].str.strip(), df["region_code"].str.strip()
        sound = code.map(lambda v: not {"uscc.length", "uscc.charset", "uscc.check"} & verdict(v))
        return ~((code != "") & sound & (region != "") & (code.str[2:4] != region.str[:2]))

    def dates_order(df: pd.DataFrame) -> pd.Series:
        est, closed = df["established_on"].map(date), df["closed_on"].map(date)
        both = est.notna() & closed.notna()
        return ~both | (closed.where(both, dt.date.min) >= est.where(both, dt.date.min))

    columns = {f.key: pdx.Column(str, checks=field_checks(f), nullable=True) for f in entities.FIELDS}
    columns["uscc"] = pdx.Column(str, checks=[*field_checks(entities.FIELDS[0]),
                                              _pd_check(duplicate, name="duplicate.file")], nullable=True)
    return pdx.DataFrameSchema(columns, checks=[
        _pd_check(natural_key, name="uscc|required"),
        _pd_check(region_mismatch, name="region_code|uscc.region_mismatch"),
        _pd_check(dates_order, name="closed_on|dates.order"),
        _pd_check(licence_duplicate, name="licence_number|duplicate.licence"),
        _pd_check(person_duplicate, name="id_number|duplicate.file"),
    ])


def pandas_problems(schema: pdx.DataFrameSchema, frame: pd.DataFrame) -> set[tuple[int, str, str]]:
    try:
        schema.validate(frame, lazy=True)
    except pdx.errors.SchemaErrors as errors:
        return _problems(errors.failure_cases.to_dict("records"), lambda index: int(index))
    return set()


# --------------------------------------------------------------------------- polars


def polars_schema(ctx: Context) -> plx.DataFrameSchema:
    """A schema over a slice of strings (nulls for empty cells), checks as polars expressions."""

    def program(key: str, build: Callable[[str, str], tuple[checks.Stages, Any]]) -> tuple[
            Callable[[pl.LazyFrame], pl.LazyFrame], Any]:
        stages, out = build("__s", "__p")

        def run(lazy: pl.LazyFrame) -> pl.LazyFrame:
            lazy = lazy.with_columns(checks.stripped(key).alias("__s"))
            for stage in stages:
                lazy = lazy.with_columns(e.alias(n) for n, e in stage.items())
            return lazy

        return run, out

    present = pl.col("__s") != ""

    def check(key: str, build: Callable[[str, str], tuple[checks.Stages, Any]],
              ok: Callable[[Any], pl.Expr], name: str) -> plx.Check:
        run, out = program(key, build)
        return _pl_check(lambda data: run(data.lazyframe).select(ok(out)), name=name)

    def plain(key: str) -> Callable[[str, str], tuple[checks.Stages, Any]]:
        return lambda src, p: ([], None)

    def field_checks(f: checks.Field) -> list[plx.Check]:
        k = f.key
        out: list[plx.Check] = []
        if f.required:
            out.append(check(k, plain(k), lambda _: present, "required"))
        if f.type == "date":
            out.append(check(k, checks.date_stages, lambda d: ~present | pl.col(d).is_not_null(), "date"))
            if not f.future:
                out.append(check(k, checks.date_stages, lambda d: (pl.col(d) <= ctx.today).fill_null(True),
                                 "date.future"))
        elif f.type == "decimal":
            out.append(check(k, plain(k), lambda _: ~present | pl.col("__s").str.contains(checks.DECIMAL_RE),
                             "decimal"))
        elif f.type in ("region", "industry", "agency"):
            out.append(check(k, plain(k), lambda _, t=f.type: ~present | pl.col("__s").is_in(ctx.known[t]), f.type))
        elif f.type == "id_number":
            out.append(check(k, lambda s, p: checks.id_number_stages(s, p, ctx.today),
                             lambda bad: ~present | ~pl.col(bad), "id_number"))
        elif f.type in ("domain", "domains"):
            resolver = checks.resolve_lists if f.type == "domains" else checks.resolve_column
            lookup, dom = ctx.lookup(f.domain), f.domain

            def mapped(s: pl.Series, dom: str = dom, lookup: dict[str, str] = lookup,
                       resolver: Any = resolver) -> pl.Series:
                return resolver(s, lookup, lambda v: ctx.domains.resolve(dom, v))

            out.append(_pl_check(lambda data, k=k, mapped=mapped: data.lazyframe.select(
                ~(checks.stripped(k) != "") | pl.col(k).map_batches(mapped, return_dtype=pl.String).is_not_null()),
                name="domain"))
        elif f.type == "uscc":
            for code in USCC_CODES:
                out.append(check(k, lambda s, p: checks.uscc_stages(s, p, ctx.regions),
                                 lambda flags, code=code: ~present | ~pl.col(flags[code]).fill_null(False), code))
        return out

    seen: set[str] = set()

    def duplicate(data: PolarsData) -> pl.LazyFrame:
        key = checks.stripped("uscc").str.to_uppercase()
        keys = data.lazyframe.select(key.alias("k")).collect().get_column("k")
        return _pl_first_time(keys, seen)

    licences: set[str] = set()
    licence_types = ctx.lookup("licence_type")

    def licence_duplicate(data: PolarsData) -> pl.LazyFrame:
        frame = data.lazyframe.select("licence_type", "licence_number").collect()
        codes = checks.resolve_column(frame.get_column("licence_type"), licence_types,
                                      lambda v: ctx.domains.resolve("licence_type", v))
        number = checks.stripped("licence_number")
        kind = pl.coalesce(pl.col("__code"), checks.stripped("licence_type"))
        keys = frame.with_columns(codes.alias("__code")).select(
            pl.when(number != "").then((kind + "|" + number).str.to_uppercase()).otherwise(pl.lit("")).alias("k")
        ).get_column("k")
        return _pl_first_time(keys, licences)

    people: set[str] = set()

    def person_duplicate(data: PolarsData) -> pl.LazyFrame:
        number = checks.stripped("id_number")
        keys = data.lazyframe.select(pl.when((checks.stripped("uscc") == "") & (number != ""))
                                     .then(number.str.to_uppercase()).otherwise(pl.lit("")).alias("k")
                                     ).collect().get_column("k")
        return _pl_first_time(keys, people)

    def natural_key(data: PolarsData) -> pl.LazyFrame:
        kind = pl.col("kind").map_batches(
            lambda s: checks.resolve_column(s, ctx.lookup("entity_kind"),
                                            lambda v: ctx.domains.resolve("entity_kind", v)), return_dtype=pl.String)
        return data.lazyframe.select((checks.stripped("uscc") != "") | (
            (kind == "natural_person").fill_null(False) & (checks.stripped("id_number") != "")))

    run_uscc, flags = program("uscc", lambda s, p: checks.uscc_stages(s, p, ctx.regions))

    def region_mismatch(data: PolarsData) -> pl.LazyFrame:
        region = checks.stripped("region_code")
        sound = ~pl.col(flags["uscc.length"]) & ~pl.col(flags["uscc.charset"]) & ~pl.col(flags["uscc.check"])
        return run_uscc(data.lazyframe).select(~(present & sound & (region != "") & (
            pl.col("__s").str.slice(2, 2) != region.str.slice(0, 2))).fill_null(True))

    def dates_order(data: PolarsData) -> pl.LazyFrame:
        est, _ = checks.date_stages("__e", "__pe")
        closed, _ = checks.date_stages("__c", "__pc")
        lazy = data.lazyframe.with_columns(checks.stripped("established_on").alias("__e"),
                                           checks.stripped("closed_on").alias("__c"))
        for stage in (*est, *closed):
            lazy = lazy.with_columns(e.alias(n) for n, e in stage.items())
        return lazy.select(~(pl.col("__pc:date") < pl.col("__pe:date")).fill_null(False))

    columns = {f.key: plx.Column(pl.String, checks=field_checks(f), nullable=True) for f in entities.FIELDS}
    columns["uscc"] = plx.Column(pl.String, checks=[*field_checks(entities.FIELDS[0]),
                                                    _pl_check(duplicate, name="duplicate.file")], nullable=True)
    return plx.DataFrameSchema(columns, checks=[
        _pl_check(natural_key, name="uscc|required"),
        _pl_check(region_mismatch, name="region_code|uscc.region_mismatch"),
        _pl_check(dates_order, name="closed_on|dates.order"),
        _pl_check(licence_duplicate, name="licence_number|duplicate.licence"),
        _pl_check(person_duplicate, name="id_number|duplicate.file"),
    ])


def polars_problems(schema: plx.DataFrameSchema, frame: pl.DataFrame) -> set[tuple[int, str, str]]:
    rows = frame.get_column(checks.ROW).to_list()
    try:
        schema.validate(frame, lazy=True)
    except plx.errors.SchemaErrors as errors:
        return _problems(errors.failure_cases.to_dicts(), lambda index: rows[int(index)])
    return set()


def _problems(cases: list[dict[str, Any]], row: Callable[[Any], int]) -> set[tuple[int, str, str]]:
    found: set[tuple[int, str, str]] = set()
    for case in cases:
        if case["index"] is None or (isinstance(case["index"], float) and case["index"] != case["index"]):
            raise AssertionError(f"a failure without a row: {case}")
        check = str(case["check"])
        field, code = check.split("|", 1) if "|" in check else (str(case["column"]), check)
        found.add((row(case["index"]), field, code))
    return found
