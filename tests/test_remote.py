"""Remote reads through fsspec: a real HTTP server on 127.0.0.1, fsspec's memory filesystem and S3 (moto).

Every remote read must equal the local one (sha256 in expected.json), fetch only what
Bio-Formats asks for, and leave no mapping, skeleton or handle behind when the file closes.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import random
import threading
import uuid
from pathlib import Path

import jpype
import numpy as np
import pytest

import bfbridge
from bfbridge import remote
from bfbridge.remote import handle as remote_handle
from conftest import EXPECTED
from tests.http_server import serve_directory

pytestmark = pytest.mark.corpus

#: The issue's files: single-file formats and multi-file ones (companions, ICS/IDS, VSI/ETS).
SAMPLES = [
    "czi/CD_s_1_t_3_c_2_z_5.czi",
    "lif/testdata_2channel_xz.lif",
    "nd2/cluster.nd2",
    "ome-tiff/multifile/multifile.companion.ome",
    "ics/testim.ics",
    "vsi/vsi-ets-test-jpg2k.vsi",
]
#: Every file these samples need, relative to the corpus (companions included).
NEEDED = [
    *SAMPLES,
    *(f"ome-tiff/multifile/multifile-Z{z}.ome.tiff" for z in range(1, 6)),
    "ics/testim.ids",
    "vsi/_vsi-ets-test-jpg2k_/stack1/frame_t_0.ets",
]


def _sha256(array: np.ndarray) -> str:
    return hashlib.sha256(array.tobytes()).hexdigest()


def _check_against_expected(image: bfbridge.ImageFile, relative: str) -> None:
    entry = EXPECTED[relative]
    assert (image.reader, image.format, len(image.series)) == (entry["reader"], entry["format"], entry["series_count"])
    for series, expected in zip(image.series, entry["series"], strict=True):
        data = series.to_numpy()
        assert list(data.shape) == expected["shape"] and data.dtype.name == expected["dtype"]
        assert _sha256(data) == expected["sha256"], f"{relative} series {series.index}"


def _mapped(java_id: str):
    return jpype.JClass("loci.common.Location").getMappedFile(java_id)


def _in_thread(function):
    result = []
    thread = threading.Thread(target=lambda: result.append(function()))
    thread.start()
    thread.join()
    return result[0]


def _our_mounts() -> list:
    root = remote.mounts_root()
    return sorted(root.glob(f"*-{os.getpid()}-*")) if root.is_dir() else []


@pytest.fixture(scope="module")
def http(corpus):
    with serve_directory(corpus) as (base, served):
        yield base, served


@pytest.fixture(scope="module")
def memory(corpus):
    """The needed corpus files copied into fsspec's in-process memory filesystem (never into the repo)."""
    import fsspec

    fs = fsspec.filesystem("memory")
    root = f"/bfbridge-tests-{uuid.uuid4().hex[:8]}"
    for relative in NEEDED:
        fs.pipe_file(f"{root}/{relative}", (corpus / relative).read_bytes())
    yield fs, f"memory://{root}"
    fs.rm(root, recursive=True)


# ---------------------------------------------------------------------------- pixels equal local reads


@pytest.mark.parametrize("relative", SAMPLES)
def test_http_reads_equal_the_expected_arrays(http, relative):
    base, _ = http
    with bfbridge.open(f"{base}/{relative}") as image:
        _check_against_expected(image, relative)


@pytest.mark.parametrize("relative", SAMPLES)
def test_memory_filesystem_reads_equal_the_expected_arrays(memory, relative):
    _, base = memory
    with bfbridge.open(f"{base}/{relative}") as image:
        _check_against_expected(image, relative)


def _used_files(image: bfbridge.ImageFile) -> list[str]:
    """The files Bio-Formats used, relative to the mount (the remote file's directory)."""
    return sorted("/".join(Path(path).relative_to(remote.mounts_root()).parts[1:]) for path in image.used_files)


def test_multi_file_formats_find_their_companions_remotely(http):
    base, _ = http
    with bfbridge.open(f"{base}/ome-tiff/multifile/multifile.companion.ome") as image:
        assert _used_files(image) == [*(f"multifile-Z{z}.ome.tiff" for z in range(1, 6)), "multifile.companion.ome"]
    with bfbridge.open(f"{base}/vsi/vsi-ets-test-jpg2k.vsi") as image:
        assert _used_files(image) == ["_vsi-ets-test-jpg2k_/stack1/frame_t_0.ets", "vsi-ets-test-jpg2k.vsi"]
    with bfbridge.open(f"{base}/ics/testim.ics") as image:
        assert _used_files(image) == ["testim.ics", "testim.ids"]


