"""The bfbridge command, run as a user would in a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bfbridge import cli, config


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


def test_help_is_plain_text():
    """No reST markup in --help, and the exit codes and accepted output names are spelled out."""
    top, convert = bfbridge("--help"), bfbridge("convert", "--help")
    assert top.returncode == convert.returncode == 0
    assert "``" not in top.stdout + convert.stdout
    assert "143 SIGTERM" in top.stdout
    assert ".ome.zarr (or .zarr)" in convert.stdout and "OME-Zarr only" in convert.stdout


# ---------------------------------------------------------------------------- convert options

NO_JAVA = {**os.environ, "BFBRIDGE_JAVA_HOME": "/no/such/java"}  # starting the JVM would be an exit-1 error
SMALL = "e&sizeX=8&sizeY=8.fake"


@pytest.mark.parametrize(
    ("dst", "args", "message"),
    [
        ("out.ome.zarr", ["--compression-level", "50"], "compression_level for blosc-zstd must be 0 to 9, got 50"),
        ("out.ome.zarr", ["--compression", "zstd", "--compression-level", "23"], "must be -131072 to 22, got 23"),
        ("out.ome.zarr", ["--compression", "gzip", "--compression-level", "-1"], "must be 0 to 9, got -1"),
        ("out.ome.tif", ["--compression", "lzw", "--compression-level", "5"], "compression 'lzw' has no levels"),
        ("out.ome.zarr", ["--compression", "foo"], "compression for zarr output must be one of blosc-zstd"),
        ("out.ome.zarr", ["--compression", "lzw"], "compression for zarr output must be one of"),
        ("out.ome.zarr", ["--chunks", "1,2,3"], "chunks must be 2 (Y, X) or 5 (T, C, Z, Y, X) positive sizes"),
        ("out.ome.zarr", ["--chunks", "0,5"], "positive sizes, got (0, 5)"),
        ("out.ome.zarr", ["--levels", "0"], "levels must be at least 1, got 0"),
        ("out.ome.zarr", ["--max-workers", "0"], "max_workers must be at least 1, got 0"),
        ("out.ome.tif", ["--ngff-version", "0.4"], "--ngff-version applies to OME-Zarr output (*.ome.zarr)"),
        ("out.png", [], "cannot tell the output format from 'out.png'"),
        ("out.ome.zarr", ["--ngff-version", "0.3"], "invalid choice: '0.3'"),  # argparse's own checks
        ("out.ome.zarr", ["--chunks", "a,b"], "expected comma-separated integers"),
    ],
)
def test_bad_option_values_are_usage_errors(dst, args, message, tmp_path):
    """Exit 2 with argparse's usage message, before the JVM starts and before anything is written."""
    result = bfbridge("convert", SMALL, str(tmp_path / dst), *args, env=NO_JAVA)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("usage: bfbridge convert")
    last = result.stderr.splitlines()[-1]
    assert last.startswith("bfbridge convert: error: ") and message in last
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("dst", "args"),
    [
        ("plain.zarr", ["--compression", "zstd", "--compression-level", "-5"]),  # .zarr is OME-Zarr too
        ("out.ome.tif", ["--compression", "zlib", "--compression-level", "9"]),
    ],
)
def test_valid_option_values_convert(dst, args, tmp_path):
    result = bfbridge("convert", SMALL, str(tmp_path / dst), "--no-progress", *args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"wrote {tmp_path / dst}"


def test_tiff_zstd_without_imagecodecs_says_how_to_install_it(tmp_path):
    code = (
        "import sys; sys.modules['imagecodecs'] = None; from bfbridge.cli import main; "
        f"sys.exit(main(['convert', {SMALL!r}, {str(tmp_path / 'out.ome.tif')!r}, '--compression', 'zstd']))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=NO_JAVA)
    assert result.returncode == 2
    assert "OME-TIFF compression 'zstd' needs the imagecodecs package: pip install imagecodecs" in result.stderr


def test_existing_output_names_the_cli_flag(tmp_path):
    target = tmp_path / "out.ome.tif"
    target.write_bytes(b"keep")
    result = bfbridge("convert", SMALL, str(target), env=NO_JAVA)  # refused before the JVM starts
    assert result.returncode == 1
    assert result.stderr == (
        f"bfbridge: error: [Errno 17] the output exists; pass --overwrite to replace it: '{target}'\n"
    )
    assert target.read_bytes() == b"keep"


# ---------------------------------------------------------------------------- unexpected errors, SIGTERM


def fail_unexpectedly(args) -> int:
    raise RuntimeError("error during blosc compression: -10\nsecond line")


def test_unexpected_error_is_one_line(monkeypatch, capsys):
    monkeypatch.setattr(cli, "cmd_formats", fail_unexpectedly)
    assert cli.main(["formats"]) == 1
    assert capsys.readouterr().err == (
        "bfbridge: error: RuntimeError: error during blosc compression: -10; second line "
        "(rerun with --debug for the traceback)\n"
    )


def test_unexpected_error_with_debug_raises(monkeypatch):
    monkeypatch.setattr(cli, "cmd_formats", fail_unexpectedly)
    try:
        with pytest.raises(RuntimeError, match="blosc"):
            cli.main(["--debug", "formats"])
    finally:
        config.configure(log_level=None)  # --debug turned Java logging to DEBUG for this whole process
