"""catalog: supervision items and their versions, legal bases, check points, checklist templates,
checklists made for entities, the negative list, the indicator tree and its yearly weights

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "checklist_templates",
        sa.Column(
            "code", sa.String(length=40).with_variant(sa.String(length=40, collation="C"), "postgresql"), nullable=False
        ),
        sa.Column("domain", sa.String(length=32), nullable=False),
        sa.Column("current_number", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checklist_templates")),
        sa.UniqueConstraint("code", name=op.f("uq_checklist_templates_code")),
    )
    op.create_table(
        "indicators",
        sa.Column(
            "code", sa.String(length=20).with_variant(sa.String(length=20, collation="C"), "postgresql"), nullable=False
        ),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("data_source", sa.Text(), nullable=False),
        sa.Column("scoring_method", sa.Text(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["indicators.id"], name=op.f("fk_indicators_parent_id_indicators")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicators")),
        sa.UniqueConstraint("code", name=op.f("uq_indicators_code")),
    )
    with op.batch_alter_table("indicators", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_indicators_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "negative_list_entries",
        sa.Column(
            "code", sa.String(length=20).with_variant(sa.String(length=20, collation="C"), "postgresql"), nullable=False
        ),
        sa.Column("matter", sa.String(length=300), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("item_codes", sa.JSON(), nullable=False),
        sa.Column("law_slug", sa.String(length=60), nullable=False),
        sa.Column("law_title", sa.String(length=120), nullable=False),
        sa.Column("article_no", sa.String(length=30), nullable=False),
        sa.Column("article_text", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_negative_list_entries")),
        sa.UniqueConstraint("code", name=op.f("uq_negative_list_entries_code")),
    )
    op.create_table(
        "supervision_items",
        sa.Column(
            "code", sa.String(length=14).with_variant(sa.String(length=14, collation="C"), "postgresql"), nullable=False
        ),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("domain", sa.String(length=32), nullable=False),
        sa.Column("department", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("current_number", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["supervision_items.id"], name=op.f("fk_supervision_items_parent_id_supervision_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_items")),
        sa.UniqueConstraint("code", name=op.f("uq_supervision_items_code")),
    )
    with op.batch_alter_table("supervision_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_supervision_items_domain"), ["domain"], unique=False)
        batch_op.create_index(batch_op.f("ix_supervision_items_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_supervision_items_status"), ["status"], unique=False)

    op.create_table(
        "checklist_template_versions",
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("item_codes", sa.JSON(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("simplified", sa.Boolean(), nullable=False),
        sa.Column("applies", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["checklist_templates.id"],
            name=op.f("fk_checklist_template_versions_template_id_checklist_templates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checklist_template_versions")),
        sa.UniqueConstraint("template_id", "number", name=op.f("uq_checklist_template_versions_template_id")),
    )
    op.create_table(
        "checklist_template_points",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(length=100), nullable=False),
        sa.Column(
            "point_code",
            sa.String(length=24).with_variant(sa.String(length=24, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("mandatory", sa.Boolean(), nullable=False),
        sa.Column("when", sa.JSON(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["checklist_template_versions.id"],
            name=op.f("fk_checklist_template_points_version_id_checklist_template_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checklist_template_points")),
    )
    with op.batch_alter_table("checklist_template_points", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_checklist_template_points_version_id"), ["version_id"], unique=False)

    op.create_table(
        "checklists",
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("template_version_id", sa.Integer(), nullable=True),
        sa.Column("item_codes", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_checklists_created_by_users")),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entities.id"], name=op.f("fk_checklists_entity_id_entities"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["template_version_id"],
            ["checklist_template_versions.id"],
            name=op.f("fk_checklists_template_version_id_checklist_template_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checklists")),
    )
    with op.batch_alter_table("checklists", schema=None) as batch_op:
        batch_op.create_index("ix_checklists_entity", ["entity_id", "created_at"], unique=False)

    op.create_table(
        "indicator_weights",
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("set_by", sa.Integer(), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["indicators.id"],
            name=op.f("fk_indicator_weights_indicator_id_indicators"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["set_by"], ["users.id"], name=op.f("fk_indicator_weights_set_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_weights")),
        sa.UniqueConstraint("indicator_id", "year", name=op.f("uq_indicator_weights_indicator_id")),
    )
    op.create_table(
        "supervision_item_versions",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("implementation_code", sa.String(length=60), nullable=False),
        sa.Column("national_code", sa.String(length=60), nullable=False),
        sa.Column("power_code", sa.String(length=60), nullable=False),
        sa.Column("agency_codes", sa.JSON(), nullable=False),
        sa.Column("object_kinds", sa.JSON(), nullable=False),
        sa.Column("methods", sa.JSON(), nullable=False),
        sa.Column("key_item", sa.Boolean(), nullable=False),
        sa.Column("sampling_ratio", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("frequency_per_year", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=True),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("proposed_by", sa.Integer(), nullable=True),
        sa.Column("workflow", sa.String(length=60), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("state_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("due_unconfirmed", sa.Boolean(), nullable=False),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["supervision_items.id"],
            name=op.f("fk_supervision_item_versions_item_id_supervision_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by"], ["users.id"], name=op.f("fk_supervision_item_versions_proposed_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_item_versions")),
        sa.UniqueConstraint("item_id", "number", name=op.f("uq_supervision_item_versions_item_id")),
    )
    with op.batch_alter_table("supervision_item_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_supervision_item_versions_due_date"), ["due_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_supervision_item_versions_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_supervision_item_versions_workflow"), ["workflow"], unique=False)

    op.create_table(
        "check_points",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column(
            "code", sa.String(length=24).with_variant(sa.String(length=24, collation="C"), "postgresql"), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("law_slug", sa.String(length=60), nullable=False),
        sa.Column("law_title", sa.String(length=120), nullable=False),
        sa.Column("article_no", sa.String(length=30), nullable=False),
        sa.Column("article_text", sa.Text(), nullable=False),
        sa.Column("indicator_code", sa.String(length=20), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("answer_type", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("min_value", sa.Numeric(precision=12, scale=3), nullable=True),
        sa.Column("max_value", sa.Numeric(precision=12, scale=3), nullable=True),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("photo_required", sa.Boolean(), nullable=False),
        sa.Column("evidence_required", sa.Boolean(), nullable=False),
        sa.Column("guidance", sa.Text(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["supervision_item_versions.id"],
            name=op.f("fk_check_points_version_id_supervision_item_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_points")),
        sa.UniqueConstraint("version_id", "code", name=op.f("uq_check_points_version_id")),
    )
    with op.batch_alter_table("check_points", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_check_points_code"), ["code"], unique=False)

    op.create_table(
        "item_legal_bases",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("law_slug", sa.String(length=60), nullable=False),
        sa.Column("law_title", sa.String(length=120), nullable=False),
        sa.Column("article_no", sa.String(length=30), nullable=False),
        sa.Column("article_text", sa.Text(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["supervision_item_versions.id"],
            name=op.f("fk_item_legal_bases_version_id_supervision_item_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_legal_bases")),
    )
    with op.batch_alter_table("item_legal_bases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_item_legal_bases_version_id"), ["version_id"], unique=False)

    op.create_table(
        "checklist_points",
        sa.Column("checklist_id", sa.Integer(), nullable=False),
        sa.Column("check_point_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(length=100), nullable=False),
        sa.Column("mandatory", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("added_by", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["added_by"], ["users.id"], name=op.f("fk_checklist_points_added_by_users")),
        sa.ForeignKeyConstraint(
            ["check_point_id"], ["check_points.id"], name=op.f("fk_checklist_points_check_point_id_check_points")
        ),
        sa.ForeignKeyConstraint(
            ["checklist_id"],
            ["checklists.id"],
            name=op.f("fk_checklist_points_checklist_id_checklists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checklist_points")),
    )
    with op.batch_alter_table("checklist_points", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_checklist_points_checklist_id"), ["checklist_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("checklist_points", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checklist_points_checklist_id"))

    op.drop_table("checklist_points")
    with op.batch_alter_table("item_legal_bases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_legal_bases_version_id"))

    op.drop_table("item_legal_bases")
    with op.batch_alter_table("check_points", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_check_points_code"))

    op.drop_table("check_points")
    with op.batch_alter_table("supervision_item_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supervision_item_versions_workflow"))
        batch_op.drop_index(batch_op.f("ix_supervision_item_versions_state"))
        batch_op.drop_index(batch_op.f("ix_supervision_item_versions_due_date"))

    op.drop_table("supervision_item_versions")
    op.drop_table("indicator_weights")
    with op.batch_alter_table("checklists", schema=None) as batch_op:
        batch_op.drop_index("ix_checklists_entity")

    op.drop_table("checklists")
    with op.batch_alter_table("checklist_template_points", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checklist_template_points_version_id"))

    op.drop_table("checklist_template_points")
    op.drop_table("checklist_template_versions")
    with op.batch_alter_table("supervision_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supervision_items_status"))
        batch_op.drop_index(batch_op.f("ix_supervision_items_parent_id"))
        batch_op.drop_index(batch_op.f("ix_supervision_items_domain"))

    op.drop_table("supervision_items")
    op.drop_table("negative_list_entries")
    with op.batch_alter_table("indicators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_indicators_parent_id"))

    op.drop_table("indicators")
    op.drop_table("checklist_templates")
