"""The Splink baseline: what a careful Splink user builds on these files.

Generic cleaning only (NFKC, lower case, digits-only phones, lower-case e-mails; no
Chinese-specific handling), DuckDB backend, blocking on identifiers, phones, e-mails
and names, Jaro-Winkler name levels and exact matches elsewhere, u by random
sampling, m by EM, clustering at a match-probability threshold.

    python -m bench.splink_baseline RECORDS.jsonl --out OUT.jsonl [--threshold 0.95]

Writes one line per record ``{"source", "source_key", "cluster_id", "decision"}``
(the same shape as ``hub match``) and prints a JSON summary with phase timings.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["load_frame", "run_splink"]

_NON_DIGIT = re.compile(r"\D+")
_SPACES = re.compile(r"\s+")
_SEP = "\x1f"  # joins source and source_key into Splink's single unique id


def _text(value: Any) -> str | None:
    """NFKC, trimmed, lower case, single spaces; None when empty."""
    if not isinstance(value, str):
        return None
    cleaned = _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip().lower()
    return cleaned or None


def _code(value: Any) -> str | None:
    """Identifiers: NFKC, no spaces, upper case."""
    if not isinstance(value, str):
        return None
    cleaned = _SPACES.sub("", unicodedata.normalize("NFKC", value)).upper()
    return cleaned or None


def _phones(values: Any) -> list[str]:
    out = []
    for v in values or []:
        digits = _NON_DIGIT.sub("", unicodedata.normalize("NFKC", str(v)))
        if digits and digits not in out:
            out.append(digits)
    return out


def _emails(values: Any) -> list[str]:
    return sorted({e for e in (_text(v) for v in values or []) if e})


def _other_id(values: Any) -> str | None:
    for item in values or []:
        if isinstance(item, dict) and item.get("value"):
            return f"{_text(item.get('type'))}:{_code(item['value'])}"
    return None


def load_frame(path: Path) -> pd.DataFrame:
    """Read contract records (JSONL) into a cleaned frame, one column per attribute."""
    columns: dict[str, list[Any]] = {
        k: []
        for k in (
            "unique_id",
            "name",
            "name_en",
            "uscc",
            "national_id",
            "other_id",
            "phones",
            "phone1",
            "emails",
            "email1",
            "city",
            "address",
            "postal_code",
            "birth_date",
        )
    }
    with path.open(encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            rec = json.loads(line)
            phones, emails = _phones(rec.get("phones")), _emails(rec.get("emails"))
            row = {
                "unique_id": f"{rec['source']}{_SEP}{rec['source_key']}",
                "name": _text(rec.get("name")),
                "name_en": _text(rec.get("name_en")),
                "uscc": _code(rec.get("uscc")),
                "national_id": _code(rec.get("national_id")),
                "other_id": _other_id(rec.get("identifiers")),
                "phones": phones or None,
                "phone1": phones[0] if phones else None,
                "emails": emails or None,
                "email1": emails[0] if emails else None,
                "city": _text(rec.get("city")),
                "address": _text(rec.get("address")),
                "postal_code": _code(rec.get("postal_code")),
                "birth_date": _code(rec.get("birth_date")),
            }
            for key, value in row.items():
                columns[key].append(value)
    return pd.DataFrame(columns)


def _comparisons(frame: pd.DataFrame) -> list[Any]:
    """Comparisons for every attribute the data actually carries."""
    import splink.comparison_library as cl

    candidates: dict[str, Callable[[], Any]] = {
        "name": lambda: cl.NameComparison("name").configure(term_frequency_adjustments=True),
        "name_en": lambda: cl.JaroWinklerAtThresholds("name_en", [0.92, 0.8]),
        "uscc": lambda: cl.ExactMatch("uscc"),
        "national_id": lambda: cl.ExactMatch("national_id"),
        "other_id": lambda: cl.ExactMatch("other_id"),
        "phones": lambda: cl.ArrayIntersectAtSizes("phones", [1]),
        "emails": lambda: cl.ArrayIntersectAtSizes("emails", [1]),
        "city": lambda: cl.ExactMatch("city"),
        "address": lambda: cl.JaroWinklerAtThresholds("address", [0.92, 0.8]),
        "postal_code": lambda: cl.ExactMatch("postal_code"),
        "birth_date": lambda: cl.ExactMatch("birth_date"),
    }
    return [make() for col, make in candidates.items() if frame[col].notna().any()]


def _prediction_rules(frame: pd.DataFrame) -> list[Any]:
    from splink import block_on

    rules: list[Any] = [
        block_on(c) for c in ("uscc", "national_id", "other_id") if frame[c].notna().any()
    ]
    for col in ("phones", "emails"):
        if frame[col].notna().any():
            rules.append(block_on(col, arrays_to_explode=[col]))
    rules.append(block_on("name"))
    # A fuzzy-name rule bounded by place: the usual guard against typos in names.
    rules.append(block_on("substr(name, 1, 4)", "city"))
    if frame["birth_date"].notna().any():
        rules.append(block_on("birth_date", "substr(name, 1, 1)"))
    return rules


def _deterministic_rules(frame: pd.DataFrame) -> list[Any]:
    from splink import block_on

    return [
        block_on(c) for c in ("uscc", "national_id", "other_id", "email1") if frame[c].notna().any()
    ]


def _em_rules(frame: pd.DataFrame) -> list[Any]:
    """Two EM passes whose blocking columns differ, so every comparison is trained."""
    from splink import block_on

    second = next(
        (c for c in ("phone1", "birth_date", "postal_code") if frame[c].notna().any()), "city"
    )
    return [block_on("name"), block_on(second)]


def run_splink(
    frame: pd.DataFrame, *, threshold: float, u_max_pairs: float, seed: int
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Train, predict and cluster; return ``(unique_id, cluster_id)`` rows and timings."""
    from splink import DuckDBAPI, Linker, SettingsCreator

    timings: dict[str, float] = {}
    mark = time.perf_counter()
    db_api = DuckDBAPI()
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=_comparisons(frame),
        blocking_rules_to_generate_predictions=_prediction_rules(frame),
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )
    table = db_api.register(frame, dataset_display_name="records")
    linker = Linker(table, settings, log_level=logging.WARNING)
    deterministic = _deterministic_rules(frame)
    if deterministic:
        linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=seed)
    for rule in _em_rules(frame):
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    timings["train_s"] = time.perf_counter() - mark

    mark = time.perf_counter()
    predictions = linker.inference.predict(threshold_match_probability=min(0.5, threshold))
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold
    )
    result = clusters.as_pandas_dataframe()[["unique_id", "cluster_id"]]
    timings["predict_cluster_s"] = time.perf_counter() - mark
    return result, timings


