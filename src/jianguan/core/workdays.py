"""The working-day calendar every legal deadline is computed with (domain-rules §2, 行政处罚法 Art. 85).

Statutory holidays and adjusted working days (调休) come from the ``chinese_calendar`` package
(2004–2026) and from the override table operators load each year from the State Council notice
(``jianguan calendar load``); overrides win. In a year that neither covers, only weekends rest and
every date computed through it is flagged ``unconfirmed`` so pages can say so.

``WorkCalendar`` is pure and needs no database; ``WorkCalendar.from_db`` adds the overrides.
Loading an override file is ``parse_overrides`` + ``load_overrides`` (all-or-nothing, audited).
See docs/calendar.md.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

import chinese_calendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from jianguan.core.errors import Invalid
from jianguan.core.i18n import N_, gettext
from jianguan.core.models import CalendarOverride, CalendarYear
from jianguan.db import utcnow

if TYPE_CHECKING:
    from jianguan.auth.models import User

SHANGHAI = ZoneInfo("Asia/Shanghai")
PACKAGE_FIRST_YEAR: int = min(chinese_calendar.holidays).year
PACKAGE_LAST_YEAR: int = max(chinese_calendar.holidays).year
# The law's short periods, counted in working days (Art. 85); every other period is calendar days.
WORKING_DAY_PERIODS = frozenset({2, 3, 5, 7})

# The package names holidays in English; pages and documents use the Chinese names.
_CHINESE_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}

Source = Literal["override", "package", "weekends"]


# --------------------------------------------------------------------------- days and instants


def local_date(instant: dt.datetime) -> dt.date:
    """The Asia/Shanghai date of an instant: a legal "day" is a date there (domain-rules §2)."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime given; pass an aware instant (stored instants are UTC)")
    return instant.astimezone(SHANGHAI).date()


def day_start(day: dt.date) -> dt.datetime:
    """The UTC instant a Shanghai day begins: windows of days over stored instants run from one to
    another."""
    return dt.datetime.combine(day, dt.time(), SHANGHAI).astimezone(dt.UTC)


def today_shanghai() -> dt.date:
    """Today in Asia/Shanghai, whatever the server's own time zone."""
    return local_date(utcnow())


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class DueDate:
    """A computed date; ``unconfirmed`` when it relied on a year whose holidays are not yet known."""

    date: dt.date
    unconfirmed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"date": self.date.isoformat(), "unconfirmed": self.unconfirmed}


@dataclass(frozen=True)
class DayInfo:
    """What the calendar knows about one day, for `jianguan calendar check` and the home page."""

    date: dt.date
    is_working_day: bool
    name: str  # holiday name (also on its adjusted working days), "" for an ordinary day
    source: Source
    unconfirmed: bool

    @property
    def kind(self) -> Literal["working_day", "adjusted_working_day", "holiday", "weekend"]:
        weekend = self.date.weekday() >= 5
        if self.is_working_day:
            return "adjusted_working_day" if weekend else "working_day"
        return "weekend" if weekend and not self.name else "holiday"

    def as_dict(self) -> dict[str, Any]:
        return {"date": self.date.isoformat(), "is_working_day": self.is_working_day, "kind": self.kind,
                "name": self.name, "source": self.source, "unconfirmed": self.unconfirmed}


# --------------------------------------------------------------------------- the calendar


@lru_cache(maxsize=64)
def _package_year(year: int) -> tuple[bool, ...] | None:
    """Working (True) or not for each day of a year the package covers; None outside its range."""
    if not PACKAGE_FIRST_YEAR <= year <= PACKAGE_LAST_YEAR:
        return None
    return tuple(
        d in chinese_calendar.workdays or (d.weekday() < 5 and d not in chinese_calendar.holidays)
        for d in _days_of(year)
    )


def _days_of(year: int) -> Iterable[dt.date]:
    day, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    while True:
        yield day
        if day == end:
            return
        day += dt.timedelta(days=1)


@dataclass
class _Year:
    flags: tuple[bool, ...]  # index = day of year - 1
    working: list[int] = dataclasses.field(default_factory=list)  # ordinals of its working days, ascending


