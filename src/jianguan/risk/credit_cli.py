"""``jianguan risk credit …`` — evaluate credit feedback, list open proposals, print or export the
compliant-enterprise and joint-punishment lists. Thin: ``risk.credit`` decides."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

credit_app = typer.Typer(
    help="Credit feedback from inspection outcomes, and the lists derived from it (信用反馈).", no_args_is_help=True
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
AsOfOpt = Annotated[str, typer.Option("--as-of", help="Evaluate as of this day, YYYY-MM-DD (default today).")]
OutOpt = Annotated[
    Path | None, typer.Option("--out", help="Write the list to FILE.xlsx or FILE.csv (Chinese headers).")
]


def _day(value: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        from jianguan.cli import err_console

        err_console.print(f"[red]✗ --as-of: not an ISO date (YYYY-MM-DD): {value}[/]")
        raise typer.Exit(2) from None


@credit_app.command("evaluate")
def evaluate(as_of: AsOfOpt = "", as_json: JsonOpt = False) -> None:
    """Count each entity's events of the last 12 months and keep one open proposal per entity whose points
    call for another credit class (new, replaced or withdrawn)."""
    from jianguan.cli import fail, operator, print_json
    from jianguan.core.errors import DomainError
    from jianguan.db import session_scope
    from jianguan.risk import credit

    day = _day(as_of)
    try:
        with session_scope() as db:
            summary = credit.evaluate(db, as_of=day, actor=operator())
    except DomainError as error:
        fail(error)
    if as_json:
        print_json(summary)
        return
    changes = "、".join(f"{k} {v} 户" for k, v in summary["changes"].items()) or "无"
    typer.echo(
        f"{summary['as_of']} 按 {summary['rule_version']} 评价 {summary['evaluated']} 户：待决定建议 "
        f"{summary['proposals']} 条（新增 {summary['new']}、更新 {summary['replaced']}、撤回 {summary['withdrawn']}）；"
        f"调整：{changes}"
    )


@credit_app.command("proposals")
def proposals(as_json: JsonOpt = False) -> None:
    """Open proposals, lowest points first, with their reasons."""
    from jianguan.cli import console, operator, print_json
    from jianguan.db import session_scope
    from jianguan.risk import credit

    with session_scope() as db:
        rows, total = credit.proposals(db, actor=operator(), limit=1000)
    if as_json:
        print_json(rows)
        return
    from rich.table import Table

    table = Table("#", "对象 entity", "等级 class", "分 points", "理由 reasons", title=f"待决定 {total} 条")
    for r in rows:
        table.add_row(
            str(r["id"]),
            f"{r['entity_name']}\n{r['uscc']}",
            f"{r['current_class'] or '—'} → {r['proposed_class']}",
            f"{r['points']:+d}",
            r["reason_text"],
        )
    console.print(table)


def _list(which: str, as_of: str, out: Path | None, as_json: bool) -> None:
    from jianguan.cli import console, fail, operator, print_json
    from jianguan.core.errors import DomainError
    from jianguan.db import session_scope
    from jianguan.risk import credit, credit_lists

    day = _day(as_of)
    try:
        with session_scope() as db:
            if out is not None:
                fmt = out.suffix.lower().lstrip(".")
                out.write_bytes(credit.export(db, which=which, as_of=day, actor=operator(), fmt=fmt))
            frame = (credit.compliant if which == "compliant" else credit.joint_punishment)(
                db, as_of=day, actor=operator()
            )
            rows: list[dict[str, Any]] = credit_lists.rows(frame)
    except DomainError as error:
        fail(error)
    if as_json:
        print_json(rows)
        return
    if out is not None:
        typer.echo(f"已导出 {len(rows)} 行 → {out}")
        return
    from rich.table import Table

    title, headers = credit_lists.LISTS[which]
    table = Table(*headers.values(), title=f"{title}（{len(rows)}）")
    for r in rows:
        table.add_row(*("" if r[k] is None else str(r[k]) for k in headers))
    console.print(table)


@credit_app.command("compliant")
def compliant(as_of: AsOfOpt = "", out: OutOpt = None, as_json: JsonOpt = False) -> None:
    """合规企业名录: active enterprises without findings or penalties in 3 years, credit A/B, tax credit A/B."""
    _list("compliant", as_of, out, as_json)


@credit_app.command("punishment")
def punishment(as_of: AsOfOpt = "", out: OutOpt = None, as_json: JsonOpt = False) -> None:
    """联合惩戒名单: credit D, the serious-violation tag, or a severe penalty in 3 years, with the reasons."""
    _list("punishment", as_of, out, as_json)
