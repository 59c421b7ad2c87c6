"""one open review per pair

Two submissions that met the same uncertain pair at once could each find no
open review of it and each open one: the steward then saw the pair twice, and
resolving one left the other open. The open-pair index becomes unique, so the
second writer updates the first one's review instead (``INSERT … ON CONFLICT``).
Duplicates already stored are closed first: the newest review of a pair stays
open (it carries the latest score), older ones become ``obsolete``.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 07:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PAIR = [
    sa.text("least(left_record_id, right_record_id)"),
    sa.text("greatest(left_record_id, right_record_id)"),
]
_OPEN = sa.text("status = 'open'")

_CLOSE_DUPLICATES = """
UPDATE match_review AS m
SET status = 'obsolete', resolved_at = now(), resolved_by = 'migration 0010',
    note = 'a newer open review of the same pair stays open'
FROM (
    SELECT id, row_number() OVER (
        PARTITION BY least(left_record_id, right_record_id),
                     greatest(left_record_id, right_record_id)
        ORDER BY id DESC
    ) AS newest_first
    FROM match_review
    WHERE status = 'open'
) AS d
WHERE m.id = d.id AND d.newest_first > 1
"""


def upgrade() -> None:
    op.execute(_CLOSE_DUPLICATES)
    op.drop_index("ix_match_review_open_pair", table_name="match_review")
    op.create_index(
        "ix_match_review_open_pair", "match_review", _PAIR, unique=True, postgresql_where=_OPEN
    )


def downgrade() -> None:
    op.drop_index("ix_match_review_open_pair", table_name="match_review")
    op.create_index(
        "ix_match_review_open_pair", "match_review", _PAIR, unique=False, postgresql_where=_OPEN
    )
