"""Settings: what the JVM starts with and how bfbridge reads.

Values come from, lowest priority first: built-in defaults, a TOML config file
(``$BFBRIDGE_CONFIG`` or ``<user config dir>/bfbridge/config.toml``), ``BFBRIDGE_*``
environment variables, and :func:`configure`. JVM settings are frozen once the JVM
starts, because a running JVM cannot change its heap, arguments, Java or classpath.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shlex
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from .errors import JVMAlreadyStartedError

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

#: Settings that only take effect when the JVM starts.
JVM_SETTINGS = (
    "max_heap",
    "jvm_args",
    "java_home",
    "jars",
    "cache_dir",
    "offline",
    "lock_file",
    "maven_repositories",
)

#: Settings that change how files are read; with the JVM settings they travel to worker processes.
READ_SETTINGS = ("log_level", "memoize_ms", "read_timeout")

_HEAP_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_UNIT = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")


def parse_size(value: str | int) -> int:
    """Bytes in a heap size written the JVM way (``"3g"``, ``"768m"``) or as an integer."""
    if isinstance(value, int):
        if value <= 0:
            raise ValueError(f"size must be positive, got {value}")
        return value
    match = _HEAP_PATTERN.match(str(value))
    if not match:
        raise ValueError(f"not a size: {value!r} (use a number with k, m or g, e.g. '4g')")
    number, unit = match.groups()
    size = int(float(number) * _UNIT[unit.lower()])
    if size < 16 << 20:
        raise ValueError(f"heap {value!r} is below 16 MiB; the JVM cannot start with that")
    return size


def format_size(size: int) -> str:
    """The shortest exact JVM spelling of a byte count (``3221225472`` -> ``"3g"``)."""
    for unit in ("g", "m", "k"):
        if size % _UNIT[unit] == 0:
            return f"{size // _UNIT[unit]}{unit}"
    return str(size)


def physical_memory() -> int | None:
    """Physical memory visible to this process (cgroup limit included), if knowable."""
    total = None
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = _windows_memory()
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(limit_file).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and (total is None or int(text) < total):
            total = int(text)
    return total


def _windows_memory() -> int | None:  # pragma: no cover - exercised on Windows only
    try:
        import ctypes

        class _Status(ctypes.Structure):
            _fields_ = [("length", ctypes.c_ulong), ("load", ctypes.c_ulong)] + [
                (name, ctypes.c_ulonglong)
                for name in ("total", "avail", "ptotal", "pavail", "vtotal", "vavail", "xavail")
            ]

        status = _Status()
        status.length = ctypes.sizeof(_Status)
        ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status))
        return int(status.total)
    except Exception:
        return None


def default_max_heap() -> str:
    """Half the memory, between 1 GiB and 31 GiB.

    python-bioformats defaults to 256 MB, which is too small even to parse the metadata
    of large LIF or CZI files. Half the memory leaves room for numpy; 31 GiB keeps
    compressed object pointers.
    """
    memory = physical_memory() or (4 << 30)
    heap = min(max(memory // 2, 1 << 30), 31 << 30)
    return format_size(heap // (1 << 20) * (1 << 20))


def larger_heap(current: int) -> str | None:
    """The heap to suggest after Java ran out: twice ``current``, within 3/4 of the memory.

    None when no larger heap fits (the advice is then to read smaller pieces).
    """
    target = current * 2
    memory = physical_memory()
    if memory:
        target = min(target, memory * 3 // 4)
    unit = 1 << 30 if target >= 1 << 30 else 1 << 20
    target -= target % unit
    return format_size(target) if target > current else None


def default_cache_dir() -> str:
    return platformdirs.user_cache_dir("bfbridge", appauthor=False)


def default_config_file() -> Path:
    env = os.environ.get("BFBRIDGE_CONFIG")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_config_dir("bfbridge", appauthor=False)) / "config.toml"


@dataclass(frozen=True)
class Settings:
    """Everything that decides how the JVM starts and how files are read.

    Attributes:
        max_heap: JVM maximum heap (``-Xmx``), e.g. ``"8g"``.
        jvm_args: extra JVM arguments.
        java_home: a Java installation to use instead of discovery.
        jars: explicit jar files or folders; provisioning is skipped when set.
        cache_dir: where verified jars and Bio-Formats memo files are kept.
        offline: never download anything.
        log_level: level of Java log records forwarded to Python logging.
        lock_file: a ``jars.lock`` to use instead of the packaged one.
        maven_repositories: name -> URL of Maven repositories (``file://`` works).
        max_workers: readers per file and threads per whole-array read.
        memoize_ms: Bio-Formats initialisations slower than this are memoized.
        read_timeout: seconds before a single read gives up (None: no limit).
    """

    max_heap: str = field(default_factory=default_max_heap)
    jvm_args: tuple[str, ...] = ()
    java_home: str | None = None
    jars: tuple[str, ...] = ()
    cache_dir: str = field(default_factory=default_cache_dir)
    offline: bool = False
    log_level: str = "WARNING"
    lock_file: str | None = None
    maven_repositories: Mapping[str, str] = field(default_factory=dict)
    max_workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    memoize_ms: int = 100
    read_timeout: float | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "max_heap", format_size(parse_size(self.max_heap)))
        set_(self, "jvm_args", _as_tuple(self.jvm_args, shlex.split))
        set_(self, "jars", tuple(str(Path(p).expanduser()) for p in _as_tuple(self.jars, _split_paths)))
        set_(self, "cache_dir", str(Path(self.cache_dir).expanduser()))
        set_(self, "offline", _as_bool(self.offline))
        level = str(self.log_level).upper()
        if level not in _LOG_LEVELS:
            raise ValueError(f"log_level must be one of {', '.join(_LOG_LEVELS)}, got {self.log_level!r}")
        set_(self, "log_level", level)
        if self.java_home is not None:
            set_(self, "java_home", str(Path(self.java_home).expanduser()))
        if self.lock_file is not None:
            set_(self, "lock_file", str(Path(self.lock_file).expanduser()))
        set_(self, "maven_repositories", _as_repositories(self.maven_repositories))
        if int(self.max_workers) < 1:
            raise ValueError(f"max_workers must be at least 1, got {self.max_workers}")
        set_(self, "max_workers", int(self.max_workers))
        set_(self, "memoize_ms", int(self.memoize_ms))
        if self.read_timeout is not None:
            timeout = float(self.read_timeout)
            set_(self, "read_timeout", timeout if timeout > 0 else None)

    @property
    def max_heap_bytes(self) -> int:
        return parse_size(self.max_heap)

    def jvm_part(self) -> dict[str, Any]:
        """The settings that are fixed once the JVM runs."""
        return {name: getattr(self, name) for name in JVM_SETTINGS}

    def portable_part(self) -> dict[str, Any]:
        """What a pickled file carries to another process: the JVM and the read-time settings."""
        return {name: getattr(self, name) for name in (*JVM_SETTINGS, *READ_SETTINGS)}

    def describe(self, names: Iterable[str] = JVM_SETTINGS) -> str:
        return ", ".join(f"{name}={getattr(self, name)!r}" for name in names)


def _as_tuple(value: Any, split) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, os.PathLike)):
        return tuple(split(os.fspath(value)))
    return tuple(os.fspath(v) for v in value)


def _split_paths(text: str) -> list[str]:
    return [p for p in text.split(os.pathsep) if p.strip()]


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _as_repositories(value: Any) -> dict[str, str]:
    """Accept ``{"name": url}``, a list of URLs, or ``"name=url url2"`` text."""
    if not value:
        return {}
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    items = value.replace(",", " ").split() if isinstance(value, str) else list(value)
    repositories = {}
    for number, item in enumerate(items):
        text = str(item)
        named = "=" in text.split("://")[0]
        name, _, url = text.partition("=") if named else ("", "", text)
        repositories[name or f"repo{number}"] = url
    return repositories


_ENV = {
    "max_heap": "BFBRIDGE_MAX_HEAP",
    "jvm_args": "BFBRIDGE_JVM_ARGS",
    "java_home": "BFBRIDGE_JAVA_HOME",
    "jars": "BFBRIDGE_JARS",
    "cache_dir": "BFBRIDGE_CACHE_DIR",
    "offline": "BFBRIDGE_OFFLINE",
    "log_level": "BFBRIDGE_LOG_LEVEL",
    "lock_file": "BFBRIDGE_JARS_LOCK",
    "maven_repositories": "BFBRIDGE_MAVEN_REPOSITORIES",
    "max_workers": "BFBRIDGE_MAX_WORKERS",
    "memoize_ms": "BFBRIDGE_MEMOIZE_MS",
    "read_timeout": "BFBRIDGE_READ_TIMEOUT",
}
FIELDS = tuple(f.name for f in dataclasses.fields(Settings))

_lock = threading.RLock()
_overrides: dict[str, Any] = {}  # from configure(): this process's own choices
_adopted: dict[str, Any] = {}  # from adopt(): a dask client's, below this process's own choices
_in_force: Settings | None = None
_resolved: Settings | None = None  # cached: resolve() is called on every read


def _file_values() -> dict[str, Any]:
    path = default_config_file()
    if not path.is_file():
        return {}
    with open(path, "rb") as handle:
        values = tomllib.load(handle)
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ValueError(f"{path}: unknown setting(s) {sorted(unknown)}; known: {', '.join(FIELDS)}")
    return values


def _env_values() -> dict[str, Any]:
    return {name: os.environ[var] for name, var in _ENV.items() if os.environ.get(var, "") != ""}


def resolve() -> Settings:
    """The settings that apply now: the frozen JVM part if the JVM runs, plus the rest.

    Until the JVM starts, the config file and environment are read on every call, so a
    notebook may still set ``os.environ["BFBRIDGE_MAX_HEAP"]``. Once it runs they are read
    once more and then kept (reads call this often); :func:`configure` refreshes.
    """
    global _resolved
    settings = _resolved
    if settings is not None:
        return settings
    with _lock:
        values = {**_file_values(), **_env_values(), **_adopted, **_overrides}
        if _in_force is None:
            return Settings(**values)
        values.update(_in_force.jvm_part())
        _resolved = Settings(**values)
        return _resolved


def in_force() -> Settings | None:
    """The settings the running JVM started with, or None before it starts."""
    return _in_force


def mark_started(settings: Settings) -> None:
    """Called by :mod:`bfbridge.jvm` once the JVM runs with ``settings``."""
    global _in_force, _resolved
    with _lock:
        _in_force = settings
        _resolved = None


def configure(**values: Any) -> Settings:
    """Set options for the JVM and for reading; returns the settings now in effect.

    Passing ``None`` for a setting returns it to its default (or file/environment value).
    JVM settings (heap, JVM args, Java home, jars, cache dir, offline, lock file, Maven
    repositories) apply when the JVM starts. Changing one afterwards raises
    :class:`~bfbridge.JVMAlreadyStartedError`; repeating the value in force is allowed.
    """
    global _resolved
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise TypeError(f"configure() got unknown setting(s) {sorted(unknown)}; known: {', '.join(FIELDS)}")
    with _lock:
        overrides = {k: v for k, v in {**_overrides, **values}.items() if v is not None}
        candidate = Settings(**{**_file_values(), **_env_values(), **_adopted, **overrides})
        if _in_force is not None:
            changed = [n for n in JVM_SETTINGS if n in values and getattr(candidate, n) != getattr(_in_force, n)]
            if changed:
                raise JVMAlreadyStartedError(
                    f"cannot change {', '.join(changed)} after the JVM started; settings in force: "
                    f"{_in_force.describe()}. Call bfbridge.configure() before the first read, "
                    "or set BFBRIDGE_* environment variables before Python starts."
                )
        _overrides.clear()
        _overrides.update(overrides)
        _resolved = None
    settings = resolve()
    _apply_runtime(settings)
    return settings


def adopt(values: Mapping[str, Any]) -> None:
    """Take the settings of the process that pickled a file (on a dask worker, the client's).

    Before this process's JVM starts it takes all of them, so its JVM matches the client's;
    afterwards only the read-time settings. Each pickle brings the client's latest values,
    which replace earlier ones (``None``: the worker's own default). Settings this process
    gave :func:`configure` itself always win.
    """
    global _resolved
    with _lock:
        names = READ_SETTINGS if _in_force is not None else (*JVM_SETTINGS, *READ_SETTINGS)
        taken = {name: value for name, value in values.items() if name in names}
        adopted = {name: value for name, value in {**_adopted, **taken}.items() if value is not None}
        if adopted == _adopted:  # the usual case: every task of a graph brings the same settings
            return
        Settings(**{**_file_values(), **_env_values(), **adopted, **_overrides})  # refuse bad values now
        _adopted.clear()
        _adopted.update(adopted)
        _resolved = None
    _apply_runtime(resolve())


def _apply_runtime(settings: Settings) -> None:
    """Push settings that may change while the JVM runs (the Java log level)."""
    if _in_force is not None:
        from . import javalog

        javalog.set_level(settings.log_level)
