"""byte order keys

Blocking keys (``match_key.key``) and search tokens (``search_token.token``)
are only ever compared for equality, never sorted for a reader, yet their
primary keys sorted them with the database's locale (``strcoll`` for every
comparison, no abbreviated keys). Under the ``C`` collation they sort by
bytes: a bulk load builds these two indexes, its largest statements, about
twice as fast. Equality (all the hub asks of them) is the same under both,
and a comparison with a bound value takes the column's collation, so every
lookup still uses its index. Their indexes are rebuilt by the type change.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 02:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column) compared byte by byte from this revision on.
BYTE_ORDER_COLUMNS = (("match_key", "key"), ("search_token", "token"))


def upgrade() -> None:
    for table, column in BYTE_ORDER_COLUMNS:
        op.alter_column(
            table,
            column,
            existing_type=sa.Text(),
            type_=sa.Text(collation="C"),
            existing_nullable=False,
        )


def downgrade() -> None:
    for table, column in BYTE_ORDER_COLUMNS:
        op.alter_column(
            table,
            column,
            existing_type=sa.Text(collation="C"),
            type_=sa.Text(),
            existing_nullable=False,
        )
