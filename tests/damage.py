"""Damaged copies of sample files, and a watchdog that opens them in child processes.

Damaged input may crash the JVM or make Bio-Formats loop, which would take a test run
down with it. So each damaged copy is opened and read in a child process that reports
one line per file; the parent notices a hang or a crash, names the file, and goes on
with the remaining files in a new child.

Run as a script (``python tests/damage.py``), this module is that child: it reads a
JSON list of ``{"name", "path", "group_files", "memoize"}`` jobs on stdin.
"""

from __future__ import annotations

import json
import os
import queue
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

#: Protocol lines start with this, so stray output from Java cannot be mistaken for one.
MARK = "@@probe "
#: A series (level) larger than this is sampled (first and last plane corners), not read
#: whole: a damaged header can claim terabytes, and allocating that proves nothing.
WHOLE_READ_LIMIT = 64 << 20
CORNER = 512


# ---------------------------------------------------------------------------- damaging


@dataclass(frozen=True)
class Sample:
    """One corpus file to damage, with the companions it needs beside it."""

    main: str
    companions: tuple[str, ...] = ()

    @property
    def files(self) -> tuple[str, ...]:
        return (self.main, *self.companions)


#: One file per corpus format; multi-file formats bring their companions along.
SAMPLES = {
    "czi": Sample("czi/CD_s_1_t_3_c_2_z_5.czi"),
    "dv": Sample("dv/toxo.dv"),
    "gif": Sample("gif/newtonscradle.gif"),
    "ics": Sample("ics/testim.ics", ("ics/testim.ids",)),
    "jpeg": Sample("jpeg/chelsea.jpg"),
    "lif": Sample("lif/testdata_2channel_xz.lif"),
    "lsm": Sample("lsm/test.lsm"),
    "mrc": Sample("mrc/EMD-3001.map"),
    "nd2": Sample("nd2/cluster.nd2"),
    "ome-tiff": Sample("ome-tiff/multi-channel-z-series.ome.tif"),
    "ome-tiff-pyramid": Sample("ome-tiff/synthetic/dim5_pyramid.ome.tif"),
    "ome-tiff-companion": Sample(
        "ome-tiff/multifile/multifile.companion.ome",
        tuple(f"ome-tiff/multifile/multifile-Z{z}.ome.tiff" for z in range(1, 6)),
    ),
    "ome-xml": Sample("ome-xml/multi-channel-z-series-time-series.ome.xml"),
    "png": Sample("png/chelsea.png"),
    "stk": Sample("stk/movie.stk"),
    "svs": Sample("svs/CMU-1-Small-Region.svs"),
    "tiff": Sample("tiff/5channel.tif"),
    "vsi": Sample("vsi/vsi-ets-test-jpg2k.vsi", ("vsi/_vsi-ets-test-jpg2k_/stack1/frame_t_0.ets",)),
}


def copy_sample(corpus: Path, sample: Sample, destination: Path) -> Path:
    """Copy the sample's files under ``destination`` (same relative layout); the main copy's path."""
    for relative in sample.files:
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(corpus / relative, target)
    return destination / sample.main


def truncate(path: Path, size: int) -> None:
    """Keep the first ``size`` bytes of ``path``."""
    with open(path, "r+b") as handle:
        handle.truncate(size)


def flip_bytes(path: Path, seed: int, count: int, within: int | None = None) -> None:
    """XOR ``count`` random bytes (in the first ``within`` bytes, default all) with random non-zero masks."""
    data = bytearray(path.read_bytes())
    generator = random.Random(seed)
    span = min(len(data), within or len(data))
    offsets = sorted(generator.sample(range(span), min(count, span)))
    for offset in offsets:
        data[offset] ^= generator.randrange(1, 256)
    path.write_bytes(bytes(data))


@dataclass(frozen=True)
class Damage:
    """A way to damage a file, named for reports."""

    name: str
    keep_bytes: int | None = None  # truncate to this many bytes ...
    keep_fraction: float | None = None  # ... or to this fraction of the size
    flips: int = 0
    seed: int = 0
    within: int | None = None  # flips land in the first ``within`` bytes (the header)

    def apply(self, path: Path) -> None:
        if self.keep_bytes is not None:
            truncate(path, self.keep_bytes)
        elif self.keep_fraction is not None:
            truncate(path, int(path.stat().st_size * self.keep_fraction))
        if self.flips:
            flip_bytes(path, self.seed, self.flips, self.within)


DAMAGES = (
    Damage("cut10", keep_bytes=10),
    Damage("cut50", keep_fraction=0.5),
    Damage("cut95", keep_fraction=0.95),
    Damage("flip-head-1", flips=16, seed=1, within=4096),
    Damage("flip-head-2", flips=64, seed=2, within=4096),
    Damage("flip-all-3", flips=256, seed=3),
)


# ---------------------------------------------------------------------------- the child


def _read_level(level) -> int:
    """Read a whole series level, or the corners of its first and last planes when it is huge."""
    if level.nbytes <= WHOLE_READ_LIMIT:
        return level.to_numpy().nbytes
    first = level[0, 0, 0, :CORNER, :CORNER]
    last = level[-1, -1, -1, -CORNER:, -CORNER:]
    return first.nbytes + last.nbytes


