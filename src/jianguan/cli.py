"""The ``jianguan`` command. Each package's ``cli.py`` adds its commands via ``register(app)``."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from jianguan import registry
from jianguan.core.errors import DomainError


def _block_stop_signals_for_the_worker() -> None:
    """The worker takes SIGTERM/SIGINT on one thread of its own (core/worker.py). Block them before any
    library starts threads (polars, numpy, OpenBLAS), or the kernel may hand the signal to one of those
    threads and the process dies without letting running jobs finish."""
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        import signal

        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})


_block_stop_signals_for_the_worker()

app = typer.Typer(
    name="jianguan",
    help="jianguan 监管 — online supervision platform (互联网+监管).",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)


def print_json(data: Any) -> None:
    """Machine-readable output for every command that prints data (``--json``)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def operator() -> Any:
    """The operator's view from the command line: every agency (a transient, unsaved account)."""
    from jianguan.auth.models import User

    return User(username="cli", display_name="cli", roles=["system_admin"], data_scope="all")


def fail(error: DomainError) -> NoReturn:
    """A refused command: the message in Chinese on stderr, exit status 2."""
    err_console.print(f"[red]✗ {error.localized('zh_CN')}[/] ({error.code}; {error.details or ''})")
    raise typer.Exit(2)


def _init() -> dict[str, Any]:
    from jianguan import migrate
    from jianguan.config import get_settings
    from jianguan.db import session_scope
    from jianguan.documents import signing

    settings = get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    migrate.upgrade()
    signing.ensure_ca()  # the demo CA that signs documents (replaceable by a real one)
    loaded: dict[str, Any] = {}
    with session_scope() as db:
        for module in registry.modules("seed"):
            loaded[module.__name__.split(".")[1]] = module.load(db)
    return {"database": settings.sqlalchemy_url.split("@")[-1], "heads": migrate.current_heads(), "seeded": loaded}


@app.command()
def init(as_json: JsonOpt = False) -> None:
    """Create or upgrade the database schema (Alembic) and load reference data. Safe to re-run."""
    result = _init()
    if as_json:
        print_json(result)
    else:
        console.print(f"[green]✓[/] database ready: {result['database']} (schema {', '.join(result['heads'])})")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default JIANGUAN_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default JIANGUAN_PORT).")] = None,
    workers: Annotated[int, typer.Option(help="Web processes (stateless; share one database).")] = 1,
    reload: Annotated[bool, typer.Option(help="Reload on code change (development).")] = False,
) -> None:
    """Serve the web pages and the API."""
    import uvicorn

    from jianguan.config import get_settings

    settings = get_settings()
    uvicorn.run(
        "jianguan.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        reload=reload,
        proxy_headers=True,
    )


demo_app = typer.Typer(
    help="Demo data: `jianguan demo` sets up and serves it; `jianguan demo generate` makes a synthetic province.",
    invoke_without_command=True,
)
app.add_typer(demo_app, name="demo")


@demo_app.callback()
def demo(
    ctx: typer.Context,
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve after loading.")] = True,
    as_json: JsonOpt = False,
) -> None:
    """Set up the database, load demo data (safe to repeat) and serve it with the demo logins."""
    if ctx.invoked_subcommand is not None:
        return
    from jianguan.config import get_settings
    from jianguan.db import session_scope

    _init()
    loaded: dict[str, Any] = {}
    with session_scope() as db:
        for module in sorted(registry.modules("demo"), key=lambda m: getattr(m, "DEMO_ORDER", 0)):  # stable
            loaded[module.__name__.split(".")[1]] = module.load(db)
    settings = get_settings()
    logins = [row for module in registry.modules("demo") if hasattr(module, "logins") for row in module.logins()]
    if as_json:
        print_json({"url": settings.base_url, "loaded": loaded,
                    "logins": [{"username": u, "password": p, "who": w} for u, p, w in logins]})
    else:
        from rich.table import Table

        table = Table("用户名 username", "密码 password", "身份 who", title="演示账号 demo logins")
        for username, password, who in logins:
            table.add_row(username, password, who)
        console.print(table)
        console.print(f"\n[bold green]jianguan 监管[/] → [bold]{settings.base_url}[/]  (Ctrl+C to stop)\n")
    if serve_after:
        serve(host=None, port=None, workers=1, reload=False)


def _register_packages() -> None:
    for module in registry.modules("cli"):
        module.register(app)


_register_packages()


def main() -> None:
    from pydantic import ValidationError

    try:
        app()
    except ValidationError as error:  # settings refused (e.g. default secret key in production)
        for problem in error.errors():
            err_console.print(f"[red]✗ configuration:[/] {problem['msg'].removeprefix('Value error, ')}")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
