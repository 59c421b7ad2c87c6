"""Fuzzy, ranked customer search by Chinese name, pinyin, English name or contact.

PostgreSQL keeps a token index of every active golden record (``search_token``):
Chinese-character bigrams of its names, prefixes of their pinyin and of
English words, and exact phones, e-mails and identifiers. A query is cut into
the same tokens; the records sharing the most tokens are then ranked with
rapidfuzz against their names as indexed (``search_name``: normalized, in
pinyin, in English, made when the record is indexed, not per search), so
``星河``, ``xinghe``, ``Xinghe Intelligent``, ``+86 138 0013 8000`` and a USCC
all find 北京星河智能科技有限公司.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy
from rapidfuzz import fuzz, process
from sqlalchemy import BigInteger, Boolean, Text, TextualSelect, any_, bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.engine import read_rows
from hub.db.models import GoldenRecord
from hub.db.sql import among
from hub.domain import Customer
from hub.errors import Invalid
from hub.services.customers import customer_from_row, select_customers
from matching.standardize import (
    standardize_email,
    standardize_national_id,
    standardize_phone,
    standardize_uscc,
)
from matching.standardize.text import normalize_text, romanize, romanize_syllables

_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LATIN_WORD = re.compile(r"[a-z0-9]+")
MIN_PREFIX, MAX_PREFIX = 3, 12
# Where in a Chinese name a user may start typing its pinyin: at the start, or
# after a two- or three-character place name (北京…, 黑龙江…).
PINYIN_STARTS = (0, 2, 3)
# Postings read per query token: common tokens (科技, "tech") cannot flood a query;
# a token with fewer is rare, and picks the candidates (:func:`_candidates`).
POSTINGS_PER_TOKEN = 400
CANDIDATES = 200
MAX_QUERY_LENGTH = 200


def _pinyin_prefixes(word: str) -> list[str]:
    """``p:`` tokens of the prefixes of ``word`` from MIN_PREFIX to MAX_PREFIX letters.

    Cut from one marked string: slicing is several times cheaper than
    formatting each prefix anew, and a name has up to thirty of them.
    """
    marked = "p:" + word[:MAX_PREFIX]
    return [marked[:end] for end in range(MIN_PREFIX + 2, len(marked) + 1)]


def name_tokens(name: str) -> set[str]:
    """Tokens of a name: Han bigrams, pinyin prefixes, Latin word prefixes."""
    normalized = normalize_text(name)
    tokens: set[str] = set()
    for run in _HAN_RUN.findall(normalized):
        size = len(run)
        if size == 1:
            tokens.add("h:" + run)
        else:
            tokens.update(["h:" + run[i : i + 2] for i in range(size - 1)])
        # One reading of the whole run (a character per syllable), its
        # suffixes taken from it: heteronyms read in context, pypinyin once.
        syllables = romanize_syllables(run)
        # A character without a reading (rare ones) breaks the alignment.
        aligned = len(syllables) == size
        for start in PINYIN_STARTS:
            if start < size - 1 or start == 0:
                suffix = "".join(syllables[start:]) if aligned else romanize(run[start:])
                tokens.update(_pinyin_prefixes(suffix))
    for word in _LATIN_WORD.findall(normalized):
        if len(word) >= MIN_PREFIX:
            tokens.update(_pinyin_prefixes(word))
        else:
            tokens.add("p:" + word)
    return tokens


# What a golden record's search tokens are made of (:func:`golden_tokens`).
SEARCHED_ATTRIBUTES = ("name", "name_en", "phones", "emails", "uscc", "national_id", "identifiers")


def contact_tokens(attributes: Mapping[str, Any]) -> set[str]:
    """Exact tokens of phones, e-mails and identifiers."""
    tokens = {f"x:{phone}" for phone in attributes.get("phones") or []}
    tokens.update(f"x:{email}" for email in attributes.get("emails") or [])
    for key in ("uscc", "national_id"):
        value = attributes.get(key)
        if isinstance(value, str):
            tokens.add(f"x:{value.upper()}")
    for item in attributes.get("identifiers") or []:
        tokens.add(f"x:{str(item.get('value', '')).upper()}")
    return tokens


def golden_tokens(
    attributes: Mapping[str, Any], names: Callable[[str], set[str]] = name_tokens
) -> set[str]:
    """Every search token of a golden record.

    ``names`` gives a name's tokens: a bulk load passes the ones its worker
    processes computed for each record's names.
    """
    tokens = contact_tokens(attributes)
    for key in ("name", "name_en"):
        value = attributes.get(key)
        if isinstance(value, str):
            tokens.update(names(value))
    return tokens


def query_tokens(query: str) -> tuple[set[str], set[str]]:
    """(exact contact tokens, fuzzy name tokens) of a search text."""
    exact: set[str] = set()
    phone = standardize_phone(query).value
    if phone is not None:
        exact.add(f"x:{phone.e164}")
    if "@" in query and (email := standardize_email(query).value) is not None:
        exact.add(f"x:{email}")
    for found in (standardize_uscc(query).value, standardize_national_id(query).value):
        if found is not None:
            number = found if isinstance(found, str) else found.number
            exact.add(f"x:{number}")
    compact = query.strip().upper().replace(" ", "")
    if compact.isalnum() and len(compact) >= 6:
        exact.add(f"x:{compact}")
    normalized = normalize_text(query)
    fuzzy = {f"h:{run}" for run in _HAN_RUN.findall(normalized) if len(run) == 1}
    for run in _HAN_RUN.findall(normalized):
        fuzzy.update(f"h:{run[i : i + 2]}" for i in range(len(run) - 1))
    latin = romanize(normalized).replace(" ", "")
    if len(latin) >= MIN_PREFIX:
        fuzzy.add(f"p:{latin[:MAX_PREFIX]}")
    for word in _LATIN_WORD.findall(normalized):
        if len(word) >= MIN_PREFIX:
            fuzzy.add(f"p:{word[:MAX_PREFIX]}")
    return exact, fuzzy


def searched_names(attributes: Mapping[str, Any]) -> tuple[str, str, str]:
    """(normalized name, its toneless pinyin, normalized English name) of a golden record.

    What :func:`search_page` ranks a candidate by, made once when the record
    is indexed ("" for a missing name: it scores 0, as it always did).
    """
    name, name_en = attributes.get("name"), attributes.get("name_en")
    normalized = normalize_text(name) if isinstance(name, str) else ""
    english = normalize_text(name_en) if isinstance(name_en, str) else ""
    return normalized, romanize(normalized), english


# The columns of the table ``search_name``, as a bulk load copies them.
SEARCH_NAME_COLUMNS = ("golden_id", "party_type", "name", "pinyin", "name_en")


def search_name_columns(found: Iterable[tuple[int, Mapping[str, Any]]]) -> dict[str, list[Any]]:
    """The named-rows parameters of :func:`index_goldens`' statement for (golden id, attributes)."""
    columns: dict[str, list[Any]] = {"named": [], "names": [], "pinyins": [], "names_en": []}
    for golden_id, attributes in found:
        name, pinyin, name_en = searched_names(attributes)
        columns["named"].append(golden_id)
        columns["names"].append(name)
        columns["pinyins"].append(pinyin)
        columns["names_en"].append(name_en)
    return columns


