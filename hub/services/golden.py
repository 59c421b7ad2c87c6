"""Golden records: membership, survivorship, versions, merges and splits.

Every change to a golden record recomputes its values from its members under
the survivorship rules, writes a version (so ``asOf`` can read it back) and
queues a change event, all in the caller's transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
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


@dataclass(frozen=True, slots=True)
class MemberRecord:
    """A source record's current version as matching and survivorship read it."""

    record_id: int
    golden_id: int
    source: str
    source_key: str
    version: int
    standard: StandardRecord
    member: Member


@dataclass(slots=True)
class ChangeSet:
    """What a unit of work did to golden records, emitted once at its end."""

    events: list[tuple[ChangeKind, list[int], dict[str, Any]]] = field(default_factory=list)
    touched: set[int] = field(default_factory=set)
    created: set[int] = field(default_factory=set)

    def add(self, kind: ChangeKind, ids: Sequence[int], **payload: Any) -> None:
        self.events.append((kind, list(ids), payload))


async def load_member_records(
    session: AsyncSession, *, golden_ids: Iterable[int]
) -> list[MemberRecord]:
    """Current, unretired versions of the records in ``golden_ids``."""
    ids = list(golden_ids)
    if not ids:
        return []
    query = (
        select(
            SourceRecord.id,
            CrossReference.golden_id,
            SourceSystem.code,
            SourceRecord.source_key,
            SourceRecordVersion.version,
            SourceRecordVersion.payload,
            SourceRecordVersion.standardized,
        )
        .join(SourceSystem, SourceSystem.id == SourceRecord.source_id)
        .join(
            SourceRecordVersion,
            (SourceRecordVersion.source_record_id == SourceRecord.id)
            & (SourceRecordVersion.version == SourceRecord.current_version),
        )
        .join(CrossReference, CrossReference.source_record_id == SourceRecord.id)
        .where(SourceRecord.retired_at.is_(None), among(CrossReference.golden_id, ids))
        .order_by(SourceRecord.id)
    )
    out = []
    for row in await session.execute(query):
        standard = standard_record_from_dict(row.standardized)
        raw = parse_record(row.payload)
        out.append(
            MemberRecord(
                record_id=row.id,
                golden_id=row.golden_id,
                source=row.code,
                source_key=row.source_key,
                version=row.version,
                standard=standard,
                member=member_from_record(row.id, row.version, raw, standard),
            )
        )
    return out


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
    golden = GoldenRecord(
        party_type=party_type.value, version=0, name="", attributes={}, lineage={}
    )
    session.add(golden)
    await session.flush()
    await link_records(
        session, record_ids, golden.id, link_kind=link_kind, linked_by=linked_by, score=score
    )
    changes.created.add(golden.id)
    changes.touched.add(golden.id)
    return golden.id


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
    from sqlalchemy.dialects.postgresql import insert

    if not record_ids:
        return
    statement = insert(CrossReference).values(
        [
            {
                "source_record_id": record_id,
                "golden_id": golden_id,
                "link_kind": link_kind,
                "linked_by": linked_by,
                "score": score,
            }
            for record_id in record_ids
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
) -> None:
    """Recompute the values of ``golden_ids`` from their members; version what changed."""
    ids = sorted(set(golden_ids))
    if not ids:
        return
    rules = rules or default_rules()
    goldens = await lock_goldens(session, ids)
    members: dict[int, list[MemberRecord]] = defaultdict(list)
    for record in await load_member_records(session, golden_ids=ids):
        members[record.golden_id].append(record)
    overrides = await _overrides(session, ids)
    changed: list[int] = []
    for golden_id in ids:
        golden = goldens[golden_id]
        if golden.status == "merged":
            continue
        if await _refresh_one(
            session,
            golden,
            members=members.get(golden_id, []),
            overrides=overrides.get(golden_id, []),
            rules=rules,
            changes=changes,
            at=at,
        ):
            changed.append(golden_id)
    await index_goldens(session, changed)
    await refresh_profiles(session, changed, now=at)


async def _refresh_one(
    session: AsyncSession,
    golden: GoldenRecord,
    *,
    members: list[MemberRecord],
    overrides: list[Override],
    rules: SurvivorshipRules,
    changes: ChangeSet,
    at: datetime,
) -> bool:
    """Recompute one golden record; whether it changed."""
    member_ids = [m.record_id for m in members]
    if not members:
        if golden.status != "retired":
            golden.status = "retired"
            await _write_version(session, golden, member_ids, ChangeKind.RETIRED, at)
            changes.add(ChangeKind.RETIRED, [golden.id])
            return True
        return False
    survived = survive([m.member for m in members], rules, overrides, at=at)
    lineage = _keep_lineage_times(golden.lineage, survived.lineage)
    previous_members = await _previous_members(session, golden)
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
    await _write_version(session, golden, member_ids, kind, at)
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


async def _previous_members(session: AsyncSession, golden: GoldenRecord) -> list[int] | None:
    if golden.version == 0:
        return None
    members = (
        await session.execute(
            select(GoldenRecordVersion.members).where(
                GoldenRecordVersion.golden_id == golden.id,
                GoldenRecordVersion.version == golden.version,
            )
        )
    ).scalar_one_or_none()
    return list(members) if members is not None else None


async def _write_version(
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
    await session.flush()


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
        await _write_version(session, golden, [], ChangeKind.MERGED, at)
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
