"""The columnar import checks: the same verdicts as the per-value rules, and every problem kind.

The identifier checks are column expressions; hypothesis proves they say exactly what
``entities.uscc.validate`` and ``id_number_ok`` say for each value (valid codes of every category
pair, mutated ones, random strings); the value-domain mapping is exactly ``ValueDomains.resolve``.
"""

from __future__ import annotations

import datetime as dt
import re
import sys

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session
from stdnum.cn import ric

from jianguan.entities import importing as entities
from jianguan.entities import uscc
from jianguan.imports import checks, duplicates
from jianguan.imports.checks import ROW, Context, Problems
from jianguan.imports.duplicates import Seen

TODAY = dt.date(2026, 11, 23)
REGIONS = frozenset({"330106", "330108", "110101", "320102", "330000", "3301X6"})
PAIRS = [(dept, cat) for dept, cats in uscc.CATEGORY_PAIRS.items() for cat in cats]
# Characters a mutation may bring in: the charset, letters outside it, lower case, spaces of every
# kind (those polars and Python strip differently too), punctuation, Chinese.
NOISE = uscc.CHARSET + "IOZSVaxo-_. \t\x1c\x1f\u3000\xa0中国"
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def ctx() -> Context:
    return Context.from_package(today=TODAY, agencies={"330106-SJ": 1, "330108-SJ": 2})


# --------------------------------------------------------------------------- strategies


@st.composite
def valid_usccs(draw: st.DrawFn) -> str:
    """Codes with both check characters right: known pairs and unknown ones, known divisions and not."""
    dept, cat = draw(st.sampled_from([*PAIRS, ("Y", "9"), ("A", "3"), ("Q", "Q")]))
    division = draw(st.sampled_from(sorted(REGIONS)) | st.text(uscc.CHARSET, min_size=6, max_size=6))
    org8 = draw(st.text(uscc.CHARSET, min_size=8, max_size=8))
    return uscc.make_uscc(dept, cat, division, org8)


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[str]) -> str:
    value = draw(base)
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["replace", "delete", "insert", "lower", "pad", "org"]))
        at = draw(st.integers(0, max(len(value) - 1, 0)))
        if kind == "replace" and value:
            value = value[:at] + draw(st.sampled_from(NOISE)) + value[at + 1:]
        elif kind == "delete":
            value = value[:at] + value[at + 1:]
        elif kind == "insert":
            value = value[:at] + draw(st.sampled_from(NOISE)) + value[at:]
        elif kind == "lower":
            value = value.lower()
        elif kind == "pad":
            value = draw(st.sampled_from([" ", "\t", "\u3000", "\x1c", ""])) + value + draw(
                st.sampled_from([" ", "\n", "\xa0", ""]))
        elif kind == "org" and len(value) == 18:  # a wrong GB 11714 digit, position 18 made right again
            first17 = value[:16] + draw(st.sampled_from("0123456789X"))
            if all(c in uscc.VALUES for c in first17):
                value = first17 + uscc.compute_check_char(first17)
    return value


@st.composite
def valid_id_numbers(draw: st.DrawFn) -> str:
    born = draw(st.dates(dt.date(1, 1, 1), dt.date(2100, 12, 31)))  # some lie after TODAY: invalid
    body = draw(st.text("0123456789", min_size=6, max_size=6)) + born.strftime("%Y%m%d").zfill(8) + draw(
        st.text("0123456789", min_size=3, max_size=3))
    total = sum(int(c) * w for c, w in zip(body, checks.ID_WEIGHTS, strict=True))
    return body + draw(st.sampled_from([checks.ID_CHECK[total % 11], checks.ID_CHECK[total % 11].lower()]))


USCC_VALUES = st.lists(valid_usccs() | mutated(valid_usccs()) | st.text(NOISE, max_size=20), max_size=40)
ID_VALUES = st.lists(valid_id_numbers() | mutated(valid_id_numbers()) | st.text("0123456789Xx -\u3000", max_size=20),
                     max_size=40)


# --------------------------------------------------------------------------- identifiers


@SETTINGS
@given(USCC_VALUES)
def test_columnar_uscc_verdict_is_exactly_uscc_validate(values: list[str]) -> None:
    flags = checks.uscc_flags(pl.Series(values, dtype=pl.String), REGIONS)
    for value, row in zip(values, flags.iter_rows(named=True), strict=True):
        expected = uscc.validate(value, is_region=REGIONS.__contains__)
        assert {c for c, hit in row.items() if hit} == {*expected.errors, *expected.warnings}, repr(value)