class WorkCalendar:
    """Working days from the package plus overrides; date arithmetic for legal periods.

    Per-year tables are built once per instance, so adding working days across a year is a few
    binary searches, not a day-by-day walk.
    """

    def __init__(
        self,
        overrides: Mapping[dt.date, bool] | None = None,
        published_years: Iterable[int] = (),
        *,
        names: Mapping[dt.date, str] | None = None,
    ) -> None:
        self.overrides: dict[dt.date, bool] = dict(overrides or {})
        self.published_years: frozenset[int] = frozenset(published_years)
        self.names: dict[dt.date, str] = dict(names or {})
        self._years: dict[int, _Year] = {}

    @classmethod
    def from_db(cls, db: Session) -> WorkCalendar:
        """The calendar with every loaded override and published year."""
        rows = db.execute(
            select(CalendarOverride.day, CalendarOverride.is_working_day, CalendarOverride.name)
        ).all()
        years = db.scalars(select(CalendarYear.year)).all()
        names = {r.day: r.name for r in rows if r.name}
        return cls({r.day: r.is_working_day for r in rows}, years, names=names)

    # -- single days

    def is_year_confirmed(self, year: int) -> bool:
        """The package covers the year, or its notice has been loaded (published)."""
        return PACKAGE_FIRST_YEAR <= year <= PACKAGE_LAST_YEAR or year in self.published_years

    def is_confirmed(self, day: dt.date) -> bool:
        return self.is_year_confirmed(day.year)

    def is_working_day(self, day: dt.date) -> bool:
        return self._year(day.year).flags[day.timetuple().tm_yday - 1]

    def day_name(self, day: dt.date) -> str:
        """The holiday a day belongs to (also on its adjusted working days), else ""."""
        if day in self.overrides:
            return self.names.get(day, "")
        if _package_year(day.year) is None:
            return ""
        english = chinese_calendar.workdays.get(day) or chinese_calendar.holidays.get(day) or ""
        return _CHINESE_NAMES.get(english, english)

    def day_info(self, day: dt.date) -> DayInfo:
        source: Source = ("override" if day in self.overrides
                          else "package" if _package_year(day.year) is not None else "weekends")
        return DayInfo(day, self.is_working_day(day), self.day_name(day), source, not self.is_confirmed(day))

    # -- arithmetic

    def add_working_days(self, start: dt.date, n: int) -> DueDate:
        """The N-th working day after ``start``, whatever ``start`` is (domain-rules §2).

        Unlike ``chinese_calendar.find_workday``, a holiday start does not count: 2 working days
        after 3 Oct 2026 is 9 Oct 2026.
        """
        _check_count(n)
        if n == 0:
            return DueDate(start)
        after, remaining, year = start.toordinal(), n, start.year
        while True:
            working = self._year(year).working
            i = bisect_right(working, after)
            if remaining <= len(working) - i:
                day = dt.date.fromordinal(working[i + remaining - 1])
                return DueDate(day, self._unconfirmed(start + dt.timedelta(days=1), day))
            remaining -= len(working) - i
            year = _next_year(year)

    def working_days_before(self, end: dt.date, n: int) -> DueDate:
        """The N-th working day before ``end`` (``end`` not counted): the last day to give a notice
        that must precede ``end`` by N working days (e.g. an inspection notice, 5 working days)."""
        _check_count(n)
        if n == 0:
            return DueDate(end)
        before, remaining, year = end.toordinal(), n, end.year
        while True:
            working = self._year(year).working
            i = bisect_left(working, before)
            if remaining <= i:
                day = dt.date.fromordinal(working[i - remaining])
                return DueDate(day, self._unconfirmed(day, end))
            remaining -= i
            year -= 1
            if year < PACKAGE_FIRST_YEAR:
                raise ValueError(f"no working-day calendar before {PACKAGE_FIRST_YEAR}")

    def add_calendar_days(self, start: dt.date, n: int) -> DueDate:
        """``start`` + N days; if that day is not a working day, the next working day (Art. 85)."""
        _check_count(n)
        if n == 0:
            return DueDate(start)
        end = start + dt.timedelta(days=n)
        day = self.next_working_day(end)
        return DueDate(day, self._unconfirmed(end, day))

    def add_legal_period(self, start: dt.date, days: int) -> DueDate:
        """A period "of N days" as the law says: 2, 3, 5 and 7 are working days, others calendar days."""
        if days in WORKING_DAY_PERIODS:
            return self.add_working_days(start, days)
        return self.add_calendar_days(start, days)

    def next_working_day(self, day: dt.date) -> dt.date:
        """``day`` itself if it is a working day, else the first working day after it."""
        ordinal, year = day.toordinal(), day.year
        while True:
            working = self._year(year).working
            i = bisect_left(working, ordinal)
            if i < len(working):
                return dt.date.fromordinal(working[i])
            year = _next_year(year)

    def working_days_between(self, a: dt.date, b: dt.date) -> int:
        """Working days after ``a`` up to and including ``b`` ("days left"); negative when b < a."""
        if b < a:
            return -self.working_days_between(b, a)
        lo, hi = a.toordinal(), b.toordinal()
        total = 0
        for year in range(a.year, b.year + 1):
            working = self._year(year).working
            total += bisect_right(working, hi) - bisect_right(working, lo)
        return total

    def unconfirmed_years(self, a: dt.date, b: dt.date) -> list[int]:
        """Years from ``a`` to ``b`` whose holidays are not yet known (for the "unconfirmed" note)."""
        lo, hi = min(a, b), max(a, b)
        return [y for y in range(lo.year, hi.year + 1) if not self.is_year_confirmed(y)]

    # -- internals

    def _unconfirmed(self, first: dt.date, last: dt.date) -> bool:
        return bool(self.unconfirmed_years(first, last))

    def _year(self, year: int) -> _Year:
        cached = self._years.get(year)
        if cached is not None:
            return cached
        package = _package_year(year)
        days = list(_days_of(year))
        flags = [
            self.overrides[d] if d in self.overrides
            else package[i] if package is not None
            else d.weekday() < 5
            for i, d in enumerate(days)
        ]
        built = _Year(tuple(flags), [d.toordinal() for d, ok in zip(days, flags, strict=True) if ok])
        self._years[year] = built
        return built


