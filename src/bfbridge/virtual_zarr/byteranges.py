"""Byte ranges of a value, as zarr asks for them and as HTTP ``Range`` headers give them."""

from __future__ import annotations

import re

from zarr.abc.store import ByteRequest, OffsetByteRequest, RangeByteRequest, SuffixByteRequest

_HEADER = re.compile(r"^bytes=(\d*)-(\d*)$")


def span(size: int, request: ByteRequest | None) -> tuple[int, int]:
    """[start, stop) of ``request`` within a value of ``size`` bytes, clipped to it (maybe empty)."""
    if request is None:
        return 0, size
    if isinstance(request, RangeByteRequest):
        start, stop = request.start, request.end
    elif isinstance(request, OffsetByteRequest):
        start, stop = request.offset, size
    elif isinstance(request, SuffixByteRequest):
        start, stop = size - request.suffix, size
    else:
        raise TypeError(f"unknown byte range request {request!r}")
    return min(max(start, 0), size), min(max(stop, 0), size)


def from_header(header: str) -> ByteRequest | None:
    """One ``bytes=first-last``, ``bytes=first-`` or ``bytes=-suffix`` range; None if not that form."""
    match = _HEADER.match(header.strip())
    if match is None or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":
        return SuffixByteRequest(int(last))
    if last == "":
        return OffsetByteRequest(int(first))
    if int(last) < int(first):
        return None
    return RangeByteRequest(int(first), int(last) + 1)


def satisfiable(size: int, request: ByteRequest) -> bool:
    """Whether an HTTP range selects any byte (RFC 9110: it must start before the end; a suffix must be > 0)."""
    if isinstance(request, SuffixByteRequest):
        return request.suffix > 0 and size > 0
    start = request.start if isinstance(request, RangeByteRequest) else request.offset
    return start < size
