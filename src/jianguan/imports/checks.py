"""Column checks over a Polars frame of strings: each yields problems (row, field, code, severity).

Every check is a column expression (identifiers.py holds the USCC, ID-number and date ones), so a
slice of 50,000 rows costs a fixed number of passes whatever its values are. The expressions of a
field list are built once per import (``Context.memo``), grouped into stages (one ``with_columns``
each, its expressions in parallel), and all problem masks are evaluated in one ``select``. Clean
values are checked as they are; only rows where a non-empty value fails go through the exact
program (stripped values, and ``ValueDomains.resolve`` in Python once per distinct value that is
neither an exact code nor an exact name). Duplicates inside a file are found by duplicates.py.

Row numbers are as the user sees them in the file: header = row 1, first data row = 2.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar, cast

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.core.i18n import N_, gettext
from jianguan.core.workdays import today_shanghai
from jianguan.entities import uscc
from jianguan.imports.identifiers import (
    DATE_RE,
    ID_CHECK,
    ID_RE,
    ID_WEIGHTS,
    PY_SPACE,
    Stages,
    date_stages,
    id_number_bad,
    id_number_ok,
    id_number_stages,
    merge_stages,
    plain_date_stages,
    real_dates,
    run_stages,
    stripped,
    uscc_clean_stages,
    uscc_flags,
    uscc_stages,
    ymd,
)
from jianguan.reference.service import ValueDomains

__all__ = [  # with the identifier checks, which the import kinds take from here
    "DATE_RE",
    "DECIMAL_RE",
    "DIMENSION_OF",
    "ERROR",
    "ID_CHECK",
    "ID_RE",
    "ID_WEIGHTS",
    "MESSAGES",
    "PROBLEM_SCHEMA",
    "PY_SPACE",
    "ROW",
    "WARNING",
    "Context",
    "Field",
    "Found",
    "Problems",
    "Stages",
    "blank",
    "date_stages",
    "domain_lookup",
    "id_number_bad",
    "id_number_ok",
    "id_number_stages",
    "merge_stages",
    "message",
    "per_value",
    "rates",
    "real_dates",
    "resolve_column",
    "resolve_lists",
    "run_stages",
    "standard_checks",
    "stripped",
    "uscc_clean_stages",
    "uscc_flags",
    "uscc_stages",
    "ymd",
]

ROW = "__row"
ERROR, WARNING = "error", "warning"
DIMENSIONS = ("completeness", "accuracy", "consistency", "timeliness")

MESSAGES: dict[str, str] = {
    "required": N_("This field is required."),
    "date": N_("Not a real date (YYYY-MM-DD)."),
    "date.future": N_("The date is in the future."),
    "decimal": N_("Not a decimal number."),
    "domain": N_("Not a value of the value domain {domain} (give its code or Chinese name)."),
    "region": N_("Not an administrative division code (GB/T 2260)."),
    "industry": N_("Not an industry class (GB/T 4754, 4 digits)."),
    "agency": N_("No agency with this code."),
    "id_number": N_("Not a valid ID number (GB 11643: real birth date, check digit MOD 11-2)."),
    "uscc.region_mismatch": N_("USCC positions 3–8 are in another province than region_code."),
    "dates.order": N_("The closing date is before the establishment date."),
    "duplicate.file": N_("This key already appears on an earlier row of the file."),
    "duplicate.licence": N_("This licence (type and number) already appears on an earlier row of the file."),
    "stale": N_("The data is older than the agreed freshness for source {source} ({days} days)."),
    **uscc.MESSAGES,
}
DIMENSION_OF = {"required": "completeness", "stale": "timeliness", "uscc.region_mismatch": "consistency",
                "dates.order": "consistency", "duplicate.file": "consistency",
                "duplicate.licence": "consistency"}
PROBLEM_SCHEMA = {ROW: pl.Int64, "field": pl.String, "code": pl.String, "severity": pl.String,
                  "message": pl.String}

DECIMAL_RE = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$"
T = TypeVar("T")


@dataclass(frozen=True)
class Field:
    """One column of an import kind: its key (the header), Chinese label and type."""

    key: str
    label: str
    type: str = "text"  # text/date/decimal/domain/domains/region/industry/agency/uscc/id_number
    required: bool = False
    domain: str = ""
    help: str = ""
    future: bool = False  # a date that may lie ahead (a licence's expiry); others may not


@dataclass(frozen=True)
class Context:
    """What checks compare against, read from the database once per import (then DB-free)."""

    today: dt.date
    domains: ValueDomains
    regions: frozenset[str]
    industries: frozenset[str]
    agencies: dict[str, int]  # agency code -> id

    @classmethod
    def load(cls, db: Session, *, today: dt.date | None = None) -> Context:
        from jianguan.officers.models import Agency
        from jianguan.reference import service as ref
        from jianguan.reference.models import Industry

        return cls(today=today or today_shanghai(), domains=ref.ValueDomains.load(db),
                   regions=frozenset(ref.region_codes(db)),
                   industries=frozenset(db.scalars(select(Industry.code).where(Industry.level == "class"))),
                   agencies={code: id_ for code, id_ in db.execute(select(Agency.code, Agency.id))})

    @classmethod
    def from_package(cls, *, today: dt.date, agencies: Mapping[str, int] | None = None) -> Context:
        """Without a database: the reference data shipped in the package (what ``jianguan init``
        loads) — for tests and benchmarks."""
        from jianguan.reference import service as ref
        from jianguan.reference.data.value_domains import DOMAINS

        items = [ref.DomainItem(domain, item[0], item[1], order * 10, None, None,
                                bool(item[2]) if len(item) > 2 else True)
                 for domain, _name, _description, spec in DOMAINS for order, item in enumerate(spec, start=1)]
        return cls(today=today, domains=ref.ValueDomains.from_items(items, on=today),
                   regions=frozenset(r.code for r in ref.package_regions()),
                   industries=frozenset(i["code"] for i in ref.package_industries() if i["level"] == "class"),
                   agencies=dict(agencies or {}))

    def is_region(self, code: str) -> bool:
        return code in self.regions

    # Built once per import, not once per slice (a frozen dataclass still has a __dict__). Only
    # entries without surrounding spaces: a stripped value can equal no other.
    @cached_property
    def known(self) -> dict[str, pl.Series]:
        """Field type (region / industry / agency) → its codes, imploded for ``is_in``."""
        def series(values: Iterable[str]) -> pl.Series:
            return pl.Series(sorted(v for v in values if v == v.strip()), dtype=pl.String).implode()

        return {"region": series(self.regions), "industry": series(self.industries),
                "agency": series(self.agencies)}

    @cached_property
    def _memo(self) -> dict[Hashable, Any]:
        return {}

    def memo(self, key: Hashable, build: Callable[[], T]) -> T:
        """``build()`` once per import for ``key`` (check plans, lookups: built once, used per slice)."""
        if key not in self._memo:
            self._memo[key] = build()
        return cast(T, self._memo[key])

    def lookup(self, domain: str) -> dict[str, str]:
        """Exact value → code for every code and name of ``domain`` (a subset of ``domains.resolve``)."""
        return self.memo(("lookup", domain), lambda: domain_lookup(self.domains, domain))


@dataclass
class Problems:
    frames: list[pl.DataFrame] = field(default_factory=list)

    def add(self, df: pl.DataFrame, mask: pl.Expr, key: str, code: str, severity: str = ERROR,
            **params: str) -> None:
        self.add_many(df, [(mask, key, code, severity, params)])

    def add_many(self, df: pl.DataFrame, found: Iterable[tuple[pl.Expr, str, str, str, Mapping[str, str]]]) -> None:
        """Several (mask, field, code, severity, params) at once: every mask in one parallel select."""
        specs = list(found)
        if not specs or df.height == 0:
            return
        flags = df.select(pl.col(ROW), *(m.fill_null(False).alias(f"__m{i}") for i, (m, *_) in enumerate(specs)))
        rows = flags.get_column(ROW)
        for i, (_, key, code, severity, params) in enumerate(specs):
            hit = flags.get_column(f"__m{i}")
            if not hit.any():
                continue
            self.frames.append(rows.filter(hit).to_frame().with_columns(
                pl.lit(key, pl.String).alias("field"), pl.lit(code, pl.String).alias("code"),
                pl.lit(severity, pl.String).alias("severity"),
                pl.lit(message(code, **params), pl.String).alias("message")))

    def frame(self) -> pl.DataFrame:
        if not self.frames:
            return pl.DataFrame(schema=PROBLEM_SCHEMA)
        return pl.concat(self.frames).sort(ROW, "field")


def message(code: str, **params: str) -> str:
    """The Chinese message of a problem code (the code itself when it has none)."""
    if code not in MESSAGES:
        return code
    return gettext(MESSAGES[code], "zh_CN").format(**params)


def blank(key: str) -> pl.Expr:
    """Null or only spaces — as the writers see it (``not str(value).strip()``)."""
    return stripped(key) == ""


def per_value(df: pl.DataFrame, key: str, fn: Callable[[str], str | None]) -> pl.Expr:
    """``fn`` once per distinct non-blank value → a column expression of its results (for checks
    that cannot be columnar; the standard ones no longer use it)."""
    values = df.get_column(key).drop_nulls().unique().to_list()
    mapping = {v: fn(v) for v in values if v.strip()}
    return pl.col(key).replace_strict(mapping, default=None, return_dtype=pl.String)


# --------------------------------------------------------------------------- value domains


def domain_lookup(domains: ValueDomains, domain: str) -> dict[str, str]:
    """value → code for every code, case-folded code and name of ``domain`` that ``resolve`` maps.

    For such a value ``v`` (already stripped), ``lookup[v] == domains.resolve(domain, v)``; a value
    outside it is left to ``resolve`` itself, so the columnar mapping is exactly ``resolve``."""
    keys = {k for i in domains.items.get(domain, []) for k in (i.code, i.code.casefold(), i.name)}
    found = {k: domains.resolve(domain, k) for k in keys if k and k == k.strip()}
    return {k: v for k, v in found.items() if v is not None}


def resolve_column(values: pl.Series, lookup: Mapping[str, str], resolve: Callable[[str], str | None]) -> pl.Series:
    """Code (or null) of each value: exact matches columnar, the rest through ``resolve`` once each."""
    frame = pl.DataFrame({"v": values.cast(pl.String)})
    mapped = frame.select(stripped("v").replace_strict(lookup, default=None, return_dtype=pl.String)).to_series()
    return _fallback(values, mapped, values.is_not_null(), resolve).alias(values.name)


def _fallback(values: pl.Series, mapped: pl.Series, present: pl.Series,
              resolve: Callable[[str], str | None]) -> pl.Series:
    """``mapped`` completed by ``resolve`` for the distinct present values the exact lookup missed."""
    missed = mapped.is_null() & present
    if not missed.any():
        return mapped
    extra = {v: r for v in values.filter(missed).unique().to_list() if (r := resolve(v)) is not None}
    if not extra:
        return mapped
    return mapped.zip_with(~missed, values.replace_strict(extra, default=None, return_dtype=pl.String))


def resolve_lists(values: pl.Series, lookup: Mapping[str, str], resolve: Callable[[str], str | None]) -> pl.Series:
    """';'-lists (full-width '；' too) → ';'-joined codes; null when any item is unknown; "" when the list
    has no item. Each distinct list is split once."""
    return _lists(values, lookup, resolve)[0]


def _lists(values: pl.Series, lookup: Mapping[str, str],
           resolve: Callable[[str], str | None]) -> tuple[pl.Series, pl.Series]:
    """(``resolve_lists``, whether each value is not blank): worked out once per distinct list and
    gathered back through an Enum of the distinct lists (cheaper than hashing every row again)."""
    distinct = values.drop_nulls().unique()
    if distinct.len() == 0:
        return pl.Series(values.name, [None] * values.len(), dtype=pl.String), pl.Series([False] * values.len())
    parts = (pl.DataFrame({"list": distinct})
             .with_columns(pl.col("list").str.replace_all("；", ";", literal=True).str.split(";").alias("part"))
             .explode("part")
             .filter(pl.col("part").str.strip_chars(PY_SPACE) != ""))
    parts = parts.with_columns(resolve_column(parts.get_column("part"), lookup, resolve).alias("code"))
    joined = parts.group_by("list", maintain_order=True).agg(
        pl.when(pl.col("code").null_count() == 0).then(pl.col("code").str.join(";")).alias("codes"))
    mapping = dict.fromkeys(distinct.to_list(), "")
    mapping.update(zip(joined.get_column("list").to_list(), joined.get_column("codes").to_list(), strict=True))
    lists = pl.Enum(list(mapping))
    at = values.cast(lists).to_physical()
    codes = pl.Series(values.name, list(mapping.values()), dtype=pl.String).gather(at)
    present = pl.Series([bool(v.strip()) for v in mapping], dtype=pl.Boolean).gather(at).fill_null(False)
    return codes, present


# --------------------------------------------------------------------------- the standard checks


@dataclass
class _Typed:
    """The column program of one typed field over a source column: stages, then per problem code a
    boolean column (True = the value fails, when it is present), and the columns it produces."""

    field: Field
    stages: Stages
    flags: dict[str, str]
    code: str = ""  # domain: the mapped code (null when unknown)
    date: str = ""  # date: the Date when real


def _typed(f: Field, src: str, p: str, ctx: Context, *, first: bool = False) -> _Typed:
    """``first``: the program of the first pass, which may leave any unusual value in doubt."""
    s = pl.col(src)
    if f.type == "date":
        stages, day = plain_date_stages(src, p) if first else date_stages(src, p)
        flags = {f"{p}!date": pl.col(day).is_null()}
        if not f.future:
            flags[f"{p}!date.future"] = pl.col(day) > ctx.today
        stages.append(flags)
        return _Typed(f, stages, {c.split("!", 1)[1]: c for c in flags}, date=day)
    if f.type == "decimal":
        return _Typed(f, [{f"{p}!decimal": ~s.str.contains(DECIMAL_RE)}], {"decimal": f"{p}!decimal"})
    if f.type in ("region", "industry", "agency"):
        return _Typed(f, [{f"{p}!{f.type}": ~s.is_in(ctx.known[f.type])}], {f.type: f"{p}!{f.type}"})
    if f.type == "id_number":
        stages, bad = id_number_stages(src, p, ctx.today)
        return _Typed(f, stages, {"id_number": bad})
    if f.type == "domain":
        code = f"{p}:code"
        lookup = ctx.lookup(f.domain)  # an Enum of the accepted values maps them: half the cost of replace_strict
        values = pl.Enum(list(lookup)) if lookup else pl.Enum([""])
        codes = pl.Series([lookup.get(v) for v in values.categories], dtype=pl.String)
        mapped = pl.lit(codes).gather(s.cast(values, strict=False).to_physical())
        return _Typed(f, [{code: mapped}, {f"{p}!domain": pl.col(code).is_null()}], {"domain": f"{p}!domain"},
                      code=code)
    raise ValueError(f"unknown field type {f.type!r}")


def _params(f: Field, code: str) -> dict[str, str]:
    return {"domain": f.domain} if code == "domain" else {}


Found = list[tuple[pl.Expr, str, str, str, Mapping[str, str]]]  # (mask, field, code, severity, params)
TYPED = ("date", "decimal", "region", "industry", "agency", "id_number", "domain")


@dataclass
class _Plan:
    """The expressions of ``standard_checks`` for one field list, built once per import (building
    Polars expressions costs more Python time than evaluating them on a slice)."""

    keys: list[str]
    typed: list[Field]
    lists: list[Field]
    first: Stages  # pass 1 on the values as they are; its last stage computes __doubt
    first_found: Found
    first_out: list[pl.Expr]
    exact: list[_Typed]  # pass 2 on stripped values, rows in doubt only
    exact_stages: Stages
    exact_found: Found
    exact_out: list[pl.Expr]

    @classmethod
    def build(cls, todo: list[Field], ctx: Context) -> _Plan:
        typed = [f for f in todo if f.type in TYPED]
        raw = [_typed(f, f.key, f"__{f.key}", ctx, first=True) for f in typed]
        first: Stages = []
        for program in raw:
            merge_stages(first, program.stages)
        doubt = pl.any_horizontal(pl.lit(False), *(
            (pl.col(p.field.key).str.len_bytes().fill_null(0) > 0)
            & pl.any_horizontal(pl.col(c) for c in p.flags.values()).fill_null(True) for p in raw))
        first.append({"__doubt": doubt})
        # Rows not in doubt: a required value is missing only when null or "" (else it would be in doubt).
        found: Found = [(blank(f.key), f.key, "required", ERROR, {}) for f in todo if f.required and f not in typed]
        found += [(~pl.col("__doubt") & (pl.col(f.key).str.len_bytes().fill_null(0) == 0), f.key, "required",
                   ERROR, {}) for f in typed if f.required]
        out: list[pl.Expr] = []
        for p in raw:
            k = p.field.key
            if p.code:
                out.append(pl.col(p.code).alias(k))
            if p.date:  # a date the first pass accepts is written YYYY-MM-DD already
                out.append(pl.col(p.date).alias(f"__{k}:date"))
        exact = [_typed(f, f"__{f.key}:s", f"__{f.key}", ctx) for f in typed]
        stages: Stages = [{f"__{f.key}:s": stripped(f.key) for f in typed}]
        exact_found: Found = []
        for p in exact:
            merge_stages(stages, p.stages, at=1)
            f, present = p.field, pl.col(f"__{p.field.key}:s") != ""
            if f.required:
                exact_found.append((~present, f.key, "required", ERROR, {}))
            exact_found += [(present & pl.col(column), f.key, code, ERROR, _params(f, code))
                            for code, column in p.flags.items()]
        exact_out: list[pl.Expr] = []
        for p in exact:
            k, s = p.field.key, f"__{p.field.key}:s"
            if p.code:
                exact_out.append(pl.when(pl.col(s) != "").then(pl.col(p.code)).alias(k))
            if p.date:
                exact_out += [pl.col(p.date).alias(f"__{k}:date"), pl.when(pl.col(p.date).is_not_null())
                              .then(pl.col(s).str.slice(0, 10)).otherwise(pl.col(k)).alias(k)]
        return cls([f.key for f in todo], typed, [f for f in todo if f.type == "domains"], first, found, out,
                   exact, stages, exact_found, exact_out)


def standard_checks(df: pl.DataFrame, fields: Iterable[Field], problems: Problems, ctx: Context) -> pl.DataFrame:
    """Completeness and accuracy of each field; returns ``df`` with coded values mapped to codes and
    dates written YYYY-MM-DD (plus ``__<key>:date``, the real dates as Date, for the kind's checks).

    Two passes, so clean values are never copied: the typed checks first run on the values as they
    are. A value that passes there has no surrounding spaces (every pattern and code list excludes
    them), so the verdict is final. Rows where some non-empty value fails go through the exact
    program — stripped values, the Python fallback of value domains — which alone reports problems."""
    todo = tuple(f for f in fields if f.key in df.columns)
    plan: _Plan = ctx.memo(("standard_checks", todo), lambda: _Plan.build(list(todo), ctx))
    work = run_stages(df.select(ROW, *plan.keys), plan.first)
    problems.add_many(work, plan.first_found)
    outputs = {s.name: s for s in work.select(plan.first_out).get_columns()}
    doubt = work.get_column("__doubt")
    if doubt.any():
        _exact(work, plan, problems, ctx, outputs, doubt.arg_true())
    for f in plan.lists:
        codes, present = _lists(work.get_column(f.key), ctx.lookup(f.domain), _resolver(ctx, f.domain))
        problems.add_many(pl.DataFrame({ROW: work.get_column(ROW), "bad": present & codes.is_null()}),
                          [(pl.col("bad"), f.key, "domain", ERROR, {"domain": f.domain})])
        outputs[f.key] = pl.select(pl.when(present).then(codes)).to_series().alias(f.key)
    return df.with_columns(outputs.values())


def _resolver(ctx: Context, domain: str) -> Callable[[str], str | None]:
    return lambda v: ctx.domains.resolve(domain, v)


def _exact(values: pl.DataFrame, plan: _Plan, problems: Problems, ctx: Context, outputs: dict[str, pl.Series],
           where: pl.Series) -> None:
    """The exact checks of the rows in doubt (stripped values); their outputs replace the first pass's
    (or, for a column the first pass leaves as it is, the values themselves)."""
    work = run_stages(values.select(ROW, *(f.key for f in plan.typed)).gather(where), plan.exact_stages)
    coded = [p for p in plan.exact if p.code]
    missed = work.select((pl.col(f"__{p.field.key}:s") != "") & pl.col(p.code).is_null() for p in coded)
    patches: list[pl.Expr] = []
    for p, column in zip(coded, missed.get_columns(), strict=True):
        if not column.any():
            continue  # what the exact lookup missed goes to ValueDomains.resolve, once per distinct value
        resolve = _resolver(ctx, p.field.domain)
        extra = {v: r for v in work.get_column(p.field.key).filter(column).unique().to_list()
                 if (r := resolve(v)) is not None}
        if extra:
            code = pl.col(p.code).fill_null(pl.col(p.field.key).replace_strict(extra, default=None,
                                                                                return_dtype=pl.String))
            patches += [code.alias(p.code), code.is_null().alias(p.flags["domain"])]
    if patches:
        work = work.with_columns(patches)
    problems.add_many(work, plan.exact_found)
    for column in work.select(plan.exact_out).get_columns():
        base = outputs[column.name] if column.name in outputs else values.get_column(column.name)
        outputs[column.name] = base.scatter(where, column)


def rates(problems: pl.DataFrame, total: int) -> dict[str, float]:
    """Pass rate per dimension: share of rows without an error or warning of that dimension."""
    dims = problems.with_columns(
        pl.col("code").replace_strict(DIMENSION_OF, default="accuracy").alias("dimension"))
    result: dict[str, float] = {}
    for dim in DIMENSIONS:
        failing = dims.filter((pl.col("dimension") == dim) & (pl.col(ROW) > 0)).get_column(ROW).n_unique()
        result[dim] = 1.0 if total == 0 else round((total - failing) / total, 4)
    return result
