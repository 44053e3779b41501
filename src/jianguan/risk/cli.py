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

warnings_app = typer.Typer(help="Warnings (预警): raise them now, list them.", no_args_is_help=True)


@warnings_app.command("raise")
def raise_warnings(as_of: Annotated[str, typer.Option("--as-of", help="Evaluate for this day (default today).")] = "",
                   as_json: JsonOpt = False) -> None:
    """Evaluate the rules in force and raise what fired (what the worker's risk.warnings job does at 06:00)."""
    from jianguan.cli import fail, operator, print_json
    from jianguan.core.errors import DomainError
    from jianguan.db import session_scope
    from jianguan.risk import warnings

    try:
        with session_scope() as db:
            out = warnings.raise_warnings(db, as_of=_day(as_of, "--as-of"), actor=operator())
    except DomainError as error:
        fail(error)
    if as_json:
        print_json(out)
        return
    levels = out["levels"]
    typer.echo(f"{out['as_of']}：{out['rules']} 条规则，触发 {out['fired']} 次，"
               f"重复不再预警 {out['repeats_suppressed']} 次，新预警 {out['raised']} 条"
               f"（红 {levels['red']}、黄 {levels['yellow']}、蓝 {levels['blue']}；未能分派 {out['unrouted']}）")


@warnings_app.command("list")
def list_warnings(state: Annotated[str, typer.Option(help="Only in this state (default: open ones).")] = "",
                  as_json: JsonOpt = False) -> None:
    """Warnings of every agency, the most urgent first."""
    from jianguan.cli import console, operator, print_json
    from jianguan.db import session_scope
    from jianguan.risk import warnings

    with session_scope() as db:
        rows, total = warnings.listing(db, actor=operator(), state=state, open_only=not state, limit=10_000)
        out: list[dict[str, Any]] = [{"code": w.code, "rule": w.rule_code, "level": w.level, "entity_id": w.entity_id,
                "state": w.state, "due_date": w.due_date, "detail": w.detail} for w in rows]
    if as_json:
        print_json({"total": total, "items": out})
        return
    from rich.table import Table

    table = Table("编号 code", "规则 rule", "等级 level", "状态 state", "期限 due", "内容 detail")
    for w in out:
        table.add_row(w["code"], w["rule"], w["level"], w["state"], str(w["due_date"] or "—"), w["detail"])
    console.print(table)


rules_app = typer.Typer(help="Warning rules (预警规则): list them, back-test one.", no_args_is_help=True)


@rules_app.command("list")
def list_rules(as_json: JsonOpt = False) -> None:
    """The rules in force today."""
    from jianguan.cli import console, print_json
    from jianguan.core.workdays import today_shanghai
    from jianguan.db import session_scope
    from jianguan.risk import rules, warning_rules

    with session_scope() as db:
        active = warning_rules.in_force(db, on=today_shanghai())
    if as_json:
        print_json([rules.to_data(r) for r in active])
        return
    from rich.table import Table

    table = Table("规则 code", "名称 name", "类型 kind", "等级 level", "领域 domain", "版本 version")
    for r in active:
        table.add_row(r.code, r.name, r.kind, r.level, r.domain, str(r.version))
    console.print(table)


@rules_app.command("backtest")
def backtest_rule(code: Annotated[str, typer.Argument(help="The rule's code, e.g. FS-01.")],
                  days: Annotated[int, typer.Option(help="How many days back.")] = 90,
                  as_json: JsonOpt = False) -> None:
    """How many warnings the rule would have raised, and how many days ahead of a failed inspection or an incident."""
    from jianguan.cli import fail, print_json
    from jianguan.core.errors import DomainError
    from jianguan.core.workdays import today_shanghai
    from jianguan.db import session_scope
    from jianguan.risk import rules, warning_rules

    try:
        with session_scope() as db:
            latest = warning_rules.versions(db, code=code.upper())[0]
            result = warning_rules.backtest(db, rule=rules.validate(latest.spec), end=today_shanghai(), days=days)
    except DomainError as error:
        fail(error)
    if as_json:
        print_json({"summary": result.summary, "warnings": result.warnings.head(1000).to_dicts()})
        return
    s = result.summary
    typer.echo(f"{code} 近{days}日：将预警 {s['warnings']} 条（{s['entities']} 户）；其中 {s['followed_by_outcome']} 条"
               f"在30日内出现检查不合格或事故，提前天数中位数 {s['lead_days_median']}")


risk_app.add_typer(warnings_app, name="warnings")
risk_app.add_typer(rules_app, name="rules")


def _sub_apps() -> None:
    """Credit feedback (risk/credit_cli.py) under ``jianguan risk credit``; the cross-checks of the data
    feeds (risk/feeds_cli.py) as ``jianguan risk cross-check``."""
    from jianguan.risk import feeds_cli
    from jianguan.risk.credit_cli import credit_app

    risk_app.add_typer(credit_app, name="credit")
    feeds_cli.register(risk_app)


_sub_apps()


def register(app: typer.Typer) -> None:
    app.add_typer(risk_app, name="risk")
