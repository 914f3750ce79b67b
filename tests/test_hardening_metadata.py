"""Metadata: malformed OME-XML never stops the pixels; XML entity tricks are refused.

The OME-XML is written by hand, as a buggy writer would, into an OME-TIFF
ImageDescription and into an ``.ome.xml`` file with BinData pixels.
"""

from __future__ import annotations

import base64
import json
import warnings

import numpy as np
import ome_types
import pytest
import tifffile

import bfbridge

PLANES = np.arange(3 * 32 * 48, dtype=np.uint16).reshape(3, 32, 48)
NAMESPACE = "http://www.openmicroscopy.org/Schemas/OME/2016-06"


def ome_xml(
    *, name: str = "cells", channel: str = "", pixels: str = "", image: str = "", top: str = "",
    reorder: bool = False, doctype: str = "", bindata: bool = False,
) -> str:  # fmt: skip
    """OME-XML for ``PLANES`` (Z=3), with the given defects spliced in."""
    if bindata:
        encoded = [base64.b64encode(plane.tobytes()).decode() for plane in PLANES]
        data = "".join(f'<BinData BigEndian="false" Length="{len(text)}">{text}</BinData>' for text in encoded)
    else:
        data = "".join(f'<TiffData FirstZ="{z}" IFD="{z}" PlaneCount="1"/>' for z in range(len(PLANES)))
    pixels_element = (
        f'<Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="uint16" SizeX="48" SizeY="32" SizeZ="3" SizeC="1" '
        f'SizeT="1" {pixels}><Channel ID="Channel:0:0" SamplesPerPixel="1" {channel}/>{data}</Pixels>'
    )
    date, description = "<AcquisitionDate>2020-01-01T00:00:00</AcquisitionDate>", "<Description>cells</Description>"
    body = pixels_element + description + date if reorder else date + description + pixels_element
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{doctype}<OME xmlns="{NAMESPACE}" '
        f'UUID="urn:uuid:1f0e8d8e-0000-4000-8000-000000000000">{top}'
        f'<Image ID="Image:0" Name="{name}" {image}>{body}</Image></OME>'
    )


def write(tmp_path, container: str, xml: str):
    """An OME-TIFF whose ImageDescription is ``xml``, or an ``.ome.xml`` file (same XML with BinData)."""
    if container == "ome-tiff":
        path = tmp_path / "writer.ome.tif"
        tifffile.imwrite(path, PLANES, description=xml, metadata=None, photometric="minisblack")
    else:
        path = tmp_path / "writer.ome.xml"
        path.write_text(xml, encoding="utf-8")
    return path


DEFECTS = {
    "valid": {},
    "unknown enum values": {"channel": 'IlluminationType="Sideways" AcquisitionMode="Telepathy"'},
    "unknown unit": {"pixels": 'PhysicalSizeX="0.5" PhysicalSizeXUnit="furlong"'},
    "elements out of order": {"reorder": True},
    "stray control characters": {"name": "ce\x01lls\x07 \x1b[31m"},
    "unknown elements and attributes": {"top": '<Gizmo Flavour="x"/>', "image": 'Bogus="1"'},
}


@pytest.mark.parametrize("container", ["ome-tiff", "ome-xml"])
@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_malformed_ome_xml_never_stops_the_pixels(tmp_path, container, defect):
    path = write(tmp_path, container, ome_xml(bindata=container == "ome-xml", **DEFECTS[defect]))
    with bfbridge.open(path, memoize=False) as image:
        data = image.series[0].to_numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # anything but a MetadataWarning fails the test
            warnings.simplefilter("ignore", bfbridge.MetadataWarning)
            ome = image.ome
    # Bio-Formats may drop OME-XML it rejects and read the planes as a plain TIFF (along T, not Z)
    assert data.size == PLANES.size
    np.testing.assert_array_equal(data.reshape(PLANES.shape), PLANES)
    assert isinstance(ome, ome_types.OME) and len(ome.images) == 1


SECOND_IMAGE = (
    '<Image ID="Image:0" Name="again"><Pixels ID="Pixels:1" DimensionOrder="XYZCT" Type="uint16" SizeX="48" '
    'SizeY="32" SizeZ="1" SizeC="1" SizeT="1"><Channel ID="Channel:1:0" SamplesPerPixel="1"/>'
    '<TiffData IFD="0" PlaneCount="1"/></Pixels></Image>'
)
#: OME-XML that contradicts the TIFF it describes: Bio-Formats' OME-TIFF reader fails or finds no image.
CONTRADICTIONS = {
    "more Z planes than IFDs": ("SizeZ=\"3\"", "SizeZ=\"5\""),
    "more timepoints than IFDs": ("SizeT=\"1\"", "SizeT=\"2\""),
    "duplicate image IDs": ("</Image></OME>", "</Image>" + SECOND_IMAGE + "</OME>"),
}