def test_names_needing_percent_encoding_work_over_http(corpus, tmp_path):
    """A companion pair whose names have spaces and percent signs (URL-encoded on the wire)."""
    for suffix in (".ics", ".ids"):
        (tmp_path / f"my image 100%{suffix}").write_bytes((corpus / f"ics/testim{suffix}").read_bytes())
    with serve_directory(tmp_path) as (base, _), bfbridge.open(f"{base}/my%20image%20100%25.ics") as image:
        assert _used_files(image) == ["my image 100%.ics", "my image 100%.ids"]
        assert _sha256(image.series[0].to_numpy()) == EXPECTED["ics/testim.ics"]["series"][0]["sha256"]


def test_listing_is_bounded_and_visits_folders_named_like_the_file_first(monkeypatch):
    import fsspec

    from bfbridge.remote import listing as remote_listing

    fs = fsspec.filesystem("memory")
    root = f"/bfbridge-listing-{uuid.uuid4().hex[:8]}"
    for folder in [f"other{i:02d}" for i in range(20)]:
        fs.pipe_file(f"{root}/{folder}/deep/deeper/x.bin", b"x")
    fs.pipe_file(f"{root}/slide.vsi", b"v")
    fs.pipe_file(f"{root}/_slide_/stack1/frame_t_0.ets", b"e")
    try:
        unbounded = remote_listing.list_siblings(fs, f"{root}/any.bin", "any.bin")
        monkeypatch.setattr(remote_listing, "MAX_LISTINGS", 4)
        bounded = remote_listing.list_siblings(fs, f"{root}/slide.vsi", "slide.vsi")
    finally:
        fs.rm(root, recursive=True)
    # three levels of folders are mirrored, not the files in the fourth
    assert "other07/deep/deeper" in unbounded and "other07/deep/deeper/x.bin" not in unbounded
    # four listings: the root, _slide_, _slide_/stack1, then the first unrelated folder
    assert "_slide_/stack1/frame_t_0.ets" in bounded and bounded["slide.vsi"].size == 1
    others = [name for name in bounded if name.startswith("other")]
    assert sorted(others) == sorted([*(f"other{i:02d}" for i in range(20)), "other00/deep"])


# ---------------------------------------------------------------------------- bytes transferred


def test_one_plane_over_http_fetches_at_most_a_quarter_of_the_file(http, corpus):
    base, served = http
    relative = "ome-tiff/4D-series.ome.tiff"
    size = (corpus / relative).stat().st_size
    remote_handle.CACHE.clear()
    served.reset()
    with bfbridge.open(f"{base}/{relative}") as image:
        plane = image.series[0][3, 0, 2]
    with bfbridge.open(corpus / relative) as image:
        np.testing.assert_array_equal(plane, image.series[0][3, 0, 2])
    file_gets = [r for r in served.requests if r[1] == f"/{relative}" and r[0] == "GET"]
    assert file_gets and all(byte_range is not None for _, _, byte_range in file_gets)  # ranges only
    assert served.by_path[f"/{relative}"] <= 0.25 * size


def test_reopening_reuses_cached_blocks(http):
    base, served = http
    relative = "nd2/cluster.nd2"
    with bfbridge.open(f"{base}/{relative}", max_workers=1) as image:
        first = image.series[0][1]
    served.reset()
    with bfbridge.open(f"{base}/{relative}", max_workers=1) as image:
        np.testing.assert_array_equal(image.series[0][1], first)
    assert served.by_path[f"/{relative}"] == 0


# ---------------------------------------------------------------------------- handles and mappings


def test_every_open_stream_gets_its_own_position(memory):
    fs, base = memory
    mount = remote.mount(f"{base}/ics/testim.ics", {})
    try:
        stream = jpype.JClass("loci.common.RandomAccessInputStream")
        first, second = stream(mount.java_id), stream(mount.java_id)
        first.seek(10)
        assert second.getFilePointer() == 0
        assert str(second.readString(4)) == fs.cat_file(f"{base[len('memory://') :]}/ics/testim.ics")[:4].decode()
        assert first.getFilePointer() == 10
        first.close()
        second.close()
    finally:
        mount.close()


def test_mappings_are_visible_from_every_thread_and_removed_on_close(http):
    base, _ = http
    image = bfbridge.open(f"{base}/vsi/vsi-ets-test-jpg2k.vsi", max_workers=2)
    image.series[0].to_numpy(max_workers=2)  # two readers, each with its own mount
    assert image.readers_open == 2
    ids = image.used_files
    assert all(_mapped(java_id) is not None for java_id in ids)
    assert _in_thread(lambda: all(_mapped(java_id) is not None for java_id in ids))
    assert len(_our_mounts()) == 2
    image.close()
    assert image.readers_open == 0
    assert all(_mapped(java_id) is None for java_id in ids)
    assert _in_thread(lambda: [_mapped(java_id) for java_id in ids]) == [None, None]
    assert _our_mounts() == []


