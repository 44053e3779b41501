"""``jianguan risk …`` — score the registry, explain an entity's score, record incidents. Thin."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import typer

risk_app = typer.Typer(help="Risk scores, incidents and warnings (统一风险预警处置中心).", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
STEPS = {"indicators": "读取指标", "score": "计算评分", "write": "写入评分", "levels": "更新风险等级", "done": "完成"}


def _day(value: str, option: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        from jianguan.cli import err_console

        err_console.print(f"[red]✗ {option}: not an ISO date (YYYY-MM-DD): {value}[/]")
        raise typer.Exit(2) from None


@risk_app.command("score")
def score(as_of: Annotated[str, typer.Option("--as-of", help="Score as of this day (default today).")] = "",
          as_json: JsonOpt = False) -> None:
    """Score every active entity; levels that change go into each entity's risk history."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from jianguan.cli import err_console, fail, operator, print_json
    from jianguan.core.errors import DomainError
    from jianguan.db import session_scope
    from jianguan.risk import service

    day = _day(as_of, "--as-of")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, disable=as_json, console=err_console) as bar:
        task = bar.add_task("风险评分", total=4)

        def tick(step: str, done: int, total: int) -> None:
            bar.update(task, description=f"风险评分 · {STEPS.get(step, step)}", completed=done, total=total)

        try:
            with session_scope() as db:
                summary = service.score(db, as_of=day, actor=operator(), progress=tick)
        except DomainError as error:
            fail(error)
    if as_json:
        print_json(summary)
        return
    levels = summary["levels"]
    typer.echo(f"{summary['as_of']} 按 {summary['rule_set']} 评分 {summary['scored']} 户：红 {levels.get('red', 0)}、"
               f"黄 {levels.get('yellow', 0)}、蓝 {levels.get('blue', 0)}；新记录 {summary['new_rows']} 条，"
               f"等级变化 {summary['level_changes']} 户")


@risk_app.command("explain")
def explain(uscc: Annotated[str, typer.Argument(help="The entity's USCC.")], as_json: JsonOpt = False) -> None:
    """An entity's score, level and each indicator's value and contribution, top reasons first."""
    from jianguan.cli import fail, operator, print_json
    from jianguan.core.errors import DomainError
    from jianguan.db import session_scope
    from jianguan.risk import service

    try:
        with session_scope() as db:
            actor = operator()
            out = service.explain(db, entity=service.entity_by_uscc(db, uscc_code=uscc, actor=actor), actor=actor)
    except DomainError as error:
        fail(error)
    if as_json:
        print_json(out)
        return
    if not out["scored"]:
        typer.echo(f"{out['name']}：尚未评分（jianguan risk score）")
        return
    typer.echo(f"{out['name']}  {out['score']} 分  {out['level']}（{out['rule_set']}）")
    for reason in out["reasons"]:
        typer.echo(f"  · {reason}")
    for part in out["indicators"]:
        typer.echo(f"    {part['name']}: {part['shown']} → {part['points']:g} × {part['weight']:g}% = "
                   f"{part['contribution']:g}")


incident_app = typer.Typer(help="The incident register (事件登记): accidents, serious violations, data breaches.",
                           no_args_is_help=True)


