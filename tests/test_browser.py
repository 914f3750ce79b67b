"""``bfbridge serve`` read by a real browser: headless Chromium runs zarrita (a JavaScript zarr library).

The page (tests/browser/) comes from its own server, so reading the store is cross-origin as
for vizarr or neuroglancer. It reads the root, OME and image metadata, one chunk and one
region; the test compares them with ``to_numpy()``. Skips when Chromium or the page's npm
packages (``npm ci`` in tests/browser) are missing; ``.ci/run`` installs both.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest

import bfbridge
from tests.headless_chromium import find_chromium, page_server, run_page
from tests.serve_process import bfbridge_serve

PAGE = Path(__file__).resolve().parent / "browser"
FAKE = "browser&sizeX=1500&sizeY=1200&sizeZ=3&sizeC=2&series=2&pixelType=uint16.fake"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chromium() -> str:
    found = find_chromium()
    if found is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run does it)")
    if not (PAGE / "node_modules" / "zarrita" / "package.json").is_file():
        pytest.skip("the page's npm packages are missing: run `npm ci` in tests/browser (.ci/run does it)")
    return found


def test_chromium_reads_metadata_and_pixels_from_bfbridge_serve(chromium):
    with bfbridge.open(FAKE) as image:
        series = image.series[1]
        expected = series.to_numpy()
        name = series.name
    with bfbridge_serve(FAKE) as (_, store_url), page_server(PAGE) as (page_url, reports):
        plan = {
            "store": store_url,
            "image": "1",
            "array": "1/0",
            "chunk": [0, 1, 2, 0, 0],
            "region": [0, 1, 2, [100, 140], [1450, 1500]],
        }
        report = run_page(chromium, f"{page_url}index.html?plan={quote(json.dumps(plan))}", reports)
    assert report["ok"], report.get("error")
    assert report["root"] == {"ome": {"version": "0.5", "bioformats2raw.layout": 3}}
    assert report["ome"] == {"ome": {"version": "0.5", "series": ["0", "1"]}}
    multiscale = report["image"]["ome"]["multiscales"][0]
    assert multiscale["name"] == name and [d["path"] for d in multiscale["datasets"]] == ["0", "1"]
    assert [axis["name"] for axis in multiscale["axes"]] == list("tczyx")
    array = report["array"]
    assert array["shape"] == list(expected.shape) and array["dtype"] == "uint16"
    height, width = array["chunks"][3:]
    chunk = report["chunk"]
    assert chunk["shape"] == array["chunks"]
    values = np.array(chunk["data"], dtype=np.uint16).reshape(chunk["shape"])
    np.testing.assert_array_equal(values, expected[0:1, 1:2, 2:3, :height, :width])
    region = report["region"]
    assert region["shape"] == [40, 50]
    np.testing.assert_array_equal(np.array(region["data"]).reshape(40, 50), expected[0, 1, 2, 100:140, 1450:1500])
