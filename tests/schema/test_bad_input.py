"""Bad input gets a clear error, stores nothing half, and leaves the hub up."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api

SUBMIT = (
    "mutation($s: String!, $r: [JSON!]!) { submitRecords(source: $s, records: $r) "
    "{ created rejected rejections { index field message } userErrors { code field message } } }"
)
INJECTIONS = [
    "'; DROP TABLE source_record; --",
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "王伟' OR '1'='1",
    "{{7*7}}${7*7}",
]


async def submit(api: Api, records: list[Any], source: str = "web") -> dict[str, Any]:
    body = await api(SUBMIT, {"s": source, "r": records})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["submitRecords"]
    return payload


async def still_up(api: Api) -> None:
    body = await api("{ customers { totalCount } }")
    assert "data" in body
    assert body["data"] is not None


async def test_malformed_json_is_a_400_with_a_reason(api: Api) -> None:
    response = await api.client.post(
        "/graphql",
        content=b'{"query": "{ customers { totalCount } }"',
        headers={
            "content-type": "application/json",
            "Authorization": f"Bearer {await api.key('admin')}",
        },
    )
    assert response.status_code == 400
    assert "JSON" in response.text
    await still_up(api)


async def test_wrong_variable_types_are_named(api: Api) -> None:
    body = await api(SUBMIT, {"s": 42, "r": "not a list"})
    messages = " ".join(e["message"] for e in body["errors"])
    assert "$s" in messages


@pytest.mark.parametrize("text", INJECTIONS)
async def test_injection_strings_are_stored_and_returned_as_plain_text(api: Api, text: str) -> None:
    payload = await submit(api, [{"source_key": text, "party_type": "person", "name": text}])
    assert payload["created"] == 1
    found = await api(
        'query($k: String!) { customerBySourceKey(source: "web", key: $k) { name } }', {"k": text}
    )
    assert found["data"]["customerBySourceKey"]["name"] == text
    searched = await api("query($t: String!) { search(text: $t) { totalCount } }", {"t": text})
    assert "errors" not in searched
    await still_up(api)


async def test_invalid_identifiers_are_kept_raw_flagged_and_never_used_to_match(api: Api) -> None:
    bad_uscc = "91110108MA01C2X370"  # wrong check character
    payload = await submit(
        api,
        [
            {"source_key": "a", "party_type": "organization", "name": "甲公司", "uscc": bad_uscc},
            {"source_key": "b", "party_type": "organization", "name": "乙公司", "uscc": bad_uscc},
        ],
    )
    assert payload["created"] == 2
    record = await api('{ sourceRecord(source: "web", key: "a") { raw flags customerId } }')
    detail = record["data"]["sourceRecord"]
    assert detail["raw"]["uscc"] == bad_uscc
    assert any(f["field"] == "uscc" for f in detail["flags"])
    other = await api('{ sourceRecord(source: "web", key: "b") { customerId } }')
    assert other["data"]["sourceRecord"]["customerId"] != detail["customerId"]


async def test_megabyte_strings_and_wrong_types_reject_only_their_record(api: Api) -> None:
    payload = await submit(
        api,
        [
            {"source_key": "ok", "party_type": "person", "name": "王伟"},
            {"source_key": "huge", "party_type": "person", "name": "长" * 1_000_000},
            {"source_key": "typed", "party_type": "person", "name": ["王", "伟"]},
            {"source_key": "nul", "party_type": "person", "name": "王\u0000伟"},
            {"source_key": "ctl", "party_type": "person", "name": "王\u0007伟\u001b"},
        ],
    )
    assert (payload["created"], payload["rejected"]) == (2, 3)
    reasons = {r["index"]: (r["field"], r["message"]) for r in payload["rejections"]}
    assert reasons[1] == ("name", "is 1000000 characters long; the limit is 2000")
    assert reasons[2] == ("name", "must be text, got a list")
    assert reasons[3] == ("name", "contains a NUL character")


async def test_a_batch_over_the_limit_is_refused_whole(api: Api) -> None:
    records = [{"source_key": f"k{i}", "party_type": "person", "name": "张三"} for i in range(1001)]
    payload = await submit(api, records)
    assert payload["created"] == 0
    assert payload["userErrors"][0]["field"] == "records"
    assert "at most 1000" in payload["userErrors"][0]["message"]
    assert (await api("{ customers { totalCount } }"))["data"]["customers"]["totalCount"] == 0


async def test_deeply_nested_and_huge_queries_are_refused(api: Api) -> None:
    nested = "{ customers { edges { node { " * 10 + "id" + " } } }" * 10
    body = await api(nested)
    assert body["errors"]
    huge = "{ " + " ".join(f"a{i}: customers {{ totalCount }}" for i in range(5000)) + " }"
    response = await api.client.post(
        "/graphql",
        json={"query": huge},
        headers={"Authorization": f"Bearer {await api.key('admin')}"},
    )
    assert response.json()["errors"]
    await still_up(api)
