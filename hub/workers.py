"""``hub serve --workers N``: N server processes, each listening on its own socket.

uvicorn's own supervisor hands one listening socket to all its workers. When
many keep-alive connections open at once, the worker the kernel wakes first
accepts nearly all of them, and one core serves while the other idles. Here
every worker binds the port with ``SO_REUSEPORT``, so the kernel spreads new
connections over the workers' sockets.

The kernel spreads them at random, though: sixteen keep-alive connections
often land eleven on one worker and five on the other, and that worker then
queues while the other has time to spare, for as long as the connections
live. So the workers also share how many connections each holds, and a
worker holding more than its fair share answers its next request with
``Connection: close``. The client reconnects (as HTTP/1.1 clients do) and the
kernel places the new connection again, until the shares are even.
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
from collections.abc import MutableSequence, Sequence, Sized
from multiprocessing.connection import wait
from types import FrameType
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

WORKER_APP = "hub.workers:balanced_worker_app"


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port) that other workers may bind as well."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def over_fair_share(held: Sequence[int], worker: int) -> bool:
    """Whether ``worker`` holds more connections than its fair share of all ``held``.

    The fair share is the total divided by the workers, rounded up: with an
    odd total one worker holds one more, and that is even enough.
    """
    fair_share = -(-sum(held) // len(held))
    return held[worker] > fair_share


class ConnectionShares:
    """This worker's view of how many connections each worker holds.

    ``counts`` lives in memory all workers share; each writes only its own
    slot, from ``open_connections`` (uvicorn's set of this process's open
    connections), whenever it answers a request.
    """

    def __init__(self, counts: MutableSequence[int], worker: int, open_connections: Sized) -> None:
        self.counts = counts
        self.worker = worker
        self.open_connections = open_connections

    def holding_too_many(self) -> bool:
        """Record this worker's count; whether it holds more than its share."""
        self.counts[self.worker] = len(self.open_connections)
        return over_fair_share(list(self.counts), self.worker)


class ShedExcessConnections:
    """ASGI middleware: a worker over its share closes the connection after this answer."""

    def __init__(self, app: ASGIApp, shares: ConnectionShares) -> None:
        self.app = app
        self.shares = shares

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_closing_if_over_share(message: Message) -> None:
            if message["type"] == "http.response.start" and self.shares.holding_too_many():
                headers = [*message.get("headers", ()), (b"connection", b"close")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_closing_if_over_share)


# Filled in each worker process before uvicorn builds its app.
_THIS_WORKER: dict[str, ConnectionShares] = {}


def balanced_worker_app() -> ASGIApp:
    """The hub's worker app, shedding connections beyond this worker's share."""
    from hub.app import worker_app

    shares = _THIS_WORKER.get("shares")
    if shares is None:
        raise RuntimeError("balanced_worker_app runs in a worker started by run_workers")
    return ShedExcessConnections(worker_app(), shares)


def serve_one(served: dict[str, Any], worker: int, counts: MutableSequence[int]) -> None:
    """One worker: the hub's worker app on a socket of its own."""
    import uvicorn

    config = uvicorn.Config(WORKER_APP, factory=True, **served)
    server = uvicorn.Server(config)
    _THIS_WORKER["shares"] = ConnectionShares(counts, worker, server.server_state.connections)
    sock = listening_socket(served["host"], served["port"])
    server.run(sockets=[sock])


def run_workers(count: int, served: dict[str, Any]) -> int:
    """Start ``count`` workers and wait; the exit status for ``hub serve``.

    SIGINT or SIGTERM stops every worker gracefully (status 0). A worker that
    ends on its own (it could not bind the port, or crashed) stops the others
    and the status is 1, so a supervisor above notices and restarts the hub.
    """
    context = multiprocessing.get_context("spawn")
    counts = context.Array("i", count, lock=False)
    workers = [
        context.Process(target=serve_one, args=(served, index, counts), name=f"hub-worker-{index}")
        for index in range(count)
    ]
    stopping = False

    def stop_all() -> None:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        stop_all()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for worker in workers:
            worker.start()
        wait([worker.sentinel for worker in workers])
        unexpected = not stopping
        stop_all()
        for worker in workers:
            worker.join()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 1 if unexpected else 0
