"""Conversion speed, as a ratio to reading the same file, measured in one run.

Run: ``python -m benchmarks.bench_convert``. Prints a Markdown table and saves it in
``benchmarks/results/convert.json``.

- imread: ``bfbridge.imread(path)``, the full read of the file from its path (open included),
  parallel over the reader pool; this is what a conversion from a path is compared with;
- read: ``series.to_numpy()`` of a file already open (no open, readers already warm);
- zarr 0.5 / zarr 0.4 / ome-tiff: ``bfbridge.convert(path, ...)`` with default options (blosc-zstd
  chunks for OME-Zarr, zlib tiles for OME-TIFF), overwriting one output in a temp folder.

Target: zarr 0.5 / imread <= 1.5.

Memory: peak RSS of a fresh process converting a 1.6 GB generated image (a Bio-Formats
``.fake`` id: 200 planes of 2048 x 2048 uint16) to each format, against the data size.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from . import data
from .common import interleaved, peak_rss_of, save, table

BIG_FAKE = "big&sizeX=2048&sizeY=2048&sizeZ=200&pixelType=uint16.fake"


def measure(path: str, label: str, repeats: int = 5) -> dict:
    import bfbridge as bf

    with tempfile.TemporaryDirectory(prefix="bfbridge-bench-convert-") as out, bf.open(path) as image:
        series = image.series[0]
        targets = {"zarr 0.5": "v05.ome.zarr", "zarr 0.4": "v04.ome.zarr", "ome-tiff": "out.ome.tif"}

        def converter(name: str):
            version = "0.4" if name == "zarr 0.4" else "0.5"
            return lambda: bf.convert(path, Path(out) / targets[name], ngff_version=version, overwrite=True)

        readers = {"imread": lambda: bf.imread(path), "read": series.to_numpy}
        times = interleaved({**readers, **{name: converter(name) for name in targets}}, repeats)
    return {
        "file": label,
        "MB": round(series.nbytes / 1e6),
        **{f"{name} s": seconds for name, seconds in times.items()},
        **{f"{name} / imread": times[name] / times["imread"] for name in targets},
        **{f"{name} / read": times[name] / times["read"] for name in targets},
    }


def memory(job: str) -> dict:
    """Peak RSS of a fresh process (JVM included) reading or converting ``BIG_FAKE``."""
    with tempfile.TemporaryDirectory(prefix="bfbridge-bench-convert-") as out:
        work = {
            "read plane by plane": "with bf.open(FAKE) as f:\n    [f.series[0][0, 0, z].sum() for z in range(200)]\n",
            "convert .ome.zarr": f"bf.convert(FAKE, {str(Path(out) / 'big.ome.zarr')!r})\n",
            "convert .ome.tif": f"bf.convert(FAKE, {str(Path(out) / 'big.ome.tif')!r})\n",
        }[job]
        code = f"import time, bfbridge as bf\nFAKE = {BIG_FAKE!r}\nstart = time.perf_counter()\n{work}"
        measured = peak_rss_of(code + "result = {'seconds': time.perf_counter() - start}\n")
    return {"job": job, "data MiB": 2048 * 2048 * 200 * 2 / 2**20, **measured}


def main() -> list[dict]:
    rows = [measure(str(data.zlib_tiled_ometiff()), "zlib tiles 40x1024x1024 u16")]
    print(table(rows, list(rows[0])))
    memory_rows = [memory(job) for job in ("read plane by plane", "convert .ome.zarr", "convert .ome.tif")]
    print()
    print(table(memory_rows, list(memory_rows[0])))
    save("convert", rows + memory_rows)
    return rows + memory_rows


if __name__ == "__main__":
    main()
