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
from typing import Any

from sqlalchemy import Select, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

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
from hub.services.events import ChangeKind
from hub.services.profile import close_retention_alerts, refresh_profiles
from hub.services.search import index_goldens
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


async def link_many(
    session: AsyncSession,
    links: Sequence[tuple[int, int, str, float | None]],
    *,
    linked_by: str,
) -> None:
    """Point each record at its golden record: (record id, golden id, link kind, score)."""
    if not links:
        return
    statement = pg_insert(CrossReference).values(
        [
            {
                "source_record_id": record_id,
                "golden_id": golden_id,
                "link_kind": link_kind,
                "linked_by": linked_by,
                "score": score,
            }
            for record_id, golden_id, link_kind, score in links
        ]
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[CrossReference.source_record_id],
            set_={
                "golden_id": statement.excluded.golden_id,
                "link_kind": statement.excluded.link_kind,
                "linked_by": statement.excluded.linked_by,
                "score": statement.excluded.score,
                "linked_at": func.now(),
            },
        )
    )


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
) -> None:
    """Recompute the values of ``golden_ids`` from their members; version what changed.

    ``members`` holds the current members of every one of ``golden_ids`` when
    the caller has them at hand (a submission has just placed them); they are
    read from the database otherwise.
    """
    ids = sorted(set(golden_ids))
    if not ids:
        return
    rules = rules or default_rules()
    goldens = await lock_goldens(session, ids)
    if members is None:
        loaded: dict[int, list[MemberRecord]] = defaultdict(list)
        for record in await load_member_records(session, golden_ids=ids):
            loaded[record.golden_id].append(record)
        members = loaded
    overrides = await _overrides(session, ids)
    previous = await _previous_members(session, goldens.values())
    changed: list[int] = []
    for golden_id in ids:
        golden = goldens[golden_id]
        if golden.status == "merged":
            continue
        if _refresh_one(
            session,
            golden,
            members=members.get(golden_id, []),
            previous_members=previous.get(golden_id),
            overrides=overrides.get(golden_id, []),
            rules=rules,
            changes=changes,
            at=at,
        ):
            changed.append(golden_id)
    await session.flush()
    await index_goldens(
        session,
        changed,
        active={g: goldens[g].attributes for g in changed if goldens[g].status == "active"},
    )
    await refresh_profiles(session, changed, now=at)


def _refresh_one(
    session: AsyncSession,
    golden: GoldenRecord,
    *,
    members: list[MemberRecord],
    previous_members: list[int] | None,
    overrides: list[Override],
    rules: SurvivorshipRules,
    changes: ChangeSet,
    at: datetime,
) -> bool:
    """Recompute one golden record; whether it changed (its new version is not flushed)."""
    member_ids = [m.record_id for m in members]
    if not members:
        if golden.status != "retired":
            golden.status = "retired"
            _add_version(session, golden, member_ids, ChangeKind.RETIRED, at)
            changes.add(ChangeKind.RETIRED, [golden.id])
            return True
        return False
    survived = survive([m.member for m in members], rules, overrides, at=at)
    lineage = _keep_lineage_times(golden.lineage, survived.lineage)
    created = golden.id in changes.created
    revived = golden.status == "retired"
    if (
        not created
        and not revived
        and survived.attributes == golden.attributes
        and lineage == golden.lineage
        and previous_members == member_ids
    ):
        return False
    golden.status = "active"
    golden.attributes = survived.attributes
    golden.lineage = lineage
    golden.name = str(survived.attributes.get("name", ""))
    address = survived.attributes.get("address") or {}
    golden.region = address.get("region")
    golden.industry = survived.attributes.get("industry")
    golden.updated_at = at
    kind = ChangeKind.CREATED if created else ChangeKind.UPDATED
    _add_version(session, golden, member_ids, kind, at)
    if not any(
        event[0] in {ChangeKind.MERGED, ChangeKind.SPLIT} and golden.id in event[1]
        for event in changes.events
    ):
        changes.add(kind, [golden.id])
    return True


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


async def _previous_members(
    session: AsyncSession, goldens: Iterable[GoldenRecord]
) -> dict[int, list[int]]:
    """The members each golden record's current version lists (none before its first)."""
    versioned = [(g.id, g.version) for g in goldens if g.version > 0]
    if not versioned:
        return {}
    rows = await session.execute(
        text(
            "SELECT v.golden_id, v.members FROM golden_record_version v"
            " JOIN unnest(CAST(:ids AS bigint[]), CAST(:versions AS int[])) AS c(id, version)"
            " ON v.golden_id = c.id AND v.version = c.version"
        ),
        {"ids": [i for i, _ in versioned], "versions": [v for _, v in versioned]},
    )
    return {golden_id: list(members) for golden_id, members in rows}


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


async def _overrides(session: AsyncSession, golden_ids: Sequence[int]) -> dict[int, list[Override]]:
    rows = (
        (
            await session.execute(
                select(AttributeOverride).where(AttributeOverride.golden_id.in_(golden_ids))
            )
        )
        .scalars()
        .all()
    )
    found: dict[int, list[Override]] = defaultdict(list)
    for row in rows:
        found[row.golden_id].append(Override(row.attribute, row.value, row.set_by, row.set_at))
    return found


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
