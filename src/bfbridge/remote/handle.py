"""A Java ``loci.common.IRandomAccess`` over one fsspec file, with a shared block cache.

Bio-Formats parses headers with many tiny reads (a TIFF IFD is read a few bytes at a
time). Each miss fetches whole small blocks, and a handle that reads sequentially fetches
ahead as much as it has just read in a row, so header parsing and strip-by-strip pixel
reads cost a handful of range requests while a random read still fetches little more
than Bio-Formats asked for. Very large reads bypass the cache and fetch exactly the
requested range.
"""

from __future__ import annotations

import struct
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import jpype

T = TypeVar("T")

#: Granularity of cached fetches: small enough that an IFD read pulls in little else.
BLOCK_SIZE = 8 << 10
#: The most that sequential reading fetches beyond what was asked for.
MAX_READ_AHEAD = 1 << 20
#: Reads at least this large go straight to the filesystem, uncached (they would flush the cache).
DIRECT_READ = 8 << 20
#: Bytes of blocks kept per process, shared by every open remote file.
CACHE_BYTES = 64 << 20


class BlockCache:
    """A thread-safe LRU of fetched blocks keyed by (file key, block number)."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._blocks: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[str, int]) -> bytes | None:
        with self._lock:
            block = self._blocks.get(key)
            if block is not None:
                self._blocks.move_to_end(key)
            return block

    def put(self, key: tuple[str, int], block: bytes) -> None:
        with self._lock:
            old = self._blocks.pop(key, None)
            self._size += len(block) - (len(old) if old is not None else 0)
            self._blocks[key] = block
            while self._size > self._capacity and self._blocks:
                _, evicted = self._blocks.popitem(last=False)
                self._size -= len(evicted)

    def clear(self) -> None:
        """Forget every block, e.g. to measure cold reads."""
        with self._lock:
            self._blocks.clear()
            self._size = 0


CACHE = BlockCache(CACHE_BYTES)


class RemoteBlob:
    """The bytes of one remote file, fetched as ranges through :data:`CACHE`.

    ``key`` identifies the file's content (URL, options, size and version), so that
    mounts of the same URL share fetched blocks.
    """

    def __init__(self, fs, path: str, key: str, size: int | None = None) -> None:
        self.fs = fs
        self.path = path
        self.key = key
        self._size = size
        self.closed = False

    def close(self) -> None:
        """Called when the mount closes: handles still held by Java then fail instead of reading."""
        self.closed = True

    @property
    def size(self) -> int:
        if self._size is None:
            self._size = int(self.fs.size(self.path))
        return self._size

    @property
    def known_size(self) -> int | None:
        """The size if already known (a cheap check for the many ``length()`` calls)."""
        return self._size

    def read(self, offset: int, length: int, read_ahead: int = 0) -> bytes:
        """Up to ``length`` bytes at ``offset`` (fewer at the end of the file)."""
        end = min(offset + length, self.size)
        if end <= offset:
            return b""
        if end - offset >= DIRECT_READ:
            return self._fetch(offset, end)
        first, last = offset // BLOCK_SIZE, (end - 1) // BLOCK_SIZE
        skip = offset - first * BLOCK_SIZE
        if first == last:  # the common case: a small read inside one cached block
            block = CACHE.get((self.key, first))
            if block is not None:
                return block[skip : skip + end - offset]
        blocks = {n: CACHE.get((self.key, n)) for n in range(first, last + 1)}
        for start, stop in _missing_runs(blocks):
            fetched = self._fetch_blocks(start, stop + _blocks_for(read_ahead))
            for n in range(start, stop):
                blocks[n] = fetched[n - start] if n - start < len(fetched) else self._block(n)
        data = b"".join(blocks[n] for n in range(first, last + 1))
        return data[skip : skip + end - offset]

    def _block(self, n: int) -> bytes:
        return CACHE.get((self.key, n)) or self._fetch_blocks(n, n + 1)[0]

    def _fetch_blocks(self, start: int, stop: int) -> list[bytes]:
        """Fetch blocks [start, stop) in one request (stopping at a cached block) and cache them."""
        stop = min(stop, -(-self.size // BLOCK_SIZE))
        for n in range(start + 1, stop):
            if CACHE.get((self.key, n)) is not None:
                stop = n
                break
        data = self._fetch(start * BLOCK_SIZE, min(stop * BLOCK_SIZE, self.size))
        blocks = [data[i : i + BLOCK_SIZE] for i in range(0, len(data), BLOCK_SIZE)]
        for n, block in enumerate(blocks, start):
            CACHE.put((self.key, n), block)
        return blocks

    def _fetch(self, start: int, end: int) -> bytes:
        data = self.fs.cat_file(self.path, start=start, end=end)
        if len(data) != end - start:
            raise OSError(f"asked for bytes {start}-{end} of {self.path}, got {len(data)} bytes")
        return data


def _missing_runs(blocks: dict[int, bytes | None]) -> Iterator[tuple[int, int]]:
    """Consecutive block numbers whose value is None, as [start, stop) runs."""
    start = None
    for n in sorted(blocks):
        if blocks[n] is None and start is None:
            start = n
        elif blocks[n] is not None and start is not None:
            yield start, n
            start = None
    if start is not None:
        yield start, max(blocks) + 1


def _blocks_for(size: int) -> int:
    return -(-size // BLOCK_SIZE)


def _java(name: str):
    return jpype.JClass(name)


def _java_io(blob: RemoteBlob, function: Callable[..., T], *args) -> T:
    """``function(*args)``, with Python I/O failures (network, permissions) raised as ``java.io.IOException``."""
    try:
        return function(*args)
    except jpype.JException:
        raise
    except Exception as error:
        raise _java("java.io.IOException")(f"reading {blob.path}: {type(error).__name__}: {error}") from None


_STRUCT = {"h": 2, "H": 2, "i": 4, "q": 8, "f": 4, "d": 8}


@jpype.JImplements("loci.common.IRandomAccess", deferred=True)
class RemoteHandle:
    """A read-only ``IRandomAccess`` with its own position and byte order over a :class:`RemoteBlob`.

    Mirrors ``loci.common.NIOFileHandle``: short reads at the end of the file are not
    errors, while the fixed-size ``readInt``-style reads raise ``EOFException``. Each
    Bio-Formats stream gets its own handle; ``close()`` has nothing to release because
    the blob, shared by the handles of one mount, is closed with the mount.
    """

    def __init__(self, blob: RemoteBlob) -> None:
        self._blob = blob
        self._position = 0
        self._little = False
        self._streak_end = -1
        self._streak = 0

    def _read(self, length: int) -> bytes:
        if self._blob.closed:
            raise _java("java.io.IOException")(f"{self._blob.path} was closed")
        position = self._position
        # read ahead as far as this handle has just read sequentially (up to a limit)
        self._streak = self._streak + length if position == self._streak_end else 0
        data = _java_io(self._blob, self._blob.read, position, length, min(self._streak, MAX_READ_AHEAD))
        self._position = position + len(data)
        self._streak_end = self._position
        return data

    def _read_exactly(self, length: int) -> bytes:
        start = self._position
        data = self._read(length)
        if len(data) < length:
            self._position = start + length  # as NIOFileHandle: the position moves on regardless
            raise _java("java.io.EOFException")(f"end of {self._blob.path} reached")
        return data

    def _unpack(self, code: str) -> Any:
        return struct.unpack(("<" if self._little else ">") + code, self._read_exactly(_STRUCT[code]))[0]

    # ---------------------------------------------------------------- IRandomAccess

    @jpype.JOverride
    def close(self) -> None:
        pass

    @jpype.JOverride
    def getFilePointer(self) -> int:
        return self._position

    @jpype.JOverride
    def exists(self) -> bool:
        return not self._blob.closed

    @jpype.JOverride
    def length(self) -> int:
        return self._blob.known_size or _java_io(self._blob, lambda: self._blob.size)

    @jpype.JOverride
    def getOrder(self):
        order = _java("java.nio.ByteOrder")
        return order.LITTLE_ENDIAN if self._little else order.BIG_ENDIAN

    @jpype.JOverride
    def setOrder(self, order) -> None:
        self._little = order is not None and order.equals(_java("java.nio.ByteOrder").LITTLE_ENDIAN)

    @jpype.JOverride
    def read(self, target, offset=None, length=None) -> int:
        """``read(byte[] [, off, len])`` or ``read(ByteBuffer [, off, len])``; -1 past the end."""
        is_array = isinstance(target, jpype.JArray)
        if offset is None:
            offset, length = 0, len(target) if is_array else int(target.capacity())
        if self._position > self.length():
            return -1
        data = self._read(length)
        if is_array:
            target[offset : offset + len(data)] = data
        else:
            target.position(offset)
            target.put(jpype.JArray(jpype.JByte)(data), 0, len(data))
        return len(data)

    @jpype.JOverride
    def seek(self, position: int) -> None:
        self._position = int(position)

    @jpype.JOverride
    def skipBytes(self, count: int) -> int:
        if count < 1:
            return 0
        before = self._position
        self._position += min(int(count), self.length())
        return self._position - before

    # ---------------------------------------------------------------- DataInput

    @jpype.JOverride
    def readFully(self, target, offset=None, length=None) -> None:
        self.read(target, offset, length)

    @jpype.JOverride
    def readBoolean(self) -> bool:
        return self._read_exactly(1)[0] == 1

    @jpype.JOverride
    def readByte(self) -> int:
        return struct.unpack("b", self._read_exactly(1))[0]

    @jpype.JOverride
    def readUnsignedByte(self) -> int:
        return self._read_exactly(1)[0]

    @jpype.JOverride
    def readShort(self) -> int:
        return self._unpack("h")

    @jpype.JOverride
    def readUnsignedShort(self) -> int:
        return self._unpack("H")

    @jpype.JOverride
    def readChar(self) -> str:
        return chr(self._unpack("H"))

    @jpype.JOverride
    def readInt(self) -> int:
        return self._unpack("i")

    @jpype.JOverride
    def readLong(self) -> int:
        return self._unpack("q")

    @jpype.JOverride
    def readFloat(self) -> float:
        return self._unpack("f")

    @jpype.JOverride
    def readDouble(self) -> float:
        return self._unpack("d")

    @jpype.JOverride
    def readLine(self) -> str | None:
        """``RandomAccessFile.readLine``: bytes as Latin-1 up to ``\\n``, ``\\r`` or ``\\r\\n``."""
        line = bytearray()
        while True:
            byte = self._read(1)
            if not byte:
                return line.decode("latin-1") if line else None
            if byte == b"\n":
                break
            if byte == b"\r":
                if self._read(1) not in (b"\n", b""):
                    self._position -= 1
                break
            line += byte
        return line.decode("latin-1")

    @jpype.JOverride
    def readUTF(self) -> str:
        size = struct.unpack(">H", self._read_exactly(2))[0]
        encoded = self._read_exactly(size)
        stream = _java("java.io.DataInputStream")(
            _java("java.io.ByteArrayInputStream")(jpype.JArray(jpype.JByte)(struct.pack(">H", size) + encoded))
        )
        return str(stream.readUTF())

    # ---------------------------------------------------------------- DataOutput: read-only

    def _read_only(self, *args) -> None:
        raise _java("java.io.IOException")(f"{self._blob.path} is read-only (a remote file)")

    write = jpype.JOverride(_read_only)
    writeBoolean = writeByte = writeShort = writeChar = writeInt = write
    writeLong = writeFloat = writeDouble = writeBytes = writeChars = writeUTF = write
