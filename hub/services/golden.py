"""Golden records: membership, survivorship, versions, merges and splits.

Every change to a golden record recomputes its values from its members under
the survivorship rules, writes a version (so ``asOf`` can read it back) and
queues a change event, all in the caller's transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, NamedTuple

from sqlalchemy import Select, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from hub.db.models import (
    AttributeOverride,
    CrossReference,
    GoldenRecord,
    GoldenRecordVersion,
    SourceRecord,
    SourceRecordVersion,
    SourceSystem,
)
from hub.db.sql import among
from hub.errors import Conflict, Invalid, NotFound
from hub.services.events import ChangeKind, jsonb_text
from hub.services.profile import close_retention_alerts, refresh_profiles
from hub.services.search import SEARCHED_ATTRIBUTES, index_goldens
from hub.survivorship import (
    OVERRIDABLE,
    Member,
    Override,
    SurvivorshipRules,
    default_rules,
    member_from_record,
    survive,
)
from matching import PartyType, StandardRecord, parse_record
from matching.standardize import standard_record_from_dict


@dataclass(frozen=True)
class MemberRecord:
    """A source record's current version as matching and survivorship read it.

    Matching reads the standardized record; survivorship's view of the
    payload is worked out when first asked for (most members a submission
    loads are only compared, never survived).
    """

    record_id: int
    golden_id: int
    source: str
    source_key: str
    version: int
    standard: StandardRecord
    payload: Mapping[str, Any]

    @cached_property
    def member(self) -> Member:
        """What the record offers to each attribute of its golden record."""
        raw = parse_record(self.payload)
        return member_from_record(self.record_id, self.version, raw, self.standard)


@dataclass(slots=True)
class ChangeSet:
    """What a unit of work did to golden records, emitted once at its end."""

    events: list[tuple[ChangeKind, list[int], dict[str, Any]]] = field(default_factory=list)
    touched: set[int] = field(default_factory=set)
    created: set[int] = field(default_factory=set)

    def add(self, kind: ChangeKind, ids: Sequence[int], **payload: Any) -> None:
        self.events.append((kind, list(ids), payload))


def _current_members(golden_ids: list[int], *columns: Any) -> Select[Any]:
    """Current, unretired versions of the records in ``golden_ids``, by record id."""
    return (
        select(SourceRecord.id, CrossReference.golden_id, *columns)
        .join(
            SourceRecordVersion,
            (SourceRecordVersion.source_record_id == SourceRecord.id)
            & (SourceRecordVersion.version == SourceRecord.current_version),
        )
        .join(CrossReference, CrossReference.source_record_id == SourceRecord.id)
        .where(SourceRecord.retired_at.is_(None), among(CrossReference.golden_id, golden_ids))
        .order_by(SourceRecord.id)
    )


async def load_member_records(
    session: AsyncSession, *, golden_ids: Iterable[int]
) -> list[MemberRecord]:
    """Current, unretired versions of the records in ``golden_ids``."""
    ids = list(golden_ids)
    if not ids:
        return []
    query = _current_members(
        ids,
        SourceSystem.code,
        SourceRecord.source_key,
        SourceRecordVersion.version,
        SourceRecordVersion.payload,
        SourceRecordVersion.standardized,
    ).join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
    return [
        MemberRecord(
            record_id=row.id,
            golden_id=row.golden_id,
            source=row.code,
            source_key=row.source_key,
            version=row.version,
            standard=standard_record_from_dict(row.standardized),
            payload=row.payload,
        )
        for row in await session.execute(query)
    ]


async def create_golden(
    session: AsyncSession,
    party_type: PartyType,
    record_ids: Sequence[int],
    *,
    link_kind: str,
    linked_by: str,
    changes: ChangeSet,
    score: float | None = None,
) -> int:
    """A new golden record holding ``record_ids`` (values computed by :func:`refresh_golden`)."""
    (golden_id,) = await create_goldens(session, [party_type], changes=changes)
    await link_records(
        session, record_ids, golden_id, link_kind=link_kind, linked_by=linked_by, score=score
    )
    return golden_id


async def create_goldens(
    session: AsyncSession, party_types: Sequence[PartyType], *, changes: ChangeSet
) -> list[int]:
    """New, empty golden records, one per party type, their ids in the same order.

    Their values come from :func:`refresh_goldens` once their records are linked.
    """
    rows = await session.execute(
        insert(GoldenRecord).returning(GoldenRecord.id, sort_by_parameter_order=True),
        [
            {"party_type": p.value, "version": 0, "name": "", "attributes": {}, "lineage": {}}
            for p in party_types
        ],
    )
    ids = list(rows.scalars())
    changes.created.update(ids)
    changes.touched.update(ids)
    return ids


async def link_records(
    session: AsyncSession,
    record_ids: Sequence[int],
    golden_id: int,
    *,
    link_kind: str,
    linked_by: str,
    score: float | None = None,
) -> None:
    """Point ``record_ids`` at ``golden_id`` (creating or moving their cross-reference)."""
    await link_many(
        session, [(r, golden_id, link_kind, score) for r in record_ids], linked_by=linked_by
    )


_LINK = text(
    "INSERT INTO cross_reference (source_record_id, golden_id, link_kind, linked_by, score)"
    " SELECT l.record_id, l.golden_id, l.link_kind, :linked_by, l.score"
    " FROM unnest(CAST(:records AS bigint[]), CAST(:goldens AS bigint[]),"
    "  CAST(:kinds AS text[]), CAST(:scores AS float8[]))"
    "  AS l(record_id, golden_id, link_kind, score)"
    " ON CONFLICT (source_record_id) DO UPDATE SET golden_id = excluded.golden_id,"
    " link_kind = excluded.link_kind, linked_by = excluded.linked_by,"
    " score = excluded.score, linked_at = now()"
)


async def link_many(
    session: AsyncSession,
    links: Sequence[tuple[int, int, str, float | None]],
    *,
    linked_by: str,
) -> None:
    """Point each record at its golden record: (record id, golden id, link kind, score)."""
    if not links:
        return
    # One statement text whatever the number of links: compiled and prepared once.
    await session.execute(
        _LINK,
        {
            "records": [record_id for record_id, _, _, _ in links],
            "goldens": [golden_id for _, golden_id, _, _ in links],
            "kinds": [kind for _, _, kind, _ in links],
            "scores": [score for _, _, _, score in links],
            "linked_by": linked_by,
        },
    )


_CREATE_AND_LINK = text(
    "WITH created AS ("
    " INSERT INTO golden_record (party_type, version, name, attributes, lineage)"
    " SELECT p.party_type, 0, '', '{}'::jsonb, '{}'::jsonb"
    " FROM unnest(CAST(:parties AS text[])) WITH ORDINALITY AS p(party_type, position)"
    " ORDER BY p.position RETURNING id"
    # Ids are drawn in insertion order: the n-th smallest is the n-th party type's.
    "), started AS ("
    " SELECT c.id, p.placeholder"
    " FROM (SELECT id, row_number() OVER (ORDER BY id) AS position FROM created) AS c"
    " JOIN unnest(CAST(:placeholders AS bigint[])) WITH ORDINALITY AS p(placeholder, position)"
    "  USING (position)"
    "), linked AS ("
    " INSERT INTO cross_reference (source_record_id, golden_id, link_kind, linked_by, score)"
    " SELECT l.record_id, coalesce(s.id, l.golden_id), l.link_kind, :linked_by, l.score"
    " FROM unnest(CAST(:records AS bigint[]), CAST(:goldens AS bigint[]),"
    "  CAST(:kinds AS text[]), CAST(:scores AS float8[]))"
    "  AS l(record_id, golden_id, link_kind, score)"
    " LEFT JOIN started s ON s.placeholder = l.golden_id"
    " ON CONFLICT (source_record_id) DO UPDATE SET golden_id = excluded.golden_id,"
    " link_kind = excluded.link_kind, linked_by = excluded.linked_by,"
    " score = excluded.score, linked_at = now()"
    # The stored golden records to refresh are locked here, in id order (so
    # lockers never deadlock): their refresh reads them in its next statement.
    "), locked AS ("
    " SELECT id FROM golden_record WHERE id = ANY(CAST(:lock AS bigint[]))"
    " ORDER BY id FOR UPDATE"
    ") SELECT NULL AS placeholder, NULL AS id, (SELECT count(*) FROM locked) AS locked,"
    " NULL AS payload"
    " UNION ALL SELECT placeholder, id, NULL, NULL FROM started"
    # Payloads of stored versions the caller asks for, riding on the same round trip.
    " UNION ALL SELECT NULL, v.source_record_id, NULL, v.payload::text"
    " FROM unnest(CAST(:read_ids AS bigint[]), CAST(:read_versions AS int[]))"
    "  AS p(record_id, version)"
    " JOIN source_record_version v ON v.source_record_id = p.record_id"
    "  AND v.version = p.version"
)


class Linked(NamedTuple):
    """What :func:`create_and_link` returns."""

    started: dict[int, int]  # placeholder -> stored id of each golden record it created
    payloads: dict[int, str]  # record id -> JSON text of each payload asked for


async def create_and_link(
    session: AsyncSession,
    started: Sequence[tuple[int, PartyType]],
    links: Sequence[tuple[int, int, str, float | None]],
    *,
    linked_by: str,
    changes: ChangeSet,
    lock: Iterable[int] = (),
    read_payloads: Sequence[tuple[int, int]] = (),
) -> Linked:
    """:func:`create_goldens` and :func:`link_many` in one statement.

    ``started`` holds (placeholder, party type) of the golden records to
    create, placeholders being negative; a link (record id, golden id, link
    kind, score) may name a placeholder for its golden record. The rows of
    the stored golden records ``lock`` are locked for the rest of the
    transaction (for ``refresh_goldens(..., locked=True)``). The payloads of
    the versions ``read_payloads`` (record id, version) come back as JSON
    text: a submission reads those survivorship needs here, not one more
    round trip.
    """
    rows = await session.execute(
        _CREATE_AND_LINK,
        {
            "read_ids": [record_id for record_id, _ in read_payloads],
            "read_versions": [version for _, version in read_payloads],
            "lock": sorted(set(lock)),
            "parties": [party_type.value for _, party_type in started],
            "placeholders": [placeholder for placeholder, _ in started],
            "records": [record_id for record_id, _, _, _ in links],
            "goldens": [golden_id for _, golden_id, _, _ in links],
            "kinds": [kind for _, _, kind, _ in links],
            "scores": [score for _, _, _, score in links],
            "linked_by": linked_by,
        },
    )
    stored: dict[int, int] = {}
    payloads: dict[int, str] = {}
    for row in rows:
        if row.placeholder is not None:
            stored[row.placeholder] = row.id
        elif row.payload is not None:
            payloads[row.id] = row.payload
    changes.created.update(stored.values())
    changes.touched.update(stored.values())
    return Linked(stored, payloads)


async def lock_goldens(session: AsyncSession, golden_ids: Iterable[int]) -> dict[int, GoldenRecord]:
    """Lock the rows of ``golden_ids`` (in id order, so lockers never deadlock)."""
    ids = sorted(set(golden_ids))
    if not ids:
        return {}
    rows = (
        (
            await session.execute(
                select(GoldenRecord)
                .where(GoldenRecord.id.in_(ids))
                .order_by(GoldenRecord.id)
                .with_for_update()
            )
        )
        .scalars()
        .all()
    )
    return {row.id: row for row in rows}


async def refresh_goldens(
    session: AsyncSession,
    golden_ids: Iterable[int],
    *,
    changes: ChangeSet,
    at: datetime,
    rules: SurvivorshipRules | None = None,
    members: Mapping[int, list[MemberRecord]] | None = None,
    locked: bool = False,
) -> None:
    """Recompute the values of ``golden_ids`` from their members; version what changed.

    ``members`` holds the current members of every one of ``golden_ids`` when
    the caller has them at hand (a submission has just placed them); they are
    read from the database otherwise. Plain rows throughout: the golden records
    are locked and read in one statement, their overrides and last versions'
    members in another, and every change written in a third. ``locked`` says
    the caller locked the stored ones in an earlier statement of its
    transaction (:func:`create_and_link`): one statement reads all of that,
    and which records each golden record holds now. ``members`` are then what
    the caller read before it held the locks: a record another unit of work
    linked or changed since (and committed before the locks were granted) is
    read in that statement too, one moved out or retired since is left out.
    """
    ids = sorted(set(golden_ids))
    if not ids:
        return
    rules = rules or default_rules()
    # Changes to golden records made through the ORM reach the rows read here.
    await session.flush()
    if locked:
        goldens, members = await _read_locked_golden_rows(session, ids, known=members or {})
    else:
        goldens = await _lock_golden_rows(session, ids)
    if members is None:
        loaded: dict[int, list[MemberRecord]] = defaultdict(list)
        for record in await load_member_records(session, golden_ids=ids):
            loaded[record.golden_id].append(record)
        members = loaded
    if not locked:
        await _read_overrides_and_members(session, goldens)
    regrouped = _regrouped(changes)
    refreshed = [
        refreshed
        for golden in goldens
        if golden.status != "merged"
        and (
            refreshed := _refresh_one(
                golden,
                members=members.get(golden.id, []),
                rules=rules,
                changes=changes,
                regrouped=regrouped,
                at=at,
            )
        )
        is not None
    ]
    await _write_refreshed(session, refreshed, at=at)
    before = {g.id: g for g in goldens}
    searched_differently = [r for r in refreshed if not _searched_alike(before[r.id], r)]
    await index_goldens(
        session,
        [r.id for r in searched_differently],
        active={r.id: r.attributes for r in searched_differently if r.status == "active"},
    )
    await refresh_profiles(session, [r.id for r in refreshed], now=at)


def _searched_alike(before: _GoldenRow, after: _Refreshed) -> bool:
    """Whether the golden record's search tokens stay as they are: its searched values did.

    Rewriting a record's tokens was the dearest statement of a submission;
    most records joining a customer add nothing one searches by.
    """
    return (
        before.status == "active"
        and after.status == "active"
        and all(before.attributes.get(a) == after.attributes.get(a) for a in SEARCHED_ATTRIBUTES)
    )


@dataclass(slots=True)
class _GoldenRow:
    """A locked golden record as survivorship reads it."""

    id: int
    status: str
    version: int
    merged_into_id: int | None
    attributes: dict[str, Any]
    lineage: dict[str, Any]
    name: str
    region: str | None
    industry: str | None
    updated_at: datetime
    previous_members: list[int] | None = None  # as its current version lists them
    overrides: list[Override] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Refreshed:
    """A golden record's new values, and the version that records them."""

    id: int
    status: str
    version: int
    merged_into_id: int | None
    attributes: dict[str, Any]
    lineage: dict[str, Any]
    name: str
    region: str | None
    industry: str | None
    updated_at: datetime
    members: list[int]
    kind: ChangeKind


