"""The bfbridge command, run as a user would in a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def bfbridge(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bfbridge", *args], capture_output=True, text=True, timeout=300, env=env
    )


def test_info_json(corpus):
    result = bfbridge("info", "--json", str(corpus / "lif/testdata_2channel_xz.lif"))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["reader"] == "LIFReader" and len(summary["series"]) == 3
    first = summary["series"][0]
    assert first["shape"] == [20, 2, 1, 128, 128] and first["dims"] == "TCZYX" and first["dtype"] == "uint8"
    assert first["channel_names"] == ["Leica/FITC", "Leica/TRITC"]
    assert first["physical_size"]["X"][1] == "µm"


def test_info_text_shows_levels_and_sizes(corpus):
    result = bfbridge("info", str(corpus / "ome-tiff/largeimg.ome.tiff"))
    assert result.returncode == 0, result.stderr
    assert "OMETiffReader" in result.stdout and "levels: 512×512, 256×256" in result.stdout


def test_ome_prints_xml():
    result = bfbridge("ome", "a&sizeX=4&sizeY=4.fake")
    assert result.returncode == 0 and result.stdout.lstrip().startswith("<?xml") and "<OME" in result.stdout


def test_demo_runs_without_data():
    result = bfbridge("demo")
    assert result.returncode == 0, result.stderr
    assert "Max over Z (computed by dask)" in result.stdout
    assert "equals the plane read" in result.stdout


def test_version_names_bioformats_and_java():
    result = bfbridge("--version")
    assert result.returncode == 0
    assert "Bio-Formats 7.3.1" in result.stdout and "Java " in result.stdout


def test_formats_lists_readers():
    result = bfbridge("formats", "--json")
    formats = json.loads(result.stdout)
    assert len(formats) > 150
    czi = [f for f in formats if f["reader"] == "ZeissCZIReader"]
    assert czi and "czi" in czi[0]["suffixes"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("info", "/no/such/file.czi"), 1, "bfbridge: error: [Errno 2] No such file"),
        (("nonsense",), 2, "invalid choice"),
        (("info",), 2, "the following arguments are required: path"),
    ],
)
def test_exit_codes(args, code, message):
    result = bfbridge(*args)
    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    if code == 1:
        assert len(result.stderr.strip().splitlines()) == 1


def test_debug_shows_the_traceback():
    result = bfbridge("--debug", "info", "/no/such/file.czi")
    assert result.returncode == 1 and "Traceback" in result.stderr
