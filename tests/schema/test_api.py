"""The GraphQL API as departments, front ends and stewards use it."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api

SUBMIT = """
mutation Submit($source: String!, $records: [JSON!]!) {
  submitRecords(source: $source, records: $records) {
    created updated unchanged rejected
    results { index sourceKey status customerId decision }
    rejections { index sourceKey field message }
    userErrors { field message code }
  }
}
"""

PROFILE = """
query Profile($id: ID!) {
  customer(id: $id) {
    id requestedId name nameEn region version
    identifiers { type value masked }
    phones { value masked }
    emails { value masked }
    addresses { address province city district region }
    lineage { attribute rule source sourceKey }
    sourceRecords { source sourceKey }
    history { version change sourceRecordCount }
  }
}
"""

PERSON: dict[str, Any] = {
    "source_key": "P-1",
    "party_type": "person",
    "name": "李娜",
    "national_id": "310104199007211527",
    "phones": ["13761234567"],
    "emails": ["li.na@example.cn"],
    "address": "上海市徐汇区漕溪北路88号",
}


async def submit(api: Api, source: str, *records: Any, role: str = "admin") -> dict[str, Any]:
    body = await api(SUBMIT, {"source": source, "records": list(records)}, role=role)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["submitRecords"]
    return payload


async def test_a_department_submits_and_gets_per_record_results(api: Api) -> None:
    payload = await submit(
        api,
        "finance",
        PERSON,
        {"source_key": "P-2", "party_type": "person"},
        role="department:finance",
    )
    assert (payload["created"], payload["rejected"]) == (1, 1)
    assert payload["results"][0]["customerId"].startswith("C")
    assert payload["rejections"] == [
        {"index": 1, "sourceKey": "P-2", "field": "name", "message": "is required"}
    ]
    assert payload["userErrors"] == []


async def test_a_department_may_not_submit_for_another(api: Api) -> None:
    body = await api(SUBMIT, {"source": "sales", "records": [PERSON]}, role="department:finance")
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_reader_may_not_submit(api: Api) -> None:
    body = await api(SUBMIT, {"source": "sales", "records": [PERSON]}, role="reader")
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_bad_source_code_is_a_user_error(api: Api) -> None:
    payload = await submit(api, "Sales Dept", PERSON)
    assert payload["userErrors"][0]["field"] == "source"
    assert payload["userErrors"][0]["code"] == "INVALID"
    assert payload["created"] == 0


async def test_a_reader_sees_personal_identifiers_masked(api: Api) -> None:
    customer_id = (await submit(api, "finance", PERSON))["results"][0]["customerId"]
    body = await api(PROFILE, {"id": customer_id}, role="reader")
    customer = body["data"]["customer"]
    assert customer["identifiers"] == [
        {"type": "national_id", "value": "3101**********1527", "masked": True}
    ]
    assert customer["phones"] == [{"value": "+86137****4567", "masked": True}]
    assert customer["emails"] == [{"value": "l***@example.cn", "masked": True}]


async def test_a_steward_sees_personal_identifiers_in_full(api: Api) -> None:
    customer_id = (await submit(api, "finance", PERSON))["results"][0]["customerId"]
    body = await api(PROFILE, {"id": customer_id}, role="steward")
    customer = body["data"]["customer"]
    assert customer["identifiers"][0] == {
        "type": "national_id",
        "value": "310104199007211527",
        "masked": False,
    }
    assert customer["phones"] == [{"value": "+8613761234567", "masked": False}]


async def test_the_profile_carries_lineage_addresses_and_history(api: Api) -> None:
    customer_id = (await submit(api, "finance", PERSON))["results"][0]["customerId"]
    customer = (await api(PROFILE, {"id": customer_id}))["data"]["customer"]
    assert customer["region"] == "华东"
    assert customer["addresses"][0]["district"] == "徐汇区"
    name_lineage = next(entry for entry in customer["lineage"] if entry["attribute"] == "name")
    assert name_lineage == {
        "attribute": "name",
        "rule": "source_priority",
        "source": "finance",
        "sourceKey": "P-1",
    }
    assert customer["history"] == [{"version": 1, "change": "created", "sourceRecordCount": 1}]


async def test_a_search_hit_carries_its_lineage_when_asked(api: Api) -> None:
    await submit(api, "finance", PERSON)
    query = """
    query($text: String!) {
      search(text: $text, first: 1) {
        edges { node { customer { name lineage { attribute source sourceKey } } } }
      }
    }
    """
    found = (await api(query, {"text": "李娜"}))["data"]["search"]["edges"][0]["node"]
    assert found["customer"]["name"] == "李娜"
    assert {"attribute": "name", "source": "finance", "sourceKey": "P-1"} in found["customer"][
        "lineage"
    ]


async def test_customer_by_source_key_finds_the_golden_record(api: Api) -> None:
    customer_id = (await submit(api, "finance", PERSON))["results"][0]["customerId"]
    body = await api(
        '{ customerBySourceKey(source: "finance", key: "P-1") { id name } }', role="reader"
    )
    assert body["data"]["customerBySourceKey"] == {"id": customer_id, "name": "李娜"}


async def test_a_merged_away_id_resolves_to_the_survivor(api: Api) -> None:
    first = (await submit(api, "finance", PERSON))["results"][0]["customerId"]
    other = PERSON | {"source_key": "X-9", "name": "李明", "national_id": None, "phones": []}
    second = (await submit(api, "sales", other))["results"][0]["customerId"]
    merge = await api(
        'mutation($ids: [ID!]!) { mergeCustomers(ids: $ids, note: "same person") '
        "{ customerId userErrors { code message } } }",
        {"ids": [second, first]},
        role="steward",
    )
    assert merge["data"]["mergeCustomers"] == {"customerId": first, "userErrors": []}
    followed = (await api(PROFILE, {"id": second}))["data"]["customer"]
    assert (followed["id"], followed["requestedId"]) == (first, second)


async def test_steward_mutations_are_forbidden_to_readers(api: Api) -> None:
    body = await api(
        'mutation { overrideAttribute(id: "C1", attribute: "name", value: "x") { customerId } }',
        role="reader",
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_stale_expected_version_is_a_conflict_user_error(api: Api) -> None:
    customer_id = (await submit(api, "finance", PERSON))["results"][0]["customerId"]
    query = (
        'mutation($id: ID!, $v: Int) { overrideAttribute(id: $id, attribute: "gender", '
        'value: "female", expectedVersion: $v) { customerId userErrors { code field } } }'
    )
    ok = await api(query, {"id": customer_id, "v": 1}, role="steward")
    assert ok["data"]["overrideAttribute"]["userErrors"] == []
    stale = await api(query, {"id": customer_id, "v": 1}, role="steward")
    assert stale["data"]["overrideAttribute"]["userErrors"] == [
        {"code": "CONFLICT", "field": "expectedVersion"}
    ]


async def test_changes_are_listed_in_order_after_a_cursor(api: Api) -> None:
    await submit(api, "finance", PERSON)
    await submit(api, "finance", {"source_key": "P-3", "party_type": "person", "name": "王芳"})
    query = (
        "query($after: String) { changes(after: $after, first: 1) { totalCount "
        "edges { cursor node { kind customerIds } } pageInfo { hasNextPage endCursor } } }"
    )
    first_page = (await api(query, {"after": None}, role="reader"))["data"]["changes"]
    assert first_page["totalCount"] == 2
    assert first_page["pageInfo"]["hasNextPage"] is True
    second_page = (await api(query, {"after": first_page["pageInfo"]["endCursor"]}, role="reader"))[
        "data"
    ]["changes"]
    assert second_page["edges"][0]["node"]["kind"] == "created"
    assert second_page["pageInfo"]["hasNextPage"] is False


async def test_the_audit_log_is_for_admins_and_records_mutations(api: Api) -> None:
    customer_id = (await submit(api, "finance", PERSON))["results"][0]["customerId"]
    await api(
        'mutation($id: ID!) { overrideAttribute(id: $id, attribute: "gender", value: "female") '
        "{ customerId } }",
        {"id": customer_id},
        role="steward",
    )
    denied = await api("{ auditLog { totalCount } }", role="steward")
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    log = (await api("{ auditLog { edges { node { action actor targetId } } } }"))["data"]
    assert log["auditLog"]["edges"][0]["node"] == {
        "action": "overrideAttribute",
        "actor": "test steward (steward)",
        "targetId": customer_id,
    }


async def test_page_size_over_the_limit_is_refused(api: Api) -> None:
    body = await api("{ customers(first: 500) { totalCount } }", role="reader")
    assert body["errors"][0]["extensions"] == {"code": "INVALID", "field": "first"}
    assert "at most 200" in body["errors"][0]["message"]


async def test_admins_may_export_pages_of_a_thousand(api: Api) -> None:
    body = await api("{ customers(first: 1000) { totalCount } }", role="admin")
    assert body["data"]["customers"]["totalCount"] == 0
    over = await api("{ customers(first: 1001) { totalCount } }", role="admin")
    assert "at most 1000" in over["errors"][0]["message"]


async def test_survivorship_rules_are_readable(api: Api) -> None:
    body = await api("{ survivorshipRules { version rules } }", role="reader")
    rules = body["data"]["survivorshipRules"]
    assert rules["rules"]["attributes"]["name"]["rule"] == "source_priority"
    assert rules["rules"]["attributes"]["name"]["priority"][0] == "finance"


async def test_customers_filter_by_party_type_and_region_and_order_by_name(api: Api) -> None:
    await submit(api, "finance", PERSON)
    await submit(
        api,
        "finance",
        {
            "source_key": "O-1",
            "party_type": "organization",
            "name": "杭州绿源物流有限公司",
            "address": "浙江省杭州市西湖区文三路90号",
        },
        {
            "source_key": "O-2",
            "party_type": "organization",
            "name": "北京星河智能科技有限公司",
            "address": "北京市海淀区中关村大街27号",
        },
    )
    query = (
        "query($f: CustomerFilter, $o: CustomerOrder!) { customers(filter: $f, orderBy: $o) "
        "{ totalCount edges { node { name } } } }"
    )
    organizations = (await api(query, {"f": {"partyType": "ORGANIZATION"}, "o": "NAME"}))["data"]
    assert [e["node"]["name"] for e in organizations["customers"]["edges"]] == sorted(
        ["杭州绿源物流有限公司", "北京星河智能科技有限公司"]
    )
    east = (await api(query, {"f": {"region": "华东"}, "o": "ID"}))["data"]["customers"]
    assert east["totalCount"] == 2
    by_source = (await api(query, {"f": {"source": "sales"}, "o": "ID"}))["data"]["customers"]
    assert by_source["totalCount"] == 0


STANDING = """
query Standing($id: ID!) {
  customer(id: $id) {
    id
    metrics { transactionCount transactionAmount }
    classification { dimension value }
    credit { rating effectiveLimit }
  }
}
"""


async def test_a_merged_away_id_shows_the_survivors_metrics_classification_and_credit(
    api: Api,
) -> None:
    first = (await submit(api, "finance", PERSON))["results"][0]["customerId"]
    other = PERSON | {"source_key": "X-9", "name": "李明", "national_id": None, "phones": []}
    second = (await submit(api, "sales", other))["results"][0]["customerId"]
    recorded = await api(
        'mutation($i: [JSON!]!) { recordInteractions(source: "finance", interactions: $i) '
        "{ created } }",
        {
            "i": [
                {
                    "interaction_key": f"ORD-{n}",
                    "customer_key": "P-1",
                    "type": "ORDER",
                    "occurred_at": f"2026-0{n}-01T10:00:00+08:00",
                    "amount": "1000.00",
                    "currency": "CNY",
                }
                for n in (1, 2, 3)
            ]
        },
    )
    assert recorded["data"]["recordInteractions"]["created"] == 3
    await api(
        'mutation($ids: [ID!]!) { mergeCustomers(ids: $ids, note: "same person") { customerId } }',
        {"ids": [second, first]},
        role="steward",
    )
    survivor = (await api(STANDING, {"id": first}))["data"]["customer"]
    followed = (await api(STANDING, {"id": second}))["data"]["customer"]
    assert survivor["metrics"] == {"transactionCount": 3, "transactionAmount": "3000.00"}
    assert survivor["classification"]
    assert followed == survivor


async def test_interactions_read_along_with_a_page_equal_those_the_field_reads(api: Api) -> None:
    await submit(api, "finance", PERSON, PERSON | {"source_key": "P-2", "name": "王芳"})
    await api(
        'mutation($i: [JSON!]!) { recordInteractions(source: "finance", interactions: $i) '
        "{ created } }",
        {
            "i": [
                {
                    "interaction_key": f"I-{key}-{n}",
                    "customer_key": key,
                    "type": kind,
                    "occurred_at": f"2026-0{n}-01T10:00:00+08:00",
                    "amount": "10.00",
                    "currency": "CNY",
                }
                for key in ("P-1", "P-2")
                for n, kind in ((1, "ORDER"), (2, "PAYMENT"), (3, "ORDER"))
            ]
        },
    )
    fields = "totalCount edges { cursor node { type occurredAt amount } }"

    async def page(interactions: str) -> Any:
        declared = "($n: Int!)" if "$n" in interactions else ""
        body = await api(
            f"query{declared} {{ customers(first: 5) {{ edges {{ node {{ id "
            f"{interactions} {{ {fields} }} }} }} }} }}",
            {"n": 2} if declared else {},
        )
        assert "errors" not in body, body["errors"]
        return body["data"]["customers"]["edges"]

    # Read along with the page (a plain first), then by the field (other arguments).
    along = await page("interactions(first: 2)")
    assert along == await page("interactions(first: $n)")
    assert along == await page("interactions(first: 2, after: null)")
    assert [edge["node"]["interactions"]["totalCount"] for edge in along] == [3, 3]
    assert along[0]["node"]["interactions"]["edges"][0]["node"]["type"] == "ORDER"
    # Two different pages of the same customers: each gets its own.
    both = await page("a: interactions(first: 1) { totalCount } interactions(first: 2)")
    assert [edge["node"]["a"]["totalCount"] for edge in both] == [3, 3]