_LOCK_GOLDEN_ROWS = text(
    "SELECT id, status, version, merged_into_id, attributes, lineage, name, region,"
    " industry, updated_at FROM golden_record"
    " WHERE id = ANY(CAST(:ids AS bigint[])) ORDER BY id FOR UPDATE"
).columns(attributes=JSONB, lineage=JSONB)


async def _lock_golden_rows(session: AsyncSession, ids: Sequence[int]) -> list[_GoldenRow]:
    """Lock the rows of ``ids`` in id order (so lockers never deadlock) and read them."""
    rows = await session.execute(
        _LOCK_GOLDEN_ROWS,
        {"ids": list(ids)},
    )
    return [_golden_row(row) for row in rows]


def _golden_row(row: Any, members: list[int] | None = None) -> _GoldenRow:
    """A golden record's row of :data:`_LOCK_GOLDEN_ROWS` or :data:`_LOCKED_GOLDEN_ROWS`."""
    return _GoldenRow(
        row.id,
        row.status,
        row.version,
        row.merged_into_id,
        row.attributes,
        row.lineage,
        row.name,
        row.region,
        row.industry,
        row.updated_at,
        members,
    )


# The members of each golden record now come as an array of record ids; those
# not known in their current version come on rows of their own, standardized
# form and payload with them.
_LOCKED_GOLDEN_ROWS = text(
    "WITH members AS MATERIALIZED ("
    " SELECT x.golden_id, r.id, r.current_version, r.source_id, r.source_key"
    " FROM cross_reference x JOIN source_record r ON r.id = x.source_record_id"
    " WHERE x.golden_id = ANY(CAST(:ids AS bigint[])) AND r.retired_at IS NULL"
    ") SELECT g.id, g.status, g.version, g.merged_into_id, g.attributes, g.lineage, g.name,"
    " g.region, g.industry, g.updated_at, v.members, o.attribute, o.value, o.set_by, o.set_at,"
    " held.ids AS member_ids,"
    " NULL::bigint AS member_id, NULL::text AS source, NULL::text AS source_key,"
    " NULL::int AS member_version, NULL::jsonb AS standardized, NULL::jsonb AS payload"
    " FROM golden_record g"
    " LEFT JOIN golden_record_version v ON v.golden_id = g.id AND v.version = g.version"
    " LEFT JOIN attribute_override o ON o.golden_id = g.id"
    " LEFT JOIN (SELECT m.golden_id, array_agg(m.id ORDER BY m.id) AS ids FROM members m"
    "  GROUP BY m.golden_id) AS held ON held.golden_id = g.id"
    " WHERE g.id = ANY(CAST(:ids AS bigint[]))"
    " UNION ALL SELECT m.golden_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
    " NULL, NULL, NULL, NULL, NULL, NULL, m.id, s.code, m.source_key, rv.version,"
    " rv.standardized, rv.payload"
    " FROM members m JOIN source_system s ON s.id = m.source_id"
    " JOIN source_record_version rv ON rv.source_record_id = m.id"
    "  AND rv.version = m.current_version"
    " WHERE NOT EXISTS (SELECT FROM unnest(CAST(:known_ids AS bigint[]),"
    "  CAST(:known_versions AS int[])) AS k(id, version)"
    "  WHERE k.id = m.id AND k.version = m.current_version)"
).columns(attributes=JSONB, lineage=JSONB, value=JSONB, standardized=JSONB, payload=JSONB)


