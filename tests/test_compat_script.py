"""A python-bioformats script runs on bfbridge when only its import line changes.

The script below is written against python-bioformats 4.1's documented API: it edits
OME-XML, writes a stack and a movie plane by plane, reads them back with ``load_image``,
``ImageReader``, the reader cache and a raw Bio-Formats reader. It runs in a fresh
interpreter, as a file, with ``import bioformats`` replaced by the compat import.
"""

from __future__ import annotations

import os
import subprocess
import sys

PYTHON_BIOFORMATS_SCRIPT = """\
import bioformats
import os
import sys

import numpy as np

out = sys.argv[1]
bioformats.logback.basic_config()

# OME-XML edited from scratch, as a pipeline would describe its output
metadata = bioformats.OMEXML()
metadata.image().Name = "cells"
pixels = metadata.image().Pixels
pixels.SizeX, pixels.SizeY, pixels.SizeC, pixels.SizeT = 16, 8, 2, 3
pixels.PixelType = bioformats.PT_UINT16
pixels.channel_count = 2
pixels.Channel(0).Name, pixels.Channel(1).Name = "DNA", "GFP"
pixels.PhysicalSizeX = 0.65
pixels.plane_count = 6
pixels.Plane(5).DeltaT = 12.5
metadata.structured_annotations.add_original_metadata(bioformats.omexml.OM_SOFTWARE, "my pipeline")
again = bioformats.OMEXML(metadata.to_xml())
print("omexml:", again.image().Name, again.image().Pixels.SizeC, again.image().Pixels.Channel(1).Name,
      again.image().Pixels.PhysicalSizeX, again.image().Pixels.Plane(5).TheT, again.image().Pixels.Plane(5).DeltaT,
      again.structured_annotations.OriginalMetadata["Software"])

# a C x T stack and a movie, one plane per call, as CellProfiler's SaveImages writes them
data = (np.arange(2 * 3 * 8 * 16).reshape(2, 3, 8, 16) * 11 % 65536).astype(np.uint16)
stack_path = os.path.join(out, "stack.ome.tif")
movie_path = os.path.join(out, "movie.tif")
for t in range(3):
    for c in range(2):
        bioformats.write_image(stack_path, data[c, t], bioformats.PT_UINT16, c=c, t=t, size_c=2, size_t=3,
                               channel_names=["DNA", "GFP"])
    bioformats.formatwriter.write_image(movie_path, data[0, t], "uint16", t=t, size_t=3)

image = bioformats.load_image(stack_path, c=1, t=2, rescale=False)
print("plane:", image.shape, image.dtype, np.array_equal(image, data[1, 2]))
image, scale = bioformats.load_image(stack_path, t=1, wants_max_intensity=True)
print("stacked:", image.shape, image.dtype, scale, np.allclose(image, np.dstack(data[:, 1]) / 65535.0))
print("movie:", [np.array_equal(bioformats.load_image(movie_path, t=t, rescale=False), data[0, t]) for t in range(3)])

with bioformats.ImageReader(stack_path) as reader:
    names = []
    planes = reader.read(t=0, rescale=False, channel_names=names)
    print("reader:", reader.rdr.getSizeC(), reader.rdr.getSizeT(), reader.rdr.getImageCount(), planes.shape, names)

written = bioformats.OMEXML(bioformats.get_omexml_metadata(stack_path))
print("written:", written.image().Name, written.image().Pixels.SizeC, written.image().Pixels.SizeT,
      written.image().Pixels.Channel(1).Name, written.image().Pixels.tiffdata_count)

cached = bioformats.get_image_reader("GFP", path=stack_path)
print("cache:", cached is bioformats.get_image_reader("GFP", path=stack_path),
      np.array_equal(cached.read(c=1, t=1, rescale=False), data[1, 1]))
bioformats.release_image_reader("GFP")
bioformats.clear_image_reader_cache()

ImageReader = bioformats.formatreader.make_image_reader_class()
rdr = ImageReader()
rdr.setId(stack_path)
raw = rdr.openBytes(rdr.getIndex(0, 1, 2))
print("raw:", raw.dtype, raw.shape, np.array_equal(raw.view("<u2").reshape(8, 16), data[1, 2]))
rdr.close()
"""


def test_a_python_bioformats_script_runs_with_only_its_import_changed(tmp_path):
    assert PYTHON_BIOFORMATS_SCRIPT.startswith("import bioformats\n")
    script = tmp_path / "pipeline.py"
    script.write_text(
        PYTHON_BIOFORMATS_SCRIPT.replace("import bioformats\n", "import bfbridge.compat.bioformats as bioformats\n", 1)
    )
    output = tmp_path / "out"
    output.mkdir()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("BFBRIDGE_") or k == "BFBRIDGE_CACHE_DIR"}
    result = subprocess.run(
        [sys.executable, str(script), str(output)], capture_output=True, text=True, timeout=300, env=environment
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "omexml: cells 2 GFP 0.65 2 12.5 my pipeline",
        "plane: (8, 16) uint16 True",
        "stacked: (8, 16, 2) float32 65535 True",
        "movie: [True, True, True]",
        "reader: 2 3 6 (8, 16, 2) ['DNA', 'GFP']",
        "written: stack.ome.tif 2 3 GFP 6",
        "cache: True True",
        "raw: uint8 (256,) True",
    ]
    assert sorted(path.name for path in output.iterdir()) == ["movie.tif", "stack.ome.tif"]