# The search names given as arrays, written where they changed.
_NAMED = (
    "SELECT * FROM unnest(CAST(:named AS bigint[]), CAST(:names AS text[]),"
    "  CAST(:pinyins AS text[]), CAST(:names_en AS text[])) AS n(golden_id, name, pinyin, name_en)"
)
_RENAME = (
    " ON CONFLICT (golden_id) DO UPDATE"
    " SET name = excluded.name, pinyin = excluded.pinyin, name_en = excluded.name_en"
    " WHERE (search_name.name, search_name.pinyin, search_name.name_en)"
    "  IS DISTINCT FROM (excluded.name, excluded.pinyin, excluded.name_en)"
)
# The party type comes from the golden record, locked by the caller: it never changes.
_WRITE_NAMES = (
    "INSERT INTO search_name (golden_id, party_type, name, pinyin, name_en)"  # noqa: S608
    " SELECT n.golden_id, g.party_type, n.name, n.pinyin, n.name_en"
    " FROM named n JOIN golden_record g ON g.id = n.golden_id" + _RENAME
)


async def index_goldens(
    session: AsyncSession,
    golden_ids: Iterable[int],
    *,
    active: Mapping[int, Mapping[str, Any]] | None = None,
) -> None:
    """Rebuild the search tokens of ``golden_ids`` from their current values.

    ``active`` holds the values of those of them that are active when the
    caller has them at hand; they are read from the database otherwise.
    Only the difference is written: tokens a record no longer has go, new
    ones come, the ones it keeps stay where they are (rewriting them all was
    the dearest statement of a submission). The caller holds the golden
    records' locks.
    """
    ids = sorted(set(golden_ids))
    if not ids:
        return
    if active is None:
        rows = await session.execute(
            select(GoldenRecord.id, GoldenRecord.attributes).where(
                among(GoldenRecord.id, ids), GoldenRecord.status == "active"
            )
        )
        active = {row.id: row.attributes for row in rows}
    tokens: list[str] = []
    owners: list[int] = []
    for golden_id, attributes in active.items():
        found = golden_tokens(attributes)
        tokens.extend(found)
        owners.extend([golden_id] * len(found))
    # Arrays in one statement: a batch's thousands of tokens and its names in one round trip.
    await session.execute(
        _REWRITE_TOKENS,
        {"ids": ids, "tokens": tokens, "owners": owners} | search_name_columns(active.items()),
    )