@incident_app.command("add")
def add_incident(
    uscc: Annotated[str, typer.Argument(help="The entity's USCC.")],
    kind: Annotated[str, typer.Option(help="major_accident / serious_environmental / data_breach / other")],
    severity: Annotated[str, typer.Option(help="major / serious / general")],
    on: Annotated[str, typer.Option("--on", help="The day it happened (YYYY-MM-DD).")],
    source: Annotated[str, typer.Option(help="Where it was reported, e.g. 应急管理局通报.")] = "",
    description: Annotated[str, typer.Option(help="What happened.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Record an incident; a major or serious one makes the entity red at once."""
    from jianguan.cli import fail, operator, print_json
    from jianguan.core.errors import DomainError
    from jianguan.db import session_scope
    from jianguan.risk import service

    day = _day(on, "--on")
    assert day is not None
    try:
        with session_scope() as db:
            actor = operator()
            entity = service.entity_by_uscc(db, uscc_code=uscc, actor=actor)
            incident = service.record_incident(db, entity=entity, kind=kind, severity=severity, occurred_on=day,
                                               source=source, description=description, actor=actor)
            out: dict[str, Any] = {"id": incident.id, "entity": entity.uscc, "level": entity.risk_level,
                                   "red_until": incident.red_until}
    except DomainError as error:
        fail(error)
    if as_json:
        print_json(out)
        return
    typer.echo(f"已登记事件 #{out['id']}；{out['entity']} 当前风险等级 {out['level']}"
               + (f"（{out['red_until']} 前为红色）" if out["red_until"] else ""))


@incident_app.command("list")
def list_incidents(as_json: JsonOpt = False) -> None:
    """Incidents, the latest first."""
    from jianguan.cli import console, operator, print_json
    from jianguan.db import session_scope
    from jianguan.risk import service

    with session_scope() as db:
        rows = service.incidents(db, actor=operator(), limit=1000)
    if as_json:
        print_json(rows)
        return
    from rich.table import Table

    table = Table("#", "日期 on", "对象 entity", "类型 kind", "程度 severity", "红色至 red until", "撤销 withdrawn")
    for r in rows:
        table.add_row(str(r["id"]), str(r["occurred_on"]), r["entity_name"], r["kind_label"], r["severity"],
                      str(r["red_until"] or "—"), r["withdrawn_reason"] or "")
    console.print(table)


risk_app.add_typer(incident_app, name="incident")

model_app = typer.Typer(help="The learned pre-screening model (AI 预筛): train, evaluate, show.", no_args_is_help=True)


@model_app.command("train")
def train_model(
    start: Annotated[str, typer.Option(help="The first day of inspections used (YYYY-MM-DD).")],
    split_on: Annotated[str, typer.Option("--split-on", help="Test on inspections from this day on.")],
    end: Annotated[str, typer.Option(help="The last day of inspections used.")],
    seed: Annotated[int, typer.Option(help="Random seed of the fit and the bootstrap.")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Train on inspections before the split, test on those after, against random and the rule score."""
    from jianguan.cli import fail, operator, print_json
    from jianguan.core.errors import DomainError
    from jianguan.db import session_scope
    from jianguan.risk import learning

    first, split, last = _day(start, "--start"), _day(split_on, "--split-on"), _day(end, "--end")
    if first is None or split is None or last is None:
        raise typer.Exit(2)
    try:
        with session_scope() as db:
            model = learning.train(db, start=first, split_on=split, end=last, seed=seed, actor=operator())
            out = _model_dict(model)
    except DomainError as error:
        fail(error)
    if as_json:
        print_json(out)
        return
    _print_model(out)


@model_app.command("show")
def show_model(as_json: JsonOpt = False) -> None:
    """The latest version's evaluation: AUC and lift at 10 % / 20 %, the model against the rule score."""
    from jianguan.cli import print_json
    from jianguan.db import session_scope
    from jianguan.risk import learning

    with session_scope() as db:
        model = learning.current(db)
        out = _model_dict(model) if model else None
    if as_json:
        print_json(out)
        return
    if out is None:
        typer.echo("尚未训练预筛模型；抽查按风险评分分层（jianguan risk model train）")
        return
    _print_model(out)


def _model_dict(model: Any) -> dict[str, Any]:
    ev = model.evaluation
    return {"number": model.number, "algorithm": model.algorithm, "trained_from": model.trained_from,
            "trained_to": model.trained_to, "tested_to": model.tested_to, "usable_for_draws": model.usable_for_draws,
            "counts": ev.get("counts", {}),
            **{side: {k: ev.get(side, {}).get(k) for k in ("auc", "lift_10", "lift_20")} for side in ("model", "rule")}}


def _print_model(out: dict[str, Any]) -> None:
    typer.echo(f"预筛模型 第{out['number']}版（{out['algorithm']}）："
               + ("优于风险评分，可用于抽查分层" if out["usable_for_draws"] else "未优于风险评分，不用于抽查"))
    for side, label in (("model", "模型"), ("rule", "评分")):
        v = out[side]
        typer.echo(f"  {label}: AUC {v['auc']}  前10%提升度 {v['lift_10']}  前20%提升度 {v['lift_20']}")


risk_app.add_typer(model_app, name="model")


def register(app: typer.Typer) -> None:
    app.add_typer(risk_app, name="risk")
