"""Give every Bio-Formats ``open`` of a mounted remote file its own handle, in every thread.

``loci.common.Location`` resolves ids through a per-thread ``HashMap``, and a mapped
``IRandomAccess`` is shared by every stream opened on its id. Both break remote files:
the threads that read planes (reader pools, dask workers, ``read_timeout`` guards) do not
see a mapping made in the thread that opened the file, and readers such as CellSens (VSI)
read one file through two streams at once, which would then share one file position.

So each thread's id map becomes a ``HashMap`` subclass, ``bfbridge.RemoteIdMap``, whose
``get(id)`` asks a process-wide registry first: for a mounted id it returns a *new*
handle from that mount's opener (a Python ``java.util.function.Function``), otherwise it
behaves as a plain ``HashMap``, so Bio-Formats' own per-thread entries (the CZI reader maps
``image.czi`` while decoding) stay private to their thread. The class is also the
``Supplier`` of each thread's map, so no Python runs when a new thread first uses
``Location``. It is a dozen instructions of bytecode, written below as a class file and
loaded with a ``URLClassLoader``: a JRE cannot compile Java, and JPype cannot subclass
Java classes. Installing it replaces ``Location``'s ``ThreadLocal`` once per process; the
thread that installs it keeps its mappings, other threads start with empty maps.
"""

from __future__ import annotations

import hashlib
import os
import struct
import threading
from pathlib import Path

import jpype

CLASS_NAME = "bfbridge.RemoteIdMap"


class _ConstantPool:
    """Just enough of the JVM class-file constant pool for one small class."""

    def __init__(self) -> None:
        self._entries: list[bytes] = []
        self._index: dict[bytes, int] = {}

    def _add(self, entry: bytes) -> int:
        if entry not in self._index:
            self._entries.append(entry)
            self._index[entry] = len(self._entries)
        return self._index[entry]

    def utf8(self, text: str) -> int:
        data = text.encode()
        return self._add(struct.pack(">BH", 1, len(data)) + data)

    def klass(self, name: str) -> int:
        return self._add(struct.pack(">BH", 7, self.utf8(name)))

    def _member(self, tag: int, owner: str, name: str, descriptor: str) -> int:
        name_and_type = self._add(struct.pack(">BHH", 12, self.utf8(name), self.utf8(descriptor)))
        return self._add(struct.pack(">BHH", tag, self.klass(owner), name_and_type))

    def field(self, owner: str, name: str, descriptor: str) -> int:
        return self._member(9, owner, name, descriptor)

    def method(self, owner: str, name: str, descriptor: str) -> int:
        return self._member(10, owner, name, descriptor)

    def interface_method(self, owner: str, name: str, descriptor: str) -> int:
        return self._member(11, owner, name, descriptor)

    def __bytes__(self) -> bytes:
        return struct.pack(">H", len(self._entries) + 1) + b"".join(self._entries)


