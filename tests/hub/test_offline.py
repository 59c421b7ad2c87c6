"""`hub match`: the whole matching pipeline on files, without a database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.corpus import write_corpus
from hub.errors import Invalid
from hub.offline import match_files

HUB = [sys.executable, "-c", "from hub.cli import main; main()"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    write_corpus(out, 400, seed=3)
    return out / "records.jsonl"


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_one_line_per_record_and_one_per_review_pair(corpus: Path, tmp_path: Path) -> None:
    report = match_files([corpus], tmp_path / "out.jsonl", tmp_path / "review.jsonl", workers=1)
    assignments = _lines(tmp_path / "out.jsonl")
    records = _lines(corpus)
    assert [(a["source"], a["source_key"]) for a in assignments] == [
        (r["source"], r["source_key"]) for r in records
    ]
    assert {a["decision"] for a in assignments} <= {"auto", "review", "distinct"}
    assert report.result is not None
    reviews = _lines(tmp_path / "review.jsonl")
    assert len(reviews) == report.result.stats.review_pairs
    assert all({"left", "right", "score", "explanation"} <= review.keys() for review in reviews)


def test_worker_processes_give_the_same_answer_as_one_process(corpus: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.jsonl"
    # Enough lines for the parallel path (it starts at 20,000).
    with big.open("w", encoding="utf-8") as handle:
        for copy in range(32):
            for record in _lines(corpus):
                handle.write(
                    json.dumps({**record, "source_key": f"{record['source_key']}-{copy}"}) + "\n"
                )
    match_files([big], tmp_path / "one.jsonl", None, workers=1)
    match_files([big], tmp_path / "two.jsonl", None, workers=2)
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "two.jsonl").read_bytes()


def test_bad_lines_are_reported_and_the_rest_matched(corpus: Path, tmp_path: Path) -> None:
    mixed = tmp_path / "mixed.jsonl"
    good = corpus.read_text(encoding="utf-8").splitlines()[:50]
    mixed.write_text(
        "\n".join([*good, "{not json", '{"source": "a", "source_key": "x"}']) + "\n",
        encoding="utf-8",
    )
    report = match_files([mixed], tmp_path / "out.jsonl", None, workers=1)
    assert (report.records, report.rejected) == (50, 2)
    assert any(":51:" in problem for problem in report.problems)
    assert any(":52:" in problem and "party_type" in problem for problem in report.problems)


def test_missing_input_or_output_directory_fails_before_any_work(
    corpus: Path, tmp_path: Path
) -> None:
    with pytest.raises(Invalid, match="no such file"):
        match_files([tmp_path / "absent.jsonl"], tmp_path / "out.jsonl", None)
    with pytest.raises(Invalid, match="does not exist"):
        match_files([corpus], tmp_path / "absent" / "out.jsonl", None)
    with pytest.raises(Invalid, match="does not exist"):
        match_files([corpus], tmp_path / "out.jsonl", tmp_path / "absent" / "review.jsonl")
    assert not (tmp_path / "out.jsonl").exists()


def test_the_command_reports_a_missing_directory_as_an_error(corpus: Path, tmp_path: Path) -> None:
    run = subprocess.run(
        [*HUB, "match", str(corpus), "--out", str(tmp_path / "absent" / "out.jsonl")],
        capture_output=True,
        text=True,
        check=False,
    )
    said = " ".join((run.stdout + run.stderr).split())  # rich wraps long lines
    assert run.returncode == 2
    assert "error:" in said
    assert "does not exist" in said
    assert "Traceback" not in said


def test_the_command_starts_without_the_database_stack(corpus: Path, tmp_path: Path) -> None:
    # `hub match` needs no database: it must not pay for importing one.
    probe = (
        "import sys\n"
        "from hub.cli import app\n"
        "try:\n"
        f"    app(['match', {str(corpus)!r}, '--out', {str(tmp_path / 'out.jsonl')!r}])\n"
        "except SystemExit as done:\n"
        "    assert done.code == 0, done.code\n"
        "stack = ('sqlalchemy', 'asyncpg', 'pydantic_settings')\n"
        "loaded = sorted(m for m in stack if m in sys.modules)\n"
        "print(','.join(loaded) or 'none')\n"
    )
    finished = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert finished.stdout.strip().splitlines()[-1] == "none"
    assert len(_lines(tmp_path / "out.jsonl")) == len(_lines(corpus))