def _check_count(n: int) -> None:
    if n < 0:
        raise ValueError(f"a period cannot be negative (got {n})")


def _next_year(year: int) -> int:
    if year >= dt.MAXYEAR:
        raise OverflowError("date out of range")
    return year + 1


def default_calendar(db: Session | None = None) -> WorkCalendar:
    """The calendar to compute deadlines with: overrides from ``db``, or the package alone."""
    return WorkCalendar.from_db(db) if db is not None else WorkCalendar()


# --------------------------------------------------------------------------- override files

CSV_HEADER = ("date", "is_working_day", "name")
_TRUE = {"1", "true", "是"}
_FALSE = {"0", "false", "否"}
_DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")
MIN_YEAR, MAX_YEAR = 2000, 2100  # a typo such as 2207 must not publish a year
NAME_MAX = 100


@dataclass(frozen=True)
class OverrideRow:
    row: int  # line in the file as a spreadsheet shows it (header = 1)
    date: dt.date
    is_working_day: bool
    name: str


@dataclass(frozen=True)
class Problem:
    """One bad cell of an override file: the row, the column and why."""

    row: int
    field: str
    value: str
    message: str  # message id with {params}
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def text(self, locale: str) -> str:
        return gettext(self.message, locale, **self.params)

    def as_dict(self, locale: str) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "value": self.value, "message": self.text(locale)}


class CalendarFileInvalid(Invalid):
    """An override file with at least one bad row; nothing of it was written."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("file", N_("The calendar file has {count} problem(s); nothing was loaded."),
                         count=len(problems))
        self.problems = list(problems)

    def to_dict(self, locale: str) -> dict[str, Any]:
        return {"code": self.code, "message": self.localized(locale),
                "details": [p.as_dict(locale) for p in self.problems]}


def decode_file(data: bytes) -> str:
    """UTF-8 (with or without the BOM Excel writes), else GB18030 as saved by Chinese Excel."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def parse_overrides(text: str) -> list[OverrideRow]:
    """Check a whole CSV (header ``date,is_working_day,name``); raise with every problem found.

    Lines starting with ``#`` are comments (the notice's number, who typed it in).
    """
    # Rows keep the number a spreadsheet shows; blank rows and "#" comment rows are skipped.
    records = [(number, record) for number, record in enumerate(csv.reader(io.StringIO(text)), start=1)
               if any(cell.strip() for cell in record) and not record[0].lstrip().startswith("#")]
    problems: list[Problem] = []
    header_row, header = (records[0][0], [h.strip().lower() for h in records[0][1]]) if records else (1, [])
    if tuple(header) != CSV_HEADER:
        raise CalendarFileInvalid([Problem(header_row, "header", ",".join(header), N_(
            "The first row must be the header {header}."), {"header": ",".join(CSV_HEADER)})])
    rows: list[OverrideRow] = []
    seen: dict[dt.date, int] = {}
    for number, record in records[1:]:
        if len(record) != len(CSV_HEADER):
            problems.append(Problem(number, "row", ",".join(record), N_(
                "Expected {expected} columns, found {found}."), {"expected": len(CSV_HEADER),
                                                                 "found": len(record)}))
            continue
        raw_date, raw_flag, raw_name = (cell.strip() for cell in record)
        before = len(problems)
        day = _parse_day(raw_date, number, problems)
        flag = raw_flag.lower()
        if flag not in _TRUE | _FALSE:
            problems.append(Problem(number, "is_working_day", raw_flag, N_(
                "Use 1/0, true/false or 是/否.")))
        if len(raw_name) > NAME_MAX:
            problems.append(Problem(number, "name", raw_name[:20] + "…", N_(
                "The name is longer than {max} characters."), {"max": NAME_MAX}))
        if day is not None and day in seen:
            problems.append(Problem(number, "date", raw_date, N_(
                "This date is already on row {row}."), {"row": seen[day]}))
        elif day is not None:
            seen[day] = number
        if len(problems) == before and day is not None:
            rows.append(OverrideRow(number, day, flag in _TRUE, raw_name))
    if not rows and not problems:
        problems.append(Problem(header_row + 1, "row", "", N_("The file has no rows below the header.")))
    if problems:
        raise CalendarFileInvalid(problems)
    return rows


