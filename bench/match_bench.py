"""Our matcher against Splink on the same files, in the same run.

    python -m bench.match_bench --sizes 10k,100k,1m [--febrl]

For each size (a number of records) the corpus is generated once and cached under
``bench/data/``; each system runs in its own subprocess, whose wall time and peak
resident memory (``wait4`` rusage of that child) are measured the same way. Output
files and logs go to ``bench/out/``; the table is printed and saved as JSON.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.corpus import GENERATOR_VERSION, write_corpus
from bench.evaluate import (
    load_clusters,
    load_review_pairs,
    load_truth,
    pairwise_scores,
    review_scores,
)
from bench.febrl import FEBRL_SETS, write_febrl
from bench.report import Figure, record

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
OUT = ROOT / "bench" / "out"
RECORDS_PER_ENTITY = 1.72  # what the generator yields on average
SYSTEMS = ("ours", "splink")


@dataclass(slots=True)
class Row:
    """One system on one data set."""

    dataset: str
    records: int
    system: str
    status: str
    precision: float | None = None
    recall: float | None = None
    f1: float | None = None
    recall_with_review: float | None = None
    review_share: float | None = None
    wall_s: float | None = None
    peak_mb: float | None = None


@dataclass(frozen=True, slots=True)
class Run:
    """A finished subprocess: exit code, wall time and peak RSS."""

    returncode: int
    wall_s: float
    peak_mb: float


def parse_size(text: str) -> int:
    """``10k`` → 10000, ``1m`` → 1000000."""
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    number = text[:-1] if factor > 1 else text
    return int(float(number) * factor)


def corpus_dir(label: str, records: int, seed: int) -> Path:
    """Generate the corpus for ``records`` unless a matching one is cached."""
    entities = max(1, round(records / RECORDS_PER_ENTITY))
    path = DATA / f"corpus-{label}-s{seed}"
    manifest = path / "manifest.json"
    if manifest.exists():
        meta = json.loads(manifest.read_text())
        if (meta.get("generator_version"), meta.get("seed"), meta.get("entities")) == (
            GENERATOR_VERSION,
            seed,
            entities,
        ):
            return path
    print(f"generating {label}: {entities:,} entities → {path}", flush=True)
    write_corpus(path, entities, seed)
    return path


def febrl_dir(name: str) -> Path:
    """Convert one Febrl data set unless cached."""
    path = DATA / "febrl" / name
    if not (path / "truth.csv").exists():
        write_febrl(name, path)
    return path


def measure(command: list[str], log: Path) -> Run:
    """Run ``command`` through the small :mod:`bench.rusage` launcher; read its figures."""
    result = log.with_suffix(".rusage.json")
    launcher = [sys.executable, "-m", "bench.rusage", str(result), "--", *command]
    with log.open("w", encoding="utf-8") as out:
        subprocess.run(launcher, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, check=False)
    if not result.exists():
        return Run(returncode=-1, wall_s=0.0, peak_mb=0.0)
    figures = json.loads(result.read_text())
    return Run(int(figures["returncode"]), float(figures["wall_s"]), float(figures["peak_mb"]))


def hub_command() -> Path | None:
    """Our CLI, when the ``hub match`` command exists in this checkout's venv."""
    hub = Path(sys.executable).with_name("hub")
    if not hub.exists():
        return None
    probe = subprocess.run([str(hub), "match", "--help"], capture_output=True, check=False)
    return hub if probe.returncode == 0 else None


def run_system(system: str, dataset: Path, work: Path, *, threshold: float) -> Row:
    """Run one system on ``dataset/records.jsonl`` and score its output."""
    records = dataset / "records.jsonl"
    out, review = work / f"{system}.jsonl", work / f"{system}-review.jsonl"
    truth = load_truth(dataset / "truth.csv")
    row = Row(dataset=dataset.name, records=len(truth), system=system, status="ok")
    if system == "ours":
        hub = hub_command()
        if hub is None:
            row.status = "not available (no `hub match` command yet)"
            return row
        command = [str(hub), "match", str(records), "--out", str(out), "--review", str(review)]
    else:
        command = [
            sys.executable,
            "-m",
            "bench.splink_baseline",
            str(records),
            "--out",
            str(out),
            "--threshold",
            str(threshold),
        ]
    run = measure(command, work / f"{system}.log")
    row.wall_s, row.peak_mb = round(run.wall_s, 2), round(run.peak_mb, 1)
    if run.returncode != 0:
        row.status = f"failed (exit {run.returncode}, see {work / f'{system}.log'})"
        return row
    predicted = load_clusters(out)
    scores = pairwise_scores(predicted, truth)
    row.precision, row.recall, row.f1 = scores.precision, scores.recall, scores.f1
    if system == "ours" and review.exists():
        reviewed = review_scores(predicted, truth, load_review_pairs(review))
        row.recall_with_review = reviewed.recall_with_review
        row.review_share = reviewed.records_in_review_share
    return row


