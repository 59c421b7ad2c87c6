"""Synthetic interactions for a generated corpus: orders, payments, visits, calls, tickets.

Deterministic by seed. Each department's records get the interactions that
department would record (finance: payments; sales: orders and visits; call
centre: calls and complaints; web: registrations and promotion responses;
logistics: deliveries as orders), written one JSONL file per department.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

START = datetime(2024, 1, 1, tzinfo=UTC)
SPAN_DAYS = 1000


def _when(rng: random.Random) -> datetime:
    return START + timedelta(days=rng.randrange(SPAN_DAYS), minutes=rng.randrange(24 * 60))


def _money(rng: random.Random) -> str:
    return f"{rng.lognormvariate(9, 1.2):.2f}"


def interactions_for(record: dict[str, Any], rng: random.Random) -> Iterator[dict[str, Any]]:
    """The interactions one department record carries."""
    source, key = record["source"], record["source_key"]
    base = {"customer_key": key}

    def item(kind: str, n: int, **extra: Any) -> dict[str, Any]:
        return base | {"interaction_key": f"{kind[:3]}-{key}-{n}", "type": kind} | extra

    count = rng.randrange(0, 12)
    for n in range(count):
        when = _when(rng)
        if source == "finance":
            due = when.date() + timedelta(days=30)
            paid = due + timedelta(days=max(0, int(rng.gauss(3, 10))))
            yield item(
                "PAYMENT",
                n,
                occurred_at=when.isoformat(),
                amount=_money(rng),
                currency="CNY",
                due_date=due.isoformat(),
                paid_date=paid.isoformat(),
            )
        elif source == "sales":
            kind = "ORDER" if rng.random() < 0.6 else "VISIT"
            extra = (
                {"amount": _money(rng), "currency": "CNY"}
                if kind == "ORDER"
                else {"summary": "拜访"}
            )
            yield item(kind, n, occurred_at=when.isoformat(), channel="direct sales", **extra)
        elif source == "callcenter":
            kind = "CALL" if rng.random() < 0.8 else "COMPLAINT"
            yield item(kind, n, occurred_at=when.isoformat(), channel="hotline", summary="来电")
        elif source == "web":
            kind = "WEB_REGISTRATION" if n == 0 else "PROMOTION_RESPONSE"
            yield item(kind, n, occurred_at=when.isoformat(), channel="web")
        else:
            yield item(
                "ORDER",
                n,
                occurred_at=when.isoformat(),
                channel="delivery",
                amount=_money(rng),
                currency="CNY",
            )


def write_interactions(records: Path, out_dir: Path, seed: int = 11) -> dict[str, Path]:
    """Write interactions for every record of ``records``; one file per department."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    handles: dict[str, Any] = {}
    paths: dict[str, Path] = {}
    try:
        with records.open(encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                source = record["source"]
                if source not in handles:
                    paths[source] = out_dir / f"{source}.jsonl"
                    handles[source] = paths[source].open("w", encoding="utf-8")
                for interaction in interactions_for(record, rng):
                    handles[source].write(json.dumps(interaction, ensure_ascii=False) + "\n")
    finally:
        for handle in handles.values():
            handle.close()
    return paths
