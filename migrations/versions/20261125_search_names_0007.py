"""search names

Each active golden record's names as a search ranks them (normalized, in
pinyin, in English), made when it is indexed instead of for every candidate
of every search. Existing records are filled in here, in batches.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 00:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 20_000

# The table as this revision makes it (0008 adds the party type).
FILL = sa.text(
    "INSERT INTO search_name (golden_id, name, pinyin, name_en)"
    " SELECT * FROM unnest(CAST(:ids AS bigint[]), CAST(:names AS text[]),"
    "  CAST(:pinyins AS text[]), CAST(:names_en AS text[]))"
)


def upgrade() -> None:
    op.create_table(
        "search_name",
        sa.Column("golden_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("pinyin", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["golden_id"],
            ["golden_record.id"],
            name=op.f("fk_search_name_golden_id_golden_record"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("golden_id", name=op.f("pk_search_name")),
    )
    fill_search_names()


def fill_search_names() -> None:
    """The search names of the active golden records already stored, a batch at a time."""
    from hub.services.search import searched_names

    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.text(
                "SELECT id, attributes->'name' AS name, attributes->'name_en' AS name_en"
                " FROM golden_record WHERE status = 'active' AND id > :last"
                " ORDER BY id LIMIT :batch"
            ),
            {"last": last, "batch": BATCH},
        ).all()
        if not rows:
            return
        forms = [searched_names({"name": row.name, "name_en": row.name_en}) for row in rows]
        connection.execute(
            FILL,
            {
                "ids": [row.id for row in rows],
                "names": [name for name, _, _ in forms],
                "pinyins": [pinyin for _, pinyin, _ in forms],
                "names_en": [name_en for _, _, name_en in forms],
            },
        )
        last = rows[-1].id


def downgrade() -> None:
    op.drop_table("search_name")