def write_clusters(result: pd.DataFrame, out: Path) -> int:
    """Write the match output; return the number of records linked to another."""
    sizes = result["cluster_id"].map(result["cluster_id"].value_counts())
    linked = 0
    with out.open("w", encoding="utf-8") as f:
        for uid, cluster, size in zip(
            result["unique_id"], result["cluster_id"], sizes, strict=True
        ):
            source, key = str(uid).split(_SEP, 1)
            decision = "auto" if size > 1 else "new"
            linked += size > 1
            row = {
                "source": source,
                "source_key": key,
                "cluster_id": str(cluster),
                "decision": decision,
            }
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return linked


def main(argv: list[str] | None = None) -> None:
    """CLI: run the baseline on one JSONL file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("records", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--threshold", type=float, default=0.95)
    parser.add_argument("--u-max-pairs", type=float, default=1e7)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    import splink

    started = time.perf_counter()
    frame = load_frame(args.records)
    load_s = time.perf_counter() - started
    result, timings = run_splink(
        frame, threshold=args.threshold, u_max_pairs=args.u_max_pairs, seed=args.seed
    )
    linked = write_clusters(result, args.out)
    summary = {
        "system": "splink",
        "splink_version": splink.__version__,
        "records": len(frame),
        "linked_records": int(linked),
        "load_s": round(load_s, 2),
        **{k: round(v, 2) for k, v in timings.items()},
        "total_s": round(time.perf_counter() - started, 2),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
