"""Damaged files: truncated or byte-flipped copies of every sample format never crash, hang or leak.

Each copy is opened, its metadata parsed and every level of every series read in a
child process (see ``tests/damage.py``), so that a JVM crash or an endless loop in
Bio-Formats is reported against the file instead of killing the test run.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import EXPECTED
from tests.damage import DAMAGES, SAMPLES, Damage, child_env, copy_sample, failures, probe_in_children

pytestmark = pytest.mark.corpus

INTACT = Damage("intact")
#: Multi-file formats also get their first companion (the pixel data) damaged.
COMPANION_DAMAGES = (DAMAGES[1], DAMAGES[5])
PER_FILE_TIMEOUT_S = 90
CHILDREN = 2


def _job(corpus, root, key: str, damage: Damage, on_companion: bool = False) -> dict:
    sample = SAMPLES[key]
    name = f"{key}/{damage.name}{'-companion' if on_companion else ''}"
    main = copy_sample(corpus, sample, root / name)
    damage.apply(root / name / (sample.companions[0] if on_companion else sample.main))
    return {"name": name, "path": str(main), "group_files": EXPECTED[sample.main]["group_files"]}


@pytest.fixture(scope="module")
def outcomes(corpus, bundle_jar, tmp_path_factory):
    """Every damaged (and intact) copy probed once, in a few child processes at once."""
    root = tmp_path_factory.mktemp("damaged")
    jobs = []
    for key, sample in SAMPLES.items():
        jobs += [_job(corpus, root, key, damage) for damage in (INTACT, *DAMAGES)]
        if sample.companions:
            jobs += [_job(corpus, root, key, damage, on_companion=True) for damage in COMPANION_DAMAGES]
    env = child_env(BFBRIDGE_JARS=str(bundle_jar), BFBRIDGE_CACHE_DIR=str(root / "cache"), BFBRIDGE_MAX_HEAP="1g")
    shares = [jobs[i::CHILDREN] for i in range(CHILDREN)]
    with ThreadPoolExecutor(CHILDREN) as pool:
        parts = list(pool.map(lambda share: probe_in_children(share, env, PER_FILE_TIMEOUT_S), shares))
    return {name: outcome for part in parts for name, outcome in part.items()}


def test_every_corpus_format_has_a_damaged_sample(corpus):
    formats = {path.split("/")[0] for path in EXPECTED}
    assert formats == {sample.main.split("/")[0] for sample in SAMPLES.values()}


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_intact_copy_reads_completely(outcomes, key):
    """The control: the probe reads every series of an undamaged copy."""
    outcome = outcomes[f"{key}/intact"]
    assert outcome["status"] == "ok", outcome
    assert outcome["series"] == EXPECTED[SAMPLES[key].main]["series_count"]
    assert outcome["bytes"] > 0 and outcome["left_open"] == []


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_damaged_copies_read_or_raise_bioformats_errors(outcomes, key):
    names = [name for name in outcomes if name.startswith(f"{key}/")]
    assert len(names) == 1 + len(DAMAGES) + (len(COMPANION_DAMAGES) if SAMPLES[key].companions else 0)
    assert failures(outcomes, sorted(names)) == []


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_ten_byte_stub_is_a_format_error_naming_the_file(outcomes, key):
    outcome = outcomes[f"{key}/cut10"]
    assert outcome["status"] == "error", outcome
    assert outcome["type"] in ("bfbridge.errors.FormatError", "bfbridge.errors.UnsupportedFormatError"), outcome
    assert f"{key}/cut10/" in outcome["message"], outcome
