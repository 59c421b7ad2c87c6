"""Writing measured figures into docs/PERFORMANCE.md, one row per figure.

Each row says what was measured, on which machine and when, the figure, the
peer's figure and the ratio where there is a peer, and the command that
produced it. Running a benchmark again replaces its rows (same figure name);
nothing is ever written that was not measured by that run.
"""

from __future__ import annotations

import os
import platform
import re
import time
from dataclasses import dataclass
from pathlib import Path

PERFORMANCE = Path(__file__).resolve().parent.parent / "docs" / "PERFORMANCE.md"
BEGIN, END = "<!-- figures:begin -->", "<!-- figures:end -->"
HEADER = (
    "| figure | value | peer (same run) | ratio | target | machine | date | command |\n"
    "|---|---|---|---|---|---|---|---|"
)


@dataclass(frozen=True, slots=True)
class Figure:
    name: str
    value: str
    command: str
    peer: str = ""
    ratio: str = ""
    target: str = ""


def machine() -> str:
    """A short description of this machine."""
    cores = os.cpu_count() or 0
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        match = re.search(r"MemTotal:\s+(\d+)", meminfo.read_text())
        if match:
            memory = f", {int(match.group(1)) / 1024**2:.0f} GiB"
    return f"{cores} cores{memory}, {platform.python_implementation()} {platform.python_version()}"


def record(figures: list[Figure]) -> None:
    """Replace (or add) these figures' rows in docs/PERFORMANCE.md."""
    text = PERFORMANCE.read_text(encoding="utf-8") if PERFORMANCE.exists() else ""
    if BEGIN not in text:
        text += f"\n{BEGIN}\n{HEADER}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    table, tail = rest.split(END, 1)
    names = {f.name for f in figures}
    rows = [
        line
        for line in table.strip().splitlines()[2:]
        if line.startswith("|") and line.split("|")[1].strip() not in names
    ]
    today, where = time.strftime("%Y-%m-%d"), machine()
    for f in figures:
        rows.append(
            f"| {f.name} | {f.value} | {f.peer} | {f.ratio} | {f.target} | {where} | {today} "
            f"| `{f.command}` |"
        )
    body = "\n".join([HEADER, *sorted(rows)])
    PERFORMANCE.write_text(f"{head}{BEGIN}\n{body}\n{END}{tail}", encoding="utf-8")
