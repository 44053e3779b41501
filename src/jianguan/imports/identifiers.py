"""Identifier and date checks as Polars column expressions, exactly the per-value rules.

``uscc_stages`` is ``entities.uscc.validate`` (domain-rules §1.1) and ``id_number_stages`` is
``id_number_ok`` (GB 11643, §1.2), column-wise: a value becomes a fixed-width array of its bytes
(``bin.reinterpret``), check characters are weighted sums of per-position values gathered from a
byte → value table, and the calendar is integer arithmetic. Expressions come in *stages* (each one
``with_columns``; a stage may use the columns of the stages before it). tests/imports/test_checks.py
proves the equivalence with hypothesis.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

import polars as pl

from jianguan.core.workdays import today_shanghai
from jianguan.entities import uscc

# What Python's str.strip() removes (every c with c.isspace()); polars' strip_chars() without an
# argument keeps U+001C–U+001F, so the columnar checks strip exactly these to match str.strip().
PY_SPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
            "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}( 00:00:00)?$"  # an XLSX date cell reads as "YYYY-MM-DD 00:00:00"
PLAIN_DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
ID_RE = r"^[0-9]{17}[0-9Xx]$"
FIRST_DAY = dt.date(1, 1, 1)
USCC_CHARSET_RE = "^[" + "".join(sorted(set(uscc.CHARSET))) + "]*$"
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"  # index Σ mod 11

# Byte → value tables, gathered by the bytes of a code (non-members map to 0; the charset check
# has already rejected such codes wherever these values are used).
_USCC_VALUE = pl.Series("uscc_value", [uscc.VALUES.get(chr(b), 0) for b in range(256)], dtype=pl.Int32)
_ORG_VALUE = pl.Series("org_value", [(b - 48 if chr(b).isdigit() else b - 55) if chr(b) in uscc.VALUES else 0
                                     for b in range(256)], dtype=pl.Int32)
_ID_DIGIT = pl.Series("id_digit", [b - 48 if 48 <= b <= 57 else -(1 << 20) for b in range(256)], dtype=pl.Int32)
_ID_LAST = pl.Series("id_last", [b - 48 if 48 <= b <= 57 else 10 if chr(b) in "Xx" else -(1 << 20)
                                 for b in range(256)], dtype=pl.Int32)
# Outside the character set: so negative that any weighted sum including it is negative.
_USCC_MEMBER = pl.Series("uscc_member", [uscc.VALUES.get(chr(b), -(1 << 20)) for b in range(256)], dtype=pl.Int32)
_CATEGORY_PAIRS = pl.Series("pairs", sorted(d + c for d, cs in uscc.CATEGORY_PAIRS.items() for c in cs)).implode()

Stages = list[dict[str, pl.Expr]]


def stripped(key: str) -> pl.Expr:
    """The value as ``str.strip()`` leaves it; null becomes ""."""
    return pl.col(key).fill_null("").str.strip_chars(PY_SPACE)


def run_stages(df: pl.DataFrame, stages: Stages) -> pl.DataFrame:
    """The stages one after another (the expressions of a stage run in parallel)."""
    for stage in stages:
        if stage:
            df = df.with_columns(expr.alias(name) for name, expr in stage.items())
    return df


def merge_stages(into: Stages, more: Stages, at: int = 0) -> None:
    """Add ``more`` to ``into`` with its first stage at index ``at`` (stages run one after another)."""
    for i, stage in enumerate(more, start=at):
        while len(into) <= i:
            into.append({})
        into[i].update(stage)


def _bytes(s: pl.Expr, width: int) -> pl.Expr:
    """A fixed-width array of the UTF-8 bytes; null unless the value has exactly ``width`` bytes."""
    return s.cast(pl.Binary).bin.reinterpret(dtype=pl.Array(pl.UInt8, width))


def _digit(array: str, i: int) -> pl.Expr:
    return pl.col(array).arr.get(i).cast(pl.Int32) - 48


def _number(array: str, start: int, width: int) -> pl.Expr:
    total = _digit(array, start)
    for i in range(start + 1, start + width):
        total = total * 10 + _digit(array, i)
    return total


def _ymd_stage(p: str, array: str, at: int) -> dict[str, pl.Expr]:
    """Columns ``p:y``, ``p:m``, ``p:d`` from the digits of ``array`` at ``at`` (YYYY), ``at+4`` (MM), ``at+6`` (DD)."""
    return {f"{p}:y": _number(array, at, 4), f"{p}:m": _number(array, at + 4, 2), f"{p}:d": _number(array, at + 6, 2)}


def _real_ymd(p: str) -> pl.Expr:
    """``y*10000 + m*100 + d`` when (y, m, d) is a date ``datetime.date`` accepts (year ≥ 1), else null."""
    y, m, d = pl.col(f"{p}:y"), pl.col(f"{p}:m"), pl.col(f"{p}:d")
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    days = (pl.when(m == 2).then(28 + leap.cast(pl.Int32)).when(m.is_in([4, 6, 9, 11])).then(30)
            .otherwise(31))
    real = (y >= 1) & (m >= 1) & (m <= 12) & (d >= 1) & (d <= days)
    return pl.when(real).then(y * 10000 + m * 100 + d).otherwise(None).cast(pl.Int32)


def ymd(day: dt.date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


# --------------------------------------------------------------------------- identifier programs


def date_stages(src: str, p: str) -> tuple[Stages, str]:
    """Stages computing column ``p:date`` (a Date, null unless ``src`` is a real date written YYYY-MM-DD).

    The pattern fixes the form; strptime (lenient about the form, exact about the calendar) then only
    judges the day, and year 0, which Python's ``date`` lacks, is excluded."""
    day = pl.col(src).str.slice(0, 10).str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    return [{f"{p}:date": pl.when(pl.col(src).str.contains(DATE_RE) & (day >= FIRST_DAY)).then(day)}], f"{p}:date"


