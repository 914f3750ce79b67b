"""The format's own metadata as OME ``OriginalMetadata`` annotations (bioio's ``original_meta``).

Bio-Formats' OME-XML export stores each key of the original metadata as an ``XMLAnnotation``
in the ``openmicroscopy.org/OriginalMetadata`` namespace; this builds the same annotations
from :attr:`bfbridge.ImageFile.original_metadata` and adds them to a copy of the OME.
"""

from __future__ import annotations

import re
from typing import Any
from xml.sax.saxutils import escape

from ome_types import OME, from_xml
from ome_types.model import StructuredAnnotations

NAMESPACE = "openmicroscopy.org/OriginalMetadata"
_OME_NAMESPACE = "http://www.openmicroscopy.org/Schemas/OME/2016-06"
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # characters XML 1.0 cannot hold


def _text(value: Any) -> str:
    return escape(_NOT_XML.sub("", str(value)), {"\r": "&#13;"})  # a raw CR would be read back as LF


def with_original_metadata(ome: OME, original: dict[str, Any]) -> OME:
    """A copy of ``ome`` with one annotation per global and per-series key of ``original``."""
    entries = [*original["global"].items(), *(item for series in original["series"] for item in series.items())]
    if not entries:
        return ome
    annotations = "".join(
        f'<XMLAnnotation ID="Annotation:OriginalMetadata:{number}" Namespace="{NAMESPACE}"><Value>'
        f"<OriginalMetadata><Key>{_text(key)}</Key><Value>{_text(value)}</Value></OriginalMetadata>"
        "</Value></XMLAnnotation>"
        for number, (key, value) in enumerate(entries)
    )
    wrapped = f'<OME xmlns="{_OME_NAMESPACE}"><StructuredAnnotations>{annotations}</StructuredAnnotations></OME>'
    parsed = from_xml(wrapped)
    copy = ome.model_copy(deep=True)
    if copy.structured_annotations is None:
        copy.structured_annotations = StructuredAnnotations()
    copy.structured_annotations.xml_annotations.extend(parsed.structured_annotations.xml_annotations)
    return copy