def test_guarded_reads_on_fresh_threads_see_the_mounts(http):
    """With ``read_timeout`` every Java call runs on a new thread; VSI opens its ETS file from there."""
    base, _ = http
    relative = "vsi/vsi-ets-test-jpg2k.vsi"
    bfbridge.configure(read_timeout=120)
    try:
        with bfbridge.open(f"{base}/{relative}", max_workers=1) as image:
            assert _sha256(image.series[1].to_numpy()) == EXPECTED[relative]["series"][1]["sha256"]
    finally:
        bfbridge.configure(read_timeout=None)


def test_handles_fail_cleanly_after_their_mount_closes(memory):
    _, base = memory
    mount = remote.mount(f"{base}/nd2/cluster.nd2", {})
    stream = jpype.JClass("loci.common.RandomAccessInputStream")(mount.java_id)
    mount.close()
    mount.close()  # twice is fine
    with pytest.raises(jpype.JException, match="was closed"):
        stream.readInt()


def test_remote_open_is_quiet(http, caplog):
    base, _ = http
    with caplog.at_level(logging.INFO, logger="bfbridge"), bfbridge.open(f"{base}/czi/CD_s_1_t_3_c_2_z_5.czi") as f:
        f.series[0][0, 0, 0]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


# ---------------------------------------------------------------------------- errors


def test_missing_urls_are_file_not_found(http, memory):
    base, _ = http
    for url in (f"{base}/czi/nope.czi", f"{memory[1]}/nope.czi"):
        with pytest.raises(FileNotFoundError, match=r"nope\.czi"):
            bfbridge.open(url)
    assert _our_mounts() == []


def test_a_directory_url_is_unsupported(memory):
    with pytest.raises(bfbridge.UnsupportedFormatError, match="is a directory"):
        bfbridge.open(f"{memory[1]}/ics")


def test_unknown_protocols_bad_options_and_dead_servers_are_clear_errors(http):
    base, _ = http
    with pytest.raises(bfbridge.BioFormatsError, match=r"cannot open nosuchprotocol://x/y\.tif with fsspec"):
        bfbridge.open("nosuchprotocol://x/y.tif")
    with pytest.raises(bfbridge.BioFormatsError, match=r"cannot open .*testim\.ics: TypeError: .*no_such_option"):
        bfbridge.open(f"{base}/ics/testim.ics", storage_options={"no_such_option": 1})
    with pytest.raises(
        bfbridge.BioFormatsError, match=r"cannot open http://127\.0\.0\.1:9/x\.tif: ClientConnectorError"
    ):
        bfbridge.open("http://127.0.0.1:9/x.tif")
    assert _our_mounts() == []


def test_an_unreadable_remote_file_is_a_format_error_and_leaves_nothing_behind(memory):
    fs, _ = memory
    fs.pipe_file("/bfbridge-junk/junk.czi", b"ZISRAWFILE" + bytes(100))
    try:
        with pytest.raises(bfbridge.FormatError) as raised:
            bfbridge.open("memory://bfbridge-junk/junk.czi")
        assert raised.value.path == "memory://bfbridge-junk/junk.czi"
    finally:
        fs.rm("/bfbridge-junk", recursive=True)
    assert _our_mounts() == []


def test_a_server_that_goes_away_gives_a_format_error_not_a_hang(corpus):
    relative = "ome-tiff/4D-series.ome.tiff"
    with serve_directory(corpus) as (base, _):
        image = bfbridge.open(f"{base}/{relative}", max_workers=1)
    remote_handle.CACHE.clear()  # the plane must come from the (now stopped) server
    with pytest.raises(bfbridge.FormatError, match=r"4D-series\.ome\.tiff"):
        image.series[0][6, 0, 4]
    image.close()
    assert _our_mounts() == []


# ---------------------------------------------------------------------------- local-copy fallback


def test_gzip_ics_falls_back_to_a_local_copy_in_the_cache(memory, corpus):
    """The ICS reader streams gzip pixels with java.io, so its files are downloaded, not mapped."""
    psutil = pytest.importorskip("psutil")
    fs, _ = memory
    header = (corpus / "ics/testim.ics").read_text()
    assert "compression\tuncompressed" in header
    fs.pipe_file("/bfbridge-gz/testim.ics", header.replace("compression\tuncompressed", "compression\tgzip").encode())
    fs.pipe_file("/bfbridge-gz/testim.ids", gzip.compress((corpus / "ics/testim.ids").read_bytes()))
    files_root = remote.mounts_root().parent / "files"
    try:
        with bfbridge.open("memory://bfbridge-gz/testim.ics") as image:
            assert _sha256(image.series[0].to_numpy()) == EXPECTED["ics/testim.ics"]["series"][0]["sha256"]
            assert all(_mapped(java_id) is None for java_id in image.used_files)  # plain local files
        cache = os.path.realpath(files_root.parent)
        assert [f.path for f in psutil.Process().open_files() if f.path.startswith(cache)] == []
        copies = {p.name for p in files_root.rglob("testim.i*")}
        assert copies >= {"testim.ics", "testim.ids"}
        assert sorted(fs.ls("/bfbridge-gz", detail=False)) == ["/bfbridge-gz/testim.ics", "/bfbridge-gz/testim.ids"]
    finally:
        fs.rm("/bfbridge-gz", recursive=True)