def plain_date_stages(src: str, p: str) -> tuple[Stages, str]:
    """The first pass's date program: column ``p:date`` only for a value written exactly YYYY-MM-DD,
    null for any other, which the exact program (``date_stages``) then judges. Parsing without the
    cache and without the slice, once (in its own stage), costs a third of what that program does,
    which matters when every row is parsed."""
    day = pl.col(src).str.to_date("%Y-%m-%d", strict=False, cache=False)
    return [{f"{p}:day": pl.when(pl.col(src).str.contains(PLAIN_DATE_RE)).then(day)},
            {f"{p}:date": pl.when(pl.col(f"{p}:day") >= FIRST_DAY).then(pl.col(f"{p}:day"))}], f"{p}:date"


def id_number_stages(src: str, p: str, today: dt.date) -> tuple[Stages, str]:
    """Stages computing column ``p:bad`` (True where ``src`` fails ``id_number_ok``). Digits and the
    check character are gathered from byte → value tables in which any other byte is so negative
    that the sums say whether the form is right (no pattern match)."""
    b = f"{p}:b"
    total, last = pl.col(f"{p}:sum"), pl.col(f"{p}:last")
    ok = (total >= 0) & (last >= 0) & (_real_ymd(p) <= ymd(today)) & ((12 - total % 11) % 11 == last)
    return [
        {b: _bytes(pl.col(src), 18)},
        {**_ymd_stage(p, b, 6),
         f"{p}:sum": pl.sum_horizontal([pl.lit(_ID_DIGIT).gather(pl.col(b).arr.get(i)) * w
                                        for i, w in enumerate(ID_WEIGHTS)]),
         f"{p}:last": pl.lit(_ID_LAST).gather(pl.col(b).arr.get(17))},
        {f"{p}:bad": ~ok.fill_null(False)},
    ], f"{p}:bad"


def _known_division(src: str, regions: Collection[str]) -> pl.Expr:
    """Positions 3–8 of the code are a division in ``regions`` (``validate`` asks only all-digit ones)."""
    digits = sorted(r for r in regions if r.isascii() and r.isdigit())
    return pl.col(src).str.slice(2, 6).is_in(pl.Series(digits, dtype=pl.String).implode())


def _org_char(weighted: pl.Expr) -> pl.Expr:
    """The GB 11714 check character (as its byte) of the organisation code's weighted sum."""
    check = 11 - weighted % 11
    return pl.when(check == 10).then(ord("X")).when(check == 11).then(ord("0")).otherwise(check + ord("0"))


def uscc_stages(src: str, p: str, regions: Collection[str] | None) -> tuple[Stages, dict[str, str]]:
    """Stages computing one boolean column per ``uscc.validate`` error/warning code for the stripped
    column ``src``: the code → column name. Same order of decisions as ``validate``: a length or
    charset error stops there, a wrong check character stops there, then the three warnings."""
    b = f"{p}:b"
    first: dict[str, pl.Expr] = {
        f"{p}:length": pl.col(src).str.len_chars() != 18,
        f"{p}:charset": ~pl.col(src).str.contains(USCC_CHARSET_RE),
        b: _bytes(pl.col(src), 18),
        f"{p}:pair": pl.col(src).str.slice(0, 2).is_in(_CATEGORY_PAIRS),
    }
    if regions is not None:  # validate() asks is_region only of all-digit divisions
        first[f"{p}:region"] = _known_division(src, regions)
    values = [pl.lit(_USCC_VALUE).gather(pl.col(b).arr.get(i)) for i in range(18)]
    org = [pl.lit(_ORG_VALUE).gather(pl.col(b).arr.get(8 + i)) for i in range(8)]
    total = pl.sum_horizontal([v * w for v, w in zip(values, uscc.WEIGHTS, strict=False)])
    org_char = _org_char(pl.sum_horizontal([v * w for v, w in zip(org, uscc.ORG_WEIGHTS, strict=True)]))
    formed = ~pl.col(f"{p}:length") & ~pl.col(f"{p}:charset")
    second = {
        f"{p}:formed": formed,
        f"{p}:check": formed & ((31 - total % 31) % 31 != values[17]),
        f"{p}:org": org_char != pl.col(b).arr.get(16).cast(pl.Int32),
    }
    sound = pl.col(f"{p}:formed") & ~pl.col(f"{p}:check")
    third = {
        f"{p}:uscc.org_check": sound & pl.col(f"{p}:org"),
        f"{p}:uscc.category": sound & ~pl.col(f"{p}:pair"),
    }
    if regions is not None:
        third[f"{p}:uscc.division"] = sound & ~pl.col(f"{p}:region")
    columns = {"uscc.length": f"{p}:length", "uscc.charset": f"{p}:charset", "uscc.check": f"{p}:check",
               **{code: f"{p}:{code}" for code in uscc.WARNINGS if f"{p}:{code}" in third}}
    return [first, second, third], columns


