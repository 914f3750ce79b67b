"""Scaling on a real dask.distributed LocalCluster with worker processes.

Files, series and dask graphs pickle cheaply (no pixels, no Java objects); each worker
starts its own JVM with the parent's settings and keeps one open reader per file.
"""

from __future__ import annotations

import hashlib
import json
import pickle

import numpy as np
import pytest

import bfbridge
from conftest import EXPECTED
from tests.http_server import serve_directory

distributed = pytest.importorskip("distributed")
pytestmark = [pytest.mark.corpus, pytest.mark.slow]

CZI = "czi/CD_s_1_t_3_c_2_z_5.czi"
CASES = [(CZI, 0)] + [
    (path, i) for path in ("lif/testdata_2channel_xz.lif", "svs/CMU-1-Small-Region.svs") for i in range(3)
]


def _sha256(array: np.ndarray) -> str:
    return hashlib.sha256(array.tobytes()).hexdigest()


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster,
        distributed.Client(cluster) as connected,
    ):
        yield connected


def _open_handles(path: str) -> int:
    """How many file handles this process holds on ``path`` (run on each worker)."""
    import os

    import psutil

    target = os.path.realpath(path)  # the corpus may sit behind a symlink; the OS reports real paths
    return sum(os.path.realpath(f.path) == target for f in psutil.Process().open_files())


@pytest.mark.parametrize(("relative", "index"), CASES, ids=[f"{p}#{i}" for p, i in CASES])
def test_cluster_computes_the_expected_arrays(client, corpus, relative, index):
    with bfbridge.open(corpus / relative) as image:
        array = image.series[index].to_dask()
        with distributed.get_task_stream(client) as tasks:
            data = array.compute()
    assert _sha256(data) == EXPECTED[relative]["series"][index]["sha256"]
    workers = {task["worker"] for task in tasks.data}
    assert workers and workers <= set(client.scheduler_info()["workers"])  # computed on the workers


def test_the_scheduler_never_opens_the_file(client, corpus):
    """LocalCluster's scheduler runs in this process and unpickles graphs: that must not open files."""
    from bfbridge.reader import image_file as reader

    with bfbridge.open(corpus / CZI) as image:
        array = image.series[0].to_dask()
        opened_before = {id(f) for f in reader._registry.values() if f._opened is not None}
        assert _sha256(array.compute()) == EXPECTED[CZI]["series"][0]["sha256"]
    unpickled_here = [f for f in reader._registry.values() if f._opened is not None and id(f) not in opened_before]
    assert unpickled_here == []
    clone = pickle.loads(pickle.dumps(image.series[0]))  # the graph's view of a series
    assert clone.shape == (3, 2, 5, 170, 240) and clone.file._opened is None


def test_pickles_carry_no_pixels_and_no_java_objects(corpus):
    with bfbridge.open(corpus / "svs/CMU-1-Small-Region.svs") as image:
        series = image.series[0]
        assert series.nbytes == 2967 * 2220 * 3
        assert len(pickle.dumps(image)) < 1024 and len(pickle.dumps(series)) < 1024
        # coordinates and the OME metadata attribute, not the 19.8 MB of pixels
        assert len(pickle.dumps(series.to_xarray())) < series.nbytes / 100
    with bfbridge.open(corpus / CZI) as image:
        graph = image.series[0].to_dask()
        assert graph.npartitions == 30 and len(pickle.dumps(graph)) < 4096


def test_each_worker_keeps_one_reader_per_file_not_one_per_chunk(client, corpus):
    path = str(corpus / CZI)
    with bfbridge.open(path) as image:
        array = image.series[0].to_dask()
        assert array.npartitions == 30
        with distributed.get_task_stream(client) as tasks:
            array.compute()
    per_worker = {}
    for task in tasks.data:
        per_worker[task["worker"]] = per_worker.get(task["worker"], 0) + 1
    handles = client.run(_open_handles, path)
    assert sum(per_worker.values()) >= 30 and max(per_worker.values()) > 1
    assert {worker: handles[worker] for worker in per_worker} == dict.fromkeys(per_worker, 1)  # one open file each


