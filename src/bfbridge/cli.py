"""The ``bfbridge`` command.

Exit codes: 0 on success, 1 on an error (one line on stderr; ``--debug`` shows the
traceback), 2 on a usage error (bad arguments or option values, found before the JVM
starts), 130 on Ctrl-C and 143 on SIGTERM (both remove partial conversion output).
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import __version__, config, jars, jvm
from .errors import BioFormatsError

log = logging.getLogger("bfbridge.cli")

DESCRIPTION = "Inspect any file Bio-Formats reads, convert it to OME-Zarr or OME-TIFF, or serve it as OME-Zarr."
EPILOG = (
    "exit codes: 0 success, 1 error (one line; --debug shows the traceback), 2 usage error, 130 Ctrl-C, 143 SIGTERM"
)
#: Errors users cause (bad paths, unreadable files): their message alone says what to do.
USER_ERRORS = (BioFormatsError, OSError, ValueError)
#: Where ``bfbridge serve`` listens by default: this machine only.
SERVE_HOST, SERVE_PORT = "127.0.0.1", 8000


# ---------------------------------------------------------------------------- info / ome


def _quantity(q) -> list | None:
    return None if q is None else [q.value, q.unit]


def describe(image) -> dict[str, Any]:
    """A JSON-friendly summary of an open file (what ``bfbridge info --json`` prints)."""
    series = []
    for s in image.series:
        series.append(
            {
                "index": s.index,
                "name": s.name,
                "shape": list(s.shape),
                "dims": s.dims,
                "dtype": s.dtype.name,
                "levels": [[lvl.shape[3], lvl.shape[4]] for lvl in s.levels],
                "physical_size": {axis: _quantity(q) for axis, q in s.physical_size.items()},
                "channel_names": list(s.channel_names),
                "dimension_order": s.dimension_order,
                "rgb_samples": s.samples,
                "modulo": s.modulo,
            }
        )
    return {"path": image.path, "format": image.format, "reader": image.reader, "series": series}


def _print_info(summary: dict[str, Any]) -> None:
    print(f"{summary['path']}")
    print(f"  format: {summary['format']} ({summary['reader']}), {len(summary['series'])} series")
    for s in summary["series"]:
        shape = " × ".join(f"{d}={n}" for d, n in zip(s["dims"], s["shape"], strict=True))
        print(f"  [{s['index']}] {s['name'] or '(unnamed)'}: {shape} {s['dtype']}")
        if len(s["levels"]) > 1:
            print(f"      levels: {', '.join(f'{y}×{x}' for y, x in s['levels'])}")
        if s["physical_size"]:
            sizes = ", ".join(f"{a}={v[0]:.6g} {v[1]}" for a, v in s["physical_size"].items() if v)
            print(f"      pixel size: {sizes}")
        if any(s["channel_names"]):
            print(f"      channels: {', '.join(n or '?' for n in s['channel_names'])}")


def _open_options(args) -> dict[str, Any]:
    return {"group_files": not args.no_group_files}


def cmd_info(args) -> int:
    from . import open as open_image

    with open_image(args.path, **_open_options(args)) as image:
        summary = describe(image)
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        _print_info(summary)
    return 0


def cmd_ome(args) -> int:
    from . import open as open_image

    with open_image(args.path, **_open_options(args)) as image:
        print(image.ome_xml)
    return 0


# ---------------------------------------------------------------------------- demo

DEMO_ID = (
    "bfbridge-demo&sizeX=512&sizeY=384&sizeZ=6&sizeC=2&sizeT=3&pixelType=uint16&resolutions=3"
    "&physicalSizeX=0.5&physicalSizeY=0.5&physicalSizeZ=2.fake"
)


def cmd_demo(args) -> int:
    """Open a generated image (Bio-Formats' fake format), read it three ways, summarise."""
    import numpy as np

    from . import open as open_image

    print(f"Opening a generated image (no data needed): {DEMO_ID}\n")
    with open_image(DEMO_ID) as image:
        _print_info(describe(image))
        series = image.series[0]
        plane = series[0, 1, 3]
        print(f"\nOne plane  s[0, 1, 3]         -> {plane.shape} {plane.dtype}, mean {plane.mean():.1f}")
        stack = series.to_dask()
        print(f"Lazy dask  s.to_dask()        -> {stack.shape}, {stack.npartitions} chunks of {stack.chunksize}")
        projection = stack.max(axis=2).compute()
        print(f"Max over Z (computed by dask) -> {projection.shape}, max {int(projection.max())}")
        xarr = series.to_xarray()
        print(f"xarray     s.to_xarray()      -> dims {xarr.dims}, X spacing {float(xarr.X[1] - xarr.X[0])} µm")
        full = series.to_numpy()
        assert np.array_equal(full[0, 1, 3], plane)
        print(f"Full read  s.to_numpy()       -> {full.shape}, {full.nbytes / 1e6:.1f} MB, equals the plane read")
        converter = _demo_convert(image, args)
    if converter is not None:
        print(converter)
    return 0


def _demo_convert(image, args) -> str | None:
    """Convert the demo image when the converter is available."""
    try:
        from .convert import convert
    except ImportError:
        return None
    out_dir = Path(args.output) if args.output else Path(tempfile.mkdtemp(prefix="bfbridge-demo-"))
    target = out_dir / "demo.ome.zarr"
    convert(image.path, target, overwrite=True, progress=False)
    return f"Converted to OME-Zarr         -> {target}"


# ---------------------------------------------------------------------------- convert


def _convert_options(args) -> dict[str, Any]:
    """The options of :func:`bfbridge.convert` that ``options.resolve`` checks, from the flags."""
    from .convert import options

    return {
        "ngff_version": args.ngff_version or options.NGFF_VERSIONS[0],
        "compression": args.compression,
        "compression_level": args.compression_level,
        "chunks": args.chunks,
        "levels": args.levels,
        "downsample_method": args.downsample_method,
        "series": args.series,
        "max_workers": args.max_workers,
    }


def check_convert(args) -> None:
    """Raise ValueError for a bad option value now, before the JVM starts, rather than mid-way."""
    from .convert import options

    target = Path(args.dst).expanduser().absolute()
    if args.ngff_version is not None and options.output_format(target) != options.ZARR:
        raise ValueError(f"--ngff-version applies to OME-Zarr output (*.ome.zarr), not {target.name!r}")
    options.resolve(target, **_convert_options(args))


def cmd_convert(args) -> int:
    """Convert a file to OME-Zarr or OME-TIFF (the format follows the output's suffix)."""
    from .convert import convert
    from .convert.safe import OutputExistsError

    try:
        target = convert(
            args.src,
            args.dst,
            **_convert_options(args),
            overwrite=args.overwrite,
            progress=not args.no_progress,
            group_files=not args.no_group_files,
        )
    except OutputExistsError as error:  # the library's advice names overwrite=True
        advice = "the output exists; pass --overwrite to replace it"
        raise FileExistsError(error.errno, advice, error.filename) from None
    print(f"wrote {target}")
    return 0


# ---------------------------------------------------------------------------- serve


def cmd_serve(args) -> int:
    """Serve a file as OME-Zarr over HTTP until Ctrl-C or SIGTERM (exit codes 130 / 143)."""
    from . import open as open_image
    from .virtual_zarr import server

    with open_image(args.path, **_open_options(args)) as image:
        store = image.to_zarr_store(compression=args.compression)
        store.hierarchy.get("zarr.json")  # the layout is sound before anyone connects
        with store, server.StoreServer(store, args.host, args.port) as httpd:
            server.announce(httpd, image.path, len(store.hierarchy.images))
            httpd.serve_forever()
    return 0


# ---------------------------------------------------------------------------- jars


def cmd_jars(args) -> int:
    settings = config.resolve()
    action = args.action
    if action == "fetch":
        provisioned = jars.provision(settings)
        for source, outcome in provisioned.attempts:
            print(f"  {source}: {outcome}")
        print(f"Bio-Formats jars ready from {provisioned.source}:")
        for path in provisioned.jars:
            print(f"  {path}")
        return 0
    if action == "lock":
        lock = jars.lock_maven(settings, Path(args.output), root=args.root)
        print(f"wrote {args.output}: {len(lock.maven_jars)} Maven jars for {lock.maven_root}, all with sha256")
        return 0
    report = jars.status(settings)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"lock file:   {report['lock_file']} (Bio-Formats {report['bioformats']})")
    print(f"jar cache:   {report['cache_dir']}")
    print(f"offline:     {report['offline']}")
    if report["explicit_jars"]:
        print(f"explicit:    {', '.join(report['explicit_jars'])} (BFBRIDGE_JARS; provisioning skipped)")
    for source, entries in report["sources"].items():
        states: dict[str, int] = {}
        for entry in entries:
            states[entry["cached"]] = states.get(entry["cached"], 0) + 1
        summary = ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
        print(f"{source + ':':12} {len(entries)} jar(s): {summary}")
        if args.verbose:
            for entry in entries:
                print(f"    {entry['coordinate'] or entry['name']}: {entry['cached']}")
    return 0


