"""GraphQL: front ends list open retention alerts, newest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from hub.services.interactions import record_interactions
from hub.services.records import submit_records
from tests.conftest import Api

QUERY = """
query ($first: Int!, $reason: String) {
  retentionAlerts(first: $first, reason: $reason) {
    totalCount
    edges { node { customerId reason rule raisedAt clearedAt inputs } }
  }
}
"""


async def test_a_close_request_is_listed_as_an_open_alert(api: Api, session: AsyncSession) -> None:
    async with session.begin_nested():
        result = await submit_records(
            session,
            "callcenter",
            [{"source_key": "CC-9", "party_type": "person", "name": "李娜"}],
            actor="t",
        )
    golden = result.outcomes[0].golden_id
    asked = datetime.now(UTC) - timedelta(days=2)
    async with session.begin_nested():
        await record_interactions(
            session,
            "callcenter",
            [
                {
                    "interaction_key": "CALL-1",
                    "customer_key": "CC-9",
                    "type": "CALL",
                    "occurred_at": asked.isoformat(),
                    "summary": "申请销户",
                }
            ],
        )

    body = await api(QUERY, {"first": 10}, role="reader")

    assert "errors" not in body, body
    listing = body["data"]["retentionAlerts"]
    assert listing["totalCount"] == 1
    [edge] = listing["edges"]
    assert edge["node"]["customerId"] == f"C{golden}"
    assert edge["node"]["reason"] == "CLOSE_REQUESTED"
    assert edge["node"]["clearedAt"] is None
    assert edge["node"]["inputs"]["close_requested_at"] == asked.isoformat()
    other = await api(QUERY, {"first": 10, "reason": "KEY_DORMANT"}, role="reader")
    assert other["data"]["retentionAlerts"]["totalCount"] == 0
