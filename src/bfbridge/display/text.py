"""The plain ``__repr__`` of ImageFile (a few lines) and Series (one line); they never raise or read pixels."""

from __future__ import annotations

from typing import Any

from .facts import SeriesFacts, file_facts, reason, series_facts

#: Series lines an ImageFile's text repr shows before counting the rest.
SHOWN_SERIES = 5


def _series_line(facts: SeriesFacts) -> str:
    sizes = " ".join(f"{axis}={size}" for axis, size in facts.sizes.items())
    levels = len(facts.levels)
    level = f", level {facts.level} of {levels}" if levels > 1 else ""
    return f"{facts.index} {facts.name!r}: {sizes} {facts.dtype}{level}"


def series_text(series: Any) -> str:
    try:
        return f"<bfbridge.Series {_series_line(series_facts(series))}>"
    except Exception as error:
        return f"<bfbridge.Series {getattr(series, 'index', '?')} (no description: {reason(error)})>"


def image_file_text(image: Any) -> str:
    try:
        facts = file_facts(image, listed=SHOWN_SERIES)
    except Exception as error:
        return f"<bfbridge.ImageFile {getattr(image, 'path', '?')!r} (no description: {reason(error)})>"
    lines = [f"<bfbridge.ImageFile {facts.path!r} ({facts.state})>"]
    if facts.format or facts.reader:
        lines.append(f"  {facts.format} ({facts.reader}), {facts.series_count} series, memo: {facts.memo}")
    for series in facts.series:
        pixel_size = ", ".join(f"{axis} {size}" for axis, size in series.pixel_sizes)
        lines.append(f"  [{_series_line(series)}" + (f"; pixel size {pixel_size}]" if pixel_size else "]"))
    if facts.series_count > len(facts.series):
        lines.append(f"  ... and {facts.series_count - len(facts.series)} more series")
    lines.extend(f"  ({problem})" for problem in facts.problems)
    return "\n".join(lines)