def _fmt(value: float | None, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def print_table(rows: list[Row]) -> None:
    """The comparison table, with our time as a multiple of Splink's."""
    header = (
        "dataset",
        "records",
        "system",
        "precision",
        "recall",
        "F1",
        "recall+rev",
        "review%",
        "wall s",
        "peak MB",
        "time ours/splink",
        "status",
    )
    lines = [header]
    for row in rows:
        ratio = ""
        if row.system == "ours" and row.wall_s is not None:
            splink = next(
                (
                    r
                    for r in rows
                    if r.dataset == row.dataset
                    and r.system == "splink"
                    and r.wall_s is not None
                    and r.status == "ok"
                ),
                None,
            )
            if splink is not None and splink.wall_s:
                ratio = f"{row.wall_s / splink.wall_s:.2f}"
        review = None if row.review_share is None else 100 * row.review_share
        lines.append(
            (
                row.dataset,
                f"{row.records:,}",
                row.system,
                _fmt(row.precision),
                _fmt(row.recall),
                _fmt(row.f1),
                _fmt(row.recall_with_review),
                _fmt(review, 1),
                _fmt(row.wall_s, 1),
                _fmt(row.peak_mb, 0),
                ratio,
                row.status,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for i, line in enumerate(lines):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)))
        if i == 0:
            print("  ".join("-" * w for w in widths))


def main(argv: list[str] | None = None) -> None:
    """CLI: generate or reuse corpora, run both systems, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k", help="record counts, e.g. 10k,100k,1m")
    parser.add_argument("--febrl", action="store_true", help="also run the Febrl data sets")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--splink-threshold", type=float, default=0.95)
    parser.add_argument(
        "--no-record",
        action="store_true",
        help="print and save the table, but write no row into docs/PERFORMANCE.md",
    )
    args = parser.parse_args(argv)
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = set(systems) - set(SYSTEMS)
    if unknown:
        parser.error(f"unknown systems: {', '.join(sorted(unknown))}")

    datasets: list[Path] = []
    for label in (s.strip().lower() for s in args.sizes.split(",") if s.strip()):
        datasets.append(corpus_dir(label, parse_size(label), args.seed))
    if args.febrl:
        datasets.extend(febrl_dir(name) for name in FEBRL_SETS)

    rows: list[Row] = []
    for dataset in datasets:
        work = OUT / dataset.name
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        # One system at a time: the machine's cores are shared.
        for system in systems:
            print(f"running {system} on {dataset.name} …", flush=True)
            row = run_system(system, dataset, work, threshold=args.splink_threshold)
            rows.append(row)
            print(f"  {row.status}; F1 {_fmt(row.f1)}, {_fmt(row.wall_s, 1)} s", flush=True)
    print()
    print_table(rows)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    OUT.mkdir(parents=True, exist_ok=True)
    result = OUT / f"match-bench-{stamp}.json"
    result.write_text(json.dumps([asdict(r) for r in rows], indent=2))
    print(f"\nsaved {result.relative_to(ROOT)}")
    if args.no_record:
        return
    record(
        performance_rows(rows, " ".join(["python -m bench.match_bench", *(argv or sys.argv[1:])]))
    )


def performance_rows(rows: list[Row], command: str) -> list[Figure]:
    """Figures for docs/PERFORMANCE.md: ours against Splink on each data set."""
    figures: list[Figure] = []
    by_set: dict[str, dict[str, Row]] = {}
    for row in rows:
        by_set.setdefault(row.dataset, {})[row.system] = row
    for dataset, systems in by_set.items():
        ours, peer = systems.get("ours"), systems.get("splink")
        if ours is None or ours.f1 is None:
            continue
        figures.append(
            Figure(
                name=f"matching F1 / P / R, {dataset} ({ours.records:,} records)",
                value=f"{_fmt(ours.f1)} / {_fmt(ours.precision)} / {_fmt(ours.recall)}",
                peer=f"Splink {_fmt(peer.f1)}" if peer and peer.f1 is not None else "",
                target="P ≥ 0.995, F1 ≥ 0.93 (corpus); F1 ≥ 0.99 (Febrl)",
                command=command,
            )
        )
        if ours.recall_with_review is not None:
            figures.append(
                Figure(
                    name=f"matching recall with review / records in review, {dataset}",
                    value=f"{_fmt(ours.recall_with_review)} / {_fmt(ours.review_share, 3)}",
                    target="≥ 0.98 / ≤ 0.10",
                    command=command,
                )
            )
        if ours.wall_s is not None and peer is not None and peer.wall_s:
            figures.append(
                Figure(
                    name=f"matching wall time and peak memory, {dataset}",
                    value=f"{ours.wall_s:.1f} s, {ours.peak_mb or 0:.0f} MB",
                    peer=f"Splink {peer.wall_s:.1f} s, {peer.peak_mb or 0:.0f} MB",
                    ratio=f"{ours.wall_s / peer.wall_s:.2f}",
                    target="ratio ≤ 1.0; < 4 GB at 1M",
                    command=command,
                )
            )
    return figures


if __name__ == "__main__":
    main()
