"""Remote reads over HTTP: bytes transferred for one plane, and remote / local read time, in one run.

Run: ``python -m benchmarks.bench_remote``. Serves the shared sample corpus from a local
HTTP server on 127.0.0.1 (Range requests, bytes counted) and prints two Markdown tables,
saved in ``benchmarks/results/remote.json``.

- one plane: open ``ome-tiff/4D-series.ome.tiff`` over HTTP with an empty block cache and
  read one plane; the bytes the server sent, as a share of the file (target: <= 25%).
- read time: open + full read, local path vs the same file over HTTP. "cold" empties the
  block cache before every remote run; "warm" reopens with the blocks already cached.
  Memoization is off for the local open, as it always is for remote files. The server is
  on loopback, so this is bfbridge's overhead, not network latency.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .common import interleaved, save, table

PLANE_FILE = "ome-tiff/4D-series.ome.tiff"
TIMED_FILES = (PLANE_FILE, "czi/CD_s_1_t_3_c_2_z_5.czi", "svs/CMU-1-Small-Region.svs", "vsi/vsi-ets-test-jpg2k.vsi")


def one_plane(corpus: Path, base: str, served) -> dict:
    import bfbridge as bf
    from bfbridge.remote import handle as remote_handle

    remote_handle.CACHE.clear()
    served.reset()
    with bf.open(f"{base}/{PLANE_FILE}") as image:
        image.series[0][3, 0, 2]
    size = (corpus / PLANE_FILE).stat().st_size
    sent = served.by_path[f"/{PLANE_FILE}"]
    return {
        "file": PLANE_FILE,
        "file bytes": size,
        "bytes sent": sent,
        "share": f"{100 * sent / size:.1f}%",
        "requests": sum(path == f"/{PLANE_FILE}" for _, path, _ in served.requests),
        "listing bytes": served.total - sent,
    }


def read_times(corpus: Path, base: str, relative: str, repeats: int = 3) -> dict:
    import bfbridge as bf
    from bfbridge.remote import handle as remote_handle

    def read(path: str, cold: bool):
        def run() -> None:
            if cold:
                remote_handle.CACHE.clear()
            with bf.open(path, memoize=False if "://" not in path else None) as image:
                for series in image.series:
                    series.to_numpy()

        return run

    times = interleaved(
        {
            "local": read(str(corpus / relative), False),
            "remote cold": read(f"{base}/{relative}", True),
            "remote warm": read(f"{base}/{relative}", False),
        },
        repeats,
    )
    return {
        "file": relative,
        **{f"{name} s": seconds for name, seconds in times.items()},
        "cold / local": times["remote cold"] / times["local"],
        "warm / local": times["remote warm"] / times["local"],
    }


def main() -> None:
    import bfbridge as bf
    from conftest import corpus_dir
    from tests.http_server import serve_directory

    corpus = corpus_dir()
    if corpus is None:
        print("sample corpus not found (set BFBRIDGE_TEST_DATA or put shared/samples beside the checkout)")
        sys.exit(1)
    bf.imread(corpus / PLANE_FILE, memoize=False)  # start the JVM outside the timings
    with serve_directory(corpus) as (base, served):
        plane = one_plane(corpus, base, served)
        times = [read_times(corpus, base, relative) for relative in TIMED_FILES]
    print(table([plane], list(plane)))
    print()
    print(table(times, list(times[0])))
    save("remote", [plane, *times])


if __name__ == "__main__":
    main()
