"""Commands run as their own process, importing only what they need: the mapping must still be whole
(an account row points at an entity, a model of another package)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def jianguan(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "JIANGUAN_HOME": str(home)}
    env.pop("JIANGUAN_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "jianguan.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_users_create_works_as_a_command_of_its_own(tmp_path: Path) -> None:
    assert jianguan(tmp_path, "init", "--json").returncode == 0
    made = jianguan(tmp_path, "users", "create", "ops", "--name", "运维", "--role", "system_admin", "--scope", "all",
                    "--password", "Xihu-2026-jianguan", "--json")
    assert made.returncode == 0, made.stderr[-2000:]
    assert json.loads(made.stdout)["username"] == "ops"
