"""The corpus generator: deterministic, valid identifiers, department habits, hard negatives."""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from pathlib import Path

import opencc
import pytest
from stdnum.cn import ric, uscc

from bench.corpus import (
    Corpus,
    generate_corpus,
    resident_id_is_valid,
    ric_15_to_18,
    write_corpus,
)
from matching.record import RECORD_FIELDS, parse_record

ENTITIES = 2_000


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return generate_corpus(ENTITIES, seed=7)


def _digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)


def test_same_seed_gives_the_same_corpus(corpus: Corpus) -> None:
    again = generate_corpus(ENTITIES, seed=7)
    assert again.records == corpus.records
    assert again.truth == corpus.truth


def test_another_seed_gives_another_corpus(corpus: Corpus) -> None:
    other = generate_corpus(ENTITIES, seed=8)
    assert other.records != corpus.records


def test_files_hold_the_in_memory_corpus(corpus: Corpus, tmp_path: Path) -> None:
    stats = write_corpus(tmp_path, ENTITIES, seed=7)
    lines = (tmp_path / "records.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == corpus.records
    with (tmp_path / "truth.csv").open(encoding="utf-8", newline="") as f:
        truth = {(r["source"], r["source_key"]): r["entity_id"] for r in csv.DictReader(f)}
    assert truth == corpus.truth
    assert stats == corpus.stats
    assert not (tmp_path / ".buckets").exists()


def test_every_record_satisfies_the_contract(corpus: Corpus) -> None:
    for position, record in enumerate(corpus.records):
        parsed = parse_record(record, position=position)
        assert parsed.extra == {}
    assert all(set(r) <= set(RECORD_FIELDS) for r in corpus.records)


def test_truth_covers_every_record_and_stays_out_of_them(corpus: Corpus) -> None:
    keys = [(r["source"], r["source_key"]) for r in corpus.records]
    assert len(set(keys)) == len(keys)
    assert set(keys) == set(corpus.truth)
    entity_ids = set(corpus.truth.values())
    assert len(entity_ids) == ENTITIES
    text = json.dumps(corpus.records, ensure_ascii=False)
    assert not any(eid in text for eid in list(entity_ids)[:200])


def test_about_one_point_seven_records_per_entity(corpus: Corpus) -> None:
    assert 1.6 <= len(corpus.records) / ENTITIES <= 1.85


def test_identifiers_are_valid_except_the_deliberately_broken(corpus: Corpus) -> None:
    bad_uscc = sum(not uscc.is_valid(r["uscc"]) for r in corpus.records if "uscc" in r)
    ids = [r["national_id"] for r in corpus.records if "national_id" in r]
    bad_ric = sum(not resident_id_is_valid(i) for i in ids if len(i) == 18)
    old = [i for i in ids if len(i) == 15]
    assert bad_uscc == corpus.stats.get("invalid_uscc", 0)
    assert bad_ric == corpus.stats.get("invalid_ric", 0)
    assert all(resident_id_is_valid(ric_15_to_18(i)) for i in old)
    assert len(old) == corpus.stats["ric15"]
    # The broken ones exist but stay rare.
    assert 0 < bad_uscc + bad_ric < 0.01 * len(corpus.records)


def test_an_old_id_and_its_new_form_describe_the_same_person(corpus: Corpus) -> None:
    by_entity: dict[str, set[str]] = defaultdict(set)
    for r in corpus.records:
        nid = r.get("national_id")
        if nid and (len(nid) == 15 or resident_id_is_valid(nid)):
            key = nid if len(nid) == 18 else ric_15_to_18(nid)
            by_entity[corpus.truth[r["source"], r["source_key"]]].add(key)
    assert all(len(ids) == 1 for ids in by_entity.values())


def test_stdnum_rejects_real_ids_of_people_born_before_1983() -> None:
    # Why the corpus checks ids with resident_id_is_valid: python-stdnum's region
    # table starts in 1983 for Guangzhou, so it refuses a well-formed older id.
    body = "44010619600115123"
    number = body + ric.calc_check_digit(body + "0")
    assert resident_id_is_valid(number)
    assert not ric.is_valid(number)


def _by_source(corpus: Corpus, source: str) -> list[dict[str, object]]:
    return [r for r in corpus.records if r["source"] == source]


def test_finance_keeps_legal_names_and_credit_codes(corpus: Corpus) -> None:
    orgs = [r for r in _by_source(corpus, "finance") if r["party_type"] == "organization"]
    assert all(str(r["name"]).endswith(("公司", "分公司", "办事处")) for r in orgs)
    assert sum("uscc" in r for r in orgs) > 0.9 * len(orgs)
    assert all(str(r["source_key"]).startswith("FIN-") for r in orgs)


def test_sales_uses_short_names_and_mobiles(corpus: Corpus) -> None:
    orgs = [r for r in _by_source(corpus, "sales") if r["party_type"] == "organization"]
    short = [r for r in orgs if not str(r["name"]).endswith("公司")]
    assert len(short) > 0.5 * len(orgs)
    mobiles = [p for r in orgs for p in r.get("phones", []) if _digits(p).startswith("1")]
    assert len(mobiles) > 0.7 * len(orgs)


def test_callcenter_has_old_ids_odd_phones_and_homophones(corpus: Corpus) -> None:
    calls = _by_source(corpus, "callcenter")
    assert any(len(str(r.get("national_id", ""))) == 15 for r in calls)
    phones = [p for r in calls for p in r.get("phones", [])]
    assert any(p.startswith("+86 ") for p in phones)
    assert any(p.startswith("(0") for p in phones)
    assert any(re.fullmatch(r"86\d{11}", p) for p in phones)
    # Homophone typos: a call-centre person name differs from the finance one by a
    # single character of the same pronunciation.
    finance_names = {
        corpus.truth[r["source"], r["source_key"]]: r["name"]
        for r in _by_source(corpus, "finance")
        if r["party_type"] == "person"
    }
    from pypinyin import lazy_pinyin

    typos = 0
    for r in calls:
        if r["party_type"] != "person":
            continue
        legal = finance_names.get(corpus.truth[r["source"], r["source_key"]])
        name = str(r["name"])
        if legal and legal != name and len(legal) == len(name):
            typos += lazy_pinyin(legal) == lazy_pinyin(name)
    assert typos > 0


def test_web_has_traditional_script_english_names_and_loud_emails(corpus: Corpus) -> None:
    web = _by_source(corpus, "web")
    to_simplified = opencc.OpenCC("t2s")
    names = [str(r["name"]) for r in web]
    assert sum(to_simplified.convert(n) != n for n in names) > 0.2 * len(web)
    assert any(re.fullmatch(r"[A-Za-z'., ()-]+", n) for n in names)
    emails = [e for r in web for e in r.get("emails", [])]
    assert any(e != e.lower() for e in emails)
    assert any(re.search(r"[０-９]", str(r.get("address", ""))) for r in web)


def test_logistics_moves_the_region_into_brackets(corpus: Corpus) -> None:
    names = [str(r["name"]) for r in _by_source(corpus, "logistics")]
    assert any("（" in n or "(" in n for n in names)
    assert any(re.search(r"[号栋室]", str(r.get("address", ""))) for r in corpus.records)


def _entities_sharing(corpus: Corpus, values: dict[str, set[str]]) -> int:
    return sum(len(entities) > 1 for entities in values.values())


def test_hard_negatives_are_present(corpus: Corpus) -> None:
    phone_owners: dict[str, set[str]] = defaultdict(set)
    person_names: dict[tuple[str, str], set[str]] = defaultdict(set)
    short_names: dict[str, set[str]] = defaultdict(set)
    branches = 0
    for r in corpus.records:
        entity = corpus.truth[r["source"], r["source_key"]]
        if r["source"] == "finance":
            for p in r.get("phones", []):
                phone_owners[_digits(p)].add(entity)
            if r["party_type"] == "person" and "city" in r:
                person_names[str(r["name"]), str(r["city"]).removesuffix("市")].add(entity)
            branches += str(r["name"]).endswith(("分公司", "办事处"))
        if r["source"] == "sales" and r["party_type"] == "organization":
            short_names[str(r["name"])].add(entity)
    # Group switchboards and family landlines: one number, several customers.
    assert _entities_sharing(corpus, phone_owners) >= 5
    # Namesakes in one city.
    assert _entities_sharing(corpus, person_names) >= 3
    # Brand siblings: one short name, several companies.
    assert _entities_sharing(corpus, short_names) >= 3
    assert branches >= 10