@SETTINGS
@given(USCC_VALUES)
def test_without_a_region_list_no_division_warning_as_in_validate(values: list[str]) -> None:
    flags = checks.uscc_flags(pl.Series(values, dtype=pl.String))
    for value, row in zip(values, flags.iter_rows(named=True), strict=True):
        expected = uscc.validate(value)
        assert {c for c, hit in row.items() if hit} == {*expected.errors, *expected.warnings}, repr(value)


@SETTINGS
@given(USCC_VALUES)
def test_a_clean_code_is_exactly_one_validate_passes_as_it_is(values: list[str]) -> None:
    stages, column = checks.uscc_clean_stages("v", "u", REGIONS)
    clean = checks.run_stages(pl.DataFrame({"v": values}, schema={"v": pl.String}), stages).get_column(column)
    for value, verdict in zip(values, clean, strict=True):
        result = uscc.validate(value, is_region=REGIONS.__contains__)
        assert verdict == (value == value.strip() and not result.errors and not result.warnings), repr(value)


def _entity_problems(row: dict[str, str | None]) -> set[tuple[str, str]]:
    """What ``entities.check`` must report for one row, one value at a time (its docstring's rules)."""
    code = (row["uscc"] or "").strip()
    region = (row["region_code"] or "").strip()
    if not code:
        natural = row["kind"] == "natural_person" and bool((row["id_number"] or "").strip())
        return set() if natural else {("uscc", "required")}
    result = uscc.validate(code, is_region=REGIONS.__contains__)
    found = {("uscc", c) for c in (*result.errors, *result.warnings)}
    if not result.errors and region and code[2:4] != region[:2]:
        found.add(("region_code", "uscc.region_mismatch"))
    return found


@SETTINGS
@given(st.lists(st.fixed_dictionaries({
    "uscc": st.none() | valid_usccs() | mutated(valid_usccs()),
    "region_code": st.none() | st.sampled_from(["330106", " 330106", "3", "", "110101 ", "\u300032", "33", "320102",
                                                "3X"]),
    "kind": st.sampled_from(["enterprise", "natural_person"]),
    "id_number": st.none() | st.sampled_from(["", " ", "110101199003078515"]),
}), max_size=30))
def test_the_two_pass_entity_check_reports_what_the_per_row_rules_say(rows: list[dict[str, str | None]]) -> None:
    ctx = Context.from_package(today=TODAY)
    ctx = Context(today=TODAY, domains=ctx.domains, regions=REGIONS, industries=ctx.industries, agencies={})
    problems = Problems()
    entities.check(frame(rows), problems, ctx)
    found = {(r[ROW], r["field"], r["code"]) for r in problems.frame().iter_rows(named=True)}
    assert found == {(i + 2, f, c) for i, row in enumerate(rows) for f, c in _entity_problems(row)}


def test_generated_province_codes_pass_the_columnar_uscc_check(ctx: Context) -> None:
    from jianguan.synth import province as synth

    frame = synth.entities(synth.load_province("330000"), n=2000, seed=7)
    flags = checks.uscc_flags(frame["uscc"], ctx.regions)
    assert flags.select(pl.any_horizontal(pl.all()).any()).item() is False


def test_a_null_uscc_counts_as_empty_like_validate() -> None:
    row = checks.uscc_flags(pl.Series([None], dtype=pl.String), REGIONS).row(0, named=True)
    assert {c for c, hit in row.items() if hit} == set(uscc.validate("").errors) == {"uscc.length"}


@SETTINGS
@given(ID_VALUES)
def test_columnar_id_number_verdict_is_exactly_id_number_ok(values: list[str]) -> None:
    bad = checks.id_number_bad(pl.Series(values, dtype=pl.String), TODAY).to_list()
    assert bad == [not checks.id_number_ok(v, TODAY) for v in values]


@SETTINGS
@given(valid_id_numbers())
def test_id_check_character_agrees_with_python_stdnum(value: str) -> None:
    assert ric.calc_check_digit(value.upper()) == value[17].upper()
    born = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    assert checks.id_number_ok(value, TODAY) == (born <= TODAY)


