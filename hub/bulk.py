"""Bulk first load: set-based work for an empty hub.

The incremental path makes a few round trips per record; a first load of
hundreds of thousands of records instead works in four steps, keeping both
cores and PostgreSQL busy:

1. **read**: worker processes (when the load is large) parse and standardize
   chunks of lines, rejecting bad lines and records by file and line. Each
   worker keeps what it standardized; this process receives only what
   matching needs (and keeps one version per record);
2. **match**: this process matches all accepted records at once with
   :func:`matching.match_records` and the shipped model (the one the
   incremental path scores with, its term frequencies included), so clusters
   and review pairs come from the batch pipeline's constrained clustering.
   Meanwhile the workers turn their records into COPY text (payloads,
   standardized forms, blocking keys) that PostgreSQL takes in, then make
   the survivorship members and name search tokens of their records;
3. **survive**: each cluster is survived by the worker keeping its first
   member (the others send theirs over), with the pure functions of the
   incremental path (:func:`member_from_record`, :func:`survive`), while this
   process scores the links; golden records stream into
   PostgreSQL as they come, and their first versions are copied inside it;
4. **profiles**: the indexes dropped for the load are built once, every
   new customer's metrics, classification and credit derived as
   ``refresh_goldens`` would (the policies run once per distinct figures),
   and the foreign keys checked once, while this process counts the term
   frequencies the load keeps.

A load killed half-way commits nothing: everything from :func:`claim_empty_hub`
to the last profile is one transaction, and a re-run finds the hub still
empty. Until it commits, other sessions wait on the tables it fills (their
indexes and foreign keys are dropped for the load: maintained row by row they
cost more than the COPY itself).
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import io
import json
import multiprocessing
import os
import pickle
import signal
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import orjson
from rich.progress import Progress
from sqlalchemy import exists, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.collector import collector_paused
from hub.db.models import SourceRecord as SourceRecordRow
from hub.errors import Conflict, Invalid
from hub.files import BadLine, count_lines, file_format, read_lines
from hub.policies import (
    default_classification_rules,
    default_credit_policy,
)
from hub.services.events import OUTBOX_LOCK_KEY, ChangeKind
from hub.services.frequencies import count_loaded_frequencies, write_term_frequencies
from hub.services.profile import (
    Profiles,
    derive_profiles,
    recompute_cutoffs,
    recompute_figures,
    store_profiles,
)
from hub.services.search import SEARCH_NAME_COLUMNS, golden_tokens, name_tokens, searched_names
from hub.services.sources import check_source_code, ensure_source
from hub.survivorship import (
    Member,
    SurvivorshipRules,
    default_rules,
    member_from_record,
    survive,
)
from hub.uow import in_transaction
from matching import RecordError, StandardRecord, parse_record
from matching import SourceRecord as ContractRecord
from matching.block import DEFAULT_RULES, KeyHashes, blocking_keys, key_hash
from matching.compare import Columns, compare_pairs
from matching.model import Model, default_model
from matching.pipeline import MatchConfig, MatchResult, trace_match
from matching.pipeline import Progress as StageProgress
from matching.record import record_to_dict
from matching.standardize import load_reference_tables, standard_record_json, standardize_record

T = TypeVar("T")

NOT_EMPTY = (
    "the hub already holds source records; a bulk load is for a first load only "
    "(load without --bulk to add or update records)"
)
# A linked record's score is its best with one of its cluster's first members.
LINK_SCORE_PEERS = 50
# New customers whose profiles are derived and stored per statement.
PROFILE_CHUNK = 20_000
# Lines per unit of work sent to a worker process.
CHUNK_LINES = 4_000
# Clusters survived (and written) per step: one is stored while the next is survived.
SURVIVE_CHUNK = 10_000
# Below this many lines, starting worker processes costs more than it saves.
PARALLEL_MIN_LINES = 20_000
# The statistics target of the load's own analysis (PostgreSQL's default is
# 100): a sample of 9,000 rows a table, read in a third of the time.
BULK_STATISTICS_TARGET = 30


# ── Worker side: standardize, keep, then serialize for COPY ─────────────────


@dataclass(frozen=True, slots=True)
class StandardizedChunk:
    """What a worker sends back about one chunk of lines: what matching needs.

    ``numbers`` are the line numbers of the accepted records, aligned with
    ``standards``, ``hashes`` and ``key_hashes``; ``rejected`` holds (line
    number, message) of the lines it refused. The records themselves stay
    with the worker (a standardized record names its source, key and party
    type, all this process needs of it).
    """

    numbers: list[int]
    standards: list[StandardRecord]
    hashes: list[bytes]
    key_hashes: KeyHashes
    rejected: list[tuple[int, str]]


@dataclass(frozen=True, slots=True)
class SerializedChunk:
    """The kept records of one chunk as COPY text.

    ``versions`` are rows of ``source_record_version``, ``match_keys`` rows of
    ``match_key``.
    """

    versions: bytes
    match_keys: bytes


@dataclass(slots=True)
class _Held:
    """A chunk a worker standardized: kept for its COPY rows, then for survivorship.

    Each step drops what the next ones do not read.
    """

    records: list[ContractRecord] | None  # until members are made
    standards: list[StandardRecord] | None
    # Each record's blocking keys as COPY text, a key per line, the record id
    # still to add, and its canonical payload (UTF-8): made with the key
    # hashes and the content hash, kept until serialized.
    keys: list[str] | None
    payloads: list[bytes] | None
    serialized: bool = False
    # What survivorship reads, made while this process would otherwise wait
    # for the match: each kept record as a member (and its party type).
    members: dict[int, Member] = field(default_factory=dict)
    parties: dict[int, str] = field(default_factory=dict)


# Chunks standardized in this process, by (load, chunk): a worker process's
# memory between the steps of a load (or this process's, when a load runs alone).
_HELD: dict[tuple[str, int], _Held] = {}
# Search tokens of the names this process met, by load: departments repeat
# each other's names, so each distinct name is romanized once per process.
_NAME_TOKENS: dict[str, dict[str, frozenset[str]]] = {}


def canonical_payload(record: ContractRecord) -> str:
    """The record's payload as the canonical JSON its content hash is taken of.

    The text of ``json.dumps(payload, ensure_ascii=False, sort_keys=True,
    separators=(",", ":"))``, as ``hub.services.records.content_hash`` hashes.
    """
    payload = record_to_dict(record)
    if not record.extra:
        # Without extra fields the payload holds only text (in lists and
        # objects), which orjson writes as json.dumps does, several times
        # faster. Numbers are another matter (1e16 against 1e+16): fields
        # outside the contract take the slow path.
        try:
            return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS).decode()
        except orjson.JSONEncodeError:
            # Lone surrogates, which orjson refuses: json.dumps writes them
            # (and hashing them fails as it does on the incremental path).
            return _json_payload(payload)
    return _json_payload(payload)


def _json_payload(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def payload_hash(canonical: str) -> bytes:
    """``hub.services.records.content_hash`` of the payload whose canonical JSON this is."""
    return hashlib.sha256(canonical.encode()).digest()


class _NotJson(Exception):
    """A JSONL line that is not JSON, worded as ``hub.files`` words it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _json_line(line: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise _NotJson(f"not valid JSON: {exc.msg} at column {exc.colno}") from None


def standardize_chunk(
    load: str,
    chunk: int,
    lines: Sequence[tuple[int, Any]],
    source: str | None,
    *,
    raw_text: bool,
) -> StandardizedChunk:
    """Parse and standardize one chunk of (line number, record) and keep it for COPY.

    With ``raw_text`` each record is a JSONL line still to be decoded. The
    chunk stays in this process until :func:`serialize_chunk` asks for it.
    """
    numbers: list[int] = []
    records: list[ContractRecord] = []
    standards: list[StandardRecord] = []
    hashes: list[bytes] = []
    key_hashes: list[list[int]] = []
    key_lines: list[str] = []
    payloads: list[bytes] = []
    rejected: list[tuple[int, str]] = []
    with collector_paused():
        for number, value in lines:
            try:
                raw = _json_line(value) if raw_text else value
                record = parse_record(raw, source=source, position=number)
                check_source_code(record.source)
            except _NotJson as error:
                rejected.append((number, error.message))
                continue
            except RecordError as error:
                what = f"field '{error.field}': " if error.field else ""
                rejected.append((number, f"{what}{error.message}"))
                continue
            except Invalid as error:
                rejected.append((number, f"field 'source': {error.message}"))
                continue
            # The standardization, payload and digest are those of the incremental path.
            standard = standardize_record(record)
            numbers.append(number)
            records.append(record)
            standards.append(standard)
            canonical = canonical_payload(record)
            hashes.append(payload_hash(canonical))
            payloads.append(canonical.encode())
            keys = blocking_keys(standard)
            hashed = [key_hash(key) for key in keys]
            key_hashes.append(hashed)
            key_lines.append("".join(f"{h}\n" for h in hashed))
        _HELD[load, chunk] = _Held(records, standards, key_lines, payloads)
        return StandardizedChunk(
            numbers=numbers,
            standards=standards,
            hashes=hashes,
            key_hashes=KeyHashes.of(key_hashes),
            rejected=rejected,
        )


# COPY's text format: a backslash escapes, tab separates, newline ends a row.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value: str) -> str:
    """``value`` as a field of COPY's text format."""
    # Checked first: almost no value needs escaping, and translate() is slow.
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value


def copy_json_bytes(value: bytes) -> bytes:
    """UTF-8 JSON text as a field of COPY's text format (JSON escapes its control characters)."""
    return value.replace(b"\\", b"\\\\") if b"\\" in value else value


def serialize_chunk(
    load: str, chunk: int, kept: Sequence[int], record_ids: Sequence[int]
) -> SerializedChunk:
    """COPY rows of the ``kept`` records (positions in the chunk) under ``record_ids``.

    The chunk's records stay for :func:`prepare_members`.
    """
    held = _HELD[load, chunk]
    records, standards, keys, payloads = held.records, held.standards, held.keys, held.payloads
    if records is None or standards is None or keys is None or payloads is None:
        raise RuntimeError(f"chunk {chunk} was serialized already")
    held.serialized = True
    held.keys = held.payloads = None
    versions: list[bytes] = []
    match_keys: list[str] = []
    with collector_paused():
        for position, record_id in zip(kept, record_ids, strict=True):
            record, standard = records[position], standards[position]
            updated = (
                record.updated_at.isoformat().encode() if record.updated_at is not None else b"\\N"
            )
            versions.append(
                b"%d\t1\t%b\t%b\t%b\t%b\n"
                % (
                    record_id,
                    copy_json_bytes(payloads[position]),
                    copy_json_bytes(standard_record_json(standard)),
                    copy_json_bytes(orjson.dumps(standard.flags)),
                    updated,
                )
            )
            match_keys.append(keys[position].replace("\n", f"\t{record_id}\n"))
    return SerializedChunk(versions=b"".join(versions), match_keys="".join(match_keys).encode())


# A golden record to survive where its members are: its id, and each member's
# (chunk, position in the chunk, record id).
HeldCluster = tuple[int, Sequence[tuple[int, int, int]]]


@dataclass(frozen=True, slots=True)
class GoldenRows:
    """COPY text of a run of golden records, their search tokens and search names."""

    goldens: bytes
    tokens: bytes
    names: bytes
    count: int


def _optional(value: Any) -> str:
    return "\\N" if value is None else copy_text(str(value))


def token_rows(tokens: Collection[str], golden_id: int) -> str:
    """COPY rows of a golden record's search tokens.

    Made at once rather than token by token (a golden record has some 27):
    only a token holding a character COPY escapes takes the slow path.
    """
    end = f"\t{golden_id}\n"
    rows = end.join(tokens) + end if tokens else ""
    count = len(tokens)
    if "\\" in rows or "\r" in rows or rows.count("\t") != count or rows.count("\n") != count:
        return "".join(f"{copy_text(token)}{end}" for token in tokens)
    return rows


def _tokens_of(known: dict[str, frozenset[str]], name: str) -> set[str]:
    """A name's search tokens: as made ahead, or made now (and kept in ``known``)."""
    found = known.get(name)
    if found is None:
        found = known[name] = frozenset(name_tokens(name))
    return set(found)


class _GoldenWriter:
    """Survives clusters into COPY text of golden records, their search tokens and names."""

    def __init__(self, rules: SurvivorshipRules, at: datetime) -> None:
        self.rules = rules
        self.at = at
        self.stamp = at.isoformat().encode()
        self.goldens: list[bytes] = []
        self.tokens: list[str] = []
        self.names: list[str] = []

    def add(
        self,
        golden_id: int,
        members: Sequence[Member],
        party_type: str,
        known: dict[str, frozenset[str]] | None = None,
    ) -> None:
        """Survive one golden record; ``known`` keeps search tokens of names by name."""
        survived = survive(members, self.rules, (), at=self.at)
        attributes = survived.attributes
        address = attributes.get("address") or {}
        # Bytes throughout: the JSON orjson writes is never decoded.
        self.goldens.append(
            b"%d\t%b\tactive\t1\t%b\t%b\t%b\t%b\n"
            % (
                golden_id,
                party_type.encode(),
                f"{copy_text(str(attributes.get('name', '')))}\t"
                f"{_optional(address.get('region'))}\t{_optional(attributes.get('industry'))}".encode(),
                copy_json_bytes(orjson.dumps(attributes)),
                copy_json_bytes(orjson.dumps(survived.lineage)),
                self.stamp,
            )
        )
        names = name_tokens if known is None else partial(_tokens_of, known)
        self.tokens.append(token_rows(golden_tokens(attributes, names), golden_id))
        forms = searched_names(attributes)
        self.names.append("\t".join((str(golden_id), party_type, *map(copy_text, forms))) + "\n")

    def rows(self) -> GoldenRows:
        return GoldenRows(
            goldens=b"".join(self.goldens),
            tokens="".join(self.tokens).encode(),
            names="".join(self.names).encode(),
            count=len(self.goldens),
        )


def prepare_members(load: str, chunk: int, kept: Sequence[int], record_ids: Sequence[int]) -> int:
    """Make the members (and name tokens) of a chunk's kept records ahead of survivorship.

    Runs while the matching process matches, after :func:`serialize_chunk`;
    the records themselves go. Returns how many members it made.
    """
    held = _HELD[load, chunk]
    records, standards = held.records, held.standards
    if records is None or standards is None:
        raise RuntimeError(f"chunk {chunk} was prepared already")
    tokens = _NAME_TOKENS.setdefault(load, {})
    with collector_paused():
        for position, record_id in zip(kept, record_ids, strict=True):
            record = records[position]
            held.members[position] = member_from_record(record_id, 1, record, standards[position])
            held.parties[position] = record.party_type.value
            for name in (record.name, record.name_en):
                if name is not None and name not in tokens:
                    tokens[name] = frozenset(name_tokens(name))
    held.records = held.standards = None
    return len(kept)


def survive_held(
    load: str,
    clusters: Sequence[HeldCluster],
    *,
    rules: SurvivorshipRules,
    at: datetime,
) -> GoldenRows:
    """Golden records of ``clusters``, whose members this process keeps, as COPY text.

    Survived as ``refresh_goldens`` survives a new golden record, from the
    members :func:`prepare_members` made.
    """
    writer = _GoldenWriter(rules, at)
    tokens = _NAME_TOKENS.setdefault(load, {})
    with collector_paused():
        for golden_id, places in clusters:
            members = [_HELD[load, chunk].members[position] for chunk, position, _ in places]
            first_chunk, first_position, _ = places[0]
            party = _HELD[load, first_chunk].parties[first_position]
            writer.add(golden_id, members, party, tokens)
    return writer.rows()


def keeper_of_most(workers: Workers, places: Sequence[tuple[int, int, int]]) -> int:
    """The worker keeping most of a cluster's members (at ``places``), the fewest to send it.

    Of workers keeping as many, the one keeping the first member.
    """
    kept = Counter(workers.owner(chunk) for chunk, _, _ in places)
    return max(kept, key=kept.__getitem__)


def export_members(load: str, places: Sequence[tuple[int, int]]) -> bytes:
    """The members at ``places`` (chunk, position), pickled for :func:`import_members`.

    A cluster whose members several workers keep is survived by one of them:
    the others send it their members (with their party types and the search
    tokens of their names) rather than have them made twice.
    """
    tokens = _NAME_TOKENS.get(load, {})
    members: list[tuple[int, int, Member, str]] = []
    names: dict[str, frozenset[str]] = {}
    for chunk, position in places:
        held = _HELD[load, chunk]
        member = held.members[position]
        members.append((chunk, position, member, held.parties[position]))
        for offer in (member.singles.get("name"), member.singles.get("name_en")):
            if offer is not None and offer.value in tokens:
                names[offer.value] = tokens[offer.value]
    return pickle.dumps((members, names), protocol=pickle.HIGHEST_PROTOCOL)


def import_members(load: str, exported: bytes) -> int:
    """Keep the members another worker exported, as if this one had made them.

    :func:`survive_held` then finds them where it finds its own. Returns how
    many members came.
    """
    members, names = pickle.loads(exported)  # noqa: S301  (made by export_members, this load)
    for chunk, position, member, party in members:
        held = _HELD.get((load, chunk))
        if held is None:
            held = _HELD[load, chunk] = _Held(None, None, None, None, serialized=True)
        held.members[position] = member
        held.parties[position] = party
    _NAME_TOKENS.setdefault(load, {}).update(names)
    return len(members)


def forget_chunks(load: str) -> None:
    """Drop whatever this process still keeps of ``load`` (a load that failed)."""
    for key in [k for k in _HELD if k[0] == load]:
        del _HELD[key]
    _NAME_TOKENS.pop(load, None)


def process_cpu_seconds() -> float:
    """CPU seconds this process has spent (user and system)."""
    return time.process_time()


# How often a worker looks whether the load's process still runs.
LOAD_WATCH_SECONDS = 1.0


def _start_worker(load_pid: int) -> None:
    # A worker keeps every chunk it standardized until the load ends: the
    # cyclic collector's scans of them would find nothing to free.
    # (Nor does it collect at exit: a forked worker ends with os._exit, no
    # interpreter shutdown.) The fork server loaded the tables already.
    gc.disable()
    load_reference_tables()
    watch = (load_pid, os.getppid())
    threading.Thread(target=_end_with, args=watch, name="load-watch", daemon=True).start()


def _end_with(load_pid: int, server_pid: int) -> None:
    """End this worker, and the fork server that made it, once ``load_pid`` is gone.

    A load killed outright (out of memory, ``kill -9``) cannot stop its
    workers; their parent is the fork server, which outlives it too. Left,
    they would hold the gigabytes of records they keep until the machine
    restarts, and the load run again would find that memory gone.
    """
    while True:
        time.sleep(LOAD_WATCH_SECONDS)
        try:
            os.kill(load_pid, 0)
        except (ProcessLookupError, PermissionError):  # gone, or the number is reused
            # The fork server serves the load's process alone: it goes too,
            # if it is still this worker's parent (never whoever adopted it).
            if os.getppid() == server_pid:
                os.kill(server_pid, signal.SIGTERM)
            os._exit(1)


class Workers:
    """Worker processes, each keeping the chunks it standardized; or this process alone.

    Chunk ``n`` always goes to the same process, so later steps find what
    its first one kept, and each process runs its tasks in the order they
    were given. Alone, this process runs them in one thread, in order.

    Processes come from a fork server, not from this process (which runs an
    event loop and threads): the server imports the load's modules and
    reference tables once (:mod:`hub.bulk_preload`) and forks each worker
    ready, where spawned ones would each import and load their own.
    """

    def __init__(self, processes: int) -> None:
        context = multiprocessing.get_context("forkserver")
        # Read when the server starts (on the first load of this process).
        context.set_forkserver_preload(["hub.bulk_preload"])
        self.pools = [
            ProcessPoolExecutor(
                max_workers=1,
                mp_context=context,
                initializer=_start_worker,
                initargs=(os.getpid(),),
            )
            for _ in range(processes)
        ]
        self.local = ThreadPoolExecutor(max_workers=1) if not self.pools else None
        self.load = os.urandom(8).hex()
        self.closed = False
        self.spent = 0.0  # CPU seconds of the processes, when last asked

    def submit(self, chunk: int, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Run ``fn`` for ``chunk`` where that chunk lives (alone: now, in this thread)."""
        if self.pools:
            return self.pools[chunk % len(self.pools)].submit(fn, *args, **kwargs)
        done: Future[T] = Future()
        try:
            done.set_result(fn(*args, **kwargs))
        except BaseException as error:  # handed to whoever waits on the future
            done.set_exception(error)
        return done

    def owner(self, chunk: int) -> int:
        """Which process keeps ``chunk`` (0 when this process works alone)."""
        return chunk % len(self.pools) if self.pools else 0

    async def run(self, chunk: int, fn: Callable[..., T], /, *args: Any) -> T:
        """:meth:`submit`, awaited; queued behind the tasks given before it."""
        if self.pools:
            return await asyncio.wrap_future(self.submit(chunk, fn, *args))
        return await asyncio.get_running_loop().run_in_executor(self.local, partial(fn, *args))

    async def cpu_seconds(self) -> float:
        """CPU seconds the worker processes have spent so far (0 when this process works alone).

        Asked of each process behind the tasks it was given: call it between
        steps. Once they are closed, what they had spent when last asked.
        """
        if self.pools and not self.closed:
            spent = await asyncio.gather(
                *(asyncio.wrap_future(pool.submit(process_cpu_seconds)) for pool in self.pools)
            )
            self.spent = sum(spent)
        return self.spent

    def close(self) -> None:
        """Stop the processes (and forget what this process kept for the load)."""
        self.closed = True
        for pool in self.pools:
            pool.shutdown(wait=True, cancel_futures=True)
        if self.local is not None:
            self.local.shutdown(wait=True, cancel_futures=True)
        forget_chunks(self.load)


# ── This process: read in file order, keep one version per record ───────────


@dataclass(frozen=True, slots=True)
class ChunkPlace:
    """Where a chunk's kept records are: its number, and their positions in it."""

    chunk: int
    positions: list[int]
    first: int  # index of its first kept record in the load


@dataclass(slots=True)
class BulkInput:
    """What the files hold: accepted records in file order, and the problems found.

    The records are kept by the workers that read them; here each is known by
    its standardized form.
    """

    standards: list[StandardRecord] = field(default_factory=list)
    hashes: list[bytes] = field(default_factory=list)
    places: list[str] = field(default_factory=list)  # "file:line" per accepted record
    # (chunk, position in it) per accepted record: where a worker keeps it.
    locations: list[tuple[int, int]] = field(default_factory=list)
    chunks: list[ChunkPlace] = field(default_factory=list)
    key_hash_parts: list[KeyHashes] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    rejected: int = 0
    repeated: int = 0  # lines repeating an accepted record unchanged

    def key_hashes(self) -> KeyHashes:
        """The blocking-key hashes of the accepted records, in their order."""
        return KeyHashes.concat(self.key_hash_parts)


@dataclass(frozen=True, slots=True)
class _Chunk:
    number: int
    path: Path
    bad: list[BadLine]
    lines: list[tuple[int, Any]]
    raw_text: bool


def _chunks(files: Sequence[Path], size: int) -> Iterator[_Chunk]:
    number = 0
    for path in files:
        bad: list[BadLine] = []
        good: list[tuple[int, Any]] = []
        raw_text = file_format(path) == "jsonl"
        items: Iterable[tuple[int, Any] | BadLine] = (
            _jsonl_lines(path) if raw_text else _csv_lines(path)
        )
        for item in items:
            if isinstance(item, BadLine):
                bad.append(item)
            else:
                good.append(item)
            if len(bad) + len(good) >= size:
                yield _Chunk(number, path, bad, good, raw_text)
                number += 1
                bad, good = [], []
        if bad or good:
            yield _Chunk(number, path, bad, good, raw_text)
            number += 1


def _jsonl_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Non-blank lines of a JSONL file, undecoded (the workers decode them)."""
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, line


def _csv_lines(path: Path) -> Iterator[tuple[int, Any] | BadLine]:
    for item in read_lines(path):
        yield item if isinstance(item, BadLine) else (item.number, item.value)


def read_records(
    files: Sequence[Path],
    workers: Workers,
    *,
    source: str | None,
    on_lines: Callable[[int], None] | None = None,
) -> BulkInput:
    """Read, parse and standardize ``files`` in ``workers``.

    A record whose (source, source_key) was already read is counted unchanged
    when it repeats it exactly and rejected otherwise: a first load keeps one
    version per record.
    """
    if source is not None:
        check_source_code(source)
    for path in files:
        if not path.is_file():
            raise Invalid(f"{path}: no such file", field="file")
    out = BulkInput()
    seen: dict[tuple[str, str], int] = {}

    def take(chunk: _Chunk, done: StandardizedChunk) -> None:
        problems: list[tuple[int, str]] = [(line.number, line.message) for line in chunk.bad]
        problems.extend(done.rejected)
        kept: list[int] = []
        first = len(out.standards)
        for position, number in enumerate(done.numbers):
            standard = done.standards[position]
            key = standard.source, standard.source_key
            where = f"{chunk.path}:{number}"
            earlier = seen.get(key)
            if earlier is None:
                seen[key] = len(out.standards)
                out.standards.append(standard)
                out.hashes.append(done.hashes[position])
                out.places.append(where)
                out.locations.append((chunk.number, position))
                kept.append(position)
            elif out.hashes[earlier] == done.hashes[position]:
                out.repeated += 1
            else:
                problems.append(
                    (
                        number,
                        f"field 'source_key': ({key[0]}, {key[1]}) was read at "
                        f"{out.places[earlier]} with other values; a first load keeps one "
                        "version per record (load the change afterwards)",
                    )
                )
        out.chunks.append(ChunkPlace(chunk.number, kept, first))
        out.key_hash_parts.append(
            done.key_hashes
            if len(kept) == len(done.numbers)
            else done.key_hashes.take(np.asarray(kept, dtype=np.int64))
        )
        # Problems in line order, whichever step found them.
        for number, message in sorted(problems, key=lambda p: p[0]):
            out.rejected += 1
            out.problems.append(f"{chunk.path}:{number}: {message}")
        if on_lines is not None:
            on_lines(len(chunk.bad) + len(chunk.lines))

    # A bounded window keeps memory flat and results in file order.
    window = 2 * max(1, len(workers.pools))
    pending: deque[tuple[_Chunk, Future[StandardizedChunk]]] = deque()
    for chunk in _chunks(files, CHUNK_LINES):
        pending.append(
            (
                chunk,
                workers.submit(
                    chunk.number,
                    standardize_chunk,
                    workers.load,
                    chunk.number,
                    chunk.lines,
                    source,
                    raw_text=chunk.raw_text,
                ),
            )
        )
        while len(pending) > window:
            waiting, future = pending.popleft()
            take(waiting, future.result())
    while pending:
        waiting, future = pending.popleft()
        take(waiting, future.result())
    return out


def default_workers(lines: int) -> int:
    """Worker processes for ``lines`` lines (0: this process alone)."""
    if lines < PARALLEL_MIN_LINES:
        return 0
    return max(1, min(os.cpu_count() or 1, 4))


def bulk_match_config() -> MatchConfig:
    """Batch settings that score pairs as ``hub match`` and the incremental path do.

    From ``tf_min_records`` records on, the load is scored with the term
    frequencies of its own records (as ``hub match`` does), which the load
    then keeps as the stored population's snapshot, so that later submissions
    score with the same counts; a smaller load uses the model's.
    """
    return MatchConfig()


@dataclass(frozen=True, slots=True)
class Cluster:
    """The records (indexes into the load, ascending) of one future golden record."""

    members: tuple[int, ...]


def clusters_of(result: MatchResult) -> list[Cluster]:
    """One cluster per distinct cluster id, ordered by first member (file order)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for index, assignment in enumerate(result.assignments):
        groups[assignment.cluster_id].append(index)
    return sorted((Cluster(tuple(m)) for m in groups.values()), key=lambda c: c.members[0])


def link_scores(
    records: Sequence[StandardRecord], clusters: Sequence[Cluster], model: Model
) -> dict[int, float]:
    """Each linked record's strongest score with another member of its cluster.

    What the incremental path stores on an auto link (the best pair with the
    golden record), the records laid out with the model's frequencies; the
    first member of each cluster has none. A load scores its links with the
    columns its match laid out (:func:`cluster_link_scores`).
    """
    cols = Columns.from_records(records, model.frequencies)
    return cluster_link_scores(cols, np.arange(len(records), dtype=np.int64), clusters, model)


def cluster_link_scores(
    cols: Columns,
    rows: npt.NDArray[np.int64],
    clusters: Sequence[Cluster],
    model: Model,
) -> dict[int, float]:
    """:func:`link_scores` of records already laid out: record ``i`` is row ``rows[i]`` of ``cols``.

    In clusters larger than ``LINK_SCORE_PEERS`` only pairs with the first
    members are scored.
    """
    left: list[int] = []
    right: list[int] = []
    for cluster in clusters:
        members = cluster.members
        # Every pair of a small cluster; in a large one, pairs with its first members.
        for i, a in enumerate(members[:LINK_SCORE_PEERS]):
            for b in members[i + 1 :]:
                left.append(a)
                right.append(b)
    if not left:
        return {}
    lefts = np.asarray(left, dtype=np.int64)
    rights = np.asarray(right, dtype=np.int64)
    weights = model.match_weights(compare_pairs(cols, rows[lefts], rows[rights]))
    best = np.full(len(rows), -np.inf)
    np.maximum.at(best, lefts, weights)
    np.maximum.at(best, rights, weights)
    linked = np.unique(np.concatenate((lefts, rights)))
    firsts = {c.members[0] for c in clusters}
    return {
        i: w for i, w in zip(linked.tolist(), best[linked].tolist(), strict=True) if i not in firsts
    }


@dataclass(frozen=True, slots=True)
class MatchedLoad:
    """What the match of a load found: its result, its clusters and its links' scores."""

    result: MatchResult
    clusters: list[Cluster]
    scores: dict[int, float]  # by index into the load, as :func:`link_scores`


def match_loaded(
    loaded: BulkInput,
    *,
    model: Model | None = None,
    config: MatchConfig | None = None,
    on_stage: StageProgress | None = None,
) -> MatchedLoad:
    """Batch-match the accepted records with the shipped model (incremental scoring).

    The links are scored with the columns the match laid out (its term
    frequencies: the model's for a small load, the load's own from
    ``tf_min_records`` on, which the load keeps), not laid out a second time.
    """
    config = config or bulk_match_config()
    model = model or default_model()
    # Key hashes were computed with the default rules where the records were read.
    hashes = loaded.key_hashes() if config.rules == DEFAULT_RULES else None
    result, trace = trace_match(
        loaded.standards, config, model=model, progress=on_stage, key_hashes=hashes
    )
    # Only the columns outlive the match: its pairs and decisions go now.
    cols, rows = trace.columns, np.argsort(trace.order)
    del trace
    clusters = clusters_of(result)
    return MatchedLoad(result, clusters, cluster_link_scores(cols, rows, clusters, model))


# ── The database side ──────────────────────────────────────────────────────


async def hub_is_empty(session: AsyncSession) -> bool:
    """Whether the hub holds no source record at all (retired ones count)."""
    found = await session.scalar(select(exists().where(SourceRecordRow.id.is_not(None))))
    return not found


async def reserve_ids(session: AsyncSession, table: str, column: str, count: int) -> range:
    """``count`` fresh, consecutive values of an identity column.

    Call it only while this transaction keeps everyone else from inserting
    into ``table`` (:func:`drop_indexes` locks it exclusively): no other
    ``nextval`` can then fall inside the range, so one ``nextval`` and one
    ``setval`` reserve it, where a call per value took 1.3-1.6 s for the
    172,180 records of a 100k-entity load, on the critical path. Like
    ``nextval``, the reservation survives a rollback (gaps are harmless,
    reuse impossible).
    """
    if count == 0:
        return range(0)
    first = await session.scalar(
        text(
            "WITH s AS (SELECT CAST(pg_get_serial_sequence(:table, :column) AS regclass) AS seq,"
            " (SELECT seqincrement FROM pg_sequence"
            "  WHERE seqrelid = CAST(pg_get_serial_sequence(:table, :column) AS regclass))"
            " AS step), taken AS MATERIALIZED (SELECT seq, step, nextval(seq) AS id FROM s)"
            " SELECT CASE WHEN step = 1 THEN id END FROM taken"
            " WHERE setval(seq, id + CAST(:count AS bigint) - 1) IS NOT NULL"
        ),
        {"table": table, "column": column, "count": count},
    )
    if first is None:
        raise RuntimeError(f"the identity of {table}.{column} does not count up by one")
    return range(first, first + count)


@dataclass(slots=True)
class BulkWritten:
    """Rows written by a bulk load."""

    golden_ids: list[int] = field(default_factory=list)
    records: int = 0
    goldens: int = 0
    reviews: int = 0


class Copier:
    """COPY into the session's connection."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver

    @classmethod
    async def of(cls, session: AsyncSession) -> Copier:
        """The copier of ``session``'s connection (in its transaction)."""
        raw = await (await session.connection()).get_raw_connection()
        if raw.driver_connection is None:
            raise RuntimeError("the session's connection has no driver connection")
        return cls(raw.driver_connection)

    async def rows(
        self, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
    ) -> int:
        """COPY ``rows`` (Python values); how many there were."""
        batch = list(rows)
        await self.driver.copy_records_to_table(table, columns=list(columns), records=batch)
        return len(batch)

    async def text(self, table: str, columns: Sequence[str], data: bytes) -> None:
        """COPY rows already in COPY's text format."""
        if data:
            await self.driver.copy_to_table(
                table, source=io.BytesIO(data), columns=list(columns), format="text"
            )


async def claim_empty_hub(session: AsyncSession) -> None:
    """Lock source records against every other writer until commit; the hub must be empty.

    Raises :class:`Conflict` when the hub already holds source records.
    """
    await session.execute(text("LOCK TABLE source_record IN SHARE ROW EXCLUSIVE MODE"))
    if not await hub_is_empty(session):
        raise Conflict(NOT_EMPTY)


# The tables a bulk load fills. Their indexes and foreign keys (and those that
# point at them) are dropped for the load and built back before commit:
# maintained row by row they cost more than the COPY itself.
SOURCE_TABLES = ("source_record", "source_record_version", "match_key")
GOLDEN_TABLES = (
    "golden_record",
    "golden_record_version",
    "search_token",
    "search_name",
    "cross_reference",
    "match_review",
)
BULK_TABLES = SOURCE_TABLES + GOLDEN_TABLES


@dataclass(frozen=True, slots=True)
class DroppedForeignKeys:
    """Statements that add back the foreign keys a bulk load dropped.

    Each as (referencing table, referenced table, statement).
    """

    statements: tuple[tuple[str, str, str], ...]

    def from_tables(self, tables: Sequence[str], *, unless_to: Sequence[str]) -> DroppedForeignKeys:
        """The keys of ``tables`` that point at none of ``unless_to``."""
        return DroppedForeignKeys(
            tuple(s for s in self.statements if s[0] in tables and s[1] not in unless_to)
        )

    def without(self, restored: DroppedForeignKeys) -> DroppedForeignKeys:
        """These keys, less the ``restored`` ones."""
        return DroppedForeignKeys(tuple(s for s in self.statements if s not in restored.statements))


async def drop_foreign_keys(session: AsyncSession, tables: Sequence[str]) -> DroppedForeignKeys:
    """Drop the foreign keys of ``tables``, and those pointing at them, for this transaction.

    The catalog writes both statements, so names and definitions stay those of
    the migrations (:func:`restore_foreign_keys` adds them back). Other sessions
    wait on these tables until commit.
    """
    rows = (
        await session.execute(
            text(
                "SELECT conrelid::regclass::text, confrelid::regclass::text,"
                " format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname),"
                " format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname,"
                " pg_get_constraintdef(oid))"
                " FROM pg_constraint WHERE contype = 'f'"
                " AND (conrelid = ANY(CAST(:tables AS regclass[]))"
                " OR confrelid = ANY(CAST(:tables AS regclass[])))"
                " ORDER BY conrelid::regclass::text, conname"
            ),
            {"tables": list(tables)},
        )
    ).all()
    for _, _, drop, _ in rows:
        await session.execute(text(drop))
    return DroppedForeignKeys(tuple((table, to, add) for table, to, _, add in rows))


async def restore_foreign_keys(session: AsyncSession, dropped: DroppedForeignKeys) -> None:
    """Add back (and so check) the foreign keys :func:`drop_foreign_keys` dropped."""
    for _, _, statement in dropped.statements:
        await session.execute(text(statement))


@dataclass(frozen=True, slots=True)
class DroppedIndexes:
    """Statements that build back the indexes a bulk load dropped, by table."""

    statements: tuple[tuple[str, str], ...]  # (table, statement)

    def of(self, tables: Sequence[str]) -> DroppedIndexes:
        """The statements that build indexes of ``tables``."""
        return DroppedIndexes(tuple(s for s in self.statements if s[0] in tables))


async def drop_indexes(session: AsyncSession, tables: Sequence[str]) -> DroppedIndexes:
    """Drop every index of ``tables`` (primary keys and unique constraints too).

    Drop the foreign keys that rely on them first (:func:`drop_foreign_keys`).
    An index built once over a filled table costs a fraction of one kept up
    row by row; :func:`build_indexes` builds them back as the migrations made
    them (the catalog writes the statements).
    """
    rows = (
        await session.execute(
            text(
                "SELECT t.name,"
                " CASE WHEN c.oid IS NULL"
                " THEN format('DROP INDEX %s', i.indexrelid::regclass)"
                " ELSE format('ALTER TABLE %s DROP CONSTRAINT %I', i.indrelid::regclass, c.conname)"
                " END,"
                " CASE WHEN c.oid IS NULL THEN pg_get_indexdef(i.indexrelid)"
                " ELSE format('ALTER TABLE %s ADD CONSTRAINT %I %s', i.indrelid::regclass,"
                " c.conname, pg_get_constraintdef(c.oid)) END"
                " FROM unnest(CAST(:tables AS text[])) AS t(name)"
                " JOIN pg_index i ON i.indrelid = CAST(t.name AS regclass)"
                " LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid"
                " AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x')"
                # Constraints first: the keys the other indexes may rely on come back first.
                " ORDER BY t.name, c.oid IS NULL, i.indexrelid::regclass::text"
            ),
            {"tables": list(tables)},
        )
    ).all()
    for _, drop, _ in rows:
        await session.execute(text(drop))
    return DroppedIndexes(tuple((table, build) for table, _, build in rows))


async def build_indexes(session: AsyncSession, dropped: DroppedIndexes) -> None:
    """Build back the indexes :func:`drop_indexes` dropped."""
    # Each index is sorted once in memory rather than spilled to disk.
    await session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
    for _, statement in dropped.statements:
        await session.execute(text(statement))


async def analyze_tables(session: AsyncSession, tables: Sequence[str]) -> None:
    """Gather statistics on ``tables`` now, in this transaction.

    What follows a bulk load (its profile refresh, the first incremental
    submissions) would otherwise be planned for empty tables until autovacuum
    gets to them. JSON columns are left to autovacuum: no plan reads their
    statistics, and sampling their documents costs most of the time.

    The sample is :data:`BULK_STATISTICS_TARGET`'s, smaller than the
    default: these statistics only bridge the time until autovacuum analyzes
    the tables again at its own target, which it does soon after the commit
    (the load's rows count as changes since this analysis once committed).
    """
    before = await session.scalar(text("SELECT current_setting('default_statistics_target')"))
    await _set_local(session, "default_statistics_target", str(BULK_STATISTICS_TARGET))
    analyze = await session.scalar(
        text(
            "SELECT 'ANALYZE ' || string_agg(format('%s (%s)', t.oid::regclass, t.columns), ', ')"
            " FROM (SELECT a.attrelid AS oid, string_agg(quote_ident(a.attname), ', '"
            " ORDER BY a.attnum) AS columns FROM pg_attribute a"
            " WHERE a.attrelid = ANY(CAST(:tables AS regclass[])) AND a.attnum > 0"
            " AND NOT a.attisdropped AND a.atttypid NOT IN ('json'::regtype, 'jsonb'::regtype)"
            " GROUP BY a.attrelid) AS t"
        ),
        {"tables": list(tables)},
    )
    await session.execute(text(str(analyze)))
    await _set_local(session, "default_statistics_target", str(before))


async def _set_local(session: AsyncSession, setting: str, value: str) -> None:
    """``SET LOCAL setting = value``, the value bound."""
    await session.execute(
        text("SELECT set_config(:setting, :value, true)"), {"setting": setting, "value": value}
    )


async def write_source_records(
    session: AsyncSession,
    loaded: BulkInput,
    workers: Workers,
    record_ids: Sequence[int],
    *,
    on_rows: Callable[[int], None] | None = None,
) -> list[asyncio.Future[int]]:
    """COPY the records, their first versions and their blocking keys.

    The workers serialize their chunks while this process waits on
    PostgreSQL, then make the members survivorship will read: that work is
    still running when this returns (the futures). Call
    :func:`claim_empty_hub` first, in the same transaction.
    """
    copy = await Copier.of(session)
    source_ids = {
        code: await ensure_source(session, code)
        for code in sorted({r.source for r in loaded.standards})
    }

    def on_every_chunk(work: Callable[..., T]) -> list[asyncio.Future[T]]:
        """``work`` run by the worker holding each chunk, on the chunk's records."""
        return [
            asyncio.ensure_future(
                workers.run(
                    place.chunk,
                    work,
                    workers.load,
                    place.chunk,
                    place.positions,
                    record_ids[place.first : place.first + len(place.positions)],
                )
            )
            for place in loaded.chunks
        ]

    serializing = on_every_chunk(serialize_chunk)
    # Queued behind the serializations: survivorship's groundwork, while the match runs.
    preparing: list[asyncio.Future[int]] = on_every_chunk(prepare_members)
    try:
        await copy.rows(
            "source_record",
            ("id", "source_id", "source_key", "party_type", "current_version", "content_hash"),
            (
                (record_ids[i], source_ids[r.source], r.source_key, r.party_type.value, 1, h)
                for i, (r, h) in enumerate(zip(loaded.standards, loaded.hashes, strict=True))
            ),
        )
        for place, future in zip(loaded.chunks, serializing, strict=True):
            serialized = await future
            await copy.text(
                "source_record_version",
                (
                    "source_record_id",
                    "version",
                    "payload",
                    "standardized",
                    "flags",
                    "source_updated_at",
                ),
                serialized.versions,
            )
            await copy.text("match_key", ("key_hash", "source_record_id"), serialized.match_keys)
            if on_rows is not None:
                on_rows(len(place.positions))
    except BaseException:
        unfinished: list[asyncio.Future[Any]] = [*serializing, *preparing]
        for running in unfinished:
            running.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)
        raise
    return preparing


async def attach_early_interactions(session: AsyncSession) -> None:
    """Interactions that arrived before their customer's record attach to it now."""
    await session.execute(
        text(
            "UPDATE interaction AS i SET source_record_id = r.id FROM source_record AS r "
            "WHERE i.source_record_id IS NULL AND i.source_id = r.source_id "
            "AND i.customer_key = r.source_key"
        )
    )


def _scored_links(
    record_ids: Sequence[int],
    clusters: Sequence[Cluster],
    golden_ids: Sequence[int],
    scores: Mapping[int, float],
    *,
    actor: str,
) -> bytes:
    """COPY text of every record's link to its golden record, with its :func:`link_scores` score."""
    with collector_paused():
        by = copy_text(actor)
        return "".join(
            f"{record_ids[i]}\t{golden_id}\t{'new' if n == 0 else 'auto'}\t"
            f"{_optional(scores.get(i))}\t{by}\n"
            for golden_id, cluster in zip(golden_ids, clusters, strict=True)
            for n, i in enumerate(cluster.members)
        ).encode()


async def write_goldens(
    session: AsyncSession,
    loaded: BulkInput,
    workers: Workers,
    record_ids: Sequence[int],
    matched: MatchedLoad,
    *,
    actor: str,
    at: datetime,
    rules: SurvivorshipRules | None = None,
    on_goldens: Callable[[int], None] | None = None,
) -> BulkWritten:
    """One golden record per cluster, with versions, links, reviews and events.

    Each cluster is survived by the worker keeping most of its members (call it
    once the workers made their members, in the transaction that dropped the
    golden tables' indexes: it keeps other writers out while golden ids are
    reserved, see :func:`reserve_ids`), which the other workers send their
    members of the cluster to, while a thread here writes every link with
    its score; PostgreSQL takes in each run of golden records as it comes.
    Their derived profiles are the caller's next step.
    """
    result, clusters = matched.result, matched.clusters
    if not len(result.assignments) == len(loaded.standards) == len(record_ids):
        raise ValueError("the match result is not of these records")
    rules = rules or default_rules()
    copy = await Copier.of(session)
    golden_ids = await reserve_ids(session, "golden_record", "id", len(clusters))
    # Each cluster is survived by the worker keeping most of its members; members
    # other workers keep are sent over to it (by way of this process). Its own
    # clusters are survived meanwhile, the others once their members came.
    held: dict[int, list[HeldCluster]] = defaultdict(list)
    shared: dict[int, list[HeldCluster]] = defaultdict(list)
    wanted: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for golden_id, cluster in zip(golden_ids, clusters, strict=True):
        places = [(*loaded.locations[i], record_ids[i]) for i in cluster.members]
        survivor = keeper_of_most(workers, places)
        foreign = [(c, p) for c, p, _ in places if workers.owner(c) != survivor]
        (shared if foreign else held)[survivor].append((golden_id, places))
        for chunk, position in foreign:
            wanted[workers.owner(chunk), survivor].append((chunk, position))
    # Links are written here meanwhile (scored by the match).
    linking = asyncio.ensure_future(
        asyncio.to_thread(
            _scored_links, record_ids, clusters, golden_ids, matched.scores, actor=actor
        )
    )
    exports: dict[tuple[int, int], asyncio.Future[bytes]] = {}
    imports: list[asyncio.Future[int]] = []
    surviving: list[asyncio.Future[GoldenRows]] = []
    try:
        on_worker = partial(survive_held, rules=rules, at=at)

        def survived(batches: Mapping[int, list[HeldCluster]]) -> list[asyncio.Future[GoldenRows]]:
            return [
                asyncio.ensure_future(
                    workers.run(owner, on_worker, workers.load, batch[n : n + SURVIVE_CHUNK])
                )
                for owner, batch in batches.items()
                for n in range(0, len(batch), SURVIVE_CHUNK)
            ]

        exports = {
            (keeper, survivor): asyncio.ensure_future(
                workers.run(keeper, export_members, workers.load, places)
            )
            for (keeper, survivor), places in wanted.items()
        }
        surviving = survived(held)
        imports = [
            asyncio.ensure_future(
                workers.run(survivor, import_members, workers.load, await exported)
            )
            for (_, survivor), exported in exports.items()
        ]
        # Queued behind the imports in each worker.
        surviving.extend(survived(shared))
        for finished in asyncio.as_completed(surviving):
            rows = await finished
            await copy.text(
                "golden_record",
                (
                    "id",
                    "party_type",
                    "status",
                    "version",
                    "name",
                    "region",
                    "industry",
                    "attributes",
                    "lineage",
                    "updated_at",
                ),
                rows.goldens,
            )
            await copy.text("search_token", ("token", "golden_id"), rows.tokens)
            await copy.text("search_name", SEARCH_NAME_COLUMNS, rows.names)
            if on_goldens is not None:
                on_goldens(rows.count)
        await asyncio.gather(*imports)
        await copy.text(
            "cross_reference",
            ("source_record_id", "golden_id", "link_kind", "score", "linked_by"),
            await linking,
        )
    finally:
        unfinished: list[asyncio.Future[Any]] = [
            *exports.values(),
            *imports,
            *surviving,
            linking,
        ]
        for future in unfinished:
            future.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)
    if golden_ids:
        # The first versions repeat the golden records' values: copied inside
        # PostgreSQL, their JSON is not parsed twice. Members in record order.
        await session.execute(
            text(
                "INSERT INTO golden_record_version (golden_id, version, status, attributes,"
                " lineage, members, change, valid_from)"
                " SELECT g.id, 1, g.status, g.attributes, g.lineage, x.members, :change,"
                " g.updated_at FROM golden_record AS g JOIN ("
                " SELECT golden_id, array_agg(source_record_id ORDER BY source_record_id)"
                " AS members FROM cross_reference WHERE golden_id >= :first GROUP BY golden_id"
                " ) AS x ON x.golden_id = g.id WHERE g.id >= :first"
            ),
            {"change": ChangeKind.CREATED.value, "first": golden_ids[0]},
        )
    index_of = {(r.source, r.source_key): i for i, r in enumerate(loaded.standards)}
    reviews = await copy.rows(
        "match_review",
        ("left_record_id", "right_record_id", "score", "explanation"),
        (
            (
                record_ids[index_of[pair.left]],
                record_ids[index_of[pair.right]],
                pair.weight,
                orjson.dumps(pair.explanation.to_dict()).decode(),
            )
            for pair in result.reviews
        ),
    )
    # Outbox writers serialize on this lock so sequence numbers appear in commit order.
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": OUTBOX_LOCK_KEY})
    # One event per new golden record, in id order, made inside PostgreSQL
    # rather than parsed from a line of text each.
    await session.execute(
        text(
            "INSERT INTO change_event (kind, golden_ids, payload)"
            " SELECT :kind, ARRAY[g], CAST('{}' AS jsonb) FROM unnest(CAST(:ids AS bigint[]))"
            " WITH ORDINALITY AS e(g, n) ORDER BY n"
        ),
        {"kind": ChangeKind.CREATED.value, "ids": list(golden_ids)},
    )
    return BulkWritten(
        golden_ids=list(golden_ids),
        records=len(loaded.standards),
        goldens=len(golden_ids),
        reviews=reviews,
    )