def test_a_remote_url_computes_on_the_cluster(client, corpus):
    relative = "nd2/cluster.nd2"
    with serve_directory(corpus) as (base, served):
        with bfbridge.open(f"{base}/{relative}") as image:
            array = image.series[0].to_dask()
            served.reset()
            data = array.compute()
        assert _sha256(data) == EXPECTED[relative]["series"][0]["sha256"]
        assert any(method == "GET" and path == f"/{relative}" for method, path, _ in served.requests)  # workers read


def test_workers_start_their_jvm_with_the_parents_heap_and_read_settings(python, corpus):
    result = python(
        f"""
        import json, bfbridge, distributed
        bfbridge.configure(max_heap="768m", read_timeout=42, memoize_ms=250)
        with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as c:
            with distributed.Client(c) as client, bfbridge.open({str(corpus / CZI)!r}) as image:
                image.series[0].to_dask().sum().compute()
                heaps = client.run(lambda: [bfbridge.jvm_info()[k] for k in ("max_heap", "max_heap_bytes")])
                settings = lambda: bfbridge.config.resolve()  # noqa: E731
                reading = client.run(lambda: [settings().read_timeout, settings().memoize_ms])
        info = bfbridge.jvm_info()
        print(json.dumps({{
            "workers": sorted(heaps.values()), "parent": [info["max_heap"], info["max_heap_bytes"]],
            "reading": sorted(reading.values()),
        }}))
        """
    )
    heaps = json.loads(result.stdout.strip().splitlines()[-1])
    assert heaps["reading"] == [[42.0, 250], [42.0, 250]]  # a timeout set in the client bounds workers' reads too
    assert len(heaps["workers"]) == 2
    for setting, maximum in [*heaps["workers"], heaps["parent"]]:
        assert setting == "768m"
        assert 0.95 * 768 * 2**20 <= maximum <= 768 * 2**20  # Runtime.maxMemory() excludes a survivor space


def test_conversion_runs_on_the_cluster(client, corpus, tmp_path):
    convert = getattr(bfbridge, "convert", None)
    if convert is None:
        pytest.skip("bfbridge.convert is not available in this build")
    zarr = pytest.importorskip("zarr")
    target = tmp_path / "czi.ome.zarr"
    with distributed.get_task_stream(client) as tasks:
        convert(str(corpus / CZI), str(target), progress=False)
    workers = {task["worker"] for task in tasks.data}
    assert workers and workers <= set(client.scheduler_info()["workers"])
    level0 = zarr.open_group(str(target), mode="r")["0"]["0"][...]
    assert _sha256(np.ascontiguousarray(level0)) == EXPECTED[CZI]["series"][0]["sha256"]


def test_pyramidal_ome_tiff_conversion_runs_on_the_cluster(client, corpus, tmp_path):
    tifffile = pytest.importorskip("tifffile")
    svs = "svs/CMU-1-Small-Region.svs"
    target = tmp_path / "slide.ome.tif"
    with distributed.get_task_stream(client) as tasks:
        bfbridge.convert(str(corpus / svs), str(target))
    assert {task["worker"] for task in tasks.data} == set(client.scheduler_info()["workers"])  # both workers wrote
    with tifffile.TiffFile(target) as written:
        assert written.is_ome and len(written.series) == 3
    with bfbridge.open(target) as image:
        for index, expected in enumerate(EXPECTED[svs]["series"]):
            assert _sha256(image.series[index].to_numpy()) == expected["sha256"]


def test_a_worker_error_reaches_the_client_as_the_bfbridge_error(client, corpus, tmp_path):
    damaged = tmp_path / "cut.czi"
    damaged.write_bytes((corpus / CZI).read_bytes()[:4096])
    with pytest.raises(bfbridge.FormatError) as raised:
        client.submit(bfbridge.imread, str(damaged)).result()
    assert raised.value.path == str(damaged) and "cut.czi" in str(raised.value)
    assert type(raised.value.__cause__).__name__ == "JavaTrace"
