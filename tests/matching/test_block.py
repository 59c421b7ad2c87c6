from __future__ import annotations

import random
import subprocess
import sys
from datetime import date
from itertools import combinations

import numpy as np
import pytest

from matching.block import (
    DEFAULT_RULES,
    BlockingRule,
    KeyHashes,
    blocking_key_hashes,
    blocking_keys,
    candidate_pairs,
    key_hash,
)
from matching.types import StandardRecord
from tests.matching.standard_records import (
    address,
    latin_org_name,
    latin_person_name,
    org,
    org_name,
    person,
    person_name,
)


def _pair_keys(records: list[StandardRecord], max_block_size: int = 40) -> set[tuple[str, str]]:
    pairs = candidate_pairs(records, max_block_size=max_block_size)
    return {
        (records[a].source_key, records[b].source_key)
        for a, b in zip(pairs.left.tolist(), pairs.right.tolist(), strict=True)
    }


def test_keys_are_namespaced_by_party_and_rule() -> None:
    record = org(
        "1", org_name("华为", region="北京"), uscc="91110000AAAAAAAAAA", phone=("+8613800138000",)
    )
    keys = blocking_keys(record)
    assert "o:uscc:91110000AAAAAAAAAA" in keys
    assert "o:phone:+8613800138000" in keys
    assert "o:trade:华为" in keys
    assert "o:trade_place:华为|北京" in keys
    assert len(keys) == len(set(keys))


def test_homophone_typos_share_a_pinyin_key() -> None:
    records = [person("a", person_name("张伟")), person("b", person_name("章伟"))]
    assert _pair_keys(records) == {("a", "b")}


def test_english_person_name_meets_chinese_name() -> None:
    records = [person("a", person_name("王伟")), person("b", latin_person_name("Wang", "Wei"))]
    assert _pair_keys(records) == {("a", "b")}


def test_a_common_name_meets_its_own_mobile_typed_with_two_digits_swapped() -> None:
    # 王强 is held by too many records to block on; the mobile, digits in
    # sorted order, is what the two records of one person still share.
    rng = random.Random(7)
    namesakes = [
        person(str(i), person_name("王强"), phone=(f"+86139{rng.randrange(10**8):08d}",))
        for i in range(50)
    ]
    typed = person("typed", person_name("王强"), phone=("+8615158358629",))
    swapped = person("swapped", person_name("王强"), phone=("+8615185358629",))
    pairs = _pair_keys([*namesakes, typed, swapped])
    assert {p for p in pairs if {"typed", "swapped"} & set(p)} == {("typed", "swapped")}
    without_slip = [rule for rule in DEFAULT_RULES if rule.name != "phone_slip"]
    records = [*namesakes, typed, swapped]
    pairs = candidate_pairs(records, without_slip)
    assert 51 not in pairs.right.tolist()


def test_persons_and_organizations_never_pair() -> None:
    records = [
        person("a", person_name("王伟"), phone=("+8613800138000",)),
        org("b", org_name("王伟"), phone=("+8613800138000",)),
    ]
    assert _pair_keys(records) == set()


def test_frequent_key_yields_no_pairs_by_itself() -> None:
    switchboard = "+861088888888"
    records = [
        org(
            str(i),
            org_name(f"公司{i:03d}", "贸易"),
            phone=(switchboard,),
            where=address("北京", detail=f"路{i}号"),
        )
        for i in range(10)
    ]
    assert _pair_keys(records, max_block_size=5) == set()
    assert len(_pair_keys(records, max_block_size=10)) == 45


def test_members_of_a_frequent_key_still_meet_on_a_second_key() -> None:
    switchboard = "+861088888888"
    records = [
        org(str(i), org_name(f"公司{i:03d}", "贸易"), phone=(switchboard,)) for i in range(10)
    ]
    records.append(org("twin", org_name("公司003", "贸易"), phone=(switchboard,)))
    assert _pair_keys(records, max_block_size=5) == {("3", "twin")}


def test_a_sound_too_common_to_block_on_still_meets_its_industry_in_english() -> None:
    # Companies of other trades whose names sound alike (jiashun), more than a block holds.
    trades = (("佳顺", "物流"), ("家顺", "技术"), ("加顺", "汽车配件"))
    same_sound = [org(f"s{k}", org_name(name, term)) for k, (name, term) in enumerate(trades)]
    chinese = org("a", org_name("嘉顺", "贸易", legal_form=None), phone=("+8615906693436",))
    english = org("b", latin_org_name("jiashun", "trading"))
    keys = blocking_keys(english)
    assert "o:trade_industry:jiashun|trading" in keys
    assert _pair_keys([*same_sound, chinese, english], max_block_size=3) == {("a", "b")}


def test_a_common_person_name_in_a_large_city_meets_in_its_district() -> None:
    # More namesakes in the city than a block holds.
    namesakes = [
        person(f"n{k}", person_name("王伟"), phone=(f"+86138000000{k:02d}",), where=address("上海"))
        for k in range(4)
    ]
    pudong = address("上海", "浦东新区")
    records = [
        *namesakes,
        person("a", person_name("王伟"), phone=("+8613911112222",), where=pudong),
        person("b", person_name("汪伟"), phone=("+8613933334444",), where=pudong),
        person("c", person_name("王伟"), where=address("上海", "徐汇区")),
    ]
    assert "p:name_district:wang wei|上海|浦东新区" in blocking_keys(records[4])
    assert _pair_keys(records, max_block_size=3) == {("a", "b")}