async def _read_locked_golden_rows(
    session: AsyncSession, ids: Sequence[int], *, known: Mapping[int, list[MemberRecord]]
) -> tuple[list[_GoldenRow], dict[int, list[MemberRecord]]]:
    """The rows of ``ids``, locked by the caller, with overrides and last versions' members,
    and each one's members now, by record id.

    A statement of its own after the locks were taken: it sees every change
    committed by whoever held them before (a statement that waits for a lock
    reads the other tables as they were when it began). Members ``known`` in
    their current version are taken as they are, the others read.
    """
    by_record = {member.record_id: member for group in known.values() for member in group}
    rows = await session.execute(
        _LOCKED_GOLDEN_ROWS,
        {
            "ids": list(ids),
            "known_ids": list(by_record),
            "known_versions": [member.version for member in by_record.values()],
        },
    )
    goldens: dict[int, _GoldenRow] = {}
    now: dict[int, list[int]] = {}
    for row in rows:
        if row.member_id is not None:
            by_record[row.member_id] = _read_member(row)
            continue
        golden = goldens.get(row.id)
        if golden is None:
            previous = None if row.members is None else list(row.members)
            golden = goldens[row.id] = _golden_row(row, previous)
            now[row.id] = row.member_ids or []
        if row.attribute is not None:
            golden.overrides.append(Override(row.attribute, row.value, row.set_by, row.set_at))
    members = {golden_id: [by_record[r] for r in held] for golden_id, held in now.items()}
    return [goldens[g] for g in sorted(goldens)], members


