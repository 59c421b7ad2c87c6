"""term frequency snapshot

Submissions score with the term frequencies of the stored population once
it is large enough (as ``hub match`` counts its own input), kept here and
refreshed when the population has moved by a tenth. The sequence counts
source records stored, changed or retired; it starts at the number of
current records, so that a hub loaded before this revision counts them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 16:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "term_frequency_snapshot",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("records", sa.BigInteger(), nullable=False),
        sa.Column("changes_mark", sa.BigInteger(), nullable=False),
        sa.Column("frequencies", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "computed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_term_frequency_snapshot")),
    )
    op.execute(sa.schema.CreateSequence(sa.Sequence("population_change_seq")))
    op.execute(
        "SELECT setval('population_change_seq', current.records)"
        " FROM (SELECT count(*) AS records FROM source_record"
        "  WHERE retired_at IS NULL AND current_version > 0) AS current"
        " WHERE current.records > 0"
    )


def downgrade() -> None:
    op.execute(sa.schema.DropSequence(sa.Sequence("population_change_seq")))
    op.drop_table("term_frequency_snapshot")
