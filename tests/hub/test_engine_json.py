"""JSON columns as the engine decodes them: exact integers of any size, fast otherwise."""

from __future__ import annotations

import json

import pytest

from hub.db.engine import _json_value


@pytest.mark.parametrize(
    "text",
    [
        '{"ledger": 123456789012345678901234567890}',  # beyond 64 bits
        '{"ledger": -9223372036854775809}',  # just below the smallest 64-bit integer
        '[1, {"a": [18446744073709551616]}]',
        '{"name": "北京星河", "ledger": 12345678901234567890}',
    ],
)
def test_integers_beyond_64_bits_are_kept_exact(text: str) -> None:
    assert _json_value(text) == json.loads(text)
    assert all(not isinstance(v, float) for v in _numbers(_json_value(text)))


@pytest.mark.parametrize(
    "text",
    [
        '{"n": 123456789012345678, "x": 1.5, "name": "北京星河智能科技有限公司"}',
        '{"phone": "+8613800138000", "at": "2026-11-24T15:30:57.411302+00:00"}',
        # Unicode digits are no JSON number: text holding them decodes as any other.
        '{"note": "٣٣٣٣٣٣٣٣٣٣٣٣٣٣٣٣٣٣٣٣"}',
        '"a string"',
        "7",
        "[]",
    ],
)
def test_other_values_decode_as_the_standard_decoder_reads_them(text: str) -> None:
    assert _json_value(text) == json.loads(text)


def _numbers(value: object) -> list[object]:
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return [value] if isinstance(value, int | float) and not isinstance(value, bool) else []