def test_id_number_rules_by_example() -> None:
    good = "11010119900307851" + "5"
    assert checks.id_number_ok(good, TODAY) and checks.id_number_ok(f" {good}\u3000", TODAY)
    assert checks.id_number_ok("11010519491231002x", TODAY) and checks.id_number_ok("11010519491231002X", TODAY)
    assert not checks.id_number_ok("110101199003078514", TODAY)  # check character
    assert not checks.id_number_ok("110101199002308515", TODAY)  # 30 February
    assert not checks.id_number_ok("110101202702018515", TODAY)  # born in 2027
    assert not checks.id_number_ok("１10101199003078515", TODAY)  # a full-width digit


@SETTINGS
@given(st.lists(st.dates(dt.date(1, 1, 1)).map(lambda d: d.isoformat()) | mutated(
    st.dates(dt.date(1, 1, 1)).map(lambda d: d.isoformat())) | st.text("0123456789- :", max_size=19), max_size=40))
def test_columnar_dates_are_real_dates_written_yyyy_mm_dd(values: list[str]) -> None:
    def reference(v: str) -> dt.date | None:
        v = v.strip()
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}( 00:00:00)?", v):
            return None
        try:
            return dt.date.fromisoformat(v[:10])
        except ValueError:
            return None

    assert checks.real_dates(pl.Series(values, dtype=pl.String)).to_list() == [reference(v) for v in values]


def test_py_space_is_what_str_strip_removes() -> None:
    assert set(checks.PY_SPACE) == {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}


# --------------------------------------------------------------------------- value domains


@SETTINGS
@given(st.lists(st.sampled_from(["enterprise", "ENTERPRISE", "Enterprise", "企业", " 个体工商户 ", "natural_person",
                                 "\u3000cooperative", "外星企业", "", "  ", "enterprise\x1c", "ｅｎｔｅｒｐｒｉｓｅ"])
                | st.text("abcdeiknoprstuwy_企业 ", max_size=12), max_size=30))
def test_domain_mapping_is_exactly_value_domains_resolve(ctx: Context, values: list[str]) -> None:
    series = pl.Series(values, dtype=pl.String)
    mapped = checks.resolve_column(series, ctx.lookup("entity_kind"),
                                   lambda v: ctx.domains.resolve("entity_kind", v)).to_list()
    assert mapped == [ctx.domains.resolve("entity_kind", v) for v in values]


def test_tag_lists_map_each_item_and_fail_on_any_unknown(ctx: Context) -> None:
    values = pl.Series(["abnormal_list", "经营异常名录；key_industry", "abnormal_list;火星", ";;", None])
    mapped = checks.resolve_lists(values, ctx.lookup("entity_tag"), lambda v: ctx.domains.resolve("entity_tag", v))
    assert mapped.to_list() == ["abnormal_list", "abnormal_list;key_industry", None, "", None]


# --------------------------------------------------------------------------- standard checks


def frame(rows: list[dict[str, str | None]]) -> pl.DataFrame:
    keys = [f.key for f in entities.FIELDS]
    data = {k: [r.get(k) for r in rows] for k in keys}
    return pl.DataFrame(data, schema=dict.fromkeys(keys, pl.String)).with_row_index(ROW, offset=2).with_columns(
        pl.col(ROW).cast(pl.Int64))


GOOD = {"uscc": uscc.make_uscc("9", "1", "330106", "MA2H0001"), "name": "西湖餐饮有限公司", "kind": "enterprise",
        "status": "active", "region_code": "330106", "industry_code": "6210", "established_on": "2020-05-06",
        "legal_rep_id_number": "110101199003078515", "registered_capital": "100.50"}


def run(rows: list[dict[str, str | None]], ctx: Context) -> tuple[set[tuple[int, str, str]], pl.DataFrame]:
    problems = Problems()
    mapped = checks.standard_checks(frame(rows), entities.FIELDS, problems, ctx)
    entities.check(mapped, problems, ctx)
    found = problems.frame()
    assert found.filter(pl.col("message") == pl.col("code")).height == 0  # every code has its message
    assert all(re.search(r"[\u4e00-\u9fff]", m) for m in found.get_column("message"))  # in Chinese
    return {(r[ROW], r["field"], r["code"]) for r in found.iter_rows(named=True)}, mapped


def test_a_good_row_has_no_problem_and_comes_back_unchanged(ctx: Context) -> None:
    found, mapped = run([GOOD], ctx)
    assert found == set()
    assert mapped.row(0, named=True) | {} == {**dict.fromkeys(mapped.columns), **GOOD, ROW: 2,
                                               "__established_on:date": dt.date(2020, 5, 6)}