def _read_member(row: Any) -> MemberRecord:
    """A member :data:`_LOCKED_GOLDEN_ROWS` read: new to its golden record, or changed."""
    return MemberRecord(
        record_id=row.member_id,
        golden_id=row.id,
        source=row.source,
        source_key=row.source_key,
        version=row.member_version,
        standard=standard_record_from_dict(row.standardized),
        payload=row.payload,
    )


_OVERRIDES_AND_MEMBERS = text(
    "SELECT c.id, v.members, o.attribute, o.value, o.set_by, o.set_at"
    " FROM unnest(CAST(:ids AS bigint[]), CAST(:versions AS int[])) AS c(id, version)"
    " LEFT JOIN golden_record_version v ON v.golden_id = c.id AND v.version = c.version"
    " LEFT JOIN attribute_override o ON o.golden_id = c.id"
).columns(value=JSONB)


async def _read_overrides_and_members(session: AsyncSession, goldens: Sequence[_GoldenRow]) -> None:
    """Each golden record's steward overrides and the members its current version lists."""
    if not goldens:
        return
    rows = await session.execute(
        _OVERRIDES_AND_MEMBERS,
        {"ids": [g.id for g in goldens], "versions": [g.version for g in goldens]},
    )
    by_id = {g.id: g for g in goldens}
    for row in rows:
        golden = by_id[row.id]
        if row.members is not None:
            golden.previous_members = list(row.members)
        if row.attribute is not None:
            golden.overrides.append(Override(row.attribute, row.value, row.set_by, row.set_at))


