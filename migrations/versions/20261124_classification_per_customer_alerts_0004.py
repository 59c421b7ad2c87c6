"""classification per customer, retention alerts

One classification row per customer instead of one per dimension (a batch
recomputation of a million customers writes a million rows, not seven
million); stored classifications are carried over. Retention alerts get a
table of their own: raised, kept, cleared.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 07:14:18.136903
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DIMENSIONS = ("tier", "lifecycle", "nature", "region", "category", "contact", "retention")


def _create_wide_classification() -> None:
    op.create_table(
        "classification",
        sa.Column("golden_id", sa.BigInteger(), nullable=False),
        sa.Column("rule_set_version", sa.String(length=32), nullable=False),
        sa.Column("tier", sa.String(length=32), nullable=False),
        sa.Column("lifecycle", sa.String(length=32), nullable=False),
        sa.Column("nature", sa.String(length=32), nullable=False),
        sa.Column("region", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("contact", sa.String(length=32), nullable=False),
        sa.Column("retention", sa.Text(), nullable=False),
        sa.Column("explanations", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "computed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["golden_id"],
            ["golden_record.id"],
            name=op.f("fk_classification_golden_id_golden_record"),
        ),
        sa.PrimaryKeyConstraint("golden_id", name=op.f("pk_classification")),
    )
    op.create_index(
        op.f("ix_classification_lifecycle"), "classification", ["lifecycle"], unique=False
    )
    op.create_index(op.f("ix_classification_tier"), "classification", ["tier"], unique=False)


def _create_narrow_classification() -> None:
    op.create_table(
        "classification",
        sa.Column("golden_id", sa.BigInteger(), nullable=False),
        sa.Column("dimension", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("rule_set_version", sa.String(length=32), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("inputs", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "computed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["golden_id"],
            ["golden_record.id"],
            name=op.f("fk_classification_golden_id_golden_record"),
        ),
        sa.PrimaryKeyConstraint("golden_id", "dimension", name=op.f("pk_classification")),
    )
    op.create_index(
        "ix_classification_dimension_value", "classification", ["dimension", "value"], unique=False
    )


def upgrade() -> None:
    values = ", ".join(f"max(value) FILTER (WHERE dimension = '{d}') AS {d}" for d in DIMENSIONS)
    op.execute(
        "CREATE TEMPORARY TABLE classification_carried ON COMMIT DROP AS"  # noqa: S608 - fixed names
        f" SELECT golden_id, max(rule_set_version) AS rule_set_version, {values},"
        " jsonb_object_agg(dimension, jsonb_build_object('rule', rule, 'inputs', inputs))"
        " AS explanations, max(computed_at) AS computed_at"
        f" FROM classification GROUP BY golden_id HAVING count(*) = {len(DIMENSIONS)}"
    )
    op.drop_index("ix_classification_dimension_value", table_name="classification")
    op.drop_table("classification")
    _create_wide_classification()
    columns = ", ".join(DIMENSIONS)
    op.execute(
        "INSERT INTO classification"  # noqa: S608 - fixed names
        f" (golden_id, rule_set_version, {columns}, explanations, computed_at)"
        f" SELECT golden_id, rule_set_version, {columns}, explanations, computed_at"
        " FROM classification_carried"
    )
    op.create_table(
        "retention_alert",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("golden_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("inputs", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("rule_set_version", sa.String(length=32), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cleared_rule", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["golden_id"],
            ["golden_record.id"],
            name=op.f("fk_retention_alert_golden_id_golden_record"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_alert")),
    )
    op.create_index(
        op.f("ix_retention_alert_golden_id"), "retention_alert", ["golden_id"], unique=False
    )
    op.create_index(
        "ix_retention_alert_open_raised",
        "retention_alert",
        ["raised_at"],
        unique=False,
        postgresql_where=sa.text("cleared_at IS NULL"),
    )
    op.create_index(
        "uq_retention_alert_open",
        "retention_alert",
        ["golden_id", "reason"],
        unique=True,
        postgresql_where=sa.text("cleared_at IS NULL"),
    )
    # The alerts in force today start their history now.
    op.execute(
        "INSERT INTO retention_alert"
        " (golden_id, reason, rule, inputs, rule_set_version, raised_at)"
        " SELECT c.golden_id, reason, c.explanations->'retention'->>'rule',"
        " c.explanations->'retention'->'inputs', c.rule_set_version, c.computed_at"
        " FROM classification c, unnest(string_to_array(c.retention, '+')) AS reason"
        " WHERE c.retention <> 'NONE'"
    )


def downgrade() -> None:
    op.drop_index(
        "uq_retention_alert_open",
        table_name="retention_alert",
        postgresql_where=sa.text("cleared_at IS NULL"),
    )
    op.drop_index(
        "ix_retention_alert_open_raised",
        table_name="retention_alert",
        postgresql_where=sa.text("cleared_at IS NULL"),
    )
    op.drop_index(op.f("ix_retention_alert_golden_id"), table_name="retention_alert")
    op.drop_table("retention_alert")
    value = " ".join(f"WHEN '{d}' THEN {d}" for d in DIMENSIONS)
    op.execute(
        "CREATE TEMPORARY TABLE classification_carried ON COMMIT DROP AS"  # noqa: S608 - fixed names
        f" SELECT golden_id, d.key AS dimension, CASE d.key {value} END AS value,"
        " rule_set_version, d.value->>'rule' AS rule, d.value->'inputs' AS inputs, computed_at"
        " FROM classification, jsonb_each(explanations) AS d"
    )
    op.drop_index(op.f("ix_classification_tier"), table_name="classification")
    op.drop_index(op.f("ix_classification_lifecycle"), table_name="classification")
    op.drop_table("classification")
    _create_narrow_classification()
    op.execute(
        "INSERT INTO classification"
        " (golden_id, dimension, value, rule_set_version, rule, inputs, computed_at)"
        " SELECT golden_id, dimension, value, rule_set_version, rule, inputs, computed_at"
        " FROM classification_carried"
    )
