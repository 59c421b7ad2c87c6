"""match review pair indexes

A submission looks up the open review of a pair (in either order) before
opening one, and retiring a record closes the reviews it is part of; both
scanned every open review. Deleting a source record cascades to its reviews,
which scanned the whole table.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 10:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_match_review_open_pair",
        "match_review",
        [
            sa.text("least(left_record_id, right_record_id)"),
            sa.text("greatest(left_record_id, right_record_id)"),
        ],
        unique=False,
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index("ix_match_review_left_record_id", "match_review", ["left_record_id"])
    op.create_index("ix_match_review_right_record_id", "match_review", ["right_record_id"])


def downgrade() -> None:
    op.drop_index("ix_match_review_right_record_id", table_name="match_review")
    op.drop_index("ix_match_review_left_record_id", table_name="match_review")
    op.drop_index("ix_match_review_open_pair", table_name="match_review")