async def derive_new_profiles(
    session: AsyncSession,
    golden_ids: Sequence[int],
    *,
    now: datetime,
    on_profiles: Callable[[int], None] | None = None,
) -> None:
    """Metrics, classification and credit of new golden records, as ``refresh_profiles``.

    The metrics of all of them first, in one statement that reads their
    figures back: the tier cutoffs, when none are stored yet, are then those
    of every customer. The profiles follow chunk by chunk, the policies of
    one chunk running in a thread (once per distinct figures) while
    PostgreSQL stores the one before.
    """
    rules, policy = default_classification_rules(), default_credit_policy()
    ids = sorted(set(golden_ids))
    if not ids:
        return
    stored, figures = await recompute_figures(session, ids, rules, now=now)
    cutoffs = stored or await recompute_cutoffs(session, rules, now=now)
    chunks = [figures[n : n + PROFILE_CHUNK] for n in range(0, len(figures), PROFILE_CHUNK)]
    done: Profiles | None = None
    for chunk in chunks:
        deriving = asyncio.create_task(
            asyncio.to_thread(derive_profiles, chunk, cutoffs, rules, policy, now)
        )
        try:
            if done is not None:
                await _store_new_profiles(session, done, now=now, on_profiles=on_profiles)
        except BaseException:
            # A thread cannot be stopped: the policies end before the load does.
            await asyncio.wait([deriving])
            if not deriving.cancelled():
                deriving.exception()  # the error that ends the load is the one reported
            raise
        done = await deriving
    if done is not None:
        await _store_new_profiles(session, done, now=now, on_profiles=on_profiles)