def test_completeness_required_fields_missing_or_only_spaces(ctx: Context) -> None:
    found, _ = run([{**GOOD, "name": "  ", "kind": None, "region_code": "\u3000"}], ctx)
    assert found == {(2, "name", "required"), (2, "kind", "required"), (2, "region_code", "required")}


def test_dates_must_be_real_and_not_in_the_future_unless_the_field_allows_it(ctx: Context) -> None:
    found, mapped = run([{**GOOD, "established_on": "2026-02-30"}, {**GOOD, "established_on": "2026-11-24"},
                         {**GOOD, "established_on": "2026/05/06"}, {**GOOD, "established_on": "2026-11-23"},
                         {**GOOD, "licence_valid_until": "2031-12-31"},
                         {**GOOD, "established_on": " 2020-05-06 00:00:00"}], ctx)
    assert found == {(2, "established_on", "date"), (3, "established_on", "date.future"),
                     (4, "established_on", "date")}
    assert mapped.get_column("established_on").to_list()[3:] == ["2026-11-23", "2020-05-06", "2020-05-06"]


def test_decimals_are_plain_decimal_numbers(ctx: Context) -> None:
    rows = [{**GOOD, "registered_capital": v} for v in ("12,5万", "1e5", "inf", "-3.5", ".5", " 7 ")]
    found, _ = run(rows, ctx)
    assert found == {(2, "registered_capital", "decimal"), (3, "registered_capital", "decimal"),
                     (4, "registered_capital", "decimal")}


def test_coded_values_are_accepted_by_code_or_chinese_name_and_come_back_as_codes(ctx: Context) -> None:
    rows = [{**GOOD, "kind": "个体工商户", "status": " 吊销 ", "credit_class": "a", "risk_level": "高风险（红）",
             "tags": "经营异常名录;key_industry", "scale": ""},
            {**GOOD, "kind": "外星企业", "status": "存续", "credit_class": "E", "tags": "abnormal_list;火星"}]
    found, mapped = run(rows, ctx)
    assert found == {(3, "kind", "domain"), (3, "credit_class", "domain"), (3, "tags", "domain")}
    first = mapped.row(0, named=True)
    assert (first["kind"], first["status"], first["credit_class"], first["risk_level"], first["tags"],
            first["scale"]) == ("individual_business", "revoked", "A", "red", "abnormal_list;key_industry", None)
    problems = Problems()
    checks.standard_checks(frame(rows[1:]), entities.FIELDS, problems, ctx)
    assert "entity_kind" in problems.frame().filter(pl.col("field") == "kind").get_column("message").item()


def test_region_industry_and_agency_must_exist(ctx: Context) -> None:
    rows = [{**GOOD, "region_code": "339999"}, {**GOOD, "industry_code": "62"},
            {**GOOD, "agency_code": "330106-SJ"}, {**GOOD, "agency_code": "999999-XX"}]
    found, _ = run(rows, ctx)
    assert found == {(2, "region_code", "region"), (3, "industry_code", "industry"), (5, "agency_code", "agency")}


def test_id_numbers_are_checked_in_both_id_fields(ctx: Context) -> None:
    found, _ = run([{**GOOD, "legal_rep_id_number": "110101199003078514"}], ctx)
    assert found == {(2, "legal_rep_id_number", "id_number")}


# --------------------------------------------------------------------------- entity checks


def test_uscc_errors_reject_and_warnings_flag(ctx: Context) -> None:
    code = GOOD["uscc"] or ""
    wrong_org = code[:16] + ("0" if code[16] != "0" else "1")
    rows = [{**GOOD, "uscc": code[:17]}, {**GOOD, "uscc": code[:10] + "I" + code[11:]},
            {**GOOD, "uscc": code[:17] + ("0" if code[17] != "0" else "1")},
            {**GOOD, "uscc": wrong_org + uscc.compute_check_char(wrong_org)},
            {**GOOD, "uscc": uscc.make_uscc("9", "5", "330106", "MA2H0001")},
            {**GOOD, "uscc": uscc.make_uscc("9", "1", "339999", "MA2H0001"), "region_code": "330106"}]
    problems = Problems()
    entities.check(checks.standard_checks(frame(rows), entities.FIELDS, problems, ctx), problems, ctx)
    got = {(r[ROW], r["code"], r["severity"]) for r in problems.frame().iter_rows(named=True)}
    assert got == {(2, "uscc.length", "error"), (3, "uscc.charset", "error"), (4, "uscc.check", "error"),
                   (5, "uscc.org_check", "warning"), (6, "uscc.category", "warning"),
                   (7, "uscc.division", "warning")}


