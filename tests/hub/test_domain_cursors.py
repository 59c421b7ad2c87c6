"""A page's cursors are encoded only when read, and read like a list of them."""

from __future__ import annotations

from hub.domain import Cursors, decode_cursor, encode_cursor


def test_cursors_read_like_the_list_they_stand_for() -> None:
    cursors = Cursors(range(11, 15), encode_cursor)
    expected = [encode_cursor(position) for position in range(11, 15)]
    assert len(cursors) == 4
    assert list(cursors) == expected
    assert cursors[0] == expected[0]
    assert cursors[-1] == expected[-1]
    assert cursors[1:3] == expected[1:3]
    assert cursors == expected
    assert decode_cursor(cursors[-1]) == 14


def test_only_the_cursors_read_are_encoded() -> None:
    encoded: list[int] = []

    def encode(position: int) -> str:
        encoded.append(position)
        return encode_cursor(position)

    cursors = Cursors([5, 6, 7], encode)
    assert encoded == []
    cursors[-1]
    assert encoded == [7]


def test_no_items_no_cursors() -> None:
    cursors = Cursors([], encode_cursor)
    assert not cursors
    assert cursors == []