async def _store_new_profiles(
    session: AsyncSession,
    profiles: Profiles,
    *,
    now: datetime,
    on_profiles: Callable[[int], None] | None,
) -> None:
    await store_profiles(session, profiles, now=now)
    if on_profiles is not None:
        on_profiles(len(profiles))


class StageClock:
    """Wall and CPU seconds of each step of a load, into ``seconds``.

    CPU seconds are this process's and its worker processes' (not
    PostgreSQL's), recorded as ``"<step> cpu"``: on a shared machine wall
    time says little by itself.
    """

    def __init__(self, seconds: dict[str, float], workers: Workers, *, started: float) -> None:
        self.seconds = seconds
        self.workers = workers
        self.wall = started  # time.perf_counter() when the first step began
        self.cpu = process_cpu_seconds()
        self.worker_cpu = 0.0

    async def lap(self, step: str) -> None:
        """Close ``step``; call it while the workers are idle (or closed)."""
        worker_cpu = await self.workers.cpu_seconds()
        wall, cpu = time.perf_counter(), process_cpu_seconds()
        self.seconds[step] = wall - self.wall
        self.seconds[f"{step} cpu"] = cpu - self.cpu + worker_cpu - self.worker_cpu
        self.wall, self.cpu, self.worker_cpu = wall, cpu, worker_cpu


