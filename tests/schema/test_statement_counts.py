"""No N+1: a page of customers with their relations costs a constant number of statements."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.conftest import Api

PAGE = """
query Page($first: Int!) {
  customers(first: $first) {
    totalCount
    edges { node {
      id name region
      phones { value masked }
      sourceRecords { source sourceKey version }
      history { version change }
      lineage { attribute source }
      metrics { revenue12m transactionCount }
      classification { dimension value }
      credit { rating effectiveLimit utilization history { kind } }
      interactions(first: 10) { totalCount edges { node { type amount occurredAt } } }
    } }
  }
}
"""


@contextmanager
def counting(connection: AsyncConnection) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # Savepoints are the test harness's rolled-back transaction, not the API's work.
        if not statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO")):
            statements.append(statement)

    target = connection.sync_connection
    assert target is not None
    event.listen(target, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(target, "before_cursor_execute", record)


async def submit_people(api: Api, count: int, offset: int) -> None:
    records = [
        {
            "source_key": f"P{offset + i}",
            "party_type": "person",
            "name": f"客户{offset + i}",
            "phones": [f"1380013{offset + i:04d}"],
        }
        for i in range(count)
    ]
    body = await api(
        'mutation($r: [JSON!]!) { submitRecords(source: "sales", records: $r) { created } }',
        {"r": records},
    )
    assert body["data"]["submitRecords"]["created"] == count


async def statements_for_page(api: Api, connection: AsyncConnection, first: int) -> int:
    await api.key("credit_officer")  # create the key before counting
    with counting(connection) as statements:
        body = await api(PAGE, {"first": first}, role="credit_officer")
    assert "errors" not in body, body["errors"]
    assert len(body["data"]["customers"]["edges"]) == first
    return len(statements)


async def test_a_page_of_customers_with_relations_costs_a_constant_number_of_statements(
    api: Api, connection: AsyncConnection
) -> None:
    await submit_people(api, 5, 0)
    small = await statements_for_page(api, connection, 5)
    await submit_people(api, 45, 100)
    large = await statements_for_page(api, connection, 50)
    assert small == large
    # authentication, the page with its customers' standing (metrics,
    # classification and credit, read by the listing's statement), its count,
    # source records, histories, credit history, interactions (a page per
    # customer in one statement, and their counts)
    assert large == 8


async def test_the_total_is_counted_only_when_asked_for(
    api: Api, connection: AsyncConnection
) -> None:
    await submit_people(api, 3, 0)
    await api.key("reader")
    with counting(connection) as without_total:
        body = await api("{ customers(first: 2) { edges { node { id } } } }", role="reader")
    assert len(body["data"]["customers"]["edges"]) == 2
    with counting(connection) as with_total:
        body = await api("{ customers(first: 2) { totalCount } }", role="reader")
    assert body["data"]["customers"]["totalCount"] == 3
    assert len(with_total) == len(without_total) + 1


STANDING_FIELDS = "metrics { revenue12m } classification { dimension value } credit { rating }"


async def test_a_profile_reads_its_customer_and_standing_in_one_statement(
    api: Api, connection: AsyncConnection
) -> None:
    await submit_people(api, 1, 0)
    listed = await api("{ customers(first: 1) { edges { node { id } } } }", role="credit_officer")
    customer = listed["data"]["customers"]["edges"][0]["node"]["id"]
    answers = []
    for query in (
        f"query($id: ID!) {{ customer(id: $id) {{ name {STANDING_FIELDS} }} }}",
        # Fragments ask for the same fields.
        "query($id: ID!) { customer(id: $id) { name ...S } } "
        f"fragment S on Customer {{ {STANDING_FIELDS} }}",
        "query($id: ID!) { customer(id: $id) { name "
        f"... on Customer {{ {STANDING_FIELDS} }} }} }}",
    ):
        with counting(connection) as statements:
            body = await api(query, {"id": customer}, role="credit_officer")
        assert "errors" not in body, body["errors"]
        # authentication, then the customer with its metrics, classification and credit
        assert len(statements) == 2
        answers.append(body["data"])
    assert answers[0] == answers[1] == answers[2]
    assert answers[0]["customer"]["classification"]


async def test_a_profile_reads_its_interactions_in_the_same_statement(
    api: Api, connection: AsyncConnection
) -> None:
    await submit_people(api, 1, 0)
    listed = await api("{ customers(first: 1) { edges { node { id } } } }", role="credit_officer")
    customer = listed["data"]["customers"]["edges"][0]["node"]["id"]
    interactions = "interactions(first: 10) { totalCount edges { node { type occurredAt } } }"
    for fields in (f"name {STANDING_FIELDS} {interactions}", f"name {interactions}"):
        with counting(connection) as statements:
            body = await api(
                f"query($id: ID!) {{ customer(id: $id) {{ {fields} }} }}",
                {"id": customer},
                role="credit_officer",
            )
        assert "errors" not in body, body["errors"]
        assert body["data"]["customer"]["interactions"] == {"totalCount": 0, "edges": []}
        # authentication, then the customer with its standing, its page and its count
        assert len(statements) == 2