def test_pairs_are_unique_ordered_and_sorted() -> None:
    records = [
        org(str(i), org_name("华为"), phone=("+8613800138000",), uscc="91X") for i in range(4)
    ]
    pairs = candidate_pairs(records)
    assert np.all(pairs.left < pairs.right)
    codes = pairs.left * len(records) + pairs.right
    assert np.all(np.diff(codes) > 0)
    assert len(pairs) == 6


def test_blocking_rule_needs_a_plain_name() -> None:
    with pytest.raises(ValueError, match="name"):
        BlockingRule("a:b", lambda r: ())
    with pytest.raises(ValueError, match="max_block_size"):
        candidate_pairs([], max_block_size=1)


def _naive_pairs(records: list[StandardRecord], cap: int) -> set[tuple[int, int]]:
    holders: dict[str, list[int]] = {}
    for i, record in enumerate(records):
        for key in blocking_keys(record):
            holders.setdefault(key, []).append(i)
    out: set[tuple[int, int]] = set()
    for members in holders.values():
        if len(members) <= cap:
            out.update(combinations(sorted(members), 2))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pairs_match_a_naive_reference_on_random_inputs(seed: int) -> None:
    rng = random.Random(seed)
    records: list[StandardRecord] = []
    for i in range(300):
        phone = (f"+86138{rng.randrange(60):08d}",)
        if rng.random() < 0.5:
            records.append(
                org(
                    f"o{i}",
                    org_name(rng.choice("甲乙丙丁戊") + rng.choice("天地人"), "贸易"),
                    phone=phone,
                )
            )
        else:
            born = date(1980, 1, rng.randint(1, 3))
            records.append(
                person(
                    f"p{i}",
                    person_name(rng.choice("王李") + rng.choice("伟芳静")),
                    born=born,
                    phone=phone,
                )
            )
    cap = rng.choice([3, 8, 40])
    pairs = candidate_pairs(records, max_block_size=cap)
    got = set(zip(pairs.left.tolist(), pairs.right.tolist(), strict=True))
    assert got == _naive_pairs(records, cap)


def test_key_hashes_are_the_same_in_every_process() -> None:
    code = "from matching.block import key_hash; print(key_hash('o:name:华为'))"
    runs = {
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    }
    assert runs == {str(key_hash("o:name:华为"))}


def test_precomputed_key_hashes_give_the_same_pairs() -> None:
    records = [
        org("a", org_name("华为")),
        org("b", org_name("华为", legal_form=None)),
        org("c", org_name("中兴", "通讯")),
    ]
    hashes = KeyHashes.of([blocking_key_hashes(record) for record in records])
    given = candidate_pairs(records, hashes=hashes)
    computed = candidate_pairs(records)
    assert given.left.tolist() == computed.left.tolist() == [0]
    assert given.right.tolist() == computed.right.tolist() == [1]


def test_key_hash_lists_must_match_the_records() -> None:
    records = [org("a", org_name("华为"))]
    with pytest.raises(ValueError, match="0 key hash lists for 1 records"):
        candidate_pairs(records, hashes=KeyHashes.of([]))


def test_packed_key_hashes_take_rows_in_any_order() -> None:
    hashes = KeyHashes.of([(1, 2), (), (3,), (4, 5, 6)])
    taken = hashes.take(np.asarray([3, 0, 2], dtype=np.int64))
    assert taken.counts.tolist() == [3, 2, 1]
    assert taken.values.tolist() == [4, 5, 6, 1, 2, 3]
    assert taken.owners().tolist() == [0, 0, 0, 1, 1, 2]
    both = KeyHashes.concat([hashes, taken])
    assert (len(both), both.values.tolist()[-3:]) == (7, [1, 2, 3])


def test_a_landline_area_code_places_a_record_without_a_city() -> None:
    # 刘斌 is held by more records than a block takes: only the name with a
    # place brings the call-centre record (a 0512 landline) to the Suzhou one.
    crowd = [
        person(f"x{k}", person_name("刘斌"), where=address("上海"), phone=(f"+86139{k:08d}",))
        for k in range(45)
    ]
    call = person("call", person_name("刘斌"), phone=("+8651265876318",))
    suzhou = person("web", person_name("刘斌"), where=address("苏州"), phone=("+8613912345678",))
    assert ("call", "web") in _pair_keys([call, suzhou, *crowd])
    assert "p:trade_place:刘斌|苏州" in blocking_keys(call)


def test_an_area_code_of_several_cities_places_a_record_in_each() -> None:
    # 0731 serves 长沙, 湘潭 and 株洲: a short name many companies hold still
    # meets the Changsha record through the call centre's landline.
    crowd = [
        org(f"x{k}", org_name("顺发", "物流"), where=address("北京"), phone=(f"+86139{k:08d}",))
        for k in range(45)
    ]
    call = org("call", org_name("顺发", None, legal_form=None), phone=("+8673185551234",))
    changsha = org("fin", org_name("顺发", "物流"), where=address("长沙"))
    assert ("call", "fin") in _pair_keys([call, changsha, *crowd])
    keys = blocking_keys(call)
    assert {"o:trade_place:顺发|长沙", "o:trade_place:顺发|湘潭", "o:trade_place:顺发|株洲"} <= set(
        keys
    )
    # A stated city is where the record is, whatever its landline says.
    placed = org("call", org_name("顺发", None), phone=("+8673185551234",), where=address("湘潭"))
    assert not any(key.endswith("|长沙") for key in blocking_keys(placed))
