"""One record against an index of many: the library call the hub makes per submission.

    python -m bench.incremental_bench --records 1m [--queries 2000]

Generates (or reuses) the project corpus of ``--records`` records, standardizes
it in worker processes as ``hub match`` does, holds ``--queries`` random records
out and indexes the rest in a :class:`matching.MatchIndex` under their true
customers (the state a hub is in once those records are clustered). Then each
held-out record asks :meth:`MatchIndex.candidates` for its best clusters, one at
a time: the latency of that call (p50/p95/p99), the index build time and the
process's peak memory are printed and written to ``docs/PERFORMANCE.md``
(``--no-record``: printed only). The queries' CPU time is printed beside their
latency: on a shared machine it is the figure that compares two runs.
"""

from __future__ import annotations

import argparse
import random
import resource
import time

from bench.evaluate import load_truth
from bench.match_bench import corpus_dir, parse_size
from bench.report import Figure, record
from hub.collector import collector_paused
from hub.offline import OfflineReport, standardize_files
from matching.incremental import MatchIndex
from matching.model import default_model


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", default="1m", help="corpus size, e.g. 100k or 1m")
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--no-record",
        action="store_true",
        help="print the figures without writing docs/PERFORMANCE.md",
    )
    args = parser.parse_args()
    size = parse_size(args.records)
    data = corpus_dir(args.records, size, args.seed)
    truth = load_truth(data / "truth.csv")
    with collector_paused():
        started = time.perf_counter()
        standardized = standardize_files([data / "records.jsonl"], OfflineReport())
        standardize_s = time.perf_counter() - started
        records = standardized.records
        rng = random.Random(args.seed)
        held = set(rng.sample(range(len(records)), min(args.queries, len(records) // 10)))
        index = MatchIndex(default_model())
        started = time.perf_counter()
        for i, standard in enumerate(records):
            if i not in held:
                index.add(standard, truth[standard.key])
        build_s = time.perf_counter() - started
        indexed = {truth[r.key] for i, r in enumerate(records) if i not in held}
        latencies: list[float] = []
        findable = found = 0
        cpu_started = time.process_time()
        for i in sorted(held):
            started = time.perf_counter()
            candidates = index.candidates(records[i])
            latencies.append(time.perf_counter() - started)
            customer = truth[records[i].key]
            if customer in indexed:  # its customer has other records in the index
                findable += 1
                found += any(c.cluster_id == customer for c in candidates)
        cpu_ms = (time.process_time() - cpu_started) * 1000 / max(len(latencies), 1)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    p50, p95, p99 = (percentile(latencies, q) * 1000 for q in (0.5, 0.95, 0.99))
    print(
        f"{len(index):,} records indexed in {build_s:.1f} s "
        f"(standardized in {standardize_s:.1f} s); "
        f"{len(latencies)} queries: p50 {p50:.2f} ms, p95 {p95:.2f} ms, p99 {p99:.2f} ms, "
        f"CPU {cpu_ms:.2f} ms per query; "
        f"true customer among the candidates for {found / max(findable, 1):.1%} "
        f"of the {findable} whose customer is indexed; "
        f"peak {peak_mb:,.0f} MB"
    )
    if args.no_record:
        return
    record(
        [
            Figure(
                name=f"incremental match (MatchIndex.candidates), {len(index):,} records indexed",
                value=f"p50 {p50:.2f} ms, p95 {p95:.2f} ms, p99 {p99:.2f} ms; "
                f"index {build_s:.0f} s, peak {peak_mb:,.0f} MB",
                target="p95 ≤ 5 ms at 1M",
                command=f"python -m bench.incremental_bench --records {args.records}",
            )
        ]
    )


if __name__ == "__main__":
    main()
