"""What standardization receives of a record's list fields and party type (``parse_record``)."""

from __future__ import annotations

import pytest

from matching.record import PartyType, RecordError, parse_record

BASE = {"source": "web", "source_key": "k", "party_type": "person", "name": "王伟"}


def test_list_items_are_stripped_and_blank_or_repeated_ones_dropped() -> None:
    record = parse_record(
        BASE | {"phones": [" 13800138000 ", "", "   ", "13800138000", 13900139000]}
    )
    assert record.phones == ("13800138000", "13900139000")


def test_a_list_item_with_a_nul_character_is_refused_by_its_position() -> None:
    with pytest.raises(RecordError, match="NUL") as raised:
        parse_record(BASE | {"emails": ["a@example.com", "b@exa\x00mple.com"]})
    assert raised.value.field == "emails[1]"


def test_an_overlong_list_item_is_refused_by_its_position() -> None:
    with pytest.raises(RecordError, match="limit is 2000") as raised:
        parse_record(BASE | {"phones": ["1" * 2_001]})
    assert raised.value.field == "phones[0]"


def test_a_list_item_that_is_not_text_is_refused() -> None:
    with pytest.raises(RecordError, match="must be text, got a number") as raised:
        parse_record(BASE | {"emails": [12]})
    assert raised.value.field == "emails[0]"


def test_a_text_field_that_is_not_text_is_refused() -> None:
    with pytest.raises(RecordError, match="must be text, got a boolean") as raised:
        parse_record(BASE | {"city": True})
    assert raised.value.field == "city"


def test_the_party_type_is_read_in_any_case_and_anything_else_refused() -> None:
    assert parse_record(BASE | {"party_type": " Organization "}).party_type is (
        PartyType.ORGANIZATION
    )
    with pytest.raises(RecordError, match="'company' is not 'organization' or 'person'"):
        parse_record(BASE | {"party_type": "company"})
