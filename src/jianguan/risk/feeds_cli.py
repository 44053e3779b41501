"""``jianguan risk cross-check`` — the cross-source checks of a period. Thin; ``register(risk_app)``
adds it to the ``risk`` command (readings and feeds import with ``jianguan import readings|feeds``)."""

from __future__ import annotations

from typing import Annotated, Any

import typer


def cross_check(
    period: Annotated[str, typer.Option("--period", help="The month (2026-10); a quarter or year: subsidies only.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Compare declared output with metered electricity, and subsidies with headcount and revenue; each
    mismatch counts in the risk score. Re-running a period replaces its results."""
    from jianguan.cli import fail, operator, print_json
    from jianguan.core.errors import DomainError
    from jianguan.db import session_scope
    from jianguan.risk import feeds, metrics

    try:
        with session_scope() as db:
            out: dict[str, Any] = feeds.cross_check(db, period=period, actor=operator())
    except DomainError as error:
        fail(error)
    if as_json:
        print_json(out)
        return
    compared, found, checks = out["compared"], out["mismatches"], metrics.catalogue().cross_checks
    typer.echo(
        f"{out['period']} 数据比对："
        + "；".join(f"{checks[code].name} 比对 {compared[code]} 户、异常 {found.get(code, 0)} 户" for code in compared)
        + f"（替换上次结果 {out['replaced']} 条）"
    )
    for row in out["rows"]:
        typer.echo(f"  {row['uscc']} {row['name']}：{row['check']}，{row['text']}")


def register(risk_app: typer.Typer) -> None:
    risk_app.command("cross-check")(cross_check)