# ---------------------------------------------------------------------------- S3


def test_s3_through_a_local_moto_server(corpus):
    pytest.importorskip("s3fs")
    moto_server = pytest.importorskip("moto.server")
    import boto3

    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}
        client = boto3.client("s3", endpoint_url=endpoint, **credentials)
        client.create_bucket(Bucket="images")
        for relative in ("ics/testim.ics", "ics/testim.ids", "czi/CD_s_1_t_3_c_2_z_5.czi"):
            client.upload_file(str(corpus / relative), "images", f"data/{relative}")
        options = {"key": "testing", "secret": "testing", "client_kwargs": {"endpoint_url": endpoint}}
        for relative in ("ics/testim.ics", "czi/CD_s_1_t_3_c_2_z_5.czi"):
            with bfbridge.open(f"s3://images/data/{relative}", storage_options=options) as image:
                _check_against_expected(image, relative)
        with pytest.raises(FileNotFoundError):
            bfbridge.open("s3://images/data/ics/missing.ics", storage_options=options)
    finally:
        server.stop()


# ---------------------------------------------------------------------------- the handle itself


def test_remote_handle_behaves_like_bioformats_file_handle(corpus):
    """Random operations give the same results as ``loci.common.NIOFileHandle`` on the local file."""
    import fsspec

    path = corpus / "vsi/vsi-ets-test-jpg2k.vsi"
    data = path.read_bytes()
    fs = fsspec.filesystem("memory")
    fs.pipe_file("/bfbridge-handle/file.vsi", data)
    bfbridge.jvm_info()
    ours = jpype.JObject(
        remote_handle.RemoteHandle(remote_handle.RemoteBlob(fs, "/bfbridge-handle/file.vsi", "handle-test", len(data))),
        jpype.JClass("loci.common.IRandomAccess"),
    )
    reference = jpype.JClass("loci.common.NIOFileHandle")(str(path), "r")
    order = jpype.JClass("java.nio.ByteOrder")
    scalars = ["readInt", "readShort", "readUnsignedShort", "readLong", "readByte", "readUnsignedByte"]
    scalars += ["readFloat", "readDouble", "readChar", "readBoolean", "getFilePointer", "length"]
    generator = random.Random(7)
    try:
        for _ in range(3000):
            operation = generator.choice([*scalars, "seek", "order", "skip", "read"])
            if operation == "seek":
                position = generator.randrange(len(data))
                ours.seek(position)
                reference.seek(position)
            elif operation == "order":
                byte_order = generator.choice([order.LITTLE_ENDIAN, order.BIG_ENDIAN])
                ours.setOrder(byte_order)
                reference.setOrder(byte_order)
                assert ours.getOrder() == reference.getOrder()
            elif operation == "skip" and ours.getFilePointer() + 200 < len(data):  # NIO fails past the end
                count = jpype.JLong(generator.randrange(200))
                assert ours.skipBytes(count) == reference.skipBytes(count)
            elif operation == "read":
                offset, length = generator.randrange(4), generator.randrange(1, 40000)
                mine, theirs = jpype.JArray(jpype.JByte)(length + 4), jpype.JArray(jpype.JByte)(length + 4)
                assert ours.read(mine, offset, length) == reference.read(theirs, offset, length)
                assert bytes(mine) == bytes(theirs)
            elif ours.getFilePointer() + 8 <= len(data):
                mine, theirs = getattr(ours, operation)(), getattr(reference, operation)()
                assert mine == theirs or (mine != mine and theirs != theirs), operation  # NaN == NaN
        text = corpus / "ics/testim.ics"
        fs.pipe_file("/bfbridge-handle/testim.ics", text.read_bytes())
        lines = jpype.JObject(
            remote_handle.RemoteHandle(remote_handle.RemoteBlob(fs, "/bfbridge-handle/testim.ics", "lines", None)),
            jpype.JClass("loci.common.IRandomAccess"),
        )
        local = jpype.JClass("loci.common.NIOFileHandle")(str(text), "r")
        for _ in range(40):
            assert lines.readLine() == local.readLine()
    finally:
        reference.close()
        fs.rm("/bfbridge-handle", recursive=True)