@dataclass(slots=True)
class BulkOutcome:
    """What a bulk load did: counts, problems by file and line, stage timings."""

    created: int = 0
    unchanged: int = 0
    rejected: int = 0
    goldens: int = 0
    reviews: int = 0
    problems: list[str] = field(default_factory=list)
    # Wall seconds by step, and CPU seconds as "<step> cpu" (see StageClock).
    seconds: dict[str, float] = field(default_factory=dict)


async def load_bulk(
    sessions: async_sessionmaker[AsyncSession],
    files: Sequence[Path],
    *,
    source: str | None,
    actor: str,
    progress: Progress,
    workers: int | None = None,
    model: Model | None = None,
) -> BulkOutcome:
    """Load ``files`` into an empty hub: read, match, survive, then one transaction of COPY.

    ``workers`` worker processes standardize (0: this process alone; by
    default as many as there are cores, for a large load).
    """
    with collector_paused():
        return await _load_bulk(
            sessions,
            files,
            source=source,
            actor=actor,
            progress=progress,
            workers=workers,
            model=model,
        )


async def _load_bulk(
    sessions: async_sessionmaker[AsyncSession],
    files: Sequence[Path],
    *,
    source: str | None,
    actor: str,
    progress: Progress,
    workers: int | None = None,
    model: Model | None = None,
) -> BulkOutcome:
    outcome = BulkOutcome()
    async with sessions() as session, session.begin():
        if not await hub_is_empty(session):
            raise Conflict(NOT_EMPTY)
    started = time.perf_counter()
    total = sum(count_lines(path) for path in files if path.is_file())
    pool = Workers(workers if workers is not None else default_workers(total))
    clock = StageClock(outcome.seconds, pool, started=started)
    try:
        reading = progress.add_task("read + standardize", total=total)
        loaded = await asyncio.to_thread(
            read_records,
            files,
            pool,
            source=source,
            on_lines=lambda n: progress.advance(reading, n),
        )
        progress.update(reading, completed=total)
        outcome.rejected, outcome.unchanged = loaded.rejected, loaded.repeated
        outcome.problems = loaded.problems
        await clock.lap("read")
        if not loaded.standards:
            return outcome
        written = await in_transaction(
            sessions,
            partial(
                _write_all,
                loaded=loaded,
                workers=pool,
                actor=actor,
                model=model or default_model(),
                progress=progress,
                clock=clock,
            ),
            attempts=1,
        )
        await clock.lap("frequencies + commit")
    finally:
        pool.close()
    outcome.created = written.records
    outcome.goldens = written.goldens
    outcome.reviews = written.reviews
    return outcome


