"""Java objects called the way python-bioformats' javabridge wrappers were called, on JPype.

python-bioformats wraps each Java object in a Python class whose ``o`` attribute is the
Java object, and passes wrappers, numpy buffers and Python values as arguments.
:class:`JavaObject` keeps that shape: ``o`` is the JPype object, any Java method can be
called on the wrapper, arguments are converted with :func:`to_java` and results with
:func:`to_python` (strings, numbers, booleans, numpy arrays for primitive arrays --
``openBytes`` gives a 1-D ``uint8`` array as javabridge did -- and dicts for metadata
tables). Java exceptions become bfbridge's errors (``FileNotFoundError``, ``OSError``-
compatible :class:`~._errors.FormatError`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import jpype
import numpy as np

from ... import jvm, metadata
from ._errors import java_call

#: JPype primitive types for numpy kinds and item sizes (unsigned data keeps its bits).
_PRIMITIVES = {
    ("i", 1): "JByte", ("u", 1): "JByte", ("b", 1): "JByte",
    ("i", 2): "JShort", ("u", 2): "JShort",
    ("i", 4): "JInt", ("u", 4): "JInt",
    ("i", 8): "JLong", ("u", 8): "JLong",
    ("f", 4): "JFloat", ("f", 8): "JDouble",
}  # fmt: skip


def java_class(name: str) -> Any:
    """The Java class ``loci.formats.ImageReader`` (javabridge's ``loci/formats/ImageReader`` works too)."""
    jvm.ensure_started()
    with java_call(action=f"loading the Java class {name} for"):
        return jpype.JClass(name.replace("/", "."))


def omexml_service() -> Any:
    """Bio-Formats' ``OMEXMLService``, which turns OME-XML text into metadata objects and back."""
    factory = java_class("loci.common.services.ServiceFactory")
    return factory().getInstance(java_class("loci.formats.services.OMEXMLService"))


def java_bytes(buffer: Any) -> Any:
    """A Java ``byte[]`` holding the bytes of a numpy array, ``bytes`` or other buffer (C order)."""
    if isinstance(buffer, jpype.JArray):
        return buffer
    jvm.ensure_started()
    data = np.ascontiguousarray(buffer)
    return jpype.JArray(jpype.JByte)(data.reshape(-1).view(np.int8))


def to_java(value: Any) -> Any:
    """A Python argument as Java wants it: wrappers give their ``o``, numpy arrays become primitive arrays."""
    if isinstance(value, (jpype.JObject, jpype.JArray)) or value is None:
        return value
    if hasattr(value, "o"):  # python-bioformats' convention for a wrapped Java object
        return value.o
    if isinstance(value, (bytes, bytearray, memoryview)):
        return java_bytes(np.frombuffer(value, np.uint8))
    if isinstance(value, np.ndarray):
        dtype = value.dtype
        primitive = _PRIMITIVES.get((dtype.kind, dtype.itemsize))
        if primitive is None:
            raise TypeError(f"cannot pass a numpy {dtype} array to Java")
        flat = np.ascontiguousarray(value, dtype.newbyteorder("=")).reshape(-1)
        signed = flat.view(f"i{dtype.itemsize}") if dtype.kind in "ub" else flat
        jvm.ensure_started()
        return jpype.JArray(getattr(jpype, primitive))(signed)
    return value


def to_python(value: Any) -> Any:
    """A value returned by a Java method as a plain Python or numpy value; other objects stay Java objects."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, jpype.JArray):
        component = value.getClass().getComponentType()
        if component.isPrimitive():
            array = np.array(value)
            return array.view(np.uint8) if array.dtype == np.int8 else array
        items = [to_python(item) for item in value]
        return np.stack(items) if component.isArray() and items else items
    if isinstance(value, jpype.JClass("java.lang.Boolean")):  # JPype's boxed Boolean is also an int
        return bool(value.booleanValue())
    if isinstance(value, jpype.JClass("java.util.Map")):
        return metadata.hashtable_to_dict(value)
    if isinstance(value, jpype.JString):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, jpype.JClass("ome.xml.model.primitives.PrimitiveType")):
        return to_python(value.getValue())  # PositiveInteger, NonNegativeInteger, PercentFraction, ...
    if isinstance(value, jpype.JClass("ome.xml.model.enums.Enumeration")):
        return str(value.getValue())  # PixelType, DimensionOrder, ...: their OME-XML text
    return value


def invoke(method: Callable[..., Any], name: str, args: tuple, path: str | None = None) -> Any:
    """``method(*args)`` with python-bioformats' conversions, Java exceptions translated."""
    with java_call(path, f"calling {name} on" if path else f"calling {name}"):
        return to_python(method(*(to_java(arg) for arg in args)))


class JavaObject:
    """A Java object with python-bioformats' calling conventions; ``o`` is the JPype object.

    ``Wrapper(*args)`` makes a new ``class_name`` instance; a wrapper class without a
    ``class_name`` (an interface such as ``IFormatReader``) is made empty and gets its
    ``o`` assigned, as python-bioformats did. ``renamed`` maps python-bioformats'
    method names to Java's (``openBytesXYWH`` -> ``openBytes``).
    """

    class_name: ClassVar[str | None] = None
    renamed: ClassVar[dict[str, str]] = {}

    def __init__(self, *args: Any) -> None:
        if self.class_name is not None:
            klass = java_class(self.class_name)
            with java_call(action=f"creating a {self.class_name} for"):
                self.o = klass(*(to_java(arg) for arg in args))

    @classmethod
    def wrap(cls, java: Any) -> JavaObject:
        """A wrapper around an existing Java object."""
        wrapper = cls.__new__(cls)
        wrapper.o = java
        return wrapper

    def __getattr__(self, name: str) -> Callable[..., Any]:
        java = self.__dict__.get("o")
        if name.startswith("_") or java is None:
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")
        java_name = self.renamed.get(name, name)
        try:
            method = getattr(java, java_name)
        except AttributeError:
            raise AttributeError(
                f"{type(self).__name__}: {java.getClass().getName()} has no method {java_name!r}"
            ) from None

        def call(*args: Any) -> Any:
            return invoke(method, java_name, args)

        call.__name__ = name
        return call

    def get_class_name(self) -> str:
        """The Java class name of ``o``, e.g. ``loci.formats.in.TiffReader``."""
        return str(self.o.getClass().getName())

    def __repr__(self) -> str:
        java = self.__dict__.get("o")
        return f"<{type(self).__name__} {java.getClass().getName() if java is not None else 'empty'}>"