# ---------------------------------------------------------------------------- formats / version


def cmd_formats(args) -> int:
    from .reader import supported_formats

    formats = supported_formats()
    if args.json:
        print(json.dumps(formats, indent=2))
    else:
        for entry in formats:
            print(f"{entry['format']:45} {entry['reader']:28} {', '.join(entry['suffixes'])}")
        print(f"\n{len(formats)} readers")
    return 0


def _version_text() -> str:
    try:
        info = jvm.jvm_info()
        return (
            f"bfbridge {__version__}\nBio-Formats {info['bioformats_version']} (jars from {info['jar_source']})\n"
            f"Java {info['java_version']} ({info['java_vendor']}, {info['java_home']})"
        )
    except BioFormatsError as error:
        return f"bfbridge {__version__}\nBio-Formats/Java unavailable: {error}"


def cmd_version(args) -> int:
    print(_version_text())
    return 0


# ---------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bfbridge", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action="store_true", help="show bfbridge, Bio-Formats and Java versions")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and Java debug logging")
    parser.add_argument("--max-heap", help="JVM max heap, e.g. 8g (same as BFBRIDGE_MAX_HEAP)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    info = commands.add_parser("info", help="show the format, series, shapes and metadata of a file")
    info.add_argument("path")
    info.add_argument("--json", action="store_true", help="machine-readable output")
    info.add_argument("--no-group-files", action="store_true", help="do not group companion files")
    info.set_defaults(run=cmd_info)

    ome = commands.add_parser("ome", help="print the OME-XML metadata of a file")
    ome.add_argument("path")
    ome.add_argument("--no-group-files", action="store_true", help="do not group companion files")
    ome.set_defaults(run=cmd_ome)

    demo = commands.add_parser("demo", help="show the main job on a generated image (no data needed)")
    demo.add_argument("--output", help="folder for the converted demo output (default: a temp folder)")
    demo.set_defaults(run=cmd_demo)

    from .convert import options as convert_options

    conv = commands.add_parser(
        "convert",
        help="convert a file to OME-Zarr (*.ome.zarr) or OME-TIFF (*.ome.tif, *.ome.tiff)",
        description="Convert SRC to DST; the format follows DST's suffix: .ome.zarr (or .zarr) for OME-Zarr, "
        ".ome.tif or .ome.tiff for OME-TIFF.",
        epilog=EPILOG,
    )
    conv.add_argument("src", help="input file, or a Bio-Formats .fake id")
    conv.add_argument(
        "dst", help="output: NAME.ome.zarr (or NAME.zarr), NAME.ome.tif or NAME.ome.tiff (must not exist)"
    )
    conv.add_argument(
        "--ngff-version",
        choices=convert_options.NGFF_VERSIONS,
        help="OME-Zarr only: 0.5 (zarr v3, the default) or 0.4 (zarr v2)",
    )
    conv.add_argument(
        "--compression",
        help=f"OME-Zarr: {', '.join(convert_options.ZARR_COMPRESSIONS)}; "
        f"OME-TIFF: {', '.join(convert_options.TIFF_COMPRESSIONS)} (first is the default)",
    )
    ranges = "; ".join(f"{name} {b[0]} to {b[1]}" for name, b in convert_options.COMPRESSION_LEVELS.items() if b)
    conv.add_argument("--compression-level", type=int, help=f"codec level ({ranges}; default: the codec's usual one)")
    conv.add_argument(
        "--chunks",
        type=convert_options.parse_sizes,
        help="Y,X or T,C,Z,Y,X Zarr chunk, or Y,X TIFF tile (default 1024,1024)",
    )
    conv.add_argument("--levels", type=int, help="resolution levels (default: the source's, or until one fits a chunk)")
    conv.add_argument(
        "--downsample-method", choices=convert_options.DOWNSAMPLE_METHODS, default="mean", help="how levels are made"
    )
    conv.add_argument("--series", type=convert_options.parse_sizes, help="series to convert, e.g. 0,2 (default: all)")
    conv.add_argument("--overwrite", action="store_true", help="replace DST (once the new output is complete)")
    conv.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    conv.add_argument("--max-workers", type=int, help="blocks read and written at once (default: CPU count)")
    conv.add_argument("--no-group-files", action="store_true", help="do not group companion files")
    conv.set_defaults(run=cmd_convert, check=check_convert, command_parser=conv)

    serve = commands.add_parser(
        "serve",
        help="serve a file as OME-Zarr over HTTP for browser viewers (vizarr, neuroglancer), converting nothing",
        epilog=EPILOG,
    )
    serve.add_argument("path", help="input file, or a Bio-Formats .fake id")
    serve.add_argument("--port", type=int, default=SERVE_PORT, help="TCP port (0: any free port)")
    serve.add_argument("--host", default=SERVE_HOST, help="address to bind (default 127.0.0.1: this machine only)")
    serve.add_argument(
        "--compression",
        choices=convert_options.ZARR_COMPRESSIONS,
        default="none",
        help="chunk codec (default none: fastest on a local network)",
    )
    serve.add_argument("--no-group-files", action="store_true", help="do not group companion files")
    serve.set_defaults(run=cmd_serve)

    jar = commands.add_parser("jars", help="show, fetch or lock the Bio-Formats jars")
    jar.add_argument("action", nargs="?", choices=("status", "fetch", "lock"), default="status")
    jar.add_argument("--json", action="store_true", help="status as JSON")
    jar.add_argument("-v", "--verbose", action="store_true", help="list every jar")
    jar.add_argument("--output", default="jars.lock", help="lock file to write (lock)")
    jar.add_argument("--root", help="Maven coordinate to resolve (lock); default from jars.lock")
    jar.set_defaults(run=cmd_jars)

    formats = commands.add_parser("formats", help="list every Bio-Formats reader and its suffixes")
    formats.add_argument("--json", action="store_true")
    formats.set_defaults(run=cmd_formats)

    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every cleanup (partial output included) runs."""


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM (what batch schedulers send at wall time) into :class:`Terminated` while running."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread gets signals
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _check_usage(args) -> None:
    """Run the command's option checks before any work: a bad value is a usage error (exit 2)."""
    check = getattr(args, "check", None)
    if check is None:
        return
    try:
        check(args)
    except ValueError as error:
        args.command_parser.error(str(error))


def _one_line(error: Exception) -> str:
    """The error on one line; an unexpected type is named, with the way to see more."""
    text = "; ".join(line.strip(" -") for line in str(error).strip().splitlines() if line.strip())
    if isinstance(error, USER_ERRORS):
        return text or type(error).__name__
    return f"{type(error).__name__}: {text or '(no message)'} (rerun with --debug for the traceback)"


def _run(parser: argparse.ArgumentParser, args) -> int:
    """Run the command; every way it can end becomes an exit code and at most one line on stderr."""
    try:
        if args.max_heap:
            config.configure(max_heap=args.max_heap)
        if args.debug:
            config.configure(log_level="DEBUG")
        if args.version:
            return cmd_version(args)
        if not getattr(args, "run", None):
            parser.print_help()
            return 2
        return args.run(args)
    except Terminated:
        print("bfbridge: terminated (SIGTERM)", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        print("bfbridge: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if args.debug:
            raise
        print(f"bfbridge: error: {_one_line(error)}", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _check_usage(args)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    with _sigterm_as_interrupt():
        return _run(parser, args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