def uscc_clean_stages(src: str, p: str, regions: Collection[str] | None) -> tuple[Stages, str]:
    """Stages computing column ``p:clean``: True where ``src``, as it is, is a code ``uscc.validate``
    finds nothing wrong with (no error, no warning) and has no surrounding spaces — the first pass:
    only the other rows need the exact program (``uscc_stages`` on the stripped value). Cheaper than
    that program: no strip, and a character outside the set maps to a large negative value, so the
    weighted sum of the check character also says whether every character is in the set. Also
    ``p:b``, the code's bytes."""
    b = f"{p}:b"
    first: dict[str, pl.Expr] = {
        b: _bytes(pl.col(src), 18),
        f"{p}:pair": pl.col(src).str.slice(0, 2).is_in(_CATEGORY_PAIRS),
    }
    if regions is not None:
        first[f"{p}:region"] = _known_division(src, regions)
    total = pl.sum_horizontal([pl.lit(_USCC_MEMBER).gather(pl.col(b).arr.get(i)) * w
                               for i, w in enumerate(uscc.WEIGHTS[:17])])
    org = pl.sum_horizontal([pl.lit(_ORG_VALUE).gather(pl.col(b).arr.get(8 + i)) * w
                             for i, w in enumerate(uscc.ORG_WEIGHTS)])
    org_char = _org_char(pl.col(f"{p}:org"))
    last = pl.col(f"{p}:last")
    clean = ((pl.col(f"{p}:sum") >= 0) & (last >= 0) & ((31 - pl.col(f"{p}:sum") % 31) % 31 == last)
             & pl.col(f"{p}:pair") & (org_char == pl.col(b).arr.get(16).cast(pl.Int32)))
    if regions is not None:
        clean = clean & pl.col(f"{p}:region")
    second = {f"{p}:sum": total, f"{p}:org": org, f"{p}:last": pl.lit(_USCC_MEMBER).gather(pl.col(b).arr.get(17))}
    return [first, second, {f"{p}:clean": clean.fill_null(False)}], f"{p}:clean"


def uscc_flags(values: pl.Series, regions: Collection[str] | None = None) -> pl.DataFrame:
    """One boolean column per code of ``uscc.ERRORS + uscc.WARNINGS``: True where ``uscc.validate(value,
    is_region=regions.__contains__)`` reports it (a null value counts as "")."""
    stages, columns = uscc_stages("s", "u", regions)
    work = run_stages(pl.DataFrame({"v": values.cast(pl.String)}).select(stripped("v").alias("s")), stages)
    return work.select(pl.col(columns[c]).fill_null(False).alias(c) if c in columns else pl.lit(False).alias(c)
                       for c in (*uscc.ERRORS, *uscc.WARNINGS))


def id_number_bad(values: pl.Series, today: dt.date) -> pl.Series:
    """True where ``id_number_ok(value, today)`` is False (a null value counts as "")."""
    stages, column = id_number_stages("s", "i", today)
    work = run_stages(pl.DataFrame({"v": values.cast(pl.String)}).select(stripped("v").alias("s")), stages)
    return work.get_column(column)


def real_dates(values: pl.Series) -> pl.Series:
    """The Date of each value that is a real date written YYYY-MM-DD, else null."""
    stages, column = date_stages("s", "d")
    work = run_stages(pl.DataFrame({"v": values.cast(pl.String)}).select(stripped("v").alias("s")), stages)
    return work.get_column(column)


def id_number_ok(value: str, today: dt.date | None = None) -> bool:
    """GB 11643: 17 ASCII digits + check character (MOD 11-2, X in either case), birth date (positions
    7–14) a real date not after ``today``. Surrounding spaces are ignored."""
    v = value.strip()
    if len(v) != 18 or any(c not in "0123456789" for c in v[:17]) or v[17] not in "0123456789Xx":
        return False
    try:
        born = dt.date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return False
    if born > (today or today_shanghai()):
        return False
    return v[17].upper() == ID_CHECK[sum(int(c) * w for c, w in zip(v[:17], ID_WEIGHTS, strict=True)) % 11]
