"""The operator docs cover every setting and every command (they move with the code)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from jianguan.config import Settings

DOCS = Path(__file__).resolve().parents[1] / "docs"


def command_paths(command: Any, prefix: str = "jianguan") -> list[str]:
    if hasattr(command, "commands"):
        paths = []
        for name, sub in command.commands.items():
            paths += command_paths(sub, f"{prefix} {name}")
        return paths
    return [prefix]


def test_operations_guide_lists_every_setting() -> None:
    text = (DOCS / "operations.md").read_text(encoding="utf-8")
    missing = [f"JIANGUAN_{name.upper()}" for name in Settings.model_fields
               if f"`JIANGUAN_{name.upper()}`" not in text]
    assert not missing, f"docs/operations.md does not document: {missing}"


def test_cli_reference_lists_every_command() -> None:
    from jianguan.cli import app

    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    paths = command_paths(typer.main.get_command(app))
    assert len(paths) >= 10
    missing = [p for p in paths if f"`{p}" not in text]
    assert not missing, f"docs/cli.md does not document: {missing}"
