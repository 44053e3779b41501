"""entity name trigram index (PostgreSQL, where pg_trgm is available)

Substring search of Chinese names (LIKE '%…%') cannot use a b-tree index; a pg_trgm GIN index makes
it fast on millions of rows. Optional: where the extension is missing or may not be created, the
search still works, only slower — the migration says so and goes on.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    available = bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")).scalar()
    if not available:
        print("pg_trgm is not installed on this server: entity name search will not use a trigram index")
        return
    savepoint = bind.begin_nested()
    try:
        bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        bind.execute(
            sa.text("CREATE INDEX IF NOT EXISTS ix_entities_name_trgm ON entities USING gin (name gin_trgm_ops)")
        )
        savepoint.commit()
    except sa.exc.DBAPIError as error:
        savepoint.rollback()
        print(f"could not create the pg_trgm index ({error.orig}); name search works without it, only slower")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_entities_name_trgm")
