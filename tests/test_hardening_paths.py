"""Odd paths: empty and random files, wrong names, directories, unicode, symlinks, files that change.

Bad input must raise a ``bfbridge.BioFormatsError`` subclass (or ``FileNotFoundError``)
that names the file and leaves no handle open; good input behind an odd path must read
exactly what ``expected.json`` says.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
import tifffile

import bfbridge
from conftest import EXPECTED

EXTENSIONS = [".tif", ".ome.tiff", ".czi", ".nd2", ".lif", ".png", ".jpg", ".gif", ".ome.xml", ".svs", ".vsi", ".dv"]


def _open_under(folder: Path) -> list[str]:
    real = os.path.realpath(folder)  # the OS reports real paths
    return sorted(f.path for f in psutil.Process().open_files() if f.path.startswith(real))


def _sha256s(path: Path, group_files: bool = True) -> list[str]:
    with bfbridge.open(path, group_files=group_files) as image:
        return [hashlib.sha256(series.to_numpy().tobytes()).hexdigest() for series in image.series]


def _expected_sha256s(relative: str) -> list[str]:
    return [series["sha256"] for series in EXPECTED[relative]["series"]]


# ---------------------------------------------------------------------------- not images


@pytest.mark.parametrize("content", ["empty", "random"])
@pytest.mark.parametrize("extension", EXTENSIONS)
def test_empty_or_random_file_with_an_image_extension_is_a_format_error(tmp_path, content, extension):
    path = tmp_path / f"{content} file{extension}"
    path.write_bytes(b"" if content == "empty" else random.Random(extension).randbytes(4096))
    with pytest.raises(bfbridge.FormatError) as raised:
        bfbridge.open(path)
    assert raised.value.path == str(path)
    assert str(path) in str(raised.value)
    assert _open_under(tmp_path) == []


def test_text_named_nd2_is_unsupported(tmp_path):
    path = tmp_path / "notes.nd2"
    path.write_text("This is a lab notebook entry, not an ND2 file.\n" * 40)
    with pytest.raises(bfbridge.UnsupportedFormatError, match="no Bio-Formats reader recognises") as raised:
        bfbridge.open(path)
    assert raised.value.path == str(path) and str(path) in str(raised.value)
    assert _open_under(tmp_path) == []


@pytest.mark.parametrize("name", ["stack.tif", "cells.czi", "plate.ome.tiff", "image.ome.zarr"])
def test_directory_named_like_an_image_is_unsupported(tmp_path, name):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "inside.txt").write_text("not an image")
    with pytest.raises(bfbridge.UnsupportedFormatError, match="is a directory") as raised:
        bfbridge.open(folder)
    assert raised.value.path == str(folder)


def test_missing_dangling_and_looping_paths_raise_file_not_found(tmp_path):
    (tmp_path / "dangling.tif").symlink_to(tmp_path / "gone.tif")
    (tmp_path / "loop-a.tif").symlink_to(tmp_path / "loop-b.tif")
    (tmp_path / "loop-b.tif").symlink_to(tmp_path / "loop-a.tif")
    for name in ("missing.tif", "dangling.tif", "loop-a.tif"):
        with pytest.raises(FileNotFoundError) as raised:
            bfbridge.open(tmp_path / name)
        assert raised.value.filename == str(tmp_path / name)


# ---------------------------------------------------------------------------- unicode, spaces, links

#: (corpus files, their names in the odd folder); the first file is the one opened.
RENAMED = {
    "tiff": (["tiff/5channel.tif"], ["fünf Kanäle 5.tif"]),
    "czi": (["czi/CD_s_1_t_3_c_2_z_5.czi"], ["細胞 スタック.czi"]),
    "lif": (["lif/testdata_2channel_xz.lif"], ["ça va — été.lif"]),
    "ics": (["ics/testim.ics", "ics/testim.ids"], ["test ïmage 1.ics", "test ïmage 1.ids"]),
    "vsi": (
        ["vsi/vsi-ets-test-jpg2k.vsi", "vsi/_vsi-ets-test-jpg2k_/stack1/frame_t_0.ets"],
        ["スライド 1.vsi", "_スライド 1_/stack1/frame_t_0.ets"],
    ),
    "ome-tiff-companion": (
        ["ome-tiff/multifile/multifile.companion.ome"]
        + [f"ome-tiff/multifile/multifile-Z{z}.ome.tiff" for z in range(1, 6)],
        ["multifile.companion.ome"] + [f"multifile-Z{z}.ome.tiff" for z in range(1, 6)],
    ),
}


@pytest.mark.corpus
@pytest.mark.parametrize("key", sorted(RENAMED))
def test_unicode_and_spaces_in_paths_read_correctly(corpus, tmp_path, key):
    sources, names = RENAMED[key]
    folder = tmp_path / "Données brutes 2024" / "Ωmega folder ✓"
    for source, name in zip(sources, names, strict=True):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(corpus / source, folder / name)
    main = folder / names[0]
    with bfbridge.open(main, group_files=EXPECTED[sources[0]]["group_files"]) as image:
        assert image.path == str(main)
        assert len(image.used_files) == len(sources)
        assert sorted(image.used_files) == sorted(str(folder / name) for name in names)
    assert _sha256s(main, EXPECTED[sources[0]]["group_files"]) == _expected_sha256s(sources[0])
    assert _open_under(tmp_path) == []


def _annex(corpus: Path, relative: str, store: Path, link: Path) -> None:
    """Store a corpus file under a content-addressed name and link to it, as git-annex and DataLad do."""
    digest = hashlib.sha256((corpus / relative).read_bytes()).hexdigest()
    target = store / digest[:2] / f"SHA256E-{digest}"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(corpus / relative, target)
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(os.path.relpath(target, link.parent))


@pytest.mark.corpus
def test_symlinks_read_correctly(corpus, tmp_path):
    links = tmp_path / "links"
    links.mkdir()
    # a link to a file in another folder, and a chain of two links
    (links / "direct.czi").symlink_to(corpus / "czi/CD_s_1_t_3_c_2_z_5.czi")
    (links / "chain-1.czi").symlink_to(links / "direct.czi")
    (links / "chain-2.czi").symlink_to("chain-1.czi")  # relative
    for name in ("direct.czi", "chain-1.czi", "chain-2.czi"):
        assert _sha256s(links / name) == _expected_sha256s("czi/CD_s_1_t_3_c_2_z_5.czi"), name
    # a linked folder holding a multi-file dataset
    (links / "ics folder").symlink_to(corpus / "ics", target_is_directory=True)
    assert _sha256s(links / "ics folder" / "testim.ics") == _expected_sha256s("ics/testim.ics")
    # every file a link into a content-addressed store (git-annex / DataLad datasets)
    for relative in ("ics/testim.ics", "ics/testim.ids", "vsi/vsi-ets-test-jpg2k.vsi",
                     "vsi/_vsi-ets-test-jpg2k_/stack1/frame_t_0.ets"):  # fmt: skip
        _annex(corpus, relative, tmp_path / ".git" / "annex", tmp_path / "dataset" / relative)
    assert _sha256s(tmp_path / "dataset/ics/testim.ics") == _expected_sha256s("ics/testim.ics")
    vsi = tmp_path / "dataset/vsi/vsi-ets-test-jpg2k.vsi"
    assert _sha256s(vsi) == _expected_sha256s("vsi/vsi-ets-test-jpg2k.vsi")
    assert _open_under(tmp_path) == [] and _open_under(corpus) == []


# ---------------------------------------------------------------------------- files that change under us

PLANES = np.arange(8 * 64 * 96, dtype=np.uint16).reshape(8, 64, 96)


def _write_ome_tiff(path: Path, data: np.ndarray) -> None:
    tifffile.imwrite(path, data, ome=True, metadata={"axes": "ZYX"})


def _original_or_bioformats_error(series, original: np.ndarray, workers: int) -> None:
    """Read everything: the data as it was at open, or a clear error. Never other data, never other errors."""
    try:
        data = series.to_numpy(max_workers=workers)
    except (bfbridge.BioFormatsError, FileNotFoundError):
        return
    assert data.shape == original.shape
    changed = [z for z in range(original.shape[2]) if not np.array_equal(data[:, :, z], original[:, :, z])]
    assert changed == [], f"planes {changed} came back different from the file that was opened, without an error"


def _replace(path: Path, data: np.ndarray) -> None:
    fresh = path.with_name("fresh-" + path.name)
    _write_ome_tiff(fresh, data)
    os.replace(fresh, path)


CHANGES = {
    "deleted": lambda path: path.unlink(),
    "replaced by other pixels": lambda path: _replace(path, PLANES + 1000),
    "replaced by another layout": lambda path: _replace(path, (PLANES[:3, :50, :70] % 251).astype(np.uint8)),
    "truncated in place": lambda path: os.truncate(path, path.stat().st_size // 2),
}


@pytest.mark.parametrize("workers", [1, 4])
@pytest.mark.parametrize("change", sorted(CHANGES))
def test_file_changed_between_open_and_read_gives_original_data_or_a_clear_error(tmp_path, change, workers):
    path = tmp_path / "changing.ome.tif"
    _write_ome_tiff(path, PLANES)
    original = PLANES.reshape(1, 1, 8, 64, 96)
    image = bfbridge.open(path, max_workers=workers, memoize=False)
    series = image.series[0]
    np.testing.assert_array_equal(series[0, 0, 0], PLANES[0])  # the first reader is open and has read
    CHANGES[change](path)
    _original_or_bioformats_error(series, original, workers)
    image.close()
    assert _open_under(tmp_path) == []
    assert bfbridge.imread("after&sizeX=8&sizeY=4.fake").shape == (1, 1, 1, 4, 8)


@pytest.mark.corpus
@pytest.mark.parametrize("change", ["deleted", "truncated in place"])
def test_czi_changed_between_open_and_read_gives_original_data_or_a_clear_error(corpus, tmp_path, change):
    path = tmp_path / "changing.czi"
    shutil.copyfile(corpus / "czi/CD_s_1_t_3_c_2_z_5.czi", path)
    original = bfbridge.imread(path, memoize=False)
    assert hashlib.sha256(original.tobytes()).hexdigest() == _expected_sha256s("czi/CD_s_1_t_3_c_2_z_5.czi")[0]
    with bfbridge.open(path, max_workers=1, memoize=False) as image:
        series = image.series[0]
        series[0, 0, 0]
        CHANGES[change](path)
        _original_or_bioformats_error(series, original, 1)
    assert _open_under(tmp_path) == []


def test_replaced_file_never_reads_through_a_stale_memo(tmp_path):
    """A file replaced by one with an older mtime (``cp -p``, ``rsync -a``, tar) must not load the old memo."""
    path = tmp_path / "data.ome.tif"
    _write_ome_tiff(path, PLANES)
    with bfbridge.open(path, memoize=0) as image:  # memoize every open
        assert image.series[0].shape == (1, 1, 8, 64, 96)
    replacement = PLANES[:2, :40, :56] + 7
    _write_ome_tiff(tmp_path / "copy.ome.tif", replacement)
    day_ago = time.time() - 86400
    os.utime(tmp_path / "copy.ome.tif", (day_ago, day_ago))  # as cp -p keeps the source's mtime
    os.replace(tmp_path / "copy.ome.tif", path)
    with bfbridge.open(path, memoize=0) as image:
        series = image.series[0]
        assert series.shape == (1, 1, 2, 40, 56)
        np.testing.assert_array_equal(series.to_numpy()[0, 0], replacement)
