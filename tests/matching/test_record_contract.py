"""The input contract: any JSON either parses or fails naming the field, never otherwise."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.record import (
    RECORD_FIELDS,
    RecordError,
    SourceRecord,
    parse_record,
    record_to_dict,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def attempt(raw: object, *, position: int) -> SourceRecord | RecordError:
    """The parsed record, or the error that refused it."""
    try:
        return parse_record(raw, position=position)
    except RecordError as error:
        return error


field_names = st.sampled_from([*RECORD_FIELDS, "extra_attribute", "备注"])


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(field_names, json_values, max_size=12))
def test_any_object_parses_or_fails_with_a_record_error_naming_a_field(raw: dict[str, Any]) -> None:
    outcome = attempt(raw, position=0)
    if isinstance(outcome, RecordError):
        assert outcome.message
        assert outcome.field is None or outcome.field.split("[")[0].split(".")[0] in RECORD_FIELDS
    else:
        assert parse_record(record_to_dict(outcome)) == outcome


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_anything_that_is_not_an_object_is_refused_as_a_whole(raw: Any) -> None:
    if isinstance(raw, dict):
        return
    outcome = attempt(raw, position=3)
    assert isinstance(outcome, RecordError), "a non-object was accepted"
    assert outcome.field is None
    assert "record 3" in str(outcome)


@given(
    # NUL is refused by the contract (PostgreSQL text cannot hold it): tested below.
    st.text(min_size=1, max_size=30).filter(lambda t: t.strip() and "\x00" not in t),
    st.sampled_from(["organization", "person", "ORGANIZATION", " Person "]),
)
def test_a_minimal_valid_record_round_trips(name: str, party: str) -> None:
    raw = {"source": "web", "source_key": "k1", "party_type": party, "name": name}
    record = parse_record(raw)
    assert record.name == name.strip()
    assert parse_record(record_to_dict(record)) == record


def test_nul_characters_and_megabyte_strings_are_refused_clearly() -> None:
    base = {"source": "web", "source_key": "k", "party_type": "person"}
    with pytest.raises(RecordError, match="NUL"):
        parse_record(base | {"name": "王\x00伟"})
    with pytest.raises(RecordError, match="limit is 2000") as raised:
        parse_record(base | {"name": "王" * 1_000_000})
    assert raised.value.field == "name"
