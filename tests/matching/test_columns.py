"""Columns laid out from remembered per-record facts are the columns laid out afresh.

:meth:`Columns.from_records` remembers what each record object contributes
whatever the batch (its texts, keys and sets) and works out the rest (codes,
term frequencies, shared switchboards) per call. These tests build columns
with and without that memory, repeatedly and under different frequency
sources, and require every field to be the same.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import pytest

from matching import compare
from matching.compare import (
    PARTIES,
    Columns,
    FrequencySource,
    SetColumn,
    TermFrequencies,
    compare_pairs,
)
from matching.model import default_model
from matching.record import parse_record
from matching.standardize import standardize_record
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
from tests.matching.synthetic import generate


def _standardized(key: str, **fields: object) -> StandardRecord:
    return standardize_record(parse_record({"source": "crm", "source_key": key, **fields}))


def _varied_records() -> list[StandardRecord]:
    """Organizations and persons with every kind of value the columns lay out."""
    made = [
        org(
            "o1",
            org_name("华为", region="北京", branch="上海分公司"),
            uscc="91110000100000000X",
            phone=("+861380000001", "+862150000001", "+862150000001"),
            emails=("sales@huawei.com", "zhangwei85@huawei.com", "zhangwei85@huawei.com"),
            where=address("上海", "浦东新区", "长江路204号翠苑13栋5单元301"),
            name_en=latin_org_name("huawei"),
            identifiers=(("duns", "123456789"), ("duns", "123456789"), ("lei", "5493001")),
        ),
        org("o2", org_name("华为", legal_form="集团有限公司"), phone=("+862150000001",)),
        org("o3", org_name("沃博", "贸易"), phone=("+862150000001", "+861010000002")),
        org("o4", org_name("A栋3D", None), where=address(None, None, "6 tullaroop street, x")),
        person(
            "p1",
            person_name("王伟"),
            national_id="110101199003071234",
            born=date(1990, 3, 7),
            gender="male",
            phone=("+861390000003", "+86105000000"),
            emails=("wangwei@qq.com",),
            where=address("北京", "朝阳区", "新村26幢308室"),
        ),
        person("p2", person_name("王伟"), phone=("+86105000000",)),
        person("p3", latin_person_name("Smith", "John"), born=date(1985, 12, 1)),
        person("p4", latin_person_name("Smith", "Jane")),
        org("o5", org_name("", None, legal_form=None)),
    ]
    typed = [
        _standardized(
            "f1",
            party_type="person",
            name="John Smith",
            address="6 Tullaroop Street, Willaroo",
            city="Melbourne",
            province="Victoria",
            postal_code="VIC 3000",
            contact_name="王小明",
        ),
        _standardized(
            "f2",
            party_type="organization",
            name="深圳市腾讯计算机系统有限公司",
            phones=["0755-86013388", "13800138000"],
            industry="软件和信息技术服务业",
            contact_name="马化腾",
        ),
        _standardized("f3", party_type="organization", name="苏州工业园区沃佳汽车配件厂"),
    ]
    return made + typed + generate(organizations=40, persons=40, seed=3).records


def _assert_same_columns(built: Columns, expected: Columns) -> None:
    for name in (f.name for f in dataclasses.fields(Columns)):
        _assert_same_value(getattr(built, name), getattr(expected, name), name)


def _assert_same_value(built: Any, expected: Any, where: str) -> None:
    if isinstance(expected, np.ndarray):
        assert isinstance(built, np.ndarray), where
        assert built.dtype == expected.dtype, where
        assert built.shape == expected.shape, where
        assert np.array_equal(built, expected), where
    elif isinstance(expected, SetColumn):
        for field in ("offsets", "codes", "tf", "probe"):
            _assert_same_value(getattr(built, field), getattr(expected, field), f"{where}.{field}")
    elif isinstance(expected, tuple):
        assert len(built) == len(expected), where
        for k, (b, e) in enumerate(zip(built, expected, strict=True)):
            _assert_same_value(b, e, f"{where}[{k}]")
    else:
        assert built == expected, where


def _afresh(records: Sequence[StandardRecord], source: FrequencySource | None) -> Columns:
    """Columns worked out from the records alone, nothing remembered."""
    return compare._ColumnBuilder(records, source, memo=None).build()


@pytest.fixture(autouse=True)
def _empty_memo() -> None:
    compare._FACTS.clear()


@pytest.mark.parametrize("source", ["model", "batch"])
def test_remembered_facts_lay_out_the_columns_worked_out_afresh(source: str) -> None:
    records = _varied_records()
    frequencies = default_model().frequencies if source == "model" else None
    expected = _afresh(records, frequencies)
    for _ in range(3):  # cold, then warm twice
        _assert_same_columns(Columns.from_records(records, frequencies), expected)
    assert len(compare._FACTS) == len(records)


def test_a_submission_among_remembered_members_is_laid_out_as_afresh() -> None:
    records = _varied_records()
    frequencies = default_model().frequencies
    Columns.from_records(records[10:], frequencies)  # the members, seen in an earlier batch
    batch = [*records[:10], *reversed(records[10:60])]
    _assert_same_columns(Columns.from_records(batch, frequencies), _afresh(batch, frequencies))


def test_term_frequencies_follow_the_source_of_each_call() -> None:
    records = _varied_records()
    model = default_model().frequencies
    counted = TermFrequencies.from_records(records * 3)
    Columns.from_records(records, model)  # facts remembered under the model's frequencies
    under_counts = Columns.from_records(records, counted)
    _assert_same_columns(under_counts, _afresh(records, counted))
    # The sources disagree, so equal columns are no accident of the memo.
    assert not np.array_equal(under_counts.core_tf, _afresh(records, model).core_tf)
    _assert_same_columns(Columns.from_records(records, None), _afresh(records, None))
    _assert_same_columns(Columns.from_records(records, model), _afresh(records, model))


def test_an_equal_copy_of_a_record_is_laid_out_like_the_record() -> None:
    records = _varied_records()[:12]
    copies = [copy.copy(r) for r in records]
    assert all(c == r and c is not r for c, r in zip(copies, records, strict=True))
    Columns.from_records(records)
    _assert_same_columns(Columns.from_records(copies), _afresh(records, None))
    assert len(compare._FACTS) == 2 * len(records)


def test_comparing_pairs_of_remembered_columns_gives_the_same_levels() -> None:
    records = _varied_records()
    frequencies = default_model().frequencies
    left = np.repeat(np.arange(len(records), dtype=np.int64), 3)[: 3 * len(records) - 3]
    right = (left + np.tile(np.arange(1, 4, dtype=np.int64), len(records))[: len(left)]) % len(
        records
    )
    Columns.from_records(records, frequencies)
    warm = compare_pairs(Columns.from_records(records, frequencies), left, right)
    fresh = compare_pairs(_afresh(records, frequencies), left, right)
    assert warm.levels.tolist() == fresh.levels.tolist()
    assert warm.constraints.tolist() == fresh.constraints.tolist()
    assert warm.name_holders.tolist() == fresh.name_holders.tolist()
    assert {k: v.tolist() for k, v in warm.tf.items()} == {
        k: v.tolist() for k, v in fresh.tf.items()
    }


def test_no_records_lay_out_empty_columns() -> None:
    columns = Columns.from_records([], default_model().frequencies)
    assert len(columns) == 0
    assert columns.core.shape == (0,)
    assert columns.phone_text[0].shape == (0,)
    assert columns.mobiles.offsets.tolist() == [0]


def test_the_memo_forgets_the_oldest_records_beyond_its_capacity() -> None:
    memo = compare._FactsMemo(capacity=8)
    records = _varied_records()[:12]
    memo.facts(records[:4])
    memo.facts(records[4:8])
    assert len(memo) == 8
    memo.facts(records[8:12])
    # Past its capacity, it drops the oldest, and an eighth more to have room.
    assert [id(r) for r, _ in memo.entries.values()] == [id(r) for r in records[5:]]


def test_a_batch_larger_than_half_the_memo_is_not_remembered() -> None:
    memo = compare._FactsMemo(capacity=8)
    records = _varied_records()[:5]
    assert memo.facts(records) == [compare._record_facts(r) for r in records]
    assert len(memo) == 0


def test_a_memo_without_room_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one record"):
        compare._FactsMemo(capacity=0)


def test_bulk_term_frequencies_answer_as_one_value_at_a_time() -> None:
    records = _varied_records()
    for frequencies in (
        TermFrequencies.from_records(records * 3),
        TermFrequencies.from_records(records, min_count=5),
        TermFrequencies(totals={}, counts={}),
    ):
        for party in PARTIES:
            for kind in ("name", "phone", "pinyin"):
                values = [v for r in records for k, v in compare.record_terms(r) if k == kind]
                values.append("nobody holds this")
                assert frequencies.fractions_of(party, kind, values).tolist() == [
                    frequencies.fraction(party, kind, v) for v in values
                ]
                assert frequencies.fractions_of(party, kind, values, rare=True).tolist() == [
                    frequencies.rare_share(party, kind, v) for v in values
                ]
                assert frequencies.holders_of(party, kind, values).tolist() == [
                    frequencies.holders(party, kind, v) for v in values
                ]


def test_a_landline_two_names_share_is_a_switchboard_in_the_columns() -> None:
    records = _varied_records()[:4]  # 华为 twice and 沃博 on +862150000001
    columns = Columns.from_records(records)
    switchboard = columns.switchboards
    assert [int(n) for n in np.diff(switchboard.offsets)] == [1, 1, 1, 0]
    # The shared line is nobody's own number: 沃博's own is its other one.
    assert columns.phone_text[0].tolist() == ["+861380000001", "", "+861010000002", ""]
    assert columns.phone_text[1].tolist() == ["", "", "", ""]


def test_columns_are_laid_out_alike_for_few_records_and_for_many(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    records = _varied_records()
    frequencies = default_model().frequencies
    few = _afresh(records, frequencies)  # lists and one look-up per value
    monkeypatch.setattr(compare, "SMALL_BATCH", 0)
    monkeypatch.setattr(compare, "TF_BULK", 0)
    many = _afresh(records, frequencies)  # arrays and whole columns per look-up
    _assert_same_columns(many, few)
    monkeypatch.setattr(compare, "TF_BULK", len(records) * 10)
    _assert_same_columns(_afresh(records, frequencies), few)


def test_a_records_facts_are_what_its_columns_hold() -> None:
    head_office = _varied_records()[0]
    facts = compare._record_facts(head_office)
    assert facts.branch == "=" + compare.branch_key("上海分公司")
    assert facts.district == "上海|浦东新区"
    assert facts.premises == "上海|翠苑13栋301"
    assert facts.identifiers == ("duns\x1f123456789", "lei\x1f5493001")
    assert facts.identifier_types == ("duns", "lei")
    assert facts.mobiles == ("+861380000001",)
    assert facts.landlines == ("+862150000001",)
    assert facts.phones == ("+861380000001", "+862150000001")
    assert facts.emails == ("sales@huawei.com", "zhangwei85@huawei.com")
    assert facts.mailbox_names == ("zhangwei",)
    assert facts.domains == ("huawei.com",)
    assert (facts.region_city, facts.region_province) == ("北京", "北京")
    assert facts.birth == -1
    assert facts.birth_ymd == -1
