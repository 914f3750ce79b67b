"""``OME/StructuredAnnotations`` and the original-metadata key/value pairs kept in its XML annotations.

New pairs are written as Bio-Formats writes them (an ``XMLAnnotation`` in the
``openmicroscopy.org/OriginalMetadata`` namespace holding
``<OriginalMetadata><Key/><Value/></OriginalMetadata>``), so that Bio-Formats'
``OMEXMLService.getOriginalMetadata`` reads them back. Pairs that python-bioformats
wrote, with the ``OriginalMetadata`` element in a namespace of its own, are read too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import Any

from . import _xml
from ._xml import Accessors

log = logging.getLogger("bfbridge.compat")

NS_ORIGINAL_METADATA = "openmicroscopy.org/OriginalMetadata"


class AnnotationNotFoundError(KeyError, IndexError):
    """No annotation has that ID (python-bioformats raised ``IndexError``; a mapping raises ``KeyError``)."""


def _named(node, name: str) -> list:
    """Children called ``name`` in any namespace: pairs written by other tools use their own."""
    return [child for child in node if _xml.local_name(child) == name]


def _pairs(annotation) -> Iterator[tuple[Any, Any, Any]]:
    """(OriginalMetadata element, Key element, Value element) of one XML annotation."""
    for value in _named(annotation, "Value"):
        for pair in _named(value, "OriginalMetadata"):
            keys, values = _named(pair, "Key"), _named(pair, "Value")
            if keys and values and keys[0].text is not None:
                yield pair, keys[0], values[0]
            else:
                log.warning("skipping an OriginalMetadata annotation without a key or value")


class StructuredAnnotations(Accessors, Mapping):
    """The annotations by ID (``sa["Annotation:0"]`` is the element), and the original metadata in them."""

    def __init__(self, node) -> None:
        self.node = node
        self.ns = {"sa": _xml.namespace_of(node)}

    def __getitem__(self, key: str):
        for child in self.node:
            if child.get("ID") == key:
                return child
        raise AnnotationNotFoundError(f"no annotation has the ID {key!r}")

    def __iter__(self) -> Iterator[str]:
        return (child.get("ID") for child in self.node if child.get("ID") is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def has_key(self, key: str) -> bool:
        return key in self

    def add_original_metadata(self, key: str, value: Any) -> str:
        """Add one original-metadata pair (e.g. ``OM_SAMPLES_PER_PIXEL``, ``"3"``); returns the annotation ID."""
        annotation = _xml.add_child(self.node, "XMLAnnotation")
        annotation_id = _xml.unique_id(self.node, "Annotation", len(self))
        annotation.set("ID", annotation_id)
        annotation.set("Namespace", NS_ORIGINAL_METADATA)
        pair = _xml.add_child(_xml.add_child(annotation, "Value"), "OriginalMetadata")
        _xml.add_child(pair, "Key").text = str(key)
        _xml.add_child(pair, "Value").text = str(value)
        return annotation_id

    def _iter_pairs(self) -> Iterator[tuple[str, Any, Any, Any]]:
        for annotation in _named(self.node, "XMLAnnotation"):
            for pair, key, value in _pairs(annotation):
                yield annotation, pair, key, value

    def iter_original_metadata(self) -> Iterator[tuple[str, tuple[str, str]]]:
        """``(annotation ID, (key, value))`` for every original-metadata pair, in document order."""
        for annotation, _, key, value in self._iter_pairs():
            yield annotation.get("ID"), (key.text, value.text or "")

    def has_original_metadata(self, key: str) -> bool:
        return any(found == key for _, (found, _) in self.iter_original_metadata())

    def get_original_metadata_value(self, key: str, default: Any = None) -> Any:
        return next((value for _, (found, value) in self.iter_original_metadata() if found == key), default)

    def get_original_metadata_refs(self, ids: Iterable[str]) -> dict[str, str]:
        """The pairs held by the annotations whose IDs are in ``ids``, as a dict."""
        wanted = set(ids)
        return {key: value for found, (key, value) in self.iter_original_metadata() if found in wanted}

    @property
    def OriginalMetadata(self) -> OriginalMetadata:
        return OriginalMetadata(self)


class OriginalMetadata(Accessors, MutableMapping):
    """The original metadata as a dict: ``om["BitsPerSample"]``, ``om["Software"] = "bfbridge"``, ``del om[k]``.

    A missing key reads None, as in python-bioformats. Assigning a key that exists
    changes its value; a new key adds an annotation.
    """

    def __init__(self, sa: StructuredAnnotations) -> None:
        self.sa = sa

    def __getitem__(self, key: str) -> str | None:
        return self.sa.get_original_metadata_value(key)

    def get(self, key: str, default: Any = None) -> Any:
        return self.sa.get_original_metadata_value(key, default)

    def __setitem__(self, key: str, value: Any) -> None:
        for _, _, found, held in self.sa._iter_pairs():
            if found.text == key:
                held.text = str(value)
                return
        self.sa.add_original_metadata(key, value)

    def __delitem__(self, key: str) -> None:
        doomed = [annotation for annotation, _, found, _ in self.sa._iter_pairs() if found.text == key]
        if not doomed:
            raise KeyError(key)
        for annotation in doomed:
            self.sa.node.remove(annotation)

    def __contains__(self, key: object) -> bool:
        return self.sa.has_original_metadata(key)

    def __iter__(self) -> Iterator[str]:
        return (key for _, (key, _) in self.sa.iter_original_metadata())

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def has_key(self, key: str) -> bool:
        return key in self

    def iteritems(self) -> Iterator[tuple[str, str]]:
        return (pair for _, pair in self.sa.iter_original_metadata())