def probe(path: str, group_files: bool = True, memoize: bool | int | None = None) -> dict:
    """Open ``path``, parse its metadata and read every level of every series; report what happened."""
    import psutil

    import bfbridge

    allowed = (bfbridge.BioFormatsError, FileNotFoundError, MemoryError)
    outcome: dict = {"status": "ok", "series": 0, "bytes": 0}
    try:
        with bfbridge.open(path, group_files=group_files, memoize=memoize) as image:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", bfbridge.MetadataWarning)
                image.ome  # noqa: B018 - parsing is part of what is probed
            image.original_metadata  # noqa: B018
            for series in image.series:
                for level in series.levels:
                    outcome["bytes"] += _read_level(level)
                outcome["series"] += 1
    except BaseException as error:  # a report, not a handler: the parent judges the type
        outcome.update(
            status="error",
            type=f"{type(error).__module__}.{type(error).__qualname__}",
            allowed=isinstance(error, allowed),
            message=str(error)[:400],
        )
    folder = os.path.realpath(os.path.dirname(path))
    outcome["left_open"] = sorted(f.path for f in psutil.Process().open_files() if f.path.startswith(folder))
    return outcome


def _emit(message: dict) -> None:
    sys.stdout.write(MARK + json.dumps(message) + "\n")
    sys.stdout.flush()


def main() -> None:
    import bfbridge

    jobs = json.loads(sys.stdin.read())
    bfbridge.jvm_info()  # start the JVM before the first file's clock starts
    _emit({"ready": True})
    for job in jobs:
        _emit({"start": job["name"]})
        _emit({"result": job["name"], **probe(job["path"], job.get("group_files", True), job.get("memoize"))})


# ---------------------------------------------------------------------------- the watchdog


def child_env(**bfbridge_settings: str) -> dict[str, str]:
    """This environment without any ``BFBRIDGE_*`` variable, plus the given ones."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("BFBRIDGE_")}
    environment.update(bfbridge_settings)
    return environment


def _lines(stream) -> Iterator[str]:
    for line in stream:
        if line.startswith(MARK):
            yield line[len(MARK) :]


def _child_messages(child: subprocess.Popen) -> queue.Queue:
    """Protocol messages from the child's stdout, then ``None`` at end of output."""
    messages: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in _lines(child.stdout):
            messages.put(json.loads(line))
        messages.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return messages


def probe_in_children(jobs: list[dict], env: dict[str, str], timeout: float, startup: float = 120) -> dict[str, dict]:
    """Probe every job in child processes; a hang or crash is recorded against the file that caused it.

    ``timeout`` bounds each file (open, metadata and every read); ``startup`` bounds a child's JVM start.
    """
    results: dict[str, dict] = {}
    pending = list(jobs)
    while pending:
        with tempfile.TemporaryFile("w+") as stderr:
            child = subprocess.Popen(
                [sys.executable, __file__], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                text=True, env=env,
            )  # fmt: skip
            child.stdin.write(json.dumps(pending))
            child.stdin.close()
            pending = _collect(child, _child_messages(child), pending, results, timeout, startup, stderr)
    return results


def _collect(child, messages, pending, results, timeout, startup, stderr) -> list[dict]:
    """Record the child's results; the jobs still to do after it exits, hangs or crashes."""
    current, wait = None, startup
    remaining = list(pending)
    while True:
        try:
            message = messages.get(timeout=wait)
        except queue.Empty:
            child.kill()
            child.wait()
            if current is None:
                raise RuntimeError(f"the probe child stalled outside any file (startup limit {startup} s)") from None
            results[current] = {"status": "hang", "message": f"no result within {timeout} s"}
            return remaining
        if message is None:
            returncode = child.wait()
            if current is None and remaining:
                stderr.seek(0)
                raise RuntimeError(f"the probe child exited ({returncode}) outside any file:\n{stderr.read()[-3000:]}")
            if current is not None:
                stderr.seek(0)
                tail = stderr.read()[-1500:]
                results[current] = {"status": "crash", "message": f"child exited with {returncode}: {tail}"}
            return remaining
        if "start" in message:
            current, wait = message["start"], timeout
            remaining = [job for job in remaining if job["name"] != current]
        elif "result" in message:
            results[message.pop("result")] = message
            current = None


def failures(results: dict[str, dict], names: Iterable[str]) -> list[str]:
    """One line per file that hanged, crashed, raised a foreign exception or left a handle open."""
    lines = []
    for name in names:
        outcome = results.get(name, {"status": "missing", "message": "never probed"})
        if outcome["status"] in ("hang", "crash", "missing"):
            lines.append(f"{name}: {outcome['status']}: {outcome['message']}")
        elif outcome["status"] == "error" and not outcome["allowed"]:
            lines.append(f"{name}: foreign exception {outcome['type']}: {outcome['message']}")
        if outcome.get("left_open"):
            lines.append(f"{name}: handles left open after close: {outcome['left_open']}")
    return lines


if __name__ == "__main__":
    main()
