"""search name party type

A search filtered by party type is answered from ``search_name`` alone: each
active customer's party type is kept next to its search names (it never
changes), so a search no longer looks up every candidate's golden record to
check its status and type. Existing rows take it from their golden record.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 01:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("search_name", sa.Column("party_type", sa.String(length=16), nullable=True))
    op.execute(
        "UPDATE search_name n SET party_type = g.party_type"
        " FROM golden_record g WHERE g.id = n.golden_id"
    )
    op.alter_column("search_name", "party_type", nullable=False)


def downgrade() -> None:
    op.drop_column("search_name", "party_type")