_REWRITE_TOKENS = text(
    f"WITH named AS ({_NAMED}), unnamed AS ("  # noqa: S608  (fixed text, values bound)
    # Only active records have search names (and tokens).
    " DELETE FROM search_name n WHERE n.golden_id = ANY(CAST(:ids AS bigint[]))"
    "  AND NOT EXISTS (SELECT FROM named w WHERE w.golden_id = n.golden_id)"
    f"), renamed AS ({_WRITE_NAMES}"
    "), wanted AS ("
    " SELECT * FROM unnest(CAST(:tokens AS text[]), CAST(:owners AS bigint[]))"
    "  AS w(token, golden_id)"
    # The tokens the records have now, read once through their golden ids.
    "), held AS MATERIALIZED ("
    " SELECT s.token, s.golden_id FROM search_token s"
    "  WHERE s.golden_id = ANY(CAST(:ids AS bigint[]))"
    "), gone AS ("
    " DELETE FROM search_token s WHERE s.golden_id = ANY(CAST(:ids AS bigint[]))"
    "  AND NOT EXISTS (SELECT FROM wanted w"
    "   WHERE w.token = s.token AND w.golden_id = s.golden_id)"
    # Only tokens a record lacks are inserted, by a plain insert: nobody else
    # writes the tokens of records whose locks the caller holds, and ON CONFLICT
    # (one more search of the unique index and a speculative insertion per
    # token) cost 21 ms of backend CPU a batch of 100 where this costs 15
    # (statements replayed, 100,000 stored).
    ") INSERT INTO search_token (token, golden_id) SELECT w.token, w.golden_id FROM wanted w"
    " WHERE NOT EXISTS (SELECT FROM held h WHERE h.token = w.token AND h.golden_id = w.golden_id)"
)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A customer found by a search, with how well it matches (0 to 1) and on what."""

    customer: Customer
    score: float
    matched_on: str


@dataclass(frozen=True, slots=True)
class SearchPage:
    """A window of the ranked hits, and how many candidates were ranked in all."""

    hits: list[SearchHit]
    total: int


@dataclass(frozen=True, slots=True)
class _Query:
    """A search text in the forms every candidate is compared with (made once)."""

    text: str
    pinyin: str

    @classmethod
    def of(cls, query: str) -> _Query:
        normalized = normalize_text(query)
        return cls(text=normalized, pinyin=romanize(normalized))


def _scores(query: str, targets: Sequence[str]) -> list[float]:
    """``fuzz.WRatio(query, target) / 100`` for every target, in one call into rapidfuzz."""
    if not targets:
        return []
    found = process.cdist([query], targets, scorer=fuzz.WRatio, dtype=numpy.float64, workers=1)
    scores: list[float] = (found[0] / 100).tolist()
    return scores


def _ranks(
    query: _Query, candidates: Sequence[tuple[tuple[str, str, str], bool]]
) -> list[tuple[float, str]]:
    """(score, what matched) of each ((name, pinyin, English name), exact hit) candidate.

    The best of the name, its pinyin and the English name against the query;
    a missing name scores 0 on each, as an empty one does.
    """
    by_name = _scores(query.text, [names[0] for names, _ in candidates])
    by_pinyin = _scores(query.pinyin, [names[1] for names, _ in candidates])
    by_english = _scores(query.text, [names[2] for names, _ in candidates])
    ranks: list[tuple[float, str]] = []
    for (_, exact_hit), name, pinyin, en in zip(
        candidates, by_name, by_pinyin, by_english, strict=True
    ):
        if exact_hit:
            ranks.append((1.0, "identifier or contact"))
            continue
        best, matched_on = name, "name"
        if pinyin > best:
            best, matched_on = pinyin, "pinyin"
        if en > best:
            best, matched_on = en, "English name"
        ranks.append((round(best, 4), matched_on))
    return ranks


_IDS = bindparam("ids", type_=ARRAY(BigInteger))


def _candidates(party_filter: str) -> TextualSelect:
    """The records sharing the most of the query's rare tokens (exact ones first), with
    their search names.

    Each token's postings are read up to ``POSTINGS_PER_TOKEN + 1``: a token
    with fewer is rare, and all its records are read. A common token's first
    postings are only the lowest golden ids (科技 or "tech" are held by
    hundreds of thousands), so they count only when the query has no rare
    token at all; otherwise the customer searched for, holding every token,
    would lose its place to records that happen to be older. Only active
    records have search names (and tokens), so no golden record is read: the
    candidates' names come in the round trip that finds them.
    """
    return text(
        "WITH q AS ("  # noqa: S608  (fixed text: the filter is one of two, values bound)
        " SELECT token, token = ANY(:exact) AS exact FROM unnest(CAST(:tokens AS text[])) AS token"
        "), read AS MATERIALIZED ("
        " SELECT q.token, q.exact, t.golden_id FROM q CROSS JOIN LATERAL"
        "  (SELECT golden_id FROM search_token s WHERE s.token = q.token LIMIT :probe) AS t"
        "), rare AS ("
        " SELECT token FROM read GROUP BY token HAVING count(*) < :probe"
        "), counted AS ("
        " SELECT golden_id, count(*) AS hits, bool_or(exact) AS exact FROM read"
        "  WHERE token IN (SELECT token FROM rare) OR NOT EXISTS (SELECT FROM rare)"
        "  GROUP BY golden_id ORDER BY exact DESC, hits DESC, golden_id LIMIT :candidates"
        ") SELECT c.golden_id, n.name, n.pinyin, n.name_en, c.exact"
        " FROM counted c JOIN search_name n ON n.golden_id = c.golden_id" + party_filter
    ).columns(golden_id=BigInteger, name=Text, pinyin=Text, name_en=Text, exact=Boolean)


_CANDIDATES = _candidates("")
_CANDIDATES_OF_TYPE = _candidates(" WHERE n.party_type = :party_type")
_CUSTOMERS = select_customers().where(GoldenRecord.id == any_(_IDS))
_CUSTOMERS_WITHOUT_LINEAGE = select_customers(with_lineage=False).where(
    GoldenRecord.id == any_(_IDS)
)


async def search_page(
    session: AsyncSession,
    query: str,
    *,
    party_type: str | None = None,
    offset: int = 0,
    first: int = 20,
    with_lineage: bool = True,
) -> SearchPage:
    """The ranked hits ``offset`` to ``offset + first`` of ``query``, best first.

    Up to ``CANDIDATES`` records sharing the most tokens with the query are
    ranked on their names alone; only the customers in the window are loaded.
    Without ``with_lineage`` they come with an empty lineage (see
    ``select_customers``): a record's lineage is five times the size of its
    attributes, and a search that shows names never reads it.
    """
    if not query.strip():
        raise Invalid("must not be empty", field="text")
    if len(query) > MAX_QUERY_LENGTH:
        raise Invalid(f"must be at most {MAX_QUERY_LENGTH} characters", field="text")
    exact, fuzzy = query_tokens(query)
    tokens = sorted(exact | fuzzy)
    if not tokens:
        return SearchPage(hits=[], total=0)
    parameters: dict[str, Any] = {
        "tokens": tokens,
        "exact": sorted(exact),
        "probe": POSTINGS_PER_TOKEN + 1,
        "candidates": CANDIDATES,
    }
    if party_type is None:
        rows = await read_rows(session, _CANDIDATES, parameters)
    else:
        parameters["party_type"] = party_type
        rows = await read_rows(session, _CANDIDATES_OF_TYPE, parameters)
    if not rows:
        return SearchPage(hits=[], total=0)
    # Unpacked by position: up to ``CANDIDATES`` rows, and reading a row's columns
    # by name cost a twentieth of a search.
    ranks = _ranks(
        _Query.of(query),
        [((name, pinyin, name_en), bool(exact)) for _, name, pinyin, name_en, exact in rows],
    )
    ranked = sorted(
        (
            (score, matched_on, golden_id)
            for (score, matched_on), (golden_id, *_) in zip(ranks, rows, strict=True)
        ),
        key=lambda hit: (-hit[0], hit[2]),
    )
    window = ranked[offset : offset + first]
    statement = _CUSTOMERS if with_lineage else _CUSTOMERS_WITHOUT_LINEAGE
    loaded = await read_rows(session, statement, {"ids": [hit[2] for hit in window]})
    customers = {row.id: customer_from_row(row) for row in loaded}
    return SearchPage(
        hits=[
            SearchHit(customers[golden_id], score, matched_on)
            for score, matched_on, golden_id in window
            if golden_id in customers
        ],
        total=len(ranked),
    )


async def search_customers(
    session: AsyncSession, query: str, *, party_type: str | None = None, first: int = 20
) -> list[SearchHit]:
    """Customers matching ``query``, best first."""
    page = await search_page(session, query, party_type=party_type, first=first)
    return page.hits
