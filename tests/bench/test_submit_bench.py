"""How the submission benchmark cuts its records into batches and sends them."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from bench.submit_bench import batch_chunks, fresh_records, run


def test_batches_hold_up_to_100_records_of_one_department_each() -> None:
    records = [{"source": "sales", "source_key": f"S-{i}"} for i in range(250)] + [
        {"source": "finance", "source_key": f"F-{i}"} for i in range(120)
    ]

    chunks = batch_chunks(records, batches=10)

    assert [(source, len(items)) for source, items in chunks] == [
        ("sales", 100),
        ("sales", 100),
        ("sales", 50),
        ("finance", 100),
        ("finance", 20),
    ]
    assert all(item["source"] == source for source, items in chunks for item in items)


def test_no_more_batches_than_asked_for() -> None:
    records = [{"source": "sales", "source_key": f"S-{i}"} for i in range(1000)]
    assert len(batch_chunks(records, batches=3)) == 3


def test_skipped_records_are_not_submitted(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus-20000-seed-99"
    corpus.mkdir()
    lines = [json.dumps({"source": "sales", "source_key": f"S-{i}"}) for i in range(10)]
    (corpus / "records.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    records = fresh_records(tmp_path, 20_000, count=3, skip=4)

    assert [item["source_key"].rsplit("-", 2)[-2:] for item in records] == [
        ["S", "4"],
        ["S", "5"],
        ["S", "6"],
    ]


class _CountingHub(BaseHTTPRequestHandler):
    """A hub that accepts every submission and remembers the source keys it was sent."""

    received: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received.extend(item["source_key"] for item in body["variables"]["r"])
        answer = b'{"data": {}}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads what was received, not a log."""


@pytest.fixture
def counting_hub() -> Iterator[str]:
    _CountingHub.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CountingHub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join()
    server.server_close()


def test_warm_up_batches_are_sent_first_and_counted_in_no_figure(counting_hub: str) -> None:
    measured = [{"source": "sales", "source_key": f"M-{n}"} for n in range(300)]
    warm_up = [{"source": "sales", "source_key": f"W-{n}"} for n in range(200)]
    figures = run(counting_hub, "key", measured, 0, 3, submitters=2, warm_up=warm_up)
    assert figures["batched_records"] == 300
    received = _CountingHub.received
    assert sorted(received[:200]) == sorted(item["source_key"] for item in warm_up)
    assert sorted(received[200:]) == sorted(item["source_key"] for item in measured)