def _regrouped(changes: ChangeSet) -> frozenset[int]:
    """Golden records a merge or split of ``changes`` names: that event already tells of them."""
    return frozenset(
        golden_id
        for kind, ids, _ in changes.events
        if kind in {ChangeKind.MERGED, ChangeKind.SPLIT}
        for golden_id in ids
    )


def _refresh_one(
    golden: _GoldenRow,
    *,
    members: list[MemberRecord],
    rules: SurvivorshipRules,
    changes: ChangeSet,
    regrouped: frozenset[int],
    at: datetime,
) -> _Refreshed | None:
    """One golden record's new values and version, or ``None`` when nothing changed.

    A golden record in ``regrouped`` gets no event of its own: its merge or
    split event tells of it.
    """
    member_ids = [m.record_id for m in members]
    if not members:
        if golden.status == "retired":
            return None
        changes.add(ChangeKind.RETIRED, [golden.id])
        return _Refreshed(
            golden.id,
            "retired",
            golden.version + 1,
            golden.merged_into_id,
            golden.attributes,
            golden.lineage,
            golden.name,
            golden.region,
            golden.industry,
            golden.updated_at,
            member_ids,
            ChangeKind.RETIRED,
        )
    survived = survive([m.member for m in members], rules, golden.overrides, at=at)
    lineage = _keep_lineage_times(golden.lineage, survived.lineage)
    created = golden.id in changes.created
    if (
        not created
        and golden.status != "retired"
        and survived.attributes == golden.attributes
        and lineage == golden.lineage
        and golden.previous_members == member_ids
    ):
        return None
    kind = ChangeKind.CREATED if created else ChangeKind.UPDATED
    if golden.id not in regrouped:
        changes.add(kind, [golden.id])
    address = survived.attributes.get("address") or {}
    return _Refreshed(
        golden.id,
        "active",
        golden.version + 1,
        golden.merged_into_id,
        survived.attributes,
        lineage,
        str(survived.attributes.get("name", "")),
        address.get("region"),
        survived.attributes.get("industry"),
        at,
        member_ids,
        kind,
    )