@pytest.mark.parametrize("group_files", [True, False])
@pytest.mark.parametrize("contradiction", sorted(CONTRADICTIONS))
def test_ome_tiff_whose_ome_xml_contradicts_its_planes_is_read_as_a_plain_tiff(tmp_path, contradiction, group_files):
    before, after = CONTRADICTIONS[contradiction]
    path = write(tmp_path, "ome-tiff", ome_xml().replace(before, after))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        image = bfbridge.open(path, memoize=False, group_files=group_files)
    with image:
        if image.reader == "OMETiffReader":  # Bio-Formats coped (it does with some of these when grouping)
            assert image.series[0].shape == (1, 1, 3, 32, 48)
            np.testing.assert_array_equal(image.series[0].to_numpy()[0, 0], PLANES)
            return
        assert len(image.series) == 1 and image.series[0].shape == (3, 1, 1, 32, 48)  # TIFF planes lie along T
        np.testing.assert_array_equal(image.series[0].to_numpy()[:, 0, 0], PLANES)
    messages = [str(w.message) for w in caught if issubclass(w.category, bfbridge.MetadataWarning)]
    assert len(messages) == 1 and "reading its planes as a plain TIFF" in messages[0] and str(path) in messages[0]


# ---------------------------------------------------------------------------- entity tricks

LAUGHS = (
    '<!DOCTYPE OME [<!ENTITY lol0 "lol">'
    + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    + "]>"
)
SECRET = "TOP-SECRET-4242"

ENTITY_PROBE = """
import json, jpype, numpy as np, bfbridge as bf
from bfbridge import metadata
bf.jvm_info()

def peak_heap_mb():
    factory = jpype.JClass("java.lang.management.ManagementFactory")
    pools = [p for p in factory.getMemoryPoolMXBeans() if str(p.getType()) == "Heap memory"]
    return sum(int(p.getPeakUsage().getUsed()) for p in pools) >> 20

report = {"files": {}}
for path in PATHS:
    outcome = {}
    try:
        with bf.open(path, memoize=False) as f:
            data = f.series[0].to_numpy()
            outcome["pixels"] = bool((data.reshape(3, 32, 48) == np.arange(3 * 32 * 48).reshape(3, 32, 48)).all())
            text = f.ome_xml + json.dumps(f.original_metadata, default=str) + f.series[0].name
            outcome["text_size"] = len(text)
            outcome["secret_leaked"] = SECRET in text
            f.ome
    except BaseException as error:
        outcome["error"] = [type(error).__name__, str(error)[:300]]
    report["files"][path] = outcome
for label, xml in XML.items():
    try:
        parsed = metadata.parse_ome(xml).model_dump_json()
        report[label] = {"size": len(parsed), "secret_leaked": SECRET in parsed}
    except BaseException as error:
        report[label] = [type(error).__name__, str(error)[:300]]
report["peak_heap_mb"] = peak_heap_mb()
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the (large) pytest parent across exec
status = open("/proc/self/status").read().splitlines()
report["max_rss_mb"] = next(int(line.split()[1]) >> 10 for line in status if line.startswith("VmHWM"))
print(json.dumps(report))
"""


def test_entity_expansion_and_external_entities_are_refused(python, tmp_path):
    """A billion laughs and an external entity, in an .ome.xml file and in an OME-TIFF description.

    Expanding the laughs takes gigabytes. Refusing them must cost little: the heap
    never comes near its 512 MB limit (peak use is measured, not time), and the local
    file behind the external entity never shows up in any metadata.
    """
    (tmp_path / "secret.txt").write_text(SECRET)
    external = f'<!DOCTYPE OME [<!ENTITY xxe SYSTEM "file://{tmp_path / "secret.txt"}">]>'
    paths = []
    for label, doctype, name in (("laughs", LAUGHS, "&lol9;"), ("external", external, "&xxe;")):
        for container in ("ome-tiff", "ome-xml"):
            folder = tmp_path / f"{label}-{container}"
            folder.mkdir()
            xml = ome_xml(doctype=doctype, name=name, bindata=container == "ome-xml")
            paths.append(str(write(folder, container, xml)))
    direct = {
        "parse laughs": ome_xml(doctype=LAUGHS, name="&lol9;"),
        "parse external": ome_xml(doctype=external, name="&xxe;"),
    }
    code = f"PATHS = {paths!r}\nSECRET = {SECRET!r}\nXML = {direct!r}\n" + ENTITY_PROBE
    result = python(code, env={"BFBRIDGE_MAX_HEAP": "512m"}, timeout=600)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    for path, outcome in report["files"].items():
        if "error" in outcome:
            assert outcome["error"][0] in ("FormatError", "UnsupportedFormatError"), (path, outcome)
        else:
            assert outcome["pixels"] is True and outcome["secret_leaked"] is False, (path, outcome)
            assert outcome["text_size"] < 1 << 20, (path, outcome["text_size"])
    tiffs = [outcome for path, outcome in report["files"].items() if path.endswith(".ome.tif")]
    assert all("error" not in outcome for outcome in tiffs), "an OME-TIFF's pixels must survive a hostile description"
    for label in direct:
        assert isinstance(report[label], dict), (label, report[label])
        assert report[label]["size"] < 1 << 20 and report[label]["secret_leaked"] is False, (label, report[label])
    # An expansion fills the 512 MB heap (and fails as JavaMemoryError, refused above); uncollected
    # garbage alone can reach a few hundred MB before G1 collects, so the bound stays below the limit.
    assert report["peak_heap_mb"] < 460, f"the XML parsers expanded entities: Java heap peaked at {report}"
    assert report["max_rss_mb"] < 1536, report
