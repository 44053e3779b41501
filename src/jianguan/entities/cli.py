"""``jianguan uscc check …``: validate unified social credit codes from the command line."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from jianguan.entities import uscc as uscc_rules

uscc_app = typer.Typer(help="Unified social credit codes (统一社会信用代码).", no_args_is_help=True)


@uscc_app.command("check")
def check(
    codes: Annotated[list[str], typer.Argument(help="One or more 18-character codes.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Validate codes (GB 32100-2015); exit 1 when any has an error. Warnings do not fail."""
    results = [uscc_rules.validate(code).as_dict() for code in codes]
    if as_json:
        for r in results:  # one JSON object per line, one line per code
            typer.echo(json.dumps(r, ensure_ascii=False))
    else:
        for r in results:
            mark = "✓" if r["valid"] else "✗"
            typer.echo(f"{mark} {r['code']}")
            for item in (*r["errors"], *r["warnings"]):
                typer.echo(f"    {item['code']}: {item['message']}")
    if not all(r["valid"] for r in results):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(uscc_app, name="uscc")
