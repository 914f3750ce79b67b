"""Memory: peak RSS of reads over a file four times the JVM heap, each in a fresh process.

Run: ``python -m benchmarks.bench_memory``.

The file is the 250 MB uncompressed OME-TIFF; the JVM heap is 64 MiB. "baseline" opens the
file and reads one plane (JVM, numpy, dask loaded). "dask max, 3 planes" reduces the first
3 planes with dask's threaded scheduler (the JIT's and dask's fixed costs), "dask max, all 30
planes" the whole file: if memory is bounded, reading 10x more planes costs no more memory.
"to_numpy" reads it all into one array (the array itself is 240 MiB).
"""

from __future__ import annotations

from . import data
from .common import peak_rss_of, save, table

HEAP = "64m"
SETUP = """
import bfbridge as bf, numpy as np, dask
image = bf.open({path!r})
series = image.series[0]
plane = series[0, 0, 0]
"""
CASES = {
    "baseline (open + one plane)": "result = {'value': int(plane.max())}",
    "dask max, 3 planes": "result = {'value': int(series.to_dask()[:, :, :1].max().compute(scheduler='threads'))}",
    "dask max, all 30 planes": "result = {'value': int(series.to_dask().max().compute(scheduler='threads'))}",
    "to_numpy (whole file)": "result = {'value': int(series.to_numpy().max())}",
}


def main() -> list[dict]:
    path = str(data.uncompressed_ometiff())
    plane_mib = 2048 * 2048 * 2 / 2**20
    rows = []
    for name, code in CASES.items():
        measured = peak_rss_of(SETUP.format(path=path) + code, env={"BFBRIDGE_MAX_HEAP": HEAP})
        rows.append({"case": name, "heap": HEAP, "peak RSS MiB": measured["peak_rss_mib"]})
    baseline = rows[0]["peak RSS MiB"]
    for row in rows:
        row["above baseline MiB"] = row["peak RSS MiB"] - baseline
        row["in planes (8 MiB)"] = row["above baseline MiB"] / plane_mib
    print(table(rows, list(rows[0])))
    save("memory", rows)
    return rows


if __name__ == "__main__":
    main()
