"""``jianguan calendar …``: compute deadlines, check a day, load and show the yearly holiday notice.

Thin over core/workdays.py; see docs/calendar.md.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from jianguan.core.workdays import DayInfo, WorkCalendar

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]

calendar_app = typer.Typer(
    help="The working-day calendar (工作日历): deadlines under Art. 85, holidays, the yearly notice.",
    no_args_is_help=True,
)

_WEEKDAYS = "一二三四五六日"
_KINDS = {
    "working_day": "working day 工作日",
    "adjusted_working_day": "working day 工作日 (adjusted, 调休上班)",
    "holiday": "not a working day 休息日 (holiday 节假日)",
    "weekend": "not a working day 休息日 (weekend 周末)",
}


def _parse_date(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD, e.g. 2026-09-28.",
                                 param_hint=option) from None


def _calendar() -> WorkCalendar:
    from jianguan.core.workdays import WorkCalendar
    from jianguan.db import session_scope

    with session_scope() as db:
        return WorkCalendar.from_db(db)


def _note(years: list[int]) -> str:
    if not years:
        return ""
    listed = ", ".join(str(y) for y in years)
    return f"  (unconfirmed: holiday calendar for {listed} not yet published)"


@calendar_app.command("add")
def add(
    start: Annotated[str, typer.Option(
        "--from", help="Start date YYYY-MM-DD (the day itself is not counted).")],
    working_days: Annotated[int | None, typer.Option(
        "--working-days", min=0, help="Add N working days.")] = None,
    days: Annotated[int | None, typer.Option(
        "--days", min=0, help="Add N calendar days; a last day off rolls to the next working day.")] = None,
    period: Annotated[int | None, typer.Option(
        "--period", min=0,
        help="A legal period of N days: 2, 3, 5, 7 are working days, others calendar days.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The due date N working or calendar days after a date (行政处罚法 Art. 85)."""
    from jianguan.core.workdays import WORKING_DAY_PERIODS

    day = _parse_date(start, "--from")
    given = [(name, n) for name, n in (("--working-days", working_days), ("--days", days),
                                       ("--period", period)) if n is not None]
    if len(given) != 1:
        raise typer.BadParameter("give exactly one of --working-days, --days or --period.",
                                 param_hint="--working-days / --days / --period")
    option, n = given[0]
    in_working_days = option == "--working-days" or (option == "--period" and n in WORKING_DAY_PERIODS)
    cal = _calendar()
    try:
        if in_working_days:
            due = cal.add_working_days(day, n)
            consulted_from = day + dt.timedelta(days=1)
        else:
            due = cal.add_calendar_days(day, n)
            consulted_from = day + dt.timedelta(days=n)
    except OverflowError:
        raise typer.BadParameter("the result is beyond year 9999.", param_hint=option) from None
    if as_json:
        typer.echo(json.dumps(due.as_dict(), ensure_ascii=False))
        return
    years = cal.unconfirmed_years(consulted_from, due.date) if due.unconfirmed else []
    typer.echo(f"{due.date.isoformat()}{_note(years)}")


def _day_line(info: DayInfo) -> str:
    name = f" — {info.name}" if info.name else ""
    origin = " [override]" if info.source == "override" else ""
    note = _note([info.date.year]) if info.unconfirmed else ""
    weekday = f"星期{_WEEKDAYS[info.date.weekday()]}"
    return f"{info.date.isoformat()} {weekday}  {_KINDS[info.kind]}{name}{origin}{note}"


@calendar_app.command("check")
def check(
    date: Annotated[str, typer.Argument(help="The day, YYYY-MM-DD.")],
    as_json: JsonOpt = False,
) -> None:
    """Whether a day is a working day, and the holiday it belongs to."""
    info = _calendar().day_info(_parse_date(date, "DATE"))
    if as_json:
        typer.echo(json.dumps(info.as_dict(), ensure_ascii=False))
    else:
        typer.echo(_day_line(info))


@calendar_app.command("load")
def load(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="CSV with the header date,is_working_day,name.")],
    publish: Annotated[bool, typer.Option(
        "--publish/--no-publish",
        help="Mark every year in the file as published (its notice is complete). "
             "Use --no-publish for mere corrections.")] = True,
    source: Annotated[str | None, typer.Option(
        "--source", help="Where the dates come from, e.g. the notice's number (default: the file name).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Load holiday overrides (the State Council notice, or corrections). All rows or none."""
    from jianguan.cli import console, err_console, print_json
    from jianguan.config import get_settings
    from jianguan.core.workdays import CalendarFileInvalid, decode_file, load_overrides, parse_overrides
    from jianguan.db import session_scope

    locale = get_settings().default_locale
    try:
        rows = parse_overrides(decode_file(file.read_bytes()))
    except CalendarFileInvalid as exc:
        if as_json:
            print_json({"ok": False, "file": file.name, "error": exc.to_dict(locale)})
        else:
            from rich.table import Table

            table = Table("row 行", "column 列", "value 值", "problem 问题", title=f"{file.name}: "
                          f"{exc.localized(locale)}")
            for p in exc.problems:
                table.add_row(str(p.row), p.field, p.value, p.text(locale))
            err_console.print(table)
        raise typer.Exit(1) from None
    with session_scope() as db:
        result = load_overrides(db, rows=rows, source=source or file.name, publish=publish, actor=None)
    if as_json:
        print_json({"ok": True, "file": file.name, "source": source or file.name, **result.as_dict()})
        return
    published = f"; published {', '.join(map(str, result.published))}" if result.published else ""
    console.print(f"[green]✓[/] {file.name}: {result.added} added, {result.updated} updated, "
                  f"{result.unchanged} unchanged{published}")


@calendar_app.command("show")
def show(
    year: Annotated[int | None, typer.Option("--year", min=1, max=9999, help="Only this year.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Loaded overrides and published years, and the years the package covers."""
    from rich.table import Table

    from jianguan.cli import console, print_json
    from jianguan.core import workdays
    from jianguan.db import session_scope

    first, last = workdays.PACKAGE_FIRST_YEAR, workdays.PACKAGE_LAST_YEAR
    with session_scope() as db:
        rows = workdays.list_overrides(db, year=year)
        years = [y for y in workdays.list_published_years(db) if year is None or y.year == year]
    overrides = [{"date": o.day.isoformat(), "is_working_day": o.is_working_day, "name": o.name,
                  "source": o.source, "updated_at": o.updated_at.isoformat()} for o in rows]
    published = [{"year": y.year, "source": y.source, "loaded_at": y.created_at.isoformat()} for y in years]
    data: dict[str, Any] = {"package_years": {"first": first, "last": last},
                            "published_years": published, "overrides": overrides}
    confirmed = year is None or first <= year <= last or bool(years)
    if year is not None:
        data["year"], data["confirmed"] = year, confirmed
    if as_json:
        print_json(data)
        return
    console.print(f"chinese_calendar package: {first}–{last}")
    console.print("published years (notice loaded): "
                  + (", ".join(f"{y.year} ({y.source})" for y in years) or "none"))
    if not confirmed:
        console.print(f"[yellow]{year}: not yet published — deadlines in it count weekends only "
                      "(unconfirmed)[/]")
    table = Table("date", "weekday", "working day", "name", "source",
                  title=f"overrides{f' {year}' if year else ''} ({len(rows)})")
    for o in rows:
        table.add_row(o.day.isoformat(), f"星期{_WEEKDAYS[o.day.weekday()]}",
                      "yes 班" if o.is_working_day else "no 休", o.name, o.source)
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(calendar_app, name="calendar")
