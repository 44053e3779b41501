"""entities: drop indexes that searches do not use

``region_code`` and ``agency_id`` are the leading columns of ``ix_entities_region_name`` /
``ix_entities_agency_name``; ``kind`` and ``status`` have a handful of values (a scan is as fast);
``under_supervision_since`` and the two lookup hashes are not searched. Each index made every
imported row slower (5M rows: about a minute of index maintenance each).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DROPPED = ("agency_id", "contact_phone_hash", "kind", "legal_rep_id_number_hash", "region_code", "status",
           "under_supervision_since")


def upgrade() -> None:
    with op.batch_alter_table("entities", schema=None) as batch_op:
        for column in DROPPED:
            batch_op.drop_index(f"ix_entities_{column}")


def downgrade() -> None:
    with op.batch_alter_table("entities", schema=None) as batch_op:
        for column in DROPPED:
            batch_op.create_index(f"ix_entities_{column}", [column], unique=False)