_WRITE_REFRESHED = text(
    "WITH c AS ("
    " SELECT * FROM unnest(CAST(:ids AS bigint[]), CAST(:statuses AS text[]),"
    "  CAST(:versions AS int[]), CAST(:merged_into AS bigint[]),"
    "  CAST(:attributes AS jsonb[]), CAST(:lineages AS jsonb[]), CAST(:names AS text[]),"
    "  CAST(:regions AS text[]), CAST(:industries AS text[]),"
    "  CAST(:updated AS timestamptz[]), CAST(:members AS text[]), CAST(:kinds AS text[]))"
    "  AS c(id, status, version, merged_into_id, attributes, lineage, name, region,"
    "   industry, updated_at, members, kind)"
    "), updated AS ("
    " UPDATE golden_record g SET status = c.status, version = c.version,"
    "  attributes = c.attributes, lineage = c.lineage, name = c.name,"
    "  region = c.region, industry = c.industry, updated_at = c.updated_at"
    " FROM c WHERE g.id = c.id"
    ") INSERT INTO golden_record_version (golden_id, version, status, merged_into_id,"
    " attributes, lineage, members, change, valid_from)"
    " SELECT c.id, c.version, c.status, c.merged_into_id, c.attributes, c.lineage,"
    "  CAST(c.members AS bigint[]), c.kind, :at FROM c"
)


