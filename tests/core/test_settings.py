"""Settings fail fast where a default would be dangerous."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from jianguan.config import DEFAULT_SECRET_KEY, Settings


def test_production_refuses_the_default_secret_key() -> None:
    with pytest.raises(ValidationError, match="JIANGUAN_SECRET_KEY"):
        Settings(env="production", secret_key=DEFAULT_SECRET_KEY, field_keys="k1:" + "A" * 43)


def test_production_requires_field_keys() -> None:
    with pytest.raises(ValidationError, match="JIANGUAN_FIELD_KEYS"):
        Settings(env="production", secret_key="x" * 48)


def test_development_runs_with_defaults_and_sqlite_under_home(tmp_path: object) -> None:
    settings = Settings(env="development", home=tmp_path, database_url="")  # type: ignore[arg-type]
    assert settings.sqlalchemy_url.startswith("sqlite:///")
    assert settings.sqlalchemy_url.endswith("jianguan.db")


def test_cli_refuses_to_start_in_production_with_the_default_secret(monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: object) -> None:
    import subprocess
    import sys

    env = {"JIANGUAN_ENV": "production", "JIANGUAN_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "jianguan.cli", "init"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert "JIANGUAN_SECRET_KEY" in done.stderr
    assert "Traceback" not in done.stderr
