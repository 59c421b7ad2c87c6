"""``hub serve --workers N``: N server processes, each listening on its own socket.

uvicorn's own supervisor hands one listening socket to all its workers. When
many keep-alive connections open at once, the worker the kernel wakes first
accepts nearly all of them, and one core serves while the other idles. Here
every worker binds the port with ``SO_REUSEPORT``, so the kernel spreads new
connections over the workers' sockets.
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
from multiprocessing.connection import wait
from types import FrameType
from typing import Any

WORKER_APP = "hub.app:worker_app"


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


def serve_one(served: dict[str, Any]) -> None:
    """One worker: the hub's worker app on a socket of its own."""
    import uvicorn

    config = uvicorn.Config(WORKER_APP, factory=True, **served)
    sock = listening_socket(served["host"], served["port"])
    uvicorn.Server(config).run(sockets=[sock])


def run_workers(count: int, served: dict[str, Any]) -> int:
    """Start ``count`` workers and wait; the exit status for ``hub serve``.

    SIGINT or SIGTERM stops every worker gracefully (status 0). A worker that
    ends on its own (it could not bind the port, or crashed) stops the others
    and the status is 1, so a supervisor above notices and restarts the hub.
    """
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=serve_one, args=(served,), name=f"hub-worker-{index}")
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
