"""The ``_repr_html_`` of ImageFile, Series and ``jvm_info()``: tables and a thumbnail.

Every text that comes from a file (paths, names, channels, units) is escaped: metadata
is untrusted input. The functions never raise; a repr that cannot be built falls back
to the plain text one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from .facts import FileFacts, SeriesFacts, file_facts, human_bytes, reason, series_facts
from .thumbnail import Thumbnail, make_thumbnail

#: Up to this many series, a file's table lists them all; beyond, the first SHOWN_SERIES
#: rows show and the others fold into a <details> element.
ALL_SERIES_UP_TO = 10
SHOWN_SERIES = 5
#: The smallest width a thumbnail is drawn at (small images are scaled up, pixelated).
MIN_DISPLAY_SIDE = 128

_BOX = "display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start;font-size:0.9em"
_CELL = "text-align:left;vertical-align:top;padding:0.1em 0.6em 0.1em 0"
_SWATCH = "display:inline-block;width:0.8em;height:0.8em;border:1px solid #888;margin-right:0.25em;background:"
_MUTED = "opacity:0.75;font-size:0.9em"


def _text(value: Any) -> str:
    return escape(str(value), quote=True)


def _row(cells: Iterable[str], header: bool = False) -> str:
    tag = "th" if header else "td"
    return "<tr>" + "".join(f'<{tag} style="{_CELL}">{cell}</{tag}>' for cell in cells) + "</tr>"


def _table(rows: Iterable[Sequence[str]], header: Sequence[str] | None = None) -> str:
    head = _row(header, header=True) if header else ""
    return "<table>" + head + "".join(_row(row) for row in rows) + "</table>"


def _details(summary: str, body: str) -> str:
    return f"<details><summary>{summary}</summary>{body}</details>"


def _problems(problems: list[str]) -> str:
    return "".join(f'<div style="{_MUTED}">{_text(p)}</div>' for p in problems)


def _channels(channels: list[tuple[str, str | None]]) -> str:
    parts = []
    for label, colour in channels:
        swatch = f'<span style="{_SWATCH}{_text(colour)}"></span>' if colour else ""
        parts.append(f'<span style="white-space:nowrap">{swatch}{_text(label)}</span>')
    return ", ".join(parts)


def _figure(thumbnail: Thumbnail, alt: str) -> str:
    caption = f'<figcaption style="{_MUTED}">{_text(thumbnail.caption)}</figcaption>' if thumbnail.caption else ""
    if thumbnail.png is None:
        return f'<figure style="margin:0;max-width:20em">{caption}</figure>'
    scale = max(1.0, MIN_DISPLAY_SIDE / max(thumbnail.width, thumbnail.height))
    width, height = round(thumbnail.width * scale), round(thumbnail.height * scale)
    image = (
        f'<img src="{thumbnail.data_uri}" width="{width}" height="{height}" alt="{_text(alt)}" '
        'style="image-rendering:pixelated;max-width:none">'
    )
    return f'<figure style="margin:0">{image}{caption}</figure>'


# ---------------------------------------------------------------------------- Series


def _series_rows(facts: SeriesFacts) -> list[list[str]]:
    levels = ", ".join(
        f"<b>{x}×{y}</b>" if number == facts.level else f"{x}×{y}" for number, (y, x) in enumerate(facts.levels)
    )
    rows = [
        ["dims", _text(facts.dims_text)],
        ["dtype", _text(facts.dtype)],
        ["size", f"{human_bytes(facts.nbytes)} (dask chunks {_text(facts.chunks)})"],
        ["levels" if len(facts.levels) > 1 else "level", f"{levels} (X×Y)"],
    ]
    if facts.pixel_sizes:
        rows.append(["pixel size", _text(", ".join(f"{axis} {size}" for axis, size in facts.pixel_sizes))])
    if facts.channels:
        rows.append(["channels", _channels(facts.channels)])
    return rows


def series_html(series: Any) -> str:
    try:
        facts = series_facts(series)
        title = f"<b>bfbridge.Series</b> {facts.index}" + (f" <q>{_text(facts.name)}</q>" if facts.name else "")
        where = f'<div style="{_MUTED}">of <code>{_text(series.file.path)}</code></div>'
        table = _table(_series_rows(facts))
        figure = _figure(make_thumbnail(series), f"thumbnail of series {facts.index}")
        body = f"<div>{title}{where}{table}{_problems(facts.problems)}</div>"
        return f'<div class="bfbridge-repr" style="{_BOX}">{body}{figure}</div>'
    except Exception as error:
        return _fallback(series, error)


# ---------------------------------------------------------------------------- ImageFile

_SERIES_HEADER = ("#", "name", "dims", "dtype", "levels (X×Y)", "pixel size", "channels")


def _series_table_row(facts: SeriesFacts) -> list[str]:
    return [
        str(facts.index),
        _text(facts.name),
        _text(facts.dims_text),
        _text(facts.dtype),
        _text(facts.levels_text),
        _text(", ".join(f"{axis} {size}" for axis, size in facts.pixel_sizes)),
        _channels(facts.channels),
    ]


def _series_section(facts: FileFacts) -> str:
    rows = [_series_table_row(s) for s in facts.series]
    if facts.series_count <= ALL_SERIES_UP_TO:
        return _table(rows, _SERIES_HEADER)
    shown, folded = rows[:SHOWN_SERIES], rows[SHOWN_SERIES:]
    unlisted = facts.series_count - len(facts.series)
    more = f'<div style="{_MUTED}">{unlisted} more series not listed: see .series[i]</div>' if unlisted else ""
    summary = f"{facts.series_count - SHOWN_SERIES} more series"
    return _table(shown, _SERIES_HEADER) + _details(summary, _table(folded, _SERIES_HEADER) + more)


def _file_rows(facts: FileFacts) -> list[list[str]]:
    rows = []
    if facts.format or facts.reader:
        rows.append(["format", f"{_text(facts.format)} ({_text(facts.reader)})"])
    if facts.memo:
        rows.append(["memo", _text(facts.memo)])
    if facts.used_file_count > 1:
        listed = "".join(f"<li><code>{_text(p)}</code></li>" for p in facts.used_files)
        unlisted = facts.used_file_count - len(facts.used_files)
        listed += f"<li>... and {unlisted} more</li>" if unlisted else ""
        rows.append(["files", _details(f"{facts.used_file_count} files", f"<ul>{listed}</ul>")])
    rows.append(["series", str(facts.series_count)])
    return rows


def image_file_html(image: Any) -> str:
    try:
        facts = file_facts(image)
        title = f"<b>bfbridge.ImageFile</b> <code>{_text(facts.path)}</code> ({_text(facts.state)})"
        body = title + _table(_file_rows(facts)) + _problems(facts.problems)
        if facts.series:
            body += _series_section(facts)
        figure = ""
        if facts.series:
            figure = _figure(make_thumbnail(image.series[0]), "thumbnail of series 0")
            figure = f'<div><div style="{_MUTED}">series 0</div>{figure}</div>'
        return f'<div class="bfbridge-repr" style="{_BOX}"><div>{body}</div>{figure}</div>'
    except Exception as error:
        return _fallback(image, error)


# ---------------------------------------------------------------------------- jvm_info()

_BYTES = ("max_heap_bytes", "heap_used_bytes")
_ADVICE = (
    "The heap is fixed while this process runs. To change it, restart the kernel and call "
    'bfbridge.configure(max_heap="...") before the first read, or set BFBRIDGE_MAX_HEAP.'
)


def jvm_info_html(info: dict[str, Any]) -> str:
    try:
        rows = []
        for key, value in info.items():
            if key in _BYTES:
                cell = f"{human_bytes(value)} ({value:,} bytes)"
            elif isinstance(value, (list, tuple)):
                items = "".join(f"<li><code>{_text(item)}</code></li>" for item in value)
                cell = _details(f"{len(value)} entries", f"<ul>{items}</ul>") if value else "none"
            else:
                cell = _text(value)
            rows.append([f"<code>{_text(key)}</code>", cell])
        title = f"<b>bfbridge JVM</b>: Java {_text(info.get('java_version', '?'))}, heap {_text(info.get('max_heap'))}"
        return f'<div class="bfbridge-repr">{title}{_table(rows)}<div style="{_MUTED}">{_text(_ADVICE)}</div></div>'
    except Exception as error:
        return f"<pre>{_text(repr(dict(info)))}\n(no table: {_text(reason(error))})</pre>"


def _fallback(item: Any, error: Exception) -> str:
    try:
        text = repr(item)
    except Exception:
        text = f"<{type(item).__name__}>"
    return f'<pre>{_text(text)}</pre><div style="{_MUTED}">(no HTML view: {_text(reason(error))})</div>'
