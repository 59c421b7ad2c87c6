"""The load bench counts the CPU of the hub's worker processes once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]

# A process of its own: the fork server is then its child, and a fresh one.
_SCRIPT = """
import json, multiprocessing, resource, time
from concurrent.futures import ProcessPoolExecutor
from bench.hub_load_bench import ForkServerMeter

if __name__ == "__main__":
    context = multiprocessing.get_context("forkserver")
    with ForkServerMeter() as meter:
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            before = pool.submit(time.process_time).result()
            pool.submit(sum, range(40_000_000)).result()
            spent = pool.submit(time.process_time).result() - before
        time.sleep(1.0)  # the server reaps its worker; the meter polls again
    print(json.dumps({"spent": spent, "counted": meter.seconds}))
"""


def test_fork_server_workers_are_counted_once_through_their_server() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT], cwd=ROOT, capture_output=True, text=True, check=True
    )
    figures = json.loads(result.stdout)

    # The worker's work is counted (with its start and the server's own), not twice.
    assert figures["spent"] > 0.2
    assert figures["spent"] <= figures["counted"] < 2 * figures["spent"]