def class_bytes() -> bytes:
    """The class file (version 49, so no stack map frames are needed) of::

    public class RemoteIdMap extends java.util.HashMap implements java.util.function.Supplier {
        private final java.util.Map mounts;
        public RemoteIdMap(java.util.Map mounts) { super(); this.mounts = mounts; }
        public Object get(Object id) {
            Object opener = mounts.get(id);
            return opener != null ? ((java.util.function.Function) opener).apply(id) : super.get(id);
        }
        public Object get() { return new RemoteIdMap(mounts); }  // a fresh map for each thread
    }
    """
    pool = _ConstantPool()
    this, parent = CLASS_NAME.replace(".", "/"), "java/util/HashMap"
    supplier = pool.klass("java/util/function/Supplier")
    object_to_object = "(Ljava/lang/Object;)Ljava/lang/Object;"
    mounts = pool.field(this, "mounts", "Ljava/util/Map;")
    map_get = pool.interface_method("java/util/Map", "get", object_to_object)
    apply = pool.interface_method("java/util/function/Function", "apply", object_to_object)
    constructor = pool.method(this, "<init>", "(Ljava/util/Map;)V")
    init_code = (
        b"\x2a\xb7" + struct.pack(">H", pool.method(parent, "<init>", "()V"))  # aload_0; invokespecial super()
        + b"\x2a\x2b\xb5" + struct.pack(">H", mounts)  # aload_0; aload_1; putfield mounts
        + b"\xb1"  # return
    )  # fmt: skip
    get_code = (
        b"\x2a\xb4" + struct.pack(">H", mounts)  # aload_0; getfield mounts
        + b"\x2b\xb9" + struct.pack(">HBB", map_get, 2, 0)  # aload_1; invokeinterface Map.get
        + b"\x4d\x2c\xc6\x00\x0e"  # astore_2; aload_2; ifnull +14 (to super.get)
        + b"\x2c\xc0" + struct.pack(">H", pool.klass("java/util/function/Function"))  # aload_2; checkcast
        + b"\x2b\xb9" + struct.pack(">HBB", apply, 2, 0)  # aload_1; invokeinterface Function.apply
        + b"\xb0"  # areturn
        + b"\x2a\x2b\xb7" + struct.pack(">H", pool.method(parent, "get", object_to_object))  # super.get(id)
        + b"\xb0"  # areturn
    )  # fmt: skip
    supply_code = (
        b"\xbb" + struct.pack(">H", pool.klass(this)) + b"\x59"  # new RemoteIdMap; dup
        + b"\x2a\xb4" + struct.pack(">H", mounts)  # aload_0; getfield mounts
        + b"\xb7" + struct.pack(">H", constructor)  # invokespecial RemoteIdMap(mounts)
        + b"\xb0"  # areturn
    )  # fmt: skip
    code = pool.utf8("Code")

    def method(access: int, name: str, descriptor: str, max_stack: int, max_locals: int, body: bytes) -> bytes:
        attribute = struct.pack(">HHI", max_stack, max_locals, len(body)) + body + struct.pack(">HH", 0, 0)
        header = struct.pack(">HHHH", access, pool.utf8(name), pool.utf8(descriptor), 1)
        return header + struct.pack(">HI", code, len(attribute)) + attribute

    methods = (
        method(0x0001, "<init>", "(Ljava/util/Map;)V", 2, 2, init_code)
        + method(0x0001, "get", object_to_object, 2, 3, get_code)
        + method(0x0001, "get", "()Ljava/lang/Object;", 3, 1, supply_code)
    )
    fields = struct.pack(">HHHH", 0x0012, pool.utf8("mounts"), pool.utf8("Ljava/util/Map;"), 0)
    classes = struct.pack(">HHH", 0x0021, pool.klass(this), pool.klass(parent))
    return (
        b"\xca\xfe\xba\xbe" + struct.pack(">HH", 0, 49) + bytes(pool)
        + classes + struct.pack(">HH", 1, supplier)
        + struct.pack(">H", 1) + fields + struct.pack(">H", 3) + methods + struct.pack(">H", 0)
    )  # fmt: skip


def _load_class(classes_dir: Path):
    """Write the class file (once, atomically) and load it with its own ``URLClassLoader``."""
    data = class_bytes()
    root = classes_dir / hashlib.sha256(data).hexdigest()[:16]
    target = root / (CLASS_NAME.replace(".", "/") + ".class")
    if not target.is_file():  # the folder is named by the content's hash
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}")
        partial.write_bytes(data)
        os.replace(partial, target)
    url = jpype.JClass("java.io.File")(str(root)).toURI().toURL()
    loader = jpype.JClass("java.net.URLClassLoader")([url], jpype.JClass("java.lang.Object").class_.getClassLoader())
    return jpype.JClass(CLASS_NAME, loader=loader)


class RemoteIds:
    """The process-wide registry of mounted ids, installed into ``Location`` on first use."""

    def __init__(self, classes_dir: Path) -> None:
        self._classes_dir = classes_dir
        self._lock = threading.Lock()
        self._registry = None

    def _installed(self):
        with self._lock:
            if self._registry is None:
                self._registry = self._install()
            return self._registry

    def _install(self):
        location = jpype.JClass("loci.common.Location")
        registry = jpype.JClass("java.util.Collections").synchronizedMap(jpype.JClass("java.util.HashMap")())
        prototype = _load_class(self._classes_dir)(registry)
        own_entries = location.getIdMap()
        field = location.class_.getDeclaredField("idMap")
        field.setAccessible(True)
        field.set(None, jpype.JClass("java.lang.ThreadLocal").withInitial(prototype))
        location.getIdMap().putAll(own_entries)  # this thread keeps what it had mapped
        return registry

    def add(self, java_id: str, opener) -> None:
        """Map ``java_id`` in every thread; ``opener`` (a ``java.util.function.Function``) makes each handle."""
        self._installed().put(java_id, opener)

    def remove(self, java_id: str) -> None:
        if not jpype.isJVMStarted():  # at interpreter exit the JVM may stop first; its map went with it
            return
        self._installed().remove(java_id)
