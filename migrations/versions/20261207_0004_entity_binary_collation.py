"""entities: codes and names compared byte by byte (COLLATE "C") on PostgreSQL

Sorting and indexing these columns under the server's locale went through strcoll and could not
abbreviate keys: rebuilding the entity indexes after a 5M-row load took twice as long. Byte order is
also what SQLite uses, so lists sort the same on both databases. Changing a column's collation
rebuilds the indexes on it; SQLite is unchanged.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = {"entities": {"uscc": 18, "name": 200, "region_code": 6, "industry_code": 5, "id_number_hash": 64,
                        "credit_class": 2, "risk_level": 8},
           "entity_licences": {"licence_type": 40, "number": 60}}


def _collate(collation: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in COLUMNS.items():
        changes = ", ".join(f'ALTER COLUMN {c} TYPE varchar({n}) COLLATE "{collation}"' for c, n in columns.items())
        op.execute(f"ALTER TABLE {table} {changes}")


def upgrade() -> None:
    _collate("C")


def downgrade() -> None:
    _collate("default")
