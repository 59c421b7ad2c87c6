"""hashed blocking keys

Blocking keys (``match_key``) are only ever compared for equality. They are
kept as signed 64-bit hashes of their text (``key_hash``), the numbers the
batch matcher already blocks on and a first load has in hand: a number takes
half the room of the text, and the primary key a first load builds over
them, one of its largest statements, sorts numbers instead of strings. Two
keys of one hash would only make a record a candidate of another for the
scorer to turn down (one chance in some 10^12 at a hundred million keys).

The hash is BLAKE2b of the key's UTF-8 text, 8 bytes read little-endian and
signed (``matching.block.key_hash``); this migration computes it for the keys
stored. A hash cannot be turned back into its text: the downgrade makes the
keys again from each current version's standardized form, with the hub's
own code, as ``hub match-keys refresh`` does.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 12:15:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from hashlib import blake2b

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 10_000


def _hash(key: str) -> int:
    return int.from_bytes(blake2b(key.encode(), digest_size=8).digest(), "little", signed=True)


def upgrade() -> None:
    bind = op.get_bind()
    op.add_column("match_key", sa.Column("key_hash", sa.BigInteger(), nullable=True))
    op.execute('CREATE TEMPORARY TABLE hashed (key text COLLATE "C" PRIMARY KEY, hash bigint)')
    distinct = sa.text(
        "SELECT DISTINCT key FROM match_key WHERE key > :after ORDER BY 1 LIMIT :batch"
    )
    after = ""
    while keys := bind.execute(distinct, {"after": after, "batch": BATCH}).scalars().all():
        bind.execute(
            sa.text(
                "INSERT INTO hashed SELECT * FROM"
                " unnest(CAST(:keys AS text[]), CAST(:hashes AS bigint[]))"
            ),
            {"keys": list(keys), "hashes": [_hash(key) for key in keys]},
        )
        after = keys[-1]
    op.execute("UPDATE match_key m SET key_hash = h.hash FROM hashed h WHERE h.key = m.key")
    op.execute("DROP TABLE hashed")
    op.drop_constraint("pk_match_key", "match_key", type_="primary")
    op.drop_column("match_key", "key")
    op.alter_column("match_key", "key_hash", nullable=False)
    op.create_primary_key("pk_match_key", "match_key", ["key_hash", "source_record_id"])
    # Planned for what it holds now (the local autovacuum may be off).
    op.execute("ANALYZE match_key")


def downgrade() -> None:
    # The hub's code makes the keys, as the hub itself would.
    from matching.block import blocking_keys
    from matching.standardize.serialize import standard_record_from_dict

    op.execute("DELETE FROM match_key")
    op.drop_constraint("pk_match_key", "match_key", type_="primary")
    op.drop_column("match_key", "key_hash")
    op.add_column("match_key", sa.Column("key", sa.Text(collation="C"), nullable=False))
    current = sa.text(
        "SELECT r.id, v.standardized FROM source_record r"
        " JOIN source_record_version v ON v.source_record_id = r.id"
        " AND v.version = r.current_version"
        " WHERE r.retired_at IS NULL AND r.id > :after ORDER BY r.id LIMIT :batch"
    )
    insert = sa.text(
        "INSERT INTO match_key (key, source_record_id)"
        " SELECT * FROM unnest(CAST(:keys AS text[]), CAST(:ids AS bigint[]))"
    )
    bind = op.get_bind()
    after = 0
    while rows := bind.execute(current, {"after": after, "batch": BATCH}).all():
        keys: list[str] = []
        ids: list[int] = []
        for record_id, standardized in rows:
            made = sorted(set(blocking_keys(standard_record_from_dict(standardized))))
            keys.extend(made)
            ids.extend([record_id] * len(made))
        bind.execute(insert, {"keys": keys, "ids": ids})
        after = rows[-1][0]
    # Built over the rows, and the table analyzed: an index built over the
    # empty table left it planned as empty, and each record's keys were then
    # looked up by scanning the whole primary key.
    op.create_primary_key("pk_match_key", "match_key", ["key", "source_record_id"])
    op.execute("ANALYZE match_key")
