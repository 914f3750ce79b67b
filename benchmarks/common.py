"""Timing and memory helpers shared by the benchmarks: ratios measured in one run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def best_of(function: Callable[[], object], repeats: int = 3) -> float:
    """The fastest of ``repeats`` runs, in seconds (the least disturbed by other load)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def interleaved(functions: dict[str, Callable[[], object]], repeats: int = 9, warmup: int = 2) -> dict[str, float]:
    """Best time of each function, alternating them so that drifting load hits all alike.

    Every function first runs ``warmup`` times untimed: the JIT compiles Bio-Formats' hot
    loops during the first runs, on the same two cores the benchmark uses.
    """
    for _ in range(warmup):
        for function in functions.values():
            function()
    best = {name: float("inf") for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


#: Linux keeps ru_maxrss across fork and exec, so a child of a large process would report the
#: parent's size; VmHWM belongs to the child's own address space.
_PEAK_RSS = """
def _peak_rss_mib():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""


def peak_rss_of(code: str, env: dict[str, str] | None = None) -> dict:
    """Run ``code`` in a fresh interpreter; return its JSON output plus its peak RSS in MiB."""
    wrapper = (
        "import json, resource, sys\n"
        f"{code}\n"
        "result = globals().get('result', {})\n"
        "result['peak_rss_mib'] = _peak_rss_mib()\n"
        "print('RESULT ' + json.dumps(result))\n"
    )
    wrapper = _PEAK_RSS + wrapper
    environment = {**os.environ, **(env or {})}
    completed = subprocess.run(
        [sys.executable, "-c", wrapper], capture_output=True, text=True, env=environment, timeout=1800
    )
    if completed.returncode != 0:
        raise RuntimeError(f"benchmark subprocess failed:\n{completed.stderr[-3000:]}")
    line = [entry for entry in completed.stdout.splitlines() if entry.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT ") :])


def save(name: str, rows: list[dict]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(rows, indent=2))
    return path


def table(rows: list[dict], columns: list[str]) -> str:
    """A Markdown table of ``rows``."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(c, "")) for c in columns) + " |")
    return "\n".join(lines)


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)
