"""Run a command and write its wall time and peak RSS as JSON (a tiny launcher).

    python -m bench.rusage RESULT.json -- COMMAND ...

Linux carries a process's RSS high-water mark across fork and exec, so a child of a
large process would report at least its parent's size. Measuring from this small
launcher keeps the figure the command's own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Run the command after ``--``; exit with its exit code."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 3 or args[1] != "--":
        print("usage: python -m bench.rusage RESULT.json -- COMMAND ...", file=sys.stderr)
        return 2
    result, command = Path(args[0]), args[2:]
    started = time.perf_counter()
    proc = subprocess.Popen(command)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    # Linux reports ru_maxrss in kilobytes.
    result.write_text(
        json.dumps({"returncode": code, "wall_s": wall, "peak_mb": usage.ru_maxrss / 1024})
    )
    return code


if __name__ == "__main__":
    sys.exit(main())
