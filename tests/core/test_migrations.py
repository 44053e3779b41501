"""Upgrading a database that holds data: every migration must work on a live SQLite file (where
recreating a referenced table fails) as well as on an empty one."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from jianguan import migrate


def test_upgrading_to_0009_keeps_accounts_and_their_references(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate.upgrade(url, "0008")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("PRAGMA foreign_keys=ON"))
        conn.execute(sa.text(
            "INSERT INTO users (id, username, display_name, roles, data_scope, is_active, session_epoch, created_at,"
            " updated_at, version)"
            " VALUES (1, 'wangjg', '王建国', '[]', 'agency', 1, 0, '2026-12-01', '2026-12-01', 1)"))
        conn.execute(sa.text(
            "INSERT INTO api_tokens (user_id, name, prefix, token_hash, created_at) "
            "VALUES (1, 'phone', 'jg_', 'h', '2026-12-01')"))
    engine.dispose()
    migrate.upgrade(url)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("users")}
        assert "entity_id" in columns
        assert conn.execute(sa.text("SELECT username FROM users")).scalar_one() == "wangjg"
        assert conn.execute(sa.text("SELECT count(*) FROM api_tokens")).scalar_one() == 1
    engine.dispose()
