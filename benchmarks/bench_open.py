"""Opening: memoized reopen against a cold open, and switching series without reopening.

Run: ``python -m benchmarks.bench_open``.

- memo: a 100,000-frame plain TIFF (Bio-Formats walks every IFD to open it). "cold" opens
  with ``memoize=False``; "memoized" reopens after a memo file was saved in the cache dir.
- series: read one pixel from each of 200 series of one OME-TIFF, through one open file
  (bfbridge keeps its reader and calls ``setSeries``), against reopening the file for each
  series (what bioio-bioformats did per scene, bioio #192).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from . import data
from .common import best_of, save, table


def memo_ratio(repeats: int = 3) -> dict:
    import bfbridge as bf

    bf.imread("warm&sizeX=8&sizeY=8.fake")  # JVM and class loading out of the way
    with tempfile.TemporaryDirectory(prefix="bfbridge-bench-open-") as folder:
        path = str(Path(folder) / "timelapse.tif")  # a new path: no memo file exists for it yet
        shutil.copyfile(data.timelapse_tiff(), path)

        def cold() -> None:
            with bf.open(path, memoize=False) as image:
                assert image.memo is None

        def memoized() -> None:
            with bf.open(path, memoize=0) as image:
                assert image.memo == "loaded"

        with bf.open(path, memoize=0) as image:
            assert image.memo == "saved"
        cold_s, memo_s = best_of(cold, repeats), best_of(memoized, repeats)
    return {"case": "open 100k-frame TIFF", "cold s": cold_s, "memoized s": memo_s, "speedup": cold_s / memo_s}


def series_switching() -> dict:
    import bfbridge as bf

    path = str(data.many_series_ometiff(count=200))

    def one_file() -> None:
        with bf.open(path, max_workers=1) as image:
            for series in image.series:
                series[0, 0, 0, 0, 0]
            assert image.readers_open == 1  # no reader was reopened

    def reopen_each() -> None:
        count = len(bf.open(path, memoize=False).series)
        for index in range(count):
            with bf.open(path, memoize=False) as image:
                image.series[index][0, 0, 0, 0, 0]

    kept, reopened = best_of(one_file, 3), best_of(reopen_each, 1)
    return {"case": "200 series, 1 pixel each", "kept open s": kept, "reopen per series s": reopened,
            "speedup": reopened / kept}  # fmt: skip


def main() -> list[dict]:
    rows = [memo_ratio(), series_switching()]
    for row in rows:
        print(table([row], list(row)))
    save("open", rows)
    return rows


if __name__ == "__main__":
    main()
