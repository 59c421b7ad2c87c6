"""How the submission benchmark cuts its records into batches."""

from __future__ import annotations

from bench.submit_bench import batch_chunks


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
