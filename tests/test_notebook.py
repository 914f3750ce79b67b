"""examples/quickstart.ipynb, run in a real Jupyter kernel on this Python, and its outputs checked.

A few cells are added after the notebook's own: they read the heap back, provoke a Java
OutOfMemoryError (a zlib strip that inflates past the 1 GB heap) and check that the kernel
still reads afterwards.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient
from PIL import Image

from bfbridge import config
from tests.test_hardening_memory import write_inflate_bomb

NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "quickstart.ipynb"
KERNEL = "bfbridge-test"
SERIES_BYTES = 3 * 2 * 6 * 384 * 512 * 2

pytestmark = pytest.mark.slow


def _kernel_spec(folder: Path) -> Path:
    """A kernelspec that starts ipykernel with this very interpreter (this venv)."""
    spec = folder / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": KERNEL, "language": "python"}))
    return folder


def _checks(bomb: Path) -> list:
    code = nbformat.v4.new_code_cell
    heap = code('import json\ninfo = bf.jvm_info()\nprint(json.dumps([info["max_heap"], info["max_heap_bytes"]]))')
    oom = code(f"with bf.open({str(bomb)!r}) as bomb:\n    bomb.series[0][0, 0, 0, :16, :16]")
    oom.metadata["tags"] = ["raises-exception"]
    after = code(
        "import numpy as np\n"
        "again = bf.imread(IMAGE)\n"
        f"with bf.open({str(bomb)!r}) as bomb:\n"
        "    small = bomb.series[1].to_numpy()\n"
        "expected = np.arange(64 * 64).reshape(64, 64)\n"
        "print(json.dumps([bool((again == data).all()), bool((small[0, 0, 0] == expected).all())]))"
    )
    for cell, name in ((heap, "check-heap"), (oom, "check-oom"), (after, "check-after-oom")):
        cell.id = name
    return [heap, oom, after]


@pytest.fixture(scope="module")
def notebook(tmp_path_factory):
    folder = tmp_path_factory.mktemp("notebook")
    bomb = write_inflate_bomb(folder / "inflate-bomb.ome.tif")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.extend(_checks(bomb))
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("BFBRIDGE_") and n != "BFBRIDGE_CACHE_DIR"]:
            patch.delenv(name)
        patch.setenv("JUPYTER_PATH", str(_kernel_spec(folder / "jupyter")))
        client = NotebookClient(nb, timeout=600, kernel_name=KERNEL, resources={"metadata": {"path": str(folder)}})
        client.execute()
    return nb


def cell(nb, name: str):
    (found,) = [c for c in nb.cells if c.get("id") == name]
    return found


def outputs(nb, name: str, kind: str) -> list:
    return [o for o in cell(nb, name).outputs if o.output_type == kind]


def result(nb, name: str) -> dict:
    (found,) = outputs(nb, name, "execute_result")
    return found.data


def stdout(nb, name: str) -> str:
    return "".join(o.text for o in outputs(nb, name, "stream") if o.name == "stdout")


def thumbnails(html: str) -> list[np.ndarray]:
    sources = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    return [np.asarray(Image.open(io.BytesIO(base64.b64decode(s)))) for s in sources]


def test_the_heap_set_in_the_first_cell_is_the_jvms(notebook):
    (heap,) = re.findall(r'max_heap="([^"]+)"', cell(notebook, "heap").source)
    in_force, in_bytes = json.loads(stdout(notebook, "check-heap"))
    assert heap == in_force == "1g"
    assert 0.95 * (1 << 30) <= in_bytes <= 1 << 30
    table = result(notebook, "jvm-info")["text/html"]
    assert "<table>" in table and f">{heap}</td>" in table and "bfbridge JVM" in table


def test_a_later_heap_change_is_refused_naming_the_heap_in_force(notebook):
    text = stdout(notebook, "refused")
    assert text.startswith("cannot change max_heap after the JVM started; settings in force: max_heap='1g'")


def _assert_rich_view(data: dict, title: str) -> None:
    html = data["text/html"]
    assert data["text/plain"].startswith(title)
    assert "T=3 × C=2 × Z=6 × Y=384 × X=512" in html and ">uint16<" in html
    (picture,) = thumbnails(html)
    assert picture.shape == (192, 256, 3)  # level 1 of the pyramid: 256 x 192
    assert picture[..., 2].max() == 0 and picture[..., 0].max() == 255 and picture[..., 1].max() == 255  # red, green


def test_the_file_and_series_cells_show_html_with_sizes_dtype_and_a_thumbnail(notebook):
    _assert_rich_view(result(notebook, "open"), "<bfbridge.ImageFile 'quickstart&")
    _assert_rich_view(result(notebook, "series"), "<bfbridge.Series 0 'quickstart'")
    assert "512×384" in result(notebook, "series")["text/html"] and "#FF0000" in result(notebook, "series")["text/html"]


def test_to_numpy_with_progress_shows_a_bar_that_reaches_every_byte(notebook):
    views = [
        o for o in outputs(notebook, "progress", "display_data") if "application/vnd.jupyter.widget-view+json" in o.data
    ]
    if not views:  # no ipywidgets in the kernel: tqdm writes a text bar into the cell
        text = "".join(o.text for o in outputs(notebook, "progress", "stream") if o.name == "stderr")
        assert "quickstart.fake [0]: 100%" in text
        return
    (view,) = views
    models = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    box = models[view.data["application/vnd.jupyter.widget-view+json"]["model_id"]]["state"]
    parts = [models[child.removeprefix("IPY_MODEL_")]["state"] for child in box["children"]]
    label, bar = parts[0], parts[1]
    assert bar["_model_name"] == "FloatProgressModel" and bar["value"] == bar["max"] == SERIES_BYTES
    assert label["value"].replace("\u2007", " ") == "quickstart.fake [0]: 100%"  # tqdm pads with figure spaces
    assert result(notebook, "progress")["text/plain"] == "((3, 2, 6, 384, 512), '13.5 MiB')"


def test_plane_dask_xarray_and_convert_cells(notebook):
    assert result(notebook, "plane")["text/plain"].startswith("((384, 512), dtype('uint16'), ")
    assert result(notebook, "dask")["text/plain"] == "(3, 2, 384, 512)"
    assert any("image/png" in o.data for o in outputs(notebook, "xarray", "display_data"))  # the plot
    assert stdout(notebook, "convert") == "[(3, 2, 6, 384, 512), (3, 2, 6, 192, 256), (3, 2, 6, 96, 128)]\n"


def test_a_heap_error_says_what_to_set_and_the_kernel_keeps_working(notebook):
    (error,) = outputs(notebook, "check-oom", "error")
    larger = config.larger_heap(1 << 30)
    assert error.ename == "JavaMemoryError"
    assert "inflate-bomb.ome.tif" in error.evalue and "the JVM max heap is 1g" in error.evalue
    assert f'bfbridge.configure(max_heap="{larger}")' in error.evalue and f"BFBRIDGE_MAX_HEAP={larger}" in error.evalue
    assert "restart the kernel" in error.evalue
    assert json.loads(stdout(notebook, "check-after-oom")) == [True, True]