def test_uscc_region_mismatch_is_a_warning_on_region_code(ctx: Context) -> None:
    found, _ = run([{**GOOD, "region_code": "320102"}, {**GOOD, "uscc": (GOOD["uscc"] or "")[:17],
                                                         "region_code": "320102"}], ctx)
    assert found == {(2, "region_code", "uscc.region_mismatch"), (3, "uscc", "uscc.length")}


def test_closing_date_before_establishment_is_an_error(ctx: Context) -> None:
    found, _ = run([{**GOOD, "closed_on": "2019-01-01"}, {**GOOD, "closed_on": "2020-05-06"},
                    {**GOOD, "closed_on": "2019-02-30"}], ctx)
    assert found == {(2, "closed_on", "dates.order"), (4, "closed_on", "date")}


def test_a_natural_person_needs_no_uscc_but_an_id_number(ctx: Context) -> None:
    person = {**GOOD, "uscc": "", "kind": "特定自然人", "id_number": "110101199003078515"}
    found, _ = run([person, {**person, "id_number": None}, {**GOOD, "uscc": None}], ctx)
    assert found == {(3, "uscc", "required"), (4, "uscc", "required")}


def test_check_works_on_a_frame_without_the_standard_columns(ctx: Context) -> None:
    problems = Problems()
    entities.check(frame([{**GOOD, "closed_on": "2001-01-01"}]), problems, ctx)
    assert problems.frame().get_column("code").to_list() == ["dates.order"]


# --------------------------------------------------------------------------- duplicates, rates


def test_duplicates_are_found_within_and_across_slices() -> None:
    state = Seen()
    problems = Problems()
    a, b = uscc.make_uscc("9", "1", "330106", "MA2H0001"), uscc.make_uscc("9", "1", "330106", "MA2H0002")
    first = pl.DataFrame({ROW: [2, 3, 4, 5], "uscc": [a, f" {a.lower()} ", "", None]})
    second = pl.DataFrame({ROW: [6, 7, 8], "uscc": [b, a, b]})
    duplicates.find(first, "uscc", state, problems)
    duplicates.find(second, "uscc", state, problems)
    assert problems.frame().select(ROW, "code").rows() == [(3, "duplicate.file"), (7, "duplicate.file"),
                                                           (8, "duplicate.file")]


def test_seen_remembers_keys_across_calls() -> None:
    seen = Seen()
    keys = [f"K{i:06d}" for i in range(30_000)]
    assert not seen.later(pl.Series(keys[:20_000])).any()
    later = seen.later(pl.Series(keys[15_000:]))
    assert later.arg_true().to_list() == list(range(5_000))
    assert len(seen) == 30_000
    assert seen.later(pl.Series(["K000001", "new", "new"])).to_list() == [True, False, True]


def _weak_hash(keys: pl.Series) -> pl.Series:
    """A hash with many collisions (the key's last character), so the keys must decide."""
    return keys.str.slice(-1).hash(seed=1) % 3


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.text(alphabet="abcAB", min_size=1, max_size=3), max_size=12), min_size=1,
                max_size=5))
def test_seen_is_exact_even_when_keys_share_a_hash(slices: list[list[str]]) -> None:
    for seen in (Seen(), Seen(hash=_weak_hash)):
        met: set[str] = set()
        for keys in slices:
            expected = []
            for key in keys:
                expected.append(key in met)
                met.add(key)
            assert seen.later(pl.Series(keys, dtype=pl.String)).to_list() == expected
        assert len(seen) == len(met)


def test_rates_count_rows_per_dimension() -> None:
    codes = ["required", "date", "duplicate.file", "stale"]
    found = pl.DataFrame({ROW: [2, 2, 3, 0], "field": ["a"] * 4, "code": codes, "severity": ["error"] * 4,
                          "message": ["x"] * 4})
    assert checks.rates(found, 4) == {"completeness": 0.75, "accuracy": 0.75, "consistency": 0.75,
                                      "timeliness": 1.0}


def test_context_from_the_database_holds_the_reference_data(db: Session) -> None:
    from jianguan.reference import service as ref

    ref.load_all(db)
    loaded = Context.load(db, today=TODAY)
    package = Context.from_package(today=TODAY)
    assert loaded.regions == package.regions and loaded.industries == package.industries
    assert loaded.domains.resolve("entity_kind", "企业") == "enterprise"
    assert "6210" in loaded.industries and "62" not in loaded.industries  # classes only
