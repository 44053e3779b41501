"""The working-day calendar: 2026 holidays and 调休, Art. 85 periods, the year boundary, overrides."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jianguan.audit.models import AuditEntry
from jianguan.core import workdays
from jianguan.core.models import CalendarOverride, CalendarYear
from jianguan.core.workdays import (
    CalendarFileInvalid,
    DueDate,
    WorkCalendar,
    decode_file,
    load_overrides,
    parse_overrides,
)

D = dt.date
CAL = WorkCalendar()  # the package alone, no database


def days(first: dt.date, last: dt.date) -> Iterable[dt.date]:
    while first <= last:
        yield first
        first += dt.timedelta(days=1)


# --------------------------------------------------------------------------- 2026 facts (domain-rules §2)

HOLIDAYS_2026 = {
    "元旦": (D(2026, 1, 1), D(2026, 1, 3)),
    "春节": (D(2026, 2, 15), D(2026, 2, 23)),
    "清明节": (D(2026, 4, 4), D(2026, 4, 6)),
    "劳动节": (D(2026, 5, 1), D(2026, 5, 5)),
    "端午节": (D(2026, 6, 19), D(2026, 6, 21)),
    "中秋节": (D(2026, 9, 25), D(2026, 9, 27)),
    "国庆节": (D(2026, 10, 1), D(2026, 10, 7)),
}
ADJUSTED_WORKING_DAYS_2026 = {
    D(2026, 1, 4): "元旦",  # a Sunday
    D(2026, 2, 14): "春节",  # a Saturday
    D(2026, 2, 28): "春节",  # a Saturday
    D(2026, 5, 9): "劳动节",  # a Saturday
    D(2026, 9, 20): "国庆节",  # a Sunday
    D(2026, 10, 10): "国庆节",  # a Saturday
}


@pytest.mark.parametrize("name", HOLIDAYS_2026)
def test_every_day_of_each_2026_holiday_is_a_day_off_named_in_chinese(name: str) -> None:
    first, last = HOLIDAYS_2026[name]
    for day in days(first, last):
        info = CAL.day_info(day)
        assert (info.is_working_day, info.kind, info.name) == (False, "holiday", name), day
        assert info.unconfirmed is False and info.source == "package"


@pytest.mark.parametrize("day", ADJUSTED_WORKING_DAYS_2026)
def test_each_2026_adjusted_weekend_is_a_working_day(day: dt.date) -> None:
    assert day.weekday() >= 5
    info = CAL.day_info(day)
    assert (info.is_working_day, info.kind, info.name) == (True, "adjusted_working_day",
                                                          ADJUSTED_WORKING_DAYS_2026[day])


def test_2026_has_no_other_days_off_than_weekends_and_the_listed_holidays() -> None:
    off = {d for first, last in HOLIDAYS_2026.values() for d in days(first, last)}
    for day in days(D(2026, 1, 1), D(2026, 12, 31)):
        expected = day not in off and (day.weekday() < 5 or day in ADJUSTED_WORKING_DAYS_2026)
        assert CAL.is_working_day(day) is expected, day


def test_ordinary_days_have_no_name() -> None:
    assert CAL.day_info(D(2026, 3, 10)).as_dict() == {
        "date": "2026-03-10", "is_working_day": True, "kind": "working_day", "name": "",
        "source": "package", "unconfirmed": False}
    assert CAL.day_info(D(2026, 3, 14)).kind == "weekend"


# --------------------------------------------------------------------------- working days


def test_five_working_days_after_28_september_2026_is_10_october_across_national_day() -> None:
    assert CAL.add_working_days(D(2026, 9, 28), 5) == DueDate(D(2026, 10, 10), False)


def test_seven_working_days_after_12_february_2026_is_the_working_saturday_28_february() -> None:
    assert CAL.add_working_days(D(2026, 2, 12), 7) == DueDate(D(2026, 2, 28), False)


def test_a_notice_five_working_days_before_a_visit_on_9_october_2026_is_due_on_24_september() -> None:
    """Counting back over National Day (1–7 Oct) and Mid-Autumn (25–27 Sep): 8 Oct, 30, 29, 28, 24 Sep."""
    assert CAL.working_days_before(D(2026, 10, 9), 5) == DueDate(D(2026, 9, 24), False)
    # Back over the Spring Festival (15–23 Feb): 28 (a working Saturday), 27, 26, 25, 24, then 14 Feb (the
    # working Saturday before it) and 13 Feb.
    assert CAL.working_days_before(D(2026, 3, 2), 6) == DueDate(D(2026, 2, 14), False)
    assert CAL.working_days_before(D(2026, 3, 2), 7) == DueDate(D(2026, 2, 13), False)


@settings(max_examples=300)
@given(end=st.dates(D(2026, 1, 20), D(2026, 12, 31)), n=st.integers(1, 12))
def test_working_days_before_is_the_latest_day_that_still_gives_n_working_days(end: dt.date, n: int) -> None:
    due = CAL.working_days_before(end, n).date
    assert due < end and CAL.is_working_day(due)
    assert CAL.add_working_days(due, n).date == CAL.next_working_day(end)
    later = CAL.next_working_day(due + dt.timedelta(days=1))
    assert CAL.add_working_days(later, n).date > CAL.next_working_day(end)


def test_working_days_after_a_holiday_start_count_the_first_working_day_as_day_one() -> None:
    # chinese_calendar.find_workday would say 10 Oct here (domain-rules §2): we must not.
    assert CAL.add_working_days(D(2026, 10, 3), 2).date == D(2026, 10, 9)
    assert CAL.add_working_days(D(2026, 10, 3), 1).date == D(2026, 10, 8)


def test_the_start_day_itself_is_never_counted() -> None:
    assert CAL.add_working_days(D(2026, 3, 10), 1).date == D(2026, 3, 11)
    assert CAL.add_working_days(D(2026, 3, 13), 1).date == D(2026, 3, 16)  # Friday → Monday


def test_adding_zero_returns_the_start_and_a_negative_count_is_refused() -> None:
    assert CAL.add_working_days(D(2026, 10, 1), 0) == DueDate(D(2026, 10, 1), False)
    assert CAL.add_calendar_days(D(2026, 10, 1), 0) == DueDate(D(2026, 10, 1), False)
    with pytest.raises(ValueError):
        CAL.add_working_days(D(2026, 10, 1), -1)
    with pytest.raises(ValueError):
        CAL.add_calendar_days(D(2026, 10, 1), -3)


def test_due_date_as_dict_is_the_json_shape() -> None:
    assert DueDate(D(2026, 10, 10), False).as_dict() == {"date": "2026-10-10", "unconfirmed": False}


def test_working_days_between_counts_days_left_after_the_first_date() -> None:
    assert CAL.working_days_between(D(2026, 9, 28), D(2026, 10, 10)) == 5
    assert CAL.working_days_between(D(2026, 10, 10), D(2026, 9, 28)) == -5
    assert CAL.working_days_between(D(2026, 10, 1), D(2026, 10, 7)) == 0
    assert CAL.working_days_between(D(2026, 3, 10), D(2026, 3, 10)) == 0


def test_a_whole_year_of_working_days_is_fast() -> None:
    import time

    started = time.perf_counter()
    cal = WorkCalendar()
    for n in range(0, 260):
        cal.add_working_days(D(2026, 1, 1), n)
    assert cal.add_working_days(D(2025, 12, 31), 1000).date.year == 2029
    assert time.perf_counter() - started < 1.0


# --------------------------------------------------------------------------- calendar days (Art. 85)


def test_fifteen_days_ending_on_national_day_roll_over_to_8_october() -> None:
    assert CAL.add_calendar_days(D(2026, 9, 16), 15) == DueDate(D(2026, 10, 8), False)


def test_calendar_days_ending_on_the_working_saturday_10_october_stay_there() -> None:
    assert CAL.add_calendar_days(D(2026, 9, 25), 15).date == D(2026, 10, 10)


def test_calendar_days_ending_on_a_weekend_roll_over_to_monday() -> None:
    assert CAL.add_calendar_days(D(2026, 3, 6), 15).date == D(2026, 3, 23)  # 21 Mar is a Saturday


def test_calendar_days_ending_on_a_working_day_do_not_move() -> None:
    assert CAL.add_calendar_days(D(2026, 3, 1), 30).date == D(2026, 3, 31)


def test_legal_periods_of_2_3_5_7_days_are_working_days_others_calendar_days() -> None:
    start = D(2026, 9, 28)
    assert CAL.add_legal_period(start, 5).date == D(2026, 10, 10)
    assert CAL.add_legal_period(start, 7).date == D(2026, 10, 13)
    assert CAL.add_legal_period(start, 3).date == D(2026, 10, 8)  # 29, 30 Sep, then 8 Oct
    assert CAL.add_legal_period(start, 2).date == D(2026, 9, 30)
    assert CAL.add_legal_period(D(2026, 9, 16), 15).date == D(2026, 10, 8)
    assert CAL.add_legal_period(start, 10).date == D(2026, 10, 8)  # 10 is not a working-day period


# --------------------------------------------------------------------------- the year boundary


def test_working_days_into_2027_without_a_notice_count_weekends_only_and_are_unconfirmed() -> None:
    due = CAL.add_working_days(D(2026, 12, 28), 10)
    assert due == DueDate(D(2027, 1, 11), True)  # 29–31 Dec, then 1, 4–8, 11 Jan (weekends only)
    assert CAL.day_info(D(2027, 1, 1)).as_dict() == {
        "date": "2027-01-01", "is_working_day": True, "kind": "working_day", "name": "",
        "source": "weekends", "unconfirmed": True}


def test_a_date_computed_wholly_inside_2026_is_confirmed_even_late_in_december() -> None:
    assert CAL.add_working_days(D(2026, 12, 28), 3) == DueDate(D(2026, 12, 31), False)


def test_calendar_days_landing_in_2027_are_unconfirmed() -> None:
    assert CAL.add_calendar_days(D(2026, 12, 20), 15) == DueDate(D(2027, 1, 4), True)


def test_a_loaded_2027_notice_is_respected_and_confirmed() -> None:
    # A hypothetical notice (not the real 2027 schedule): 1 Jan and 4 Jan off, Sat 9 Jan works.
    cal = WorkCalendar({D(2027, 1, 1): False, D(2027, 1, 4): False, D(2027, 1, 9): True}, {2027})
    assert cal.add_working_days(D(2026, 12, 31), 1) == DueDate(D(2027, 1, 5), False)
    assert cal.add_working_days(D(2026, 12, 31), 5) == DueDate(D(2027, 1, 9), False)
    assert cal.add_calendar_days(D(2026, 12, 4), 28) == DueDate(D(2027, 1, 5), False)


def test_overrides_without_publication_are_used_but_still_unconfirmed() -> None:
    cal = WorkCalendar({D(2027, 1, 1): False})
    assert cal.add_working_days(D(2026, 12, 31), 1) == DueDate(D(2027, 1, 4), True)
    assert cal.unconfirmed_years(D(2026, 12, 1), D(2028, 2, 1)) == [2027, 2028]


def test_years_before_the_package_fall_back_to_weekends_and_are_unconfirmed() -> None:
    assert CAL.add_working_days(D(2003, 12, 29), 1) == DueDate(D(2003, 12, 30), True)
    assert CAL.day_info(D(2003, 10, 1)).unconfirmed is True
    # Only the days counted matter: from 31 Dec 2003 the count runs in 2004, which the package knows.
    assert CAL.add_working_days(D(2003, 12, 31), 1) == DueDate(D(2004, 1, 2), False)


def test_overrides_win_over_the_package_for_a_2026_correction() -> None:
    # A hypothetical correction: Friday 9 Oct 2026 declared a day off.
    cal = WorkCalendar({D(2026, 10, 9): False}, names={D(2026, 10, 9): "更正示例"})
    assert cal.add_working_days(D(2026, 9, 28), 5) == DueDate(D(2026, 10, 12), False)
    assert cal.day_info(D(2026, 10, 9)).as_dict()["source"] == "override"
    assert cal.day_name(D(2026, 10, 9)) == "更正示例"


# --------------------------------------------------------------------------- days and instants


def test_a_day_is_the_date_in_shanghai() -> None:
    late_utc = dt.datetime(2026, 9, 30, 16, 30, tzinfo=dt.UTC)  # 00:30 on 1 Oct in Shanghai
    assert workdays.local_date(late_utc) == D(2026, 10, 1)
    with pytest.raises(ValueError):
        workdays.local_date(dt.datetime(2026, 9, 30, 16, 30))


@given(st.dates(D(2000, 1, 1), D(2100, 12, 31)))
def test_a_day_begins_at_the_instant_whose_shanghai_date_it_is(day: dt.date) -> None:
    start = workdays.day_start(day)
    assert start.tzinfo is not None and start.utcoffset() == dt.timedelta(0)
    assert workdays.local_date(start) == day
    assert workdays.local_date(start - dt.timedelta(microseconds=1)) == day - dt.timedelta(days=1)


def test_today_shanghai_follows_the_clock_in_shanghai(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workdays, "utcnow", lambda: dt.datetime(2026, 12, 31, 17, 0, tzinfo=dt.UTC))
    assert workdays.today_shanghai() == D(2027, 1, 1)


# --------------------------------------------------------------------------- properties

dates = st.dates(min_value=D(2024, 1, 1), max_value=D(2028, 12, 31))
overrides = st.dictionaries(st.dates(min_value=D(2026, 6, 1), max_value=D(2028, 6, 30)), st.booleans(),
                            max_size=40)
published = st.sets(st.sampled_from([2027, 2028]))


@settings(max_examples=150, deadline=None)
@given(start=dates, n=st.integers(min_value=0, max_value=400), extra=overrides, years=published)
def test_adding_working_days_is_monotone_lands_on_working_days_and_counts_exactly_n(
    start: dt.date, n: int, extra: dict[dt.date, bool], years: set[int]
) -> None:
    cal = WorkCalendar(extra, years)
    due, following = cal.add_working_days(start, n), cal.add_working_days(start, n + 1)
    assert following.date > due.date
    assert cal.is_working_day(following.date)
    assert cal.working_days_between(start, due.date) == n
    assert cal.working_days_between(start, following.date) == n + 1
    if n >= 1:
        assert cal.is_working_day(due.date) and due.date > start
    assert following.unconfirmed >= due.unconfirmed  # more days consulted, never less doubt


@settings(max_examples=150, deadline=None)
@given(start=dates, n=st.integers(min_value=1, max_value=400), extra=overrides, years=published)
def test_calendar_day_periods_end_no_earlier_than_start_plus_n_and_on_a_working_day(
    start: dt.date, n: int, extra: dict[dt.date, bool], years: set[int]
) -> None:
    cal = WorkCalendar(extra, years)
    due = cal.add_calendar_days(start, n)
    end = start + dt.timedelta(days=n)
    assert due.date >= end
    assert cal.is_working_day(due.date)
    assert all(not cal.is_working_day(d) for d in days(end, due.date - dt.timedelta(days=1)))
    assert due.unconfirmed == any(not cal.is_year_confirmed(y) for y in range(end.year, due.date.year + 1))


@settings(max_examples=100, deadline=None)
@given(start=dates, n=st.integers(min_value=1, max_value=60))
def test_working_days_match_a_day_by_day_walk(start: dt.date, n: int) -> None:
    day, counted = start, 0
    while counted < n:
        day += dt.timedelta(days=1)
        counted += CAL.is_working_day(day)
    assert CAL.add_working_days(start, n).date == day


# --------------------------------------------------------------------------- override files

GOOD = "date,is_working_day,name\n2027-01-01,否,元旦（示例）\n2027-1-4,0,示例\n2027/01/09,是,示例\n"


def test_parse_accepts_every_spelling_of_yes_and_no_and_skips_comments_and_blank_rows() -> None:
    text = ("# notice 示例\ndate,is_working_day,name\n\n2027-01-01,1,\n2027-01-02,0,\n2027-01-03,TRUE,\n"
            "2027-01-04,false,\n2027-01-05,是,\n2027-01-06,否,\n")
    rows = parse_overrides(text)
    assert [(r.row, r.is_working_day) for r in rows] == [
        (4, True), (5, False), (6, True), (7, False), (8, True), (9, False)]


def test_parse_reports_every_bad_row_with_its_row_number_and_column() -> None:
    text = ("date,is_working_day,name\n2027-01-01,否,元旦\n2027-02-30,0,\n2027-01-05,maybe,\n"
            "2027-01-01,1,\n2027-01-06,1\n2207-01-01,1,\n")
    with pytest.raises(CalendarFileInvalid) as caught:
        parse_overrides(text)
    problems = [(p.row, p.field, p.value) for p in caught.value.problems]
    assert problems == [(3, "date", "2027-02-30"), (4, "is_working_day", "maybe"), (5, "date", "2027-01-01"),
                        (6, "row", "2027-01-06,1"), (7, "date", "2207-01-01")]
    report = caught.value.to_dict("en")
    assert report["code"] == "invalid"
    assert report["details"][2] == {"row": 5, "field": "date", "value": "2027-01-01",
                                    "message": "This date is already on row 2."}


def test_parse_refuses_a_wrong_header_and_an_empty_file() -> None:
    with pytest.raises(CalendarFileInvalid) as caught:
        parse_overrides("day,working\n2027-01-01,1\n")
    assert [(p.row, p.field) for p in caught.value.problems] == [(1, "header")]
    with pytest.raises(CalendarFileInvalid) as caught:
        parse_overrides("date,is_working_day,name\n")
    assert [(p.row, p.field) for p in caught.value.problems] == [(2, "row")]


def test_files_saved_by_excel_with_a_bom_or_in_gb18030_are_read() -> None:
    assert decode_file(GOOD.encode("utf-8-sig")) == GOOD
    assert decode_file(GOOD.encode("gb18030")) == GOOD


def overrides_in(db: Session) -> list[tuple[dt.date, bool, str]]:
    return [(o.day, o.is_working_day, o.name) for o in db.scalars(select(CalendarOverride).order_by(
        CalendarOverride.day))]


def audit_count(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def test_loading_writes_the_days_publishes_the_year_and_is_audited(db: Session) -> None:
    before = audit_count(db)
    result = load_overrides(db, rows=parse_overrides(GOOD), source="示例通知", actor=None)
    assert result.as_dict() == {"added": 3, "updated": 0, "unchanged": 0, "published": [2027],
                                "years": [2027]}
    assert overrides_in(db) == [(D(2027, 1, 1), False, "元旦（示例）"), (D(2027, 1, 4), False, "示例"),
                                (D(2027, 1, 9), True, "示例")]
    assert db.scalars(select(CalendarYear.year)).all() == [2027]
    assert audit_count(db) == before + 1
    cal = WorkCalendar.from_db(db)
    assert cal.add_working_days(D(2026, 12, 31), 1) == DueDate(D(2027, 1, 5), False)
    assert cal.day_name(D(2027, 1, 1)) == "元旦（示例）"


def test_reloading_the_same_file_changes_nothing_and_a_changed_row_updates(db: Session) -> None:
    load_overrides(db, rows=parse_overrides(GOOD), source="a.csv", actor=None)
    before = audit_count(db)
    again = load_overrides(db, rows=parse_overrides(GOOD), source="a.csv", actor=None)
    assert (again.added, again.updated, again.unchanged, again.published) == (0, 0, 3, [])
    assert audit_count(db) == before
    changed = load_overrides(db, rows=parse_overrides(GOOD.replace("2027/01/09,是", "2027/01/09,否")),
                             source="b.csv", actor=None)
    assert (changed.added, changed.updated, changed.unchanged) == (0, 1, 2)
    assert len(overrides_in(db)) == 3
    assert WorkCalendar.from_db(db).is_working_day(D(2027, 1, 9)) is False


def test_a_correction_loaded_without_publishing_wins_but_leaves_the_year_unconfirmed(db: Session) -> None:
    rows = parse_overrides("date,is_working_day,name\n2026-10-09,0,更正示例\n2027-01-01,0,示例\n")
    result = load_overrides(db, rows=rows, source="fix.csv", publish=False, actor=None)
    assert result.published == []
    assert db.scalars(select(CalendarYear)).all() == []
    cal = workdays.default_calendar(db)
    assert cal.add_working_days(D(2026, 9, 28), 5) == DueDate(D(2026, 10, 12), False)
    assert cal.add_working_days(D(2026, 12, 31), 1) == DueDate(D(2027, 1, 4), True)


def test_a_file_with_one_bad_row_writes_nothing(db: Session) -> None:
    with pytest.raises(CalendarFileInvalid):
        parse_overrides(GOOD + "2027-13-01,1,\n")
    assert overrides_in(db) == []
    assert db.scalars(select(CalendarYear)).all() == []
