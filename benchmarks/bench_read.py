"""Read speed: bfbridge against the Java floor, bffile and tifffile, in one process.

Run: ``python -m benchmarks.bench_read``. Prints a Markdown table of times and ratios
and saves it in ``benchmarks/results/read.json``.

- floor: ``reader.openBytes(i, buf)`` for every plane into one reused Java ``byte[]``
  (what Bio-Formats itself costs; everything above it is bridge overhead);
- sync: ``series.to_dask().compute(scheduler="synchronous")``;
- threads 1 / 2: ``to_dask().compute(scheduler="threads", num_workers=n)``;
- to_numpy: ``series.to_numpy()`` with default settings (parallel over the reader pool);
- bffile 0.1.1: ``np.asarray(BioFile(p).as_array())`` (file opened once) on the same JVM and jar;
- tifffile: ``tifffile.imread(p)`` (native decoders; not Bio-Formats).
"""

from __future__ import annotations

import numpy as np

from . import data
from .common import interleaved, save, table


def _floor(path: str):
    import jpype

    from bfbridge import jvm

    jvm.ensure_started()
    reader = jpype.JClass("loci.formats.ImageReader")()
    reader.setId(path)
    tools = jpype.JClass("loci.formats.FormatTools")
    size = reader.getSizeX() * reader.getSizeY() * tools.getBytesPerPixel(reader.getPixelType())
    size *= reader.getRGBChannelCount()
    buffer = jpype.JArray(jpype.JByte)(size)
    count = reader.getImageCount()

    def loop() -> None:
        for plane in range(count):
            reader.openBytes(plane, buffer)

    return loop, reader


def _bffile_reader(path: str):
    import scyjava.config

    scyjava.config.endpoints.clear()  # bffile must use the JVM and jar bfbridge started
    from bffile import BioFile

    opened = BioFile(path).open()  # opened once, like the bfbridge file it is compared with
    return lambda: np.asarray(opened.as_array())


def measure(path: str, label: str, repeats: int = 9) -> dict:
    import tifffile

    import bfbridge as bf

    image = bf.open(path)
    series = image.series[0]
    array = series.to_dask()
    floor, java_reader = _floor(path)
    bffile_read = _bffile_reader(path)
    reference = series.to_numpy()
    assert np.array_equal(bffile_read(), reference), "bffile disagrees with bfbridge"
    assert np.array_equal(array.compute(scheduler="synchronous"), reference)
    times = interleaved(
        {
            "floor": floor,
            "sync": lambda: array.compute(scheduler="synchronous"),
            "threads1": lambda: array.compute(scheduler="threads", num_workers=1),
            "threads2": lambda: array.compute(scheduler="threads", num_workers=2),
            "to_numpy": series.to_numpy,
            "bffile": bffile_read,
            "tifffile": lambda: tifffile.imread(path),
        },
        repeats,
    )
    java_reader.close()
    image.close()
    return {
        "file": label,
        "MB": round(reference.nbytes / 1e6),
        **{f"{k} s": v for k, v in times.items()},
        "sync / floor": times["sync"] / times["floor"],
        "threads 1 / 2": times["threads1"] / times["threads2"],
        "bffile / to_numpy": times["bffile"] / times["to_numpy"],
        "to_numpy / tifffile": times["to_numpy"] / times["tifffile"],
    }


def main() -> list[dict]:
    rows = [
        measure(str(data.uncompressed_ometiff()), "uncompressed 10x3x2048x2048 u16"),
        measure(str(data.zlib_tiled_ometiff()), "zlib tiles 40x1024x1024 u16"),
    ]
    columns = list(rows[0])
    print(table(rows, columns))
    save("read", rows)
    return rows


if __name__ == "__main__":
    main()
