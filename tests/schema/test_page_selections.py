"""A page of customers reads the JSON it is asked for, and only that: lineage,
the reasons of a classification and a credit rating, and the further fields of
interactions come as the customer's own profile gives them."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api

REASONS = """
  lineage { attribute rule source sourceKey }
  classification { dimension value rule inputs }
  credit { rating inputs }
  interactions(first: 5) { edges { node { type amount attributes } } }
"""
PROFILE = f"query($id: ID!) {{ customer(id: $id) {{ id {REASONS} }} }}"
PAGE = f"{{ customers(first: 10) {{ edges {{ node {{ id {REASONS} }} }} }} }}"
PLAIN_PAGE = """
{ customers(first: 10) { edges { node {
  id classification { dimension value } credit { rating }
  interactions(first: 5) { edges { node { type amount } } }
} } } }
"""


async def customers_with_interactions(api: Api) -> None:
    records = [{"source_key": f"P-{n}", "party_type": "person", "name": f"客户{n}"} for n in (1, 2)]
    body = await api(
        'mutation($r: [JSON!]!) { submitRecords(source: "sales", records: $r) { created } }',
        {"r": records},
    )
    assert body["data"]["submitRecords"]["created"] == 2
    interactions = [
        {
            "interaction_key": f"ORD-{customer}-{month}",
            "customer_key": f"P-{customer}",
            "type": "ORDER",
            "occurred_at": f"2026-0{month}-01T10:00:00+08:00",
            "amount": "1000.00",
            "currency": "CNY",
            "order_note": f"note {customer}-{month}",
        }
        for customer in (1, 2)
        for month in (1, 2, 3)
    ]
    recorded = await api(
        'mutation($i: [JSON!]!) { recordInteractions(source: "sales", interactions: $i) '
        "{ created } }",
        {"i": interactions},
    )
    assert recorded["data"]["recordInteractions"]["created"] == 6


def nodes(body: dict[str, Any]) -> list[dict[str, Any]]:
    assert "errors" not in body, body["errors"]
    return [edge["node"] for edge in body["data"]["customers"]["edges"]]


async def test_a_page_asked_for_lineage_and_reasons_answers_as_each_profile(api: Api) -> None:
    await customers_with_interactions(api)
    listed = nodes(await api(PAGE, role="credit_officer"))
    assert len(listed) == 2
    for node in listed:
        profile = await api(PROFILE, {"id": node["id"]}, role="credit_officer")
        assert node == profile["data"]["customer"]
        assert node["lineage"]
        assert all(entry["rule"] for entry in node["classification"])
        notes = [edge["node"]["attributes"] for edge in node["interactions"]["edges"]]
        assert len(notes) == 3
        assert all(note["order_note"].startswith("note ") for note in notes)


async def test_a_page_not_asked_for_them_answers_the_same_fields_alike(api: Api) -> None:
    await customers_with_interactions(api)
    plain = nodes(await api(PLAIN_PAGE, role="credit_officer"))
    full = nodes(await api(PAGE, role="credit_officer"))
    for node, with_reasons in zip(plain, full, strict=True):
        assert node["classification"] == [
            {"dimension": entry["dimension"], "value": entry["value"]}
            for entry in with_reasons["classification"]
        ]
        assert node["credit"] == {"rating": with_reasons["credit"]["rating"]}
        assert node["interactions"] == {
            "edges": [
                {"node": {"type": edge["node"]["type"], "amount": edge["node"]["amount"]}}
                for edge in with_reasons["interactions"]["edges"]
            ]
        }
