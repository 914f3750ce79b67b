"""Run every benchmark: ``python -m benchmarks.run [name ...]``.

Each module prints its own Markdown table and saves JSON in ``benchmarks/results/``.
Inputs are generated once into ``benchmarks/data/`` (about 450 MB).
"""

from __future__ import annotations

import importlib
import sys
import time

MODULES = ("bench_read", "bench_open", "bench_memory", "bench_convert", "bench_remote", "bench_store")


def main(names: list[str]) -> int:
    chosen = names or list(MODULES)
    unknown = set(chosen) - set(MODULES)
    if unknown:
        print(f"unknown benchmark(s) {sorted(unknown)}; choose from {', '.join(MODULES)}", file=sys.stderr)
        return 2
    for name in chosen:
        print(f"\n## {name}\n", flush=True)
        start = time.perf_counter()
        importlib.import_module(f"benchmarks.{name}").main()
        print(f"\n({name}: {time.perf_counter() - start:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
