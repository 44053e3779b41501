"""The statutory periods of a penalty case (行政处罚法 2021; 市场监督管理行政处罚程序规定), computed on the
working-day calendar. Pure: the case workflow (to come) calls these; each rule is tested with 2026
dates, holidays included (tests/cases/test_deadlines.py).

| step | period | source |
|---|---|---|
| lead checked and filed (立案) | 15 working days from the lead, +15 with approval | SAMR 程序规定第十八条 |
| evidence preservation decided (先行登记保存) | 7 working days | 行政处罚法第五十六条 |
| legal review (法制审核) | 10 working days from receiving the file, extendable | SAMR 程序规定第五十五条 |
| hearing requested | 5 working days from the prior notice | 行政处罚法第六十四条 |
| hearing notice served | at least 7 working days before the hearing | 行政处罚法第六十四条 |
| decision | 90 days from filing, +30 with approval, suspensions excluded (below) | SAMR 程序规定第六十四条 |
| decision served | 7 working days from the decision | 行政处罚法第六十一条 |
| fine paid | 15 days from service | 行政处罚法第六十七条 |
| limitation | discovered within 2 years; 5 for life, health, safety, finance with harm | 行政处罚法第三十六条 |
| closing approval form | 15 working days from the closing condition | SAMR 程序规定第七十七条 |
| review / lawsuit by the party | 60 days / 6 months from knowing | 行政复议法第二十条, 行政诉讼法第四十六条 |
| court enforcement applied for | within 3 months after the review and lawsuit periods lapse | 行政强制法第五十三条 |

The decision period excludes the time of hearings, testing, expert opinions and public notices. A
"day" period ends on its last day, moved to the next working day when that is a holiday (Art. 85).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from jianguan.core.errors import Invalid
from jianguan.core.i18n import N_
from jianguan.core.workdays import DueDate, WorkCalendar

FILING_WORKING_DAYS = 15
FILING_EXTENSION_WORKING_DAYS = 15
PRESERVATION_WORKING_DAYS = 7
LEGAL_REVIEW_WORKING_DAYS = 10
HEARING_REQUEST_WORKING_DAYS = 5
HEARING_NOTICE_WORKING_DAYS = 7
DECISION_DAYS = 90
DECISION_EXTENSION_DAYS = 30
SERVICE_WORKING_DAYS = 7
PAYMENT_DAYS = 15
LIMITATION_YEARS, LIMITATION_YEARS_SEVERE = 2, 5
CLOSING_WORKING_DAYS = 15
REVIEW_DAYS, LAWSUIT_MONTHS, ENFORCEMENT_MONTHS = 60, 6, 3


def filing_due(calendar: WorkCalendar, lead_on: dt.date, *, extended: bool = False) -> DueDate:
    days = FILING_WORKING_DAYS + (FILING_EXTENSION_WORKING_DAYS if extended else 0)
    return calendar.add_working_days(lead_on, days)


def preservation_decision_due(calendar: WorkCalendar, preserved_on: dt.date) -> DueDate:
    return calendar.add_working_days(preserved_on, PRESERVATION_WORKING_DAYS)


def legal_review_due(calendar: WorkCalendar, received_on: dt.date) -> DueDate:
    return calendar.add_working_days(received_on, LEGAL_REVIEW_WORKING_DAYS)


def hearing_request_due(calendar: WorkCalendar, notice_served_on: dt.date) -> DueDate:
    return calendar.add_working_days(notice_served_on, HEARING_REQUEST_WORKING_DAYS)


def hearing_notice_latest(calendar: WorkCalendar, hearing_on: dt.date) -> DueDate:
    """The last day the hearing notice may be served: 7 working days before the hearing."""
    return calendar.working_days_before(hearing_on, HEARING_NOTICE_WORKING_DAYS)


def service_due(calendar: WorkCalendar, decided_on: dt.date) -> DueDate:
    return calendar.add_working_days(decided_on, SERVICE_WORKING_DAYS)


def payment_due(calendar: WorkCalendar, served_on: dt.date) -> DueDate:
    return calendar.add_calendar_days(served_on, PAYMENT_DAYS)


def closing_due(calendar: WorkCalendar, condition_on: dt.date) -> DueDate:
    return calendar.add_working_days(condition_on, CLOSING_WORKING_DAYS)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later; the month's last day when it has no such day (31 Aug + 6 → 28 Feb)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def challenge_window_end(calendar: WorkCalendar, served_on: dt.date) -> DueDate:
    """The last day the party may still sue (6 months from service; the 60-day review ends earlier)."""
    return calendar.add_calendar_days(served_on, (add_months(served_on, LAWSUIT_MONTHS) - served_on).days)


def enforcement_window(calendar: WorkCalendar, served_on: dt.date) -> tuple[dt.date, DueDate]:
    """申请人民法院强制执行: from the day after the challenge periods lapse, for 3 months."""
    lapse = challenge_window_end(calendar, served_on).date
    opens = lapse + dt.timedelta(days=1)
    return opens, calendar.add_calendar_days(lapse, (add_months(lapse, ENFORCEMENT_MONTHS) - lapse).days)


def suspended_days(suspensions: Iterable[tuple[dt.date, dt.date | None]], *, until: dt.date) -> int:
    """Days the decision period stood still: each suspension from its start to its end (or ``until``
    while it lasts), both days counted, overlapping suspensions counted once."""
    days: set[dt.date] = set()
    for start, end in suspensions:
        if end is not None and end < start:
            raise Invalid("suspension", N_("A suspension cannot end ({end}) before it starts ({start})."),
                          start=start.isoformat(), end=end.isoformat())
        last = min(end or until, until)
        if last < start:
            continue  # it starts after the day counted to
        days.update(start + dt.timedelta(days=i) for i in range((last - start).days + 1))
    return len(days)


def decision_due(calendar: WorkCalendar, filed_on: dt.date, *, extended: bool = False,
                 suspensions: Iterable[tuple[dt.date, dt.date | None]] = (), today: dt.date | None = None,
                 ) -> DueDate:
    """90 days from filing, +30 with approval, plus the days hearings, testing, expert opinions and
    public notices took; ends on a working day."""
    days = DECISION_DAYS + (DECISION_EXTENSION_DAYS if extended else 0)
    days += suspended_days(suspensions, until=today or dt.date.max)
    return calendar.add_calendar_days(filed_on, days)


def _years_later(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def check_limitation(*, act_ended_on: dt.date, discovered_on: dt.date, severe: bool) -> None:
    """行政处罚法第三十六条: refuse a case whose act was not discovered in time, saying why. A continuing
    act counts from the day it ended; ``severe``: it concerns life, health, safety or financial
    security and had harmful consequences (5 years)."""
    years = LIMITATION_YEARS_SEVERE if severe else LIMITATION_YEARS
    last = _years_later(act_ended_on, years)
    if discovered_on > last:
        raise Invalid("discovered_on", N_("Too late to penalise: the act ended on {ended} and was discovered on "
                                          "{found}, more than {years} years later (行政处罚法第三十六条)."),
                      ended=act_ended_on.isoformat(), found=discovered_on.isoformat(), years=years)
    if discovered_on < act_ended_on:
        raise Invalid("discovered_on", N_("The act cannot be discovered before it ended."))
