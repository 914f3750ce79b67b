"""The virtual OME-Zarr store: reading a level through zarr against ``to_numpy()``, in one run.

Run: ``python -m benchmarks.bench_store``. Prints a Markdown table and saves it in
``benchmarks/results/store.json``.

- to_numpy: ``series.to_numpy()`` of the file already open (parallel over the reader pool);
- store: ``zarr.open_group(image.to_zarr_store(), mode="r")["0/0"][...]``, the same level through
  zarr (zarr's async reads run on threads; each chunk is one ``openBytes``, then copied into
  zarr's output). Target: store / to_numpy <= 1.3;
- serve: the same level read by zarr in this process over HTTP (``FsspecStore``) from
  ``bfbridge serve`` running in a child process on 127.0.0.1 (report);
- level 1: the first level the file lacks, computed by the store from level 0 (2 x 2 means),
  against reading level 0 through the store (report).
"""

from __future__ import annotations

import numpy as np

from . import data
from .common import interleaved, save, table


def measure(path: str, label: str, repeats: int = 5) -> dict:
    import zarr

    import bfbridge as bf
    from tests.serve_process import bfbridge_serve

    with bf.open(path) as image, bfbridge_serve(path) as (_, url):
        series = image.series[0]
        local = zarr.open_group(image.to_zarr_store(), mode="r")
        remote = zarr.open_group(zarr.storage.FsspecStore.from_url(url, read_only=True), mode="r")
        reference = series.to_numpy()
        assert np.array_equal(local["0/0"][...], reference), "the store disagrees with to_numpy()"
        assert np.array_equal(remote["0/0"][...], reference), "the server disagrees with to_numpy()"
        computed = "1" in local["0"]
        readers = {
            "to_numpy": series.to_numpy,
            "store": lambda: local["0/0"][...],
            "serve": lambda: remote["0/0"][...],
        }
        if computed:
            readers["level 1"] = lambda: local["0/1"][...]
        times = interleaved(readers, repeats)
        chunk = local["0/0"].chunks
    row = {
        "file": label,
        "MB": round(reference.nbytes / 1e6),
        "chunk": "x".join(map(str, chunk[3:])),
        **{f"{name} s": seconds for name, seconds in times.items()},
        "store / to_numpy": times["store"] / times["to_numpy"],
        "serve / to_numpy": times["serve"] / times["to_numpy"],
        "serve / store": times["serve"] / times["store"],
    }
    if computed:
        row["level 1 / level 0 (store)"] = times["level 1"] / times["store"]
    return row


def main() -> list[dict]:
    rows = [
        measure(str(data.uncompressed_ometiff()), "uncompressed 10x3x2048x2048 u16"),
        measure(str(data.zlib_tiled_ometiff()), "zlib tiles 40x1024x1024 u16"),
    ]
    columns = list(dict.fromkeys(column for row in rows for column in row))
    print(table(rows, columns))
    save("store", rows)
    return rows


if __name__ == "__main__":
    main()
