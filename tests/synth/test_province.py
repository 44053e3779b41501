"""The synthetic province is deterministic, valid where it should be and broken where it says so."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import pytest

from jianguan.synth import province as synth

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_W = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
ID_W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
INDUSTRIES = Path(__file__).resolve().parents[2] / "src/jianguan/reference/data/gbt4754-2017.csv"


def uscc_ok(code: str) -> bool:
    """Written out independently of the generator (domain-rules §1.1)."""
    if len(code) != 18 or any(c not in CHARSET for c in code):
        return False
    c = 31 - sum(CHARSET.index(ch) * w for ch, w in zip(code[:17], USCC_W, strict=True)) % 31
    if CHARSET[0 if c == 31 else c] != code[17]:
        return False
    values = [int(x) if x.isdigit() else ord(x) - ord("A") + 10 for x in code[8:16]]
    org = 11 - sum(v * w for v, w in zip(values, [3, 7, 9, 10, 5, 8, 4, 2], strict=True)) % 11
    return {10: "X", 11: "0"}.get(org, str(org)) == code[16]


def id_ok(number: str) -> bool:
    check = (12 - sum(int(a) * w for a, w in zip(number[:17], ID_W, strict=True)) % 11) % 11
    return ("X" if check == 10 else str(check)) == number[17]


@pytest.fixture(scope="module")
def zhejiang() -> synth.Province:
    return synth.load_province("330000")


def test_province_has_its_real_cities_and_counties(zhejiang: synth.Province) -> None:
    assert zhejiang.name == "浙江省"
    assert ("330100", "杭州市") in zhejiang.cities and len(zhejiang.cities) == 11
    assert any(c.code == "330106" and c.name == "西湖区" for c in zhejiang.counties)
    assert all(c.code.startswith("33") and not c.code.endswith("00") for c in zhejiang.counties)


def test_same_seed_same_rows_and_another_seed_other_rows(zhejiang: synth.Province) -> None:
    a = synth.entities(zhejiang, n=500, seed=7)
    assert a.equals(synth.entities(zhejiang, n=500, seed=7))
    assert not a.equals(synth.entities(zhejiang, n=500, seed=8))


def test_clean_entities_are_valid_and_consistent_with_their_county(zhejiang: synth.Province) -> None:
    frame = synth.entities(zhejiang, n=3000, seed=1)
    assert frame["uscc"].n_unique() == frame.height
    assert all(uscc_ok(c) for c in frame["uscc"])
    assert (frame["uscc"].str.slice(2, 6) == frame["region_code"]).all()
    kinds = dict(zip(["1", "2", "3"], ["enterprise", "individual_business", "cooperative"], strict=True))
    assert (frame["uscc"].str.slice(1, 1).replace_strict(kinds) == frame["kind"]).all()
    assert all(id_ok(x) for x in frame["legal_rep_id_number"])
    assert (frame["established_on"] <= "2026-11-01").all()
    closed = frame.filter(pl.col("closed_on") != "")
    assert (closed["closed_on"] >= closed["established_on"]).all()


def test_industries_are_real_gbt4754_classes(zhejiang: synth.Province) -> None:
    source = INDUSTRIES if INDUSTRIES.exists() else Path("/work/shared/data/gbt4754-2017.csv")
    with source.open(encoding="utf-8") as fh:
        classes = {row["code"] for row in csv.DictReader(fh) if row["level"] == "class"}
    used = set(synth.entities(zhejiang, n=2000, seed=3)["industry_code"])
    assert used and used <= classes


def test_bad_rows_break_exactly_what_they_say(zhejiang: synth.Province) -> None:
    frame = synth.entities(zhejiang, n=4000, seed=5, bad_rate=0.1)
    broken = frame.filter(pl.col("_problem") != "")
    assert 300 < broken.height < 500
    assert set(broken["_problem"]) == set(synth.BAD_KINDS)
    by_kind = {k: broken.filter(pl.col("_problem") == k) for k in synth.BAD_KINDS}
    assert not any(uscc_ok(c) for c in by_kind["bad_check_digit"]["uscc"])
    assert all("I" in c for c in by_kind["bad_charset"]["uscc"])
    assert (by_kind["missing_name"]["name"] == "").all()
    assert not any(id_ok(x) for x in by_kind["bad_id_number"]["legal_rep_id_number"])
    twice = by_kind["duplicate_licence"]["licence_number"].to_list()
    assert twice and all(frame["licence_number"].to_list().count(n) == 2 for n in twice)
    clean = frame.filter(pl.col("_problem") == "")
    assert all(uscc_ok(c) for c in clean["uscc"])


def test_officers_have_a_mix_of_credential_states(zhejiang: synth.Province) -> None:
    people = synth.officers(zhejiang, seed=2)
    assert people["credential_number"].n_unique() == people.height
    assert set(people["credential_status"]) == {"valid", "suspended", "revoked"}
    assert (people["credential_expires_on"] < "2026-11-01").any()  # some expired
    assert all(id_ok(x) for x in people["id_number"].head(500))
    agency_codes = set(synth.agencies(zhejiang)["code"])
    assert set(people["agency_code"]) <= agency_codes


def test_cli_writes_the_files_deterministically(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from jianguan.cli import app

    runner = CliRunner()
    first = runner.invoke(app, ["demo", "generate", "--entities", "300", "--seed", "9", "--bad-rate", "0.1",
                                "--out", str(tmp_path / "a" / "e.csv"), "--json"])
    second = runner.invoke(app, ["demo", "generate", "--entities", "300", "--seed", "9", "--bad-rate", "0.1",
                                 "--out", str(tmp_path / "b" / "e.csv"), "--json"])
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0
    assert (tmp_path / "a" / "e.csv").read_bytes() == (tmp_path / "b" / "e.csv").read_bytes()
    assert (tmp_path / "a" / "e-officers.csv").exists() and (tmp_path / "a" / "e-agencies.csv").exists()
    bad = runner.invoke(app, ["demo", "generate", "--province", "990000", "--out", str(tmp_path / "x.csv")])
    assert bad.exit_code == 2 and "--province" in bad.output
