"""Workers of ``hub serve --workers N`` keep even shares of the keep-alive connections."""

from __future__ import annotations

import pytest
from starlette.types import Message, Receive, Scope, Send

from hub.workers import ConnectionShares, ShedExcessConnections, over_fair_share


@pytest.mark.parametrize(
    ("held", "worker", "over"),
    [
        ([9, 7], 0, True),
        ([9, 7], 1, False),
        ([8, 8], 0, False),
        ([9, 8], 0, False),  # an odd total: one more is even enough
        ([10, 6, 0], 0, True),
        ([6, 5, 5], 0, False),
        ([1, 0], 0, False),
        ([2, 0], 0, True),
        ([0, 0], 0, False),
    ],
)
def test_a_worker_is_over_its_share_when_it_holds_more_than_the_rounded_up_average(
    held: list[int], worker: int, over: bool
) -> None:
    assert over_fair_share(held, worker) is over


def test_shares_record_this_workers_open_connections_in_its_own_slot() -> None:
    counts = [0, 3]
    shares = ConnectionShares(counts, worker=0, open_connections={"a", "b", "c", "d", "e"})
    assert shares.holding_too_many()
    assert counts == [5, 3]


async def _answered(app: ShedExcessConnections, scope_type: str = "http") -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app({"type": scope_type}, receive, send)
    return sent


async def _ok(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"x", b"1")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def test_a_worker_over_its_share_closes_the_connection_after_answering() -> None:
    shares = ConnectionShares([0, 2], worker=0, open_connections=set(range(6)))
    sent = await _answered(ShedExcessConnections(_ok, shares))
    assert sent[0]["headers"] == [(b"x", b"1"), (b"connection", b"close")]
    assert sent[1] == {"type": "http.response.body", "body": b"ok"}


async def test_a_worker_within_its_share_keeps_the_connection_open() -> None:
    shares = ConnectionShares([0, 4], worker=0, open_connections=set(range(4)))
    sent = await _answered(ShedExcessConnections(_ok, shares))
    assert sent[0]["headers"] == [(b"x", b"1")]


async def test_other_protocols_pass_untouched() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    shares = ConnectionShares([0, 0], worker=0, open_connections=set(range(9)))
    assert await _answered(ShedExcessConnections(app, shares), "websocket") == []
    assert seen == ["websocket"]
    assert shares.counts == [0, 0]
