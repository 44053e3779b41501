"""USCC validation (domain-rules §1.1): errors reject, warnings flag; generated codes round-trip."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import uscc as stdnum_uscc
from typer.testing import CliRunner

from jianguan.cli import app
from jianguan.entities.uscc import (
    CATEGORY_PAIRS,
    CHARSET,
    compute_check_char,
    compute_org_check,
    make_uscc,
    validate,
)

EXAMPLE = "91110000600037341L"
PAIRS = [(dept, cat) for dept, cats in CATEGORY_PAIRS.items() for cat in cats]
ORG_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # letters of the code's charset only


def test_the_worked_example_is_valid_without_warnings() -> None:
    result = validate(EXAMPLE)
    assert result.valid and result.errors == [] and result.warnings == []


def test_the_worked_example_agrees_with_python_stdnum() -> None:
    assert stdnum_uscc.is_valid(EXAMPLE)
    assert stdnum_uscc.calc_check_digit(EXAMPLE[:17]) == compute_check_char(EXAMPLE[:17]) == "L"


def test_wrong_length_is_an_error() -> None:
    assert validate(EXAMPLE[:17]).errors == ["uscc.length"]
    assert not validate("").valid


def test_characters_outside_the_set_are_an_error() -> None:
    for bad in ("I", "O", "Z", "S", "V", "a", "-"):
        assert "uscc.charset" in validate(EXAMPLE[:10] + bad + EXAMPLE[11:]).errors


def test_a_wrong_position_18_check_is_an_error() -> None:
    assert validate(EXAMPLE[:17] + "X").errors == ["uscc.check"]


def test_a_wrong_gb11714_digit_is_only_a_warning() -> None:
    first16 = EXAMPLE[:16]
    wrong = "0" if EXAMPLE[16] != "0" else "1"
    code = first16 + wrong + compute_check_char(first16 + wrong)
    result = validate(code)
    assert result.valid and result.warnings == ["uscc.org_check"]


def test_an_unknown_category_pair_is_only_a_warning() -> None:
    code = make_uscc("9", "9", "110000", "60003734")  # 工商 has categories 1, 2, 3 only
    result = validate(code)
    assert result.valid and result.warnings == ["uscc.category"]


def test_a_division_not_in_gbt2260_is_only_a_warning_when_a_checker_is_given() -> None:
    code = make_uscc("9", "1", "999999", "60003734")
    assert validate(code).warnings == []
    result = validate(code, is_region=lambda c: c == "110000")
    assert result.valid and result.warnings == ["uscc.division"]
    assert validate(EXAMPLE, is_region=lambda c: c == "110000").warnings == []


def test_the_organisation_check_maps_10_to_x_and_11_to_0() -> None:
    assert compute_org_check("D2143569") == "X"  # the GB 11714 textbook example
    assert compute_org_check("60003734") == "1"


def test_letters_in_the_division_are_reported_not_crashing() -> None:
    code = make_uscc("N", "1", "A10000", "60003734")
    assert validate(code, is_region=lambda c: True).warnings == ["uscc.division"]


@st.composite
def valid_codes(draw: st.DrawFn) -> str:
    dept, cat = draw(st.sampled_from(PAIRS))
    division = draw(st.text(alphabet="0123456789", min_size=6, max_size=6))
    org = draw(st.text(alphabet=ORG_CHARS, min_size=8, max_size=8))
    return make_uscc(dept, cat, division, org)


@given(valid_codes())
def test_generated_codes_for_every_category_pair_are_valid_without_warnings(code: str) -> None:
    result = validate(code)
    assert result.valid, code
    assert result.warnings == [], code


def test_every_category_pair_is_generated() -> None:
    assert len(PAIRS) == 36
    for dept, cat in PAIRS:
        assert validate(make_uscc(dept, cat, "330106", "MA2H0AB1")).warnings == []


@given(valid_codes(), st.integers(0, 17), st.sampled_from(CHARSET + "IOZSVa"))
def test_any_single_character_change_is_detected(code: str, pos: int, char: str) -> None:
    if code[pos] == char:
        return
    mutated = code[:pos] + char + code[pos + 1:]
    result = validate(mutated)
    # Position 18's check is a mod-31 code over 31 symbols: every single substitution breaks it.
    assert not result.valid, mutated


@given(valid_codes())
def test_stdnum_agrees_where_it_applies(code: str) -> None:
    if code[:8].isdigit():  # stdnum rejects letters in positions 1–8 (categories N, Y, A)
        assert stdnum_uscc.is_valid(code)


runner = CliRunner()


def test_cli_check_prints_one_json_object_per_code_and_exits_1_on_an_invalid_one() -> None:
    result = runner.invoke(app, ["uscc", "check", EXAMPLE, EXAMPLE[:17] + "X", "--json"])
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["code"] for r in lines] == [EXAMPLE, EXAMPLE[:17] + "X"]
    assert lines[0] == {"code": EXAMPLE, "valid": True, "errors": [], "warnings": []}
    assert lines[1]["valid"] is False and lines[1]["errors"][0]["code"] == "uscc.check"


def test_cli_check_exits_0_when_all_codes_are_valid_even_with_warnings() -> None:
    warned = make_uscc("9", "9", "110000", "60003734")
    result = runner.invoke(app, ["uscc", "check", EXAMPLE, warned])
    assert result.exit_code == 0, result.stdout
    assert "uscc.category" in result.stdout


@pytest.mark.parametrize("pos", range(18))
def test_changing_each_position_of_the_example_is_an_error(pos: int) -> None:
    char = "0" if EXAMPLE[pos] != "0" else "1"
    assert not validate(EXAMPLE[:pos] + char + EXAMPLE[pos + 1:]).valid