async def _write_refreshed(
    session: AsyncSession, refreshed: Sequence[_Refreshed], *, at: datetime
) -> None:
    """Update the golden records and insert their new versions, in one statement."""
    if not refreshed:
        return
    await session.execute(
        _WRITE_REFRESHED,
        {
            "ids": [r.id for r in refreshed],
            "statuses": [r.status for r in refreshed],
            "versions": [r.version for r in refreshed],
            "merged_into": [r.merged_into_id for r in refreshed],
            "attributes": [jsonb_text(r.attributes) for r in refreshed],
            "lineages": [jsonb_text(r.lineage) for r in refreshed],
            "names": [r.name for r in refreshed],
            "regions": [r.region for r in refreshed],
            "industries": [r.industry for r in refreshed],
            "updated": [r.updated_at for r in refreshed],
            "members": ["{" + ",".join(map(str, r.members)) + "}" for r in refreshed],
            "kinds": [r.kind.value for r in refreshed],
            "at": at,
        },
    )
    _follow_in_session(session, refreshed)


def _follow_in_session(session: AsyncSession, refreshed: Sequence[_Refreshed]) -> None:
    """Golden records the session holds as objects take the values just written."""
    identities = session.sync_session.identity_map
    for r in refreshed:
        golden = identities.get(identity_key(GoldenRecord, r.id))
        if golden is None:
            continue
        for name, value in (
            ("status", r.status),
            ("version", r.version),
            ("attributes", r.attributes),
            ("lineage", r.lineage),
            ("name", r.name),
            ("region", r.region),
            ("industry", r.industry),
            ("updated_at", r.updated_at),
        ):
            set_committed_value(golden, name, value)


