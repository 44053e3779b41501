"""Test harness: every test runs against a real database, SQLite or PostgreSQL.

``JIANGUAN_TEST_PG_URL`` (set by scripts/test.sh after starting a throwaway cluster) switches the
whole run to PostgreSQL. The schema is made by the Alembic history, never by create_all. Each test
runs inside a transaction that is rolled back; tests that need real commits (concurrency,
subprocesses) take ``fresh_db_url`` — a new database copied from the migrated template.
"""

from __future__ import annotations

import itertools
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

PG_ADMIN_URL = os.environ.get("JIANGUAN_TEST_PG_URL", "")
BACKEND = "postgresql" if PG_ADMIN_URL else "sqlite"
_RUN = uuid.uuid4().hex[:8]
_counter = itertools.count()


def pytest_report_header() -> str:
    return f"jianguan test database: {BACKEND}"


@pytest.fixture(scope="session")
def test_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("jianguan-home")
    os.environ["JIANGUAN_ENV"] = "test"
    os.environ["JIANGUAN_HOME"] = str(home)
    return home


def _pg_url(name: str) -> str:
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def _pg_admin(sql: str) -> None:
    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(sql))
    engine.dispose()


@pytest.fixture(scope="session")
def template_url(test_home: Path) -> Iterator[str]:
    """A database migrated to head once per run (per xdist worker)."""
    from jianguan import migrate
    from jianguan.config import reset_settings
    from jianguan.db import dispose_engines

    if BACKEND == "postgresql":
        name = f"jg_tmpl_{_RUN}"
        _pg_admin(f'CREATE DATABASE "{name}"')
        url = _pg_url(name)
    else:
        url = f"sqlite:///{test_home / 'template.db'}"
    os.environ["JIANGUAN_DATABASE_URL"] = url
    reset_settings()
    migrate.upgrade(url)
    dispose_engines()  # PostgreSQL refuses to copy a template with open connections
    yield url
    dispose_engines()
    if BACKEND == "postgresql":
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def engine(template_url: str) -> Iterator[Engine]:
    """The shared test database (a copy of the template) for rolled-back tests."""
    url = _copy_database(template_url, "main")
    os.environ["JIANGUAN_DATABASE_URL"] = url
    from jianguan.config import reset_settings
    from jianguan.db import get_engine

    reset_settings()
    yield get_engine(url)


def _copy_database(template_url: str, label: str) -> str:
    n = next(_counter)
    if BACKEND == "postgresql":
        name = f"jg_{_RUN}_{label}_{n}"
        _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "jg_tmpl_{_RUN}"')
        return _pg_url(name)
    source = Path(template_url.removeprefix("sqlite:///"))
    target = source.with_name(f"{label}_{n}.db")
    shutil.copyfile(source, target)
    return f"sqlite:///{target}"


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test (services may flush, even commit)."""
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        if transaction.is_active:
            transaction.rollback()
        connection.close()


@pytest.fixture
def fresh_db_url(template_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A database of its own for tests that commit for real; the app and CLI point at it."""
    from jianguan.config import reset_settings

    url = _copy_database(template_url, "fresh")
    monkeypatch.setenv("JIANGUAN_DATABASE_URL", url)
    reset_settings()
    yield url
    from jianguan.db import _engines

    eng = _engines.pop(url, None)
    if eng is not None:
        eng.dispose()
    reset_settings()


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    from jianguan.config import reset_settings

    reset_settings()
    yield
    reset_settings()