def _parse_day(raw: str, number: int, problems: list[Problem]) -> dt.date | None:
    match = _DATE.match(raw)
    try:
        if match is None:
            raise ValueError(raw)
        day = dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        problems.append(Problem(number, "date", raw, N_("Not a date; use YYYY-MM-DD.")))
        return None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        problems.append(Problem(number, "date", raw, N_(
            "The year must be between {min} and {max}."), {"min": MIN_YEAR, "max": MAX_YEAR}))
        return None
    return day


@dataclass(frozen=True)
class LoadResult:
    added: int
    updated: int
    unchanged: int
    published: list[int]  # years newly marked published by this load
    years: list[int]  # years present in the file

    def as_dict(self) -> dict[str, Any]:
        return {"added": self.added, "updated": self.updated, "unchanged": self.unchanged,
                "published": self.published, "years": self.years}


def load_overrides(
    db: Session, *, rows: Sequence[OverrideRow], source: str, publish: bool = True, actor: User | None
) -> LoadResult:
    """Write checked rows (insert or update by date) and, unless ``publish`` is False, mark their
    years as published. Re-loading the same rows changes nothing. Flushes; the caller commits."""
    from jianguan.audit import service as audit

    source = source[:200]
    existing = {o.day: o for o in db.scalars(
        select(CalendarOverride).where(CalendarOverride.day.in_([r.date for r in rows])))}
    added = updated = unchanged = 0
    for r in rows:
        current = existing.get(r.date)
        if current is None:
            db.add(CalendarOverride(day=r.date, is_working_day=r.is_working_day, name=r.name, source=source))
            added += 1
        elif (current.is_working_day, current.name) != (r.is_working_day, r.name):
            current.is_working_day, current.name, current.source = r.is_working_day, r.name, source
            updated += 1
        else:
            unchanged += 1
    years = sorted({r.date.year for r in rows})
    published: list[int] = []
    if publish:
        known = set(db.scalars(select(CalendarYear.year).where(CalendarYear.year.in_(years))))
        for year in years:
            if year not in known:
                db.add(CalendarYear(year=year, source=source))
                published.append(year)
    db.flush()
    result = LoadResult(added, updated, unchanged, published, years)
    if added or updated or published:
        changes = [(r.date.isoformat(), r.is_working_day, r.name) for r in rows]
        audit.record(db, actor=actor, action="calendar.load", object_type="calendar", object_id=None,
                     payload={"source": source, "rows": changes, "publish": publish},
                     detail={"source": source, **result.as_dict()})
    return result


def list_overrides(db: Session, *, year: int | None = None) -> list[CalendarOverride]:
    query = select(CalendarOverride).order_by(CalendarOverride.day)
    if year is not None:
        query = query.where(CalendarOverride.day.between(dt.date(year, 1, 1), dt.date(year, 12, 31)))
    return list(db.scalars(query))


def list_published_years(db: Session) -> list[CalendarYear]:
    return list(db.scalars(select(CalendarYear).order_by(CalendarYear.year)))