def _keep_lineage_times(previous: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """Lineage of unchanged values keeps the time they were first chosen."""
    kept: dict[str, Any] = {}
    for name, entry in current.items():
        old = previous.get(name)
        if (
            isinstance(entry, dict)
            and isinstance(old, dict)
            and _without_time(old) == _without_time(entry)
        ):
            kept[name] = old
        else:
            kept[name] = entry
    return kept


def _without_time(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k != "at"}


def _add_version(
    session: AsyncSession,
    golden: GoldenRecord,
    member_ids: list[int],
    kind: ChangeKind,
    at: datetime,
) -> None:
    golden.version += 1
    session.add(
        GoldenRecordVersion(
            golden_id=golden.id,
            version=golden.version,
            status=golden.status,
            merged_into_id=golden.merged_into_id,
            attributes=golden.attributes,
            lineage=golden.lineage,
            members=member_ids,
            change=kind.value,
            valid_from=at,
        )
    )


async def merge_goldens(
    session: AsyncSession,
    golden_ids: Iterable[int],
    *,
    linked_by: str,
    changes: ChangeSet,
    at: datetime,
    reason: str,
) -> int:
    """Fold ``golden_ids`` into the oldest of them; the others keep resolving to it."""
    ids = sorted(set(golden_ids))
    if len(ids) < 2:
        raise Invalid("a merge needs two different customers", field="ids")
    goldens = await lock_goldens(session, ids)
    missing = [i for i in ids if i not in goldens]
    if missing:
        raise NotFound(f"no customer with id C{missing[0]}", field="ids")
    inactive = [g for g in goldens.values() if g.status != "active"]
    if inactive:
        raise Conflict(
            f"customer C{inactive[0].id} is {inactive[0].status}; only active customers merge"
        )
    party_types = {g.party_type for g in goldens.values()}
    if len(party_types) > 1:
        raise Conflict("an organization and a person cannot be merged")
    survivor, absorbed = ids[0], ids[1:]
    await session.execute(
        update(CrossReference)
        .where(CrossReference.golden_id.in_(absorbed))
        .values(golden_id=survivor, link_kind="merge", linked_by=linked_by, linked_at=func.now())
    )
    await _carry_overrides(session, survivor, absorbed)
    for golden_id in absorbed:
        golden = goldens[golden_id]
        golden.status = "merged"
        golden.merged_into_id = survivor
        golden.updated_at = at
        _add_version(session, golden, [], ChangeKind.MERGED, at)
    await session.flush()
    changes.add(ChangeKind.MERGED, [survivor, *absorbed], survivor=f"C{survivor}", reason=reason)
    changes.touched.add(survivor)
    await index_goldens(session, absorbed)
    # The survivor's profile is refreshed with the merge; alerts of the absorbed end here.
    await close_retention_alerts(session, absorbed, now=at, why=f"merged into C{survivor}")
    return survivor


async def _carry_overrides(session: AsyncSession, survivor: int, absorbed: Sequence[int]) -> None:
    """A steward's pins on an absorbed record carry over unless the survivor has its own."""
    kept = set(
        (
            await session.execute(
                select(AttributeOverride.attribute).where(AttributeOverride.golden_id == survivor)
            )
        ).scalars()
    )
    rows = (
        (
            await session.execute(
                select(AttributeOverride)
                .where(AttributeOverride.golden_id.in_(absorbed))
                .order_by(AttributeOverride.set_at.desc())
            )
        )
        .scalars()
        .all()
    )
    for row in rows:
        if row.attribute not in kept:
            kept.add(row.attribute)
            session.add(
                AttributeOverride(
                    golden_id=survivor,
                    attribute=row.attribute,
                    value=row.value,
                    set_by=row.set_by,
                    set_at=row.set_at,
                    note=row.note,
                )
            )
        await session.delete(row)


async def set_override(
    session: AsyncSession,
    golden_id: int,
    attribute: str,
    value: Any,
    *,
    set_by: str,
    note: str | None,
    at: datetime,
) -> None:
    """Pin ``attribute`` of a golden record to ``value`` (``None`` removes the pin)."""
    if attribute not in OVERRIDABLE:
        allowed = ", ".join(sorted(OVERRIDABLE))
        raise Invalid(f"'{attribute}' cannot be overridden; one of {allowed}", field="attribute")
    existing = await session.get(AttributeOverride, (golden_id, attribute))
    if value is None:
        if existing is None:
            raise NotFound(f"C{golden_id} has no override on {attribute}", field="attribute")
        await session.delete(existing)
        await session.flush()
        return
    if existing is None:
        session.add(
            AttributeOverride(
                golden_id=golden_id,
                attribute=attribute,
                value=value,
                set_by=set_by,
                set_at=at,
                note=note,
            )
        )
    else:
        existing.value, existing.set_by, existing.set_at, existing.note = value, set_by, at, note
    await session.flush()
