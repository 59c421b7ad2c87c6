"""The authorization matrix: every role against every operation and sensitive field."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api

ROLES = ("reader", "department:finance", "steward", "credit_officer", "admin")
ALLOWED, DENIED = "allowed", "FORBIDDEN"

# operation → (GraphQL document, roles allowed). Every other role gets FORBIDDEN.
OPERATIONS: dict[str, tuple[str, set[str]]] = {
    "customer": ('{ customer(id: "C1") { id } }', {"reader", "steward", "credit_officer", "admin"}),
    "customers": ("{ customers { totalCount } }", {"reader", "steward", "credit_officer", "admin"}),
    "search": (
        '{ search(text: "李娜") { totalCount } }',
        {"reader", "steward", "credit_officer", "admin"},
    ),
    "changes": ("{ changes { totalCount } }", {"reader", "steward", "credit_officer", "admin"}),
    "own source record": (
        '{ sourceRecord(source: "finance", key: "P-1") { version } }',
        {"reader", "department:finance", "steward", "credit_officer", "admin"},
    ),
    "other source record": (
        '{ sourceRecord(source: "sales", key: "S-1") { version } }',
        {"reader", "steward", "credit_officer", "admin"},
    ),
    "review queue": ("{ reviewQueue { totalCount } }", {"steward", "admin"}),
    "audit log": ("{ auditLog { totalCount } }", {"admin"}),
    "submit own source": (
        'mutation { submitRecords(source: "finance", records: []) { created } }',
        {"department:finance", "admin"},
    ),
    "submit other source": (
        'mutation { submitRecords(source: "sales", records: []) { created } }',
        {"admin"},
    ),
    "retire own source": (
        'mutation { retireRecords(source: "finance", keys: ["nope"]) { notFound } }',
        {"department:finance", "admin"},
    ),
    "merge": (
        'mutation { mergeCustomers(ids: ["C1", "C2"]) { customerId } }',
        {"steward", "admin"},
    ),
    "split": (
        'mutation { splitRecord(source: "finance", sourceKey: "P-1") { customerId } }',
        {"steward", "admin"},
    ),
    "override": (
        'mutation { overrideAttribute(id: "C1", attribute: "gender", value: "female") '
        "{ customerId } }",
        {"steward", "admin"},
    ),
    "credit field": (
        '{ customerBySourceKey(source: "finance", key: "P-1") { credit { rating } } }',
        {"credit_officer", "admin"},
    ),
    "credit requests": ("{ creditRequests { totalCount } }", {"credit_officer", "admin"}),
    "composition by credit rating": (
        "{ composition(by: CREDIT_RATING) { key customers } }",
        {"credit_officer", "admin"},
    ),
    "composition by region": (
        "{ composition(by: REGION) { key customers } }",
        {"reader", "steward", "credit_officer", "admin"},
    ),
    "request credit limit": (
        'mutation { requestCreditLimit(customerId: "C1", limit: "1000", reason: "growth") '
        "{ userErrors { code } } }",
        {"department:finance", "steward", "credit_officer", "admin"},
    ),
    "decide credit request": (
        'mutation { decideCreditRequest(id: "1", verdict: APPROVE, reason: "ok") '
        "{ userErrors { code } } }",
        {"credit_officer", "admin"},
    ),
    "override credit limit": (
        'mutation { overrideCreditLimit(customerId: "C1", limit: "1", '
        'expiresAt: "2099-01-01T00:00:00Z", reason: "x") { userErrors { code } } }',
        {"credit_officer", "admin"},
    ),
    "record interactions for own source": (
        'mutation { recordInteractions(source: "finance", interactions: []) { created } }',
        {"department:finance", "admin"},
    ),
    "record interactions for another source": (
        'mutation { recordInteractions(source: "sales", interactions: []) { created } }',
        {"admin"},
    ),
    "resolve review": (
        'mutation { resolveReview(id: "1", decision: MATCH) { customerId } }',
        {"steward", "admin"},
    ),
}

# Who sees personal identifiers in full; everyone else gets them masked.
PII_ROLES = {"steward", "credit_officer", "admin"}


@pytest.fixture
async def data(api: Api) -> None:
    for source, record in (
        (
            "finance",
            {
                "source_key": "P-1",
                "party_type": "person",
                "name": "李娜",
                "national_id": "310104199007211527",
                "phones": ["13761234567"],
            },
        ),
        ("sales", {"source_key": "S-1", "party_type": "person", "name": "张伟"}),
    ):
        body = await api(
            "mutation($s: String!, $r: [JSON!]!) { submitRecords(source: $s, records: $r) "
            "{ created } }",
            {"s": source, "r": [record]},
        )
        assert body["data"]["submitRecords"]["created"] == 1


def outcome(body: dict[str, Any]) -> str:
    for error in body.get("errors") or []:
        code = error.get("extensions", {}).get("code")
        if code in {"FORBIDDEN", "UNAUTHENTICATED"}:
            return str(code)
    return ALLOWED


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
@pytest.mark.parametrize("role", ROLES)
async def test_role_may_do_exactly_what_the_matrix_says(
    api: Api, data: None, role: str, operation: str
) -> None:
    document, allowed = OPERATIONS[operation]
    expected = ALLOWED if role in allowed else DENIED
    assert outcome(await api(document, role=role)) == expected


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
async def test_without_a_key_everything_is_unauthenticated(
    api: Api, data: None, operation: str
) -> None:
    document, _ = OPERATIONS[operation]
    response = await api.client.post("/graphql", json={"query": document})
    assert outcome(response.json()) == "UNAUTHENTICATED"


@pytest.mark.parametrize("role", sorted(PII_ROLES | {"reader"}))
async def test_personal_identifiers_are_masked_unless_the_role_may_see_them(
    api: Api, data: None, role: str
) -> None:
    body = await api(
        '{ customerBySourceKey(source: "finance", key: "P-1") '
        "{ identifiers { value masked } phones { value masked } } }",
        role=role,
    )
    customer = body["data"]["customerBySourceKey"]
    masked = role not in PII_ROLES
    assert customer["identifiers"][0]["masked"] is masked
    assert customer["phones"][0]["masked"] is masked
    assert ("*" in customer["identifiers"][0]["value"]) is masked