async def _finish_source_tables(
    session: AsyncSession, indexes: DroppedIndexes, foreign_keys: DroppedForeignKeys
) -> DroppedForeignKeys:
    """Index, check and analyze the written source tables; the foreign keys left to restore.

    The load does it while the match still runs, PostgreSQL being idle until
    it ends: the keys of the source tables that point at no golden table are
    checked now, the others once the golden records are written.
    """
    await build_indexes(session, indexes.of(SOURCE_TABLES))
    source_keys = foreign_keys.from_tables(SOURCE_TABLES, unless_to=GOLDEN_TABLES)
    await restore_foreign_keys(session, source_keys)
    await analyze_tables(session, SOURCE_TABLES)
    return foreign_keys.without(source_keys)


async def _write_all(
    session: AsyncSession,
    *,
    loaded: BulkInput,
    workers: Workers,
    actor: str,
    model: Model,
    progress: Progress,
    clock: StageClock,
) -> BulkWritten:
    stages = progress.add_task("match", total=1)

    def on_stage(stage: str, step: int, steps: int) -> None:
        progress.update(stages, description=f"match: {stage}", total=steps, completed=step - 1)

    def match() -> MatchedLoad:
        with collector_paused():
            return match_loaded(loaded, model=model, on_stage=on_stage)

    # The match is the longest step and needs nothing of PostgreSQL: it starts
    # first, and PostgreSQL makes ready for the records and takes them in meanwhile.
    matching = asyncio.create_task(asyncio.to_thread(match))
    groundwork: list[asyncio.Future[int]] = []
    try:
        await claim_empty_hub(session)
        # The load's own statements (grouping every link into its golden record's
        # members, the profiles' metrics) sort and hash in memory, not on disk.
        await session.execute(text("SET LOCAL work_mem = '64MB'"))
        foreign_keys = await drop_foreign_keys(session, BULK_TABLES)
        indexes = await drop_indexes(session, BULK_TABLES)
        record_ids = await reserve_ids(session, "source_record", "id", len(loaded.standards))
        writing = progress.add_task("write records", total=len(loaded.standards))
        groundwork = await write_source_records(
            session, loaded, workers, record_ids, on_rows=lambda n: progress.advance(writing, n)
        )
        foreign_keys = await _finish_source_tables(session, indexes, foreign_keys)
        await asyncio.wait([matching])
        matched = matching.result()
        progress.update(stages, description="match", completed=progress.tasks[stages].total)
        # The members survivorship reads: made while the match ran.
        await asyncio.gather(*groundwork)
        await clock.lap("match + write records")
    except BaseException:
        for future in groundwork:
            future.cancel()
        await asyncio.gather(*groundwork, return_exceptions=True)
        # A thread cannot be stopped: the match ends before the load does.
        await asyncio.wait([matching])
        if not matching.cancelled():
            matching.exception()  # reported by the error that ends the load, if any
        raise
    at = datetime.now(UTC)
    surviving = progress.add_task("survive golden records", total=len(matched.clusters))
    written = await write_goldens(
        session,
        loaded,
        workers,
        record_ids,
        matched,
        actor=actor,
        at=at,
        on_goldens=lambda n: progress.advance(surviving, n),
    )
    # The workers are done: what they keep is freed now, not after the profiles.
    await workers.cpu_seconds()
    workers.close()
    # The counts the load was matched with (what submissions will score with),
    # counted here while PostgreSQL builds the indexes and derives the profiles.
    counting = asyncio.ensure_future(asyncio.to_thread(count_loaded_frequencies, loaded.standards))
    try:
        await build_indexes(session, indexes.of(GOLDEN_TABLES))
        await attach_early_interactions(session)
        await analyze_tables(session, GOLDEN_TABLES)
        await clock.lap("survive + write goldens")
        # Metrics, classification and credit, as refresh_goldens leaves a new golden record.
        deriving = progress.add_task("derive profiles", total=len(written.golden_ids))
        await derive_new_profiles(
            session,
            written.golden_ids,
            now=at,
            on_profiles=lambda n: progress.advance(deriving, n),
        )
        # Checked once for every row rather than row by row (the profiles' too).
        await restore_foreign_keys(session, foreign_keys)
        await clock.lap("profiles")
        await write_term_frequencies(session, await counting)
    except BaseException:
        # A thread cannot be stopped: the count ends before the load does.
        await asyncio.wait([counting])
        if not counting.cancelled():
            counting.exception()  # the error that ends the load is the one reported
        raise
    return written
