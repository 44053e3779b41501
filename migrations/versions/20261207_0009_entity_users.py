"""entity users: users.entity_id (企业端 accounts speak for one supervised entity)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

SQLite cannot add a foreign key by ALTER except inline with a new column, and recreating ``users``
(batch mode) fails while other tables reference it — so SQLite gets ``ADD COLUMN … REFERENCES``, and
on the way down keeps the (empty, unused) column, since SQLite cannot drop a column that is a key.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE users ADD COLUMN entity_id INTEGER REFERENCES entities (id)")
    else:
        op.add_column("users", sa.Column("entity_id", sa.Integer(), nullable=True))
        op.create_foreign_key(op.f("fk_users_entity_id_entities"), "users", "entities", ["entity_id"], ["id"])
    op.create_index(op.f("ix_users_entity_id"), "users", ["entity_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_users_entity_id"), table_name="users")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("fk_users_entity_id_entities"), "users", type_="foreignkey")
        op.drop_column("users", "entity_id")
