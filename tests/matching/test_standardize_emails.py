"""E-mails: trimmed, lower-cased, shape checked."""

from __future__ import annotations

import pytest

from matching.standardize import standardize_email


@pytest.mark.parametrize(
    "text",
    [
        " Foo.Bar@Example.COM ",
        "foo.bar＠example．com",
        "foo.bar@example。com",
        "mailto:foo.bar@example.com",
    ],
)
def test_email_is_trimmed_and_lower_cased(text: str) -> None:
    result = standardize_email(text)
    assert result.value == "foo.bar@example.com"
    assert result.flags == ()


@pytest.mark.parametrize(
    "text",
    [
        "foo@bar",
        "foo.example.com",
        "foo@@example.com",
        "foo bar@example.com",
        "a..b@example.com",
        "",
    ],
)
def test_invalid_email_is_flagged_without_value(text: str) -> None:
    result = standardize_email(text)
    assert result.value is None
    assert len(result.flags) == 1
    assert result.flags[0].field == "emails"
