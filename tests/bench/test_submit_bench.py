"""How the submission benchmark cuts its records into batches."""

from __future__ import annotations

import json
from pathlib import Path

from bench.submit_bench import batch_chunks, fresh_records


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
