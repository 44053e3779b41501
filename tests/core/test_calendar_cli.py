"""``jianguan calendar …`` through the real CLI and a database of its own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jianguan.cli import app

NOTICE = "date,is_working_day,name\n2027-01-01,否,元旦（示例）\n2027-01-04,0,示例\n2027-01-09,是,示例\n"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["calendar", *args])
    return result.exit_code, result.output


def write(tmp_path: Path, text: str, name: str = "calendar.csv", encoding: str = "utf-8") -> str:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return str(path)


def test_add_five_working_days_from_28_september_2026_prints_10_october(fresh_db_url: str) -> None:
    assert run("add", "--from", "2026-09-28", "--working-days", "5") == (0, "2026-10-10\n")


def test_add_json_prints_the_date_and_the_flag(fresh_db_url: str) -> None:
    code, out = run("add", "--from", "2026-09-28", "--working-days", "5", "--json")
    assert code == 0
    assert json.loads(out) == {"date": "2026-10-10", "unconfirmed": False}


def test_add_calendar_days_rolls_over_national_day(fresh_db_url: str) -> None:
    assert run("add", "--from", "2026-09-16", "--days", "15") == (0, "2026-10-08\n")


def test_add_period_follows_article_85(fresh_db_url: str) -> None:
    assert run("add", "--from", "2026-09-28", "--period", "5") == (0, "2026-10-10\n")
    assert run("add", "--from", "2026-09-16", "--period", "15") == (0, "2026-10-08\n")


def test_add_into_an_unpublished_year_prints_the_date_with_a_clear_note(fresh_db_url: str) -> None:
    code, out = run("add", "--from", "2026-12-28", "--working-days", "10")
    assert code == 0
    assert out == "2027-01-11  (unconfirmed: holiday calendar for 2027 not yet published)\n"
    code, out = run("add", "--from", "2026-12-28", "--working-days", "10", "--json")
    assert json.loads(out) == {"date": "2027-01-11", "unconfirmed": True}


@pytest.mark.parametrize(("args", "named"), [
    (["--from", "2026-13-01", "--days", "3"], "--from"),
    (["--from", "tomorrow", "--working-days", "3"], "--from"),
    (["--from", "2026-09-28"], "--working-days"),
    (["--from", "2026-09-28", "--days", "3", "--working-days", "3"], "--working-days"),
    (["--from", "2026-09-28", "--days", "-1"], "--days"),
    (["--from", "2026-09-28", "--working-days", "x"], "--working-days"),
])
def test_bad_dates_and_options_name_the_option_and_exit_2(
    fresh_db_url: str, args: list[str], named: str
) -> None:
    code, out = run("add", *args)
    assert code == 2
    assert named in out


def test_check_names_the_holiday_and_the_adjusted_working_day(fresh_db_url: str) -> None:
    code, out = run("check", "2026-10-01")
    assert code == 0 and "not a working day" in out and "国庆节" in out
    code, out = run("check", "2026-10-10", "--json")
    assert json.loads(out) == {"date": "2026-10-10", "is_working_day": True, "kind": "adjusted_working_day",
                               "name": "国庆节", "source": "package", "unconfirmed": False}
    assert run("check", "2026-02-30")[0] == 2


def test_check_in_an_unpublished_year_says_so(fresh_db_url: str) -> None:
    code, out = run("check", "2027-01-01")
    assert code == 0 and "unconfirmed" in out and "2027" in out


def test_load_then_2027_deadlines_respect_the_notice_and_are_confirmed(
    fresh_db_url: str, tmp_path: Path
) -> None:
    code, out = run("load", write(tmp_path, NOTICE), "--source", "示例通知", "--json")
    assert code == 0, out
    assert json.loads(out) == {"ok": True, "file": "calendar.csv", "source": "示例通知", "added": 3,
                               "updated": 0, "unchanged": 0, "published": [2027], "years": [2027]}
    code, out = run("add", "--from", "2026-12-31", "--working-days", "5", "--json")
    assert json.loads(out) == {"date": "2027-01-09", "unconfirmed": False}
    code, out = run("check", "2027-01-01", "--json")
    assert json.loads(out)["name"] == "元旦（示例）" and json.loads(out)["source"] == "override"


def test_reloading_the_same_file_is_idempotent(fresh_db_url: str, tmp_path: Path) -> None:
    path = write(tmp_path, NOTICE)
    assert run("load", path)[0] == 0
    code, out = run("load", path, "--json")
    assert code == 0
    result = json.loads(out)
    assert (result["added"], result["unchanged"], result["published"]) == (0, 3, [])
    assert len(json.loads(run("show", "--json")[1])["overrides"]) == 3


def test_load_with_one_bad_row_writes_nothing_and_reports_each_row(fresh_db_url: str, tmp_path: Path) -> None:
    bad = NOTICE + "2027-01-32,1,\n2027-01-10,sometimes,\n"
    code, out = run("load", write(tmp_path, bad), "--json")
    assert code == 1
    report = json.loads(out)
    assert report["ok"] is False
    assert [(d["row"], d["field"], d["value"]) for d in report["error"]["details"]] == [
        (5, "date", "2027-01-32"), (6, "is_working_day", "sometimes")]
    shown = json.loads(run("show", "--json")[1])
    assert shown["overrides"] == [] and shown["published_years"] == []
    code, out = run("load", write(tmp_path, bad, "again.csv"))
    assert code == 1 and "2027-01-32" in out and "sometimes" in out


def test_load_no_publish_applies_a_correction_without_confirming_the_year(
    fresh_db_url: str, tmp_path: Path
) -> None:
    fix = "date,is_working_day,name\n2026-10-09,0,更正示例\n2027-01-01,0,示例\n"
    assert run("load", write(tmp_path, fix), "--no-publish")[0] == 0
    assert run("add", "--from", "2026-09-28", "--working-days", "5") == (0, "2026-10-12\n")
    _, out = run("add", "--from", "2026-12-31", "--working-days", "1", "--json")
    assert json.loads(out) == {"date": "2027-01-04", "unconfirmed": True}


def test_load_reads_a_gb18030_file_saved_by_excel(fresh_db_url: str, tmp_path: Path) -> None:
    code, out = run("load", write(tmp_path, NOTICE, encoding="gb18030"), "--json")
    assert code == 0, out
    shown = json.loads(run("show", "--year", "2027", "--json")[1])
    assert [o["name"] for o in shown["overrides"]] == ["元旦（示例）", "示例", "示例"]


def test_load_refuses_a_missing_file_with_exit_2(fresh_db_url: str, tmp_path: Path) -> None:
    assert run("load", str(tmp_path / "none.csv"))[0] == 2


def test_the_documented_example_file_loads(fresh_db_url: str) -> None:
    example = Path(__file__).resolve().parents[2] / "docs" / "examples" / "calendar-2027.csv"
    code, out = run("load", str(example), "--no-publish", "--json")
    assert code == 0, out
    assert json.loads(out)["added"] == 2


def test_show_lists_overrides_and_published_years_by_year(fresh_db_url: str, tmp_path: Path) -> None:
    run("load", write(tmp_path, NOTICE, "notice.csv"))
    fix = write(tmp_path, "date,is_working_day,name\n2026-10-09,0,更正示例\n", "fix.csv")
    run("load", fix, "--no-publish")
    everything = json.loads(run("show", "--json")[1])
    assert everything["package_years"] == {"first": 2004, "last": 2026}
    assert [p["year"] for p in everything["published_years"]] == [2027]
    assert [o["date"] for o in everything["overrides"]] == [
        "2026-10-09", "2027-01-01", "2027-01-04", "2027-01-09"]
    only_2026 = json.loads(run("show", "--year", "2026", "--json")[1])
    assert [o["date"] for o in only_2026["overrides"]] == ["2026-10-09"]
    assert only_2026["published_years"] == [] and only_2026["confirmed"] is True
    assert json.loads(run("show", "--year", "2028", "--json")[1])["confirmed"] is False
    code, out = run("show")
    assert code == 0 and "2027" in out and "更正示例" in out
