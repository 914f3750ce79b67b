"""bfbridge.compat.bioformats.omexml: every property set through python-bioformats' API is read back
identically by our model, by ome-types (with schema validation) and by Bio-Formats' own OME-XML parser.
"""

from __future__ import annotations

import datetime
import enum
import xml.etree.ElementTree as ElementTree

import jpype
import ome_types
import pytest

import bfbridge.compat.bioformats as bioformats
from bfbridge import jvm
from bfbridge.compat.bioformats import omexml

NS = omexml.NS_OME


def structured() -> omexml.OMEXML:
    """A document with one of everything: two images, a plate with a well and a field, an instrument, an ROI."""
    document = bioformats.OMEXML()
    document.image_count = 2
    pixels = document.image(0).Pixels
    pixels.SizeC, pixels.SizeZ, pixels.SizeT = 2, 3, 1
    pixels.channel_count = 2
    pixels.plane_count = 6
    plate = document.plates.newPlate("plate one")
    plate.Well.new(1, 2).Sample.new()
    plate.Well[0].Sample[0].ImageRef = "Image:0"
    document.instrument_count = 1
    document.instrument().detector_count = 1
    document.instrument().objective_count = 1
    document.roi_count = 1
    document.image(0).roiref_count = 1
    return document


def service():
    jvm.ensure_started()
    factory = jpype.JClass("loci.common.services.ServiceFactory")()
    return factory.getInstance(jpype.JClass("loci.formats.services.OMEXMLService"))


def bioformats_reads(xml: str):
    """Bio-Formats' metadata object for ``xml`` (parsed by OMEXMLService, as its writers do)."""
    return service().createOMEXMLMetadata(xml)


def java(value):
    """A Bio-Formats getter's result as a Python value (quantities as their number)."""
    if value is None:
        return None
    if isinstance(value, jpype.JClass("ome.units.quantity.Quantity")):
        return float(value.value().doubleValue())
    if isinstance(value, jpype.JClass("ome.xml.model.primitives.PrimitiveType")):
        return java(value.getValue())
    if isinstance(value, (jpype.JClass("ome.xml.model.enums.Enumeration"), jpype.JString)):
        return str(value.getValue() if hasattr(value, "getValue") else value)
    if isinstance(value, jpype.JClass("java.lang.Boolean")):
        return bool(value.booleanValue())
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def unit(value):
    return str(value.unit().getSymbol())


def ome_value(ome, path: str):
    """``images.0.pixels.size_x``-style lookup in an ome_types.OME, enums and colours as plain values."""
    value = ome
    for part in path.split("."):
        value = value[int(part)] if part.isdigit() else getattr(value, part)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, ome_types.model.Color):
        return value.as_int32()
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return value


IMAGE, PIXELS = (lambda o: o.image(0)), (lambda o: o.image(0).Pixels)
CHANNEL, PLANE = (lambda o: o.image(0).Pixels.Channel(1)), (lambda o: o.image(0).Pixels.Plane(4))
PLATE, WELL = (lambda o: o.plates[0]), (lambda o: o.plates[0].Well[0])
SAMPLE = lambda o: o.plates[0].Well[0].Sample[0]  # noqa: E731
DETECTOR, OBJECTIVE = (lambda o: o.instrument(0).Detector), (lambda o: o.instrument(0).Objective)
ROI, RECTANGLE = (lambda o: o.roi(0)), (lambda o: o.roi(0).Union.Rectangle())

# (element, property, value, ome-types path, Bio-Formats getter)
CASES = [
    (IMAGE, "Name", "cells 1", "images.0.name", lambda m: m.getImageName(0)),
    (lambda o: o.image(1), "ID", "Image:cells", "images.1.id", lambda m: m.getImageID(1)),
    (IMAGE, "AcquisitionDate", "2024-05-06T07:08:09", "images.0.acquisition_date",
     lambda m: m.getImageAcquisitionDate(0)),
    (IMAGE, "Description", "a test image", "images.0.description", lambda m: m.getImageDescription(0)),
    (PIXELS, "SizeX", 640, "images.0.pixels.size_x", lambda m: m.getPixelsSizeX(0)),
    (PIXELS, "SizeY", 480, "images.0.pixels.size_y", lambda m: m.getPixelsSizeY(0)),
    (PIXELS, "SizeZ", 7, "images.0.pixels.size_z", lambda m: m.getPixelsSizeZ(0)),
    (PIXELS, "SizeC", 4, "images.0.pixels.size_c", lambda m: m.getPixelsSizeC(0)),
    (PIXELS, "SizeT", 9, "images.0.pixels.size_t", lambda m: m.getPixelsSizeT(0)),
    (PIXELS, "PixelType", bioformats.PT_UINT16, "images.0.pixels.type", lambda m: m.getPixelsType(0)),
    (PIXELS, "DimensionOrder", omexml.DO_XYZTC, "images.0.pixels.dimension_order",
     lambda m: m.getPixelsDimensionOrder(0)),
    (PIXELS, "PhysicalSizeX", 0.125, "images.0.pixels.physical_size_x", lambda m: m.getPixelsPhysicalSizeX(0)),
    (PIXELS, "PhysicalSizeY", 0.25, "images.0.pixels.physical_size_y", lambda m: m.getPixelsPhysicalSizeY(0)),
    (PIXELS, "PhysicalSizeZ", 1.5, "images.0.pixels.physical_size_z", lambda m: m.getPixelsPhysicalSizeZ(0)),
    (PIXELS, "TimeIncrement", 2.5, "images.0.pixels.time_increment", lambda m: m.getPixelsTimeIncrement(0)),
    (PIXELS, "SignificantBits", 12, "images.0.pixels.significant_bits", lambda m: m.getPixelsSignificantBits(0)),
    (PIXELS, "BigEndian", True, "images.0.pixels.big_endian", lambda m: m.getPixelsBigEndian(0)),
    (PIXELS, "Interleaved", True, "images.0.pixels.interleaved", lambda m: m.getPixelsInterleaved(0)),
    (CHANNEL, "Name", "GFP", "images.0.pixels.channels.1.name", lambda m: m.getChannelName(0, 1)),
    (CHANNEL, "ID", "Channel:0:green", "images.0.pixels.channels.1.id", lambda m: m.getChannelID(0, 1)),
    (CHANNEL, "SamplesPerPixel", 3, "images.0.pixels.channels.1.samples_per_pixel",
     lambda m: m.getChannelSamplesPerPixel(0, 1)),
    (CHANNEL, "Color", 0x00FF00FF, "images.0.pixels.channels.1.color", lambda m: m.getChannelColor(0, 1)),
    (CHANNEL, "Fluor", "EGFP", "images.0.pixels.channels.1.fluor", lambda m: m.getChannelFluor(0, 1)),
    (CHANNEL, "ExcitationWavelength", 488.0, "images.0.pixels.channels.1.excitation_wavelength",
     lambda m: m.getChannelExcitationWavelength(0, 1)),
    (CHANNEL, "EmissionWavelength", 509.5, "images.0.pixels.channels.1.emission_wavelength",
     lambda m: m.getChannelEmissionWavelength(0, 1)),
    (CHANNEL, "IlluminationType", "Epifluorescence", "images.0.pixels.channels.1.illumination_type",
     lambda m: m.getChannelIlluminationType(0, 1)),
    (PLANE, "TheZ", 2, "images.0.pixels.planes.4.the_z", lambda m: m.getPlaneTheZ(0, 4)),
    (PLANE, "TheC", 1, "images.0.pixels.planes.4.the_c", lambda m: m.getPlaneTheC(0, 4)),
    (PLANE, "TheT", 3, "images.0.pixels.planes.4.the_t", lambda m: m.getPlaneTheT(0, 4)),
    (PLANE, "DeltaT", 12.75, "images.0.pixels.planes.4.delta_t", lambda m: m.getPlaneDeltaT(0, 4)),
    (PLANE, "ExposureTime", 0.05, "images.0.pixels.planes.4.exposure_time", lambda m: m.getPlaneExposureTime(0, 4)),
    (PLANE, "PositionX", -1250.5, "images.0.pixels.planes.4.position_x", lambda m: m.getPlanePositionX(0, 4)),
    (PLANE, "PositionY", 3.0e-7, "images.0.pixels.planes.4.position_y", lambda m: m.getPlanePositionY(0, 4)),
    (PLANE, "PositionZ", 17.0, "images.0.pixels.planes.4.position_z", lambda m: m.getPlanePositionZ(0, 4)),
    (PLATE, "Name", "plate two", "plates.0.name", lambda m: m.getPlateName(0)),
    (PLATE, "Status", "imaged", "plates.0.status", lambda m: m.getPlateStatus(0)),
    (PLATE, "ExternalIdentifier", "barcode-17", "plates.0.external_identifier",
     lambda m: m.getPlateExternalIdentifier(0)),
    (PLATE, "Rows", 16, "plates.0.rows", lambda m: m.getPlateRows(0)),
    (PLATE, "Columns", 24, "plates.0.columns", lambda m: m.getPlateColumns(0)),
    (PLATE, "RowNamingConvention", omexml.NC_NUMBER, "plates.0.row_naming_convention",
     lambda m: m.getPlateRowNamingConvention(0)),
    (PLATE, "ColumnNamingConvention", omexml.NC_LETTER, "plates.0.column_naming_convention",
     lambda m: m.getPlateColumnNamingConvention(0)),
    (PLATE, "WellOriginX", 4.5, "plates.0.well_origin_x", lambda m: m.getPlateWellOriginX(0)),
    (PLATE, "WellOriginY", -2.0, "plates.0.well_origin_y", lambda m: m.getPlateWellOriginY(0)),
    (PLATE, "Description", "96 well", "plates.0.description", lambda m: m.getPlateDescription(0)),
    (WELL, "Row", 7, "plates.0.wells.0.row", lambda m: m.getWellRow(0, 0)),
    (WELL, "Column", 11, "plates.0.wells.0.column", lambda m: m.getWellColumn(0, 0)),
    (WELL, "ExternalDescription", "control", "plates.0.wells.0.external_description",
     lambda m: m.getWellExternalDescription(0, 0)),
    (WELL, "ExternalIdentifier", "A1-ctl", "plates.0.wells.0.external_identifier",
     lambda m: m.getWellExternalIdentifier(0, 0)),
    (WELL, "Color", -16776961, "plates.0.wells.0.color", lambda m: m.getWellColor(0, 0)),
    (SAMPLE, "PositionX", 101.5, "plates.0.wells.0.well_samples.0.position_x",
     lambda m: m.getWellSamplePositionX(0, 0, 0)),
    (SAMPLE, "PositionY", -8.25, "plates.0.wells.0.well_samples.0.position_y",
     lambda m: m.getWellSamplePositionY(0, 0, 0)),
    (SAMPLE, "Timepoint", "2023-01-02T03:04:05", "plates.0.wells.0.well_samples.0.timepoint",
     lambda m: m.getWellSampleTimepoint(0, 0, 0)),
    (SAMPLE, "Index", 5, "plates.0.wells.0.well_samples.0.index", lambda m: m.getWellSampleIndex(0, 0, 0)),
    (SAMPLE, "ImageRef", "Image:1", "plates.0.wells.0.well_samples.0.image_ref.id",
     lambda m: m.getWellSampleImageRef(0, 0, 0)),
    (DETECTOR, "Gain", 1.75, "instruments.0.detectors.0.gain", lambda m: m.getDetectorGain(0, 0)),
    (DETECTOR, "Model", "Orca", "instruments.0.detectors.0.model", lambda m: m.getDetectorModel(0, 0)),
    (DETECTOR, "Manufacturer", "Hamamatsu", "instruments.0.detectors.0.manufacturer",
     lambda m: m.getDetectorManufacturer(0, 0)),
    (DETECTOR, "Type", "CMOS", "instruments.0.detectors.0.type", lambda m: m.getDetectorType(0, 0)),
    (DETECTOR, "Offset", 100.0, "instruments.0.detectors.0.offset", lambda m: m.getDetectorOffset(0, 0)),
    (OBJECTIVE, "LensNA", 1.4, "instruments.0.objectives.0.lens_na", lambda m: m.getObjectiveLensNA(0, 0)),
    (OBJECTIVE, "NominalMagnification", 63.0, "instruments.0.objectives.0.nominal_magnification",
     lambda m: m.getObjectiveNominalMagnification(0, 0)),
    (OBJECTIVE, "WorkingDistance", 0.19, "instruments.0.objectives.0.working_distance",
     lambda m: m.getObjectiveWorkingDistance(0, 0)),
    (OBJECTIVE, "Immersion", "Oil", "instruments.0.objectives.0.immersion", lambda m: m.getObjectiveImmersion(0, 0)),
    (OBJECTIVE, "Correction", "PlanApo", "instruments.0.objectives.0.correction",
     lambda m: m.getObjectiveCorrection(0, 0)),
    (ROI, "Name", "nucleus", "rois.0.name", lambda m: m.getROIName(0)),
    (RECTANGLE, "X", 12.5, "rois.0.union.0.x", lambda m: m.getRectangleX(0, 0)),
    (RECTANGLE, "Y", 3.0, "rois.0.union.0.y", lambda m: m.getRectangleY(0, 0)),
    (RECTANGLE, "Width", 40.0, "rois.0.union.0.width", lambda m: m.getRectangleWidth(0, 0)),
    (RECTANGLE, "Height", 20.0, "rois.0.union.0.height", lambda m: m.getRectangleHeight(0, 0)),
    (RECTANGLE, "TheZ", 2, "rois.0.union.0.the_z", lambda m: m.getRectangleTheZ(0, 0)),
    (RECTANGLE, "Text", "cell 4", "rois.0.union.0.text", lambda m: m.getRectangleText(0, 0)),
    (RECTANGLE, "StrokeColor", 65535, "rois.0.union.0.stroke_color", lambda m: m.getRectangleStrokeColor(0, 0)),
    (RECTANGLE, "StrokeWidth", 2.5, "rois.0.union.0.stroke_width", lambda m: m.getRectangleStrokeWidth(0, 0)),
]  # fmt: skip

UNITS = [  # (element, property, value, unit, ome-types path of the unit, Bio-Formats getter)
    (PIXELS, "PhysicalSizeX", 250.0, "nm", "images.0.pixels.physical_size_x_unit",
     lambda m: m.getPixelsPhysicalSizeX(0)),
    (PIXELS, "PhysicalSizeZ", 2.0, "mm", "images.0.pixels.physical_size_z_unit", lambda m: m.getPixelsPhysicalSizeZ(0)),
    (PIXELS, "TimeIncrement", 30.0, "min", "images.0.pixels.time_increment_unit",
     lambda m: m.getPixelsTimeIncrement(0)),
    (PLANE, "DeltaT", 250.0, "ms", "images.0.pixels.planes.4.delta_t_unit", lambda m: m.getPlaneDeltaT(0, 4)),
    (PLANE, "ExposureTime", 20.0, "µs", "images.0.pixels.planes.4.exposure_time_unit",
     lambda m: m.getPlaneExposureTime(0, 4)),
    (PLANE, "PositionX", 1.0, "mm", "images.0.pixels.planes.4.position_x_unit", lambda m: m.getPlanePositionX(0, 4)),
    (CHANNEL, "EmissionWavelength", 0.5, "µm", "images.0.pixels.channels.1.emission_wavelength_unit",
     lambda m: m.getChannelEmissionWavelength(0, 1)),
    (SAMPLE, "PositionX", 3.0, "mm", "plates.0.wells.0.well_samples.0.position_x_unit",
     lambda m: m.getWellSamplePositionX(0, 0, 0)),
    (OBJECTIVE, "WorkingDistance", 190.0, "µm", "instruments.0.objectives.0.working_distance_unit",
     lambda m: m.getObjectiveWorkingDistance(0, 0)),
]  # fmt: skip


def _three_readings(document: omexml.OMEXML):
    xml = str(document)
    return omexml.OMEXML(xml), ome_types.from_xml(xml, validate=True), bioformats_reads(xml)


@pytest.mark.parametrize(("element", "name", "value", "ome_path", "bioformats_getter"), CASES,
                         ids=[f"{case[3]}" for case in CASES])  # fmt: skip
def test_each_property_round_trips_through_three_parsers(element, name, value, ome_path, bioformats_getter):
    document = structured()
    setattr(element(document), name, value)
    assert getattr(element(document), name) == value
    again, ome, metadata = _three_readings(document)
    assert getattr(element(again), name) == value
    assert ome_value(ome, ome_path) == value
    assert java(bioformats_getter(metadata)) == value


@pytest.mark.parametrize(("element", "name", "value", "symbol", "ome_path", "bioformats_getter"), UNITS,
                         ids=[f"{case[4]}" for case in UNITS])  # fmt: skip
def test_units_round_trip_through_three_parsers(element, name, value, symbol, ome_path, bioformats_getter):
    document = structured()
    setattr(element(document), name, value)
    setattr(element(document), f"{name}Unit", symbol)
    again, ome, metadata = _three_readings(document)
    assert (getattr(element(again), name), getattr(element(again), f"{name}Unit")) == (value, symbol)
    assert ome_value(ome, ome_path) == symbol
    assert (java(bioformats_getter(metadata)), unit(bioformats_getter(metadata))) == (value, symbol)


def test_blank_document_is_python_bioformats_default_and_valid():
    document = bioformats.OMEXML()
    image, pixels = document.image(), document.image().Pixels
    assert document.image_count == 1 and (image.ID, image.Name) == ("Image:0", "default.png")
    assert datetime.datetime.fromisoformat(image.AcquisitionDate) <= datetime.datetime.now()
    assert (pixels.ID, pixels.DimensionOrder, pixels.PixelType) == ("Pixels:0", "XYCZT", "uint8")
    assert (pixels.SizeX, pixels.SizeY, pixels.SizeZ, pixels.SizeC, pixels.SizeT) == (512, 512, 1, 1, 1)
    assert (pixels.BigEndian, pixels.Interleaved, pixels.channel_count, pixels.plane_count) == (False, False, 1, 0)
    assert (pixels.Channel(0).ID, pixels.Channel(0).SamplesPerPixel, pixels.Channel(0).Name) == ("Channel:0:0", 1, None)
    assert pixels.tiffdata_count == 0 and document.get_ns("ome") == NS == document.get_ns("spw")
    ome = ome_types.from_xml(str(document), validate=True)
    assert ome.images[0].pixels.metadata_only is not None
    assert str(document).startswith(f'<OME xmlns="{NS}">')


def test_counts_add_valid_elements_and_remove_the_last_ones():
    document = structured()
    pixels = document.image(0).Pixels
    assert [pixels.Channel(c).ID for c in range(2)] == ["Channel:0:0", "Channel:0:1"]
    assert pixels.Channel(1).Name == "Channel:0:1" and pixels.Channel(1).SamplesPerPixel == 1
    # new planes get their Z, C, T in the XYCZT order of a C=2, Z=3 stack
    assert [(pixels.Plane(i).TheZ, pixels.Plane(i).TheC, pixels.Plane(i).TheT) for i in range(6)] == [
        (0, 0, 0), (0, 1, 0), (1, 0, 0), (1, 1, 0), (2, 0, 0), (2, 1, 0),
    ]  # fmt: skip
    second = document.image(1)
    assert (second.ID, second.Name, second.Pixels.ID, second.Pixels.DimensionOrder) == (
        "Image:1", "default.png", "Pixels:1", "XYCTZ",
    )  # fmt: skip
    assert second.Pixels.Channel(0).ID == "Channel:1:0"
    pixels.tiffdata_count = 2
    block = pixels.tiffdata(1)
    block.IFD, block.FirstC, block.plane_count = 1, 1, 1
    block.UUID, block.FileName = "urn:uuid:6b6e7ab8-0c9c-4d39-9a86-a0b5c49cf4a2", "stack.ome.tif"
    ome = ome_types.from_xml(str(document), validate=True)
    blocks = ome.images[0].pixels.tiff_data_blocks
    assert ome.images[0].pixels.metadata_only is None and len(blocks) == 2
    assert (blocks[1].ifd, blocks[1].first_c, blocks[1].plane_count) == (1, 1, 1)
    assert (blocks[1].uuid.value, blocks[1].uuid.file_name) == (block.UUID, "stack.ome.tif")
    metadata = bioformats_reads(str(document))
    assert (metadata.getTiffDataCount(0), java(metadata.getTiffDataIFD(0, 1))) == (2, 1)
    assert str(metadata.getUUIDFileName(0, 1)) == "stack.ome.tif"
    pixels.channel_count, pixels.plane_count, pixels.tiffdata_count, document.image_count = 1, 2, 0, 1
    ome = ome_types.from_xml(str(document), validate=True)
    assert len(ome.images) == 1 and len(ome.images[0].pixels.channels) == 1 and len(ome.images[0].pixels.planes) == 2
    assert ome.images[0].pixels.metadata_only is not None and not ome.images[0].pixels.tiff_data_blocks
    with pytest.raises(ValueError, match="number of Image elements must be at least 1, got 0"):
        document.image_count = 0
    with pytest.raises(ValueError, match="number of Channel elements must be at least 1, got 0"):
        pixels.channel_count = 0


def test_plates_wells_and_samples_are_found_as_in_python_bioformats():
    document = bioformats.OMEXML()
    plates = document.plates
    assert len(plates) == 0
    plate = plates.newPlate("screen", "Plate:7")
    plate.Rows, plate.Columns = 8, 12
    for row, column in ((0, 0), (1, 3), (7, 11)):
        plate.Well.new(row, column)
    wells = plate.Well
    assert len(wells) == 3 and list(wells) == ["A01", "B04", "H12"]
    assert wells["B04"].ID == "Well:7:1:3" and wells[1, 3] is not None and wells[1, 3] == wells["B04"]
    assert wells[2].Row == 7 and [w.Column for w in wells[0:2]] == [0, 3]
    assert wells["Well:7:7:11"] == wells["H12"] and wells["Z99"] is None and "B04" in wells
    sample = wells["B04"].Sample.new()
    second = wells["B04"].Sample.new("WellSample:extra")
    assert (sample.ID, sample.Index, second.ID, second.Index) == ("WellSample:7:1:3:0", 0, "WellSample:extra", 1)
    assert len(wells["B04"].Sample) == 2 and [s.Index for s in wells["B04"].Sample[0:2]] == [0, 1]
    sample.ImageRef = "Image:0"
    sample.Timepoint = datetime.datetime(2020, 2, 3, 4, 5, 6)
    plate.RowNamingConvention, plate.ColumnNamingConvention = omexml.NC_NUMBER, omexml.NC_LETTER
    assert plate.get_well_name(wells[1]) == "02D" and list(plate.Well) == ["01A", "02D", "08L"]
    with pytest.raises(ValueError, match="naming convention is 'letter' or 'number', got 'roman'"):
        plate.RowNamingConvention = "roman"
    ome = ome_types.from_xml(str(document), validate=True)
    assert [(w.row, w.column) for w in ome.plates[0].wells] == [(0, 0), (1, 3), (7, 11)]
    assert ome.plates[0].wells[1].well_samples[0].timepoint == datetime.datetime(2020, 2, 3, 4, 5, 6)
    assert [p.Name for p in plates] == ["screen"] and plates[0:1][0].ID == "Plate:7"
    metadata = bioformats_reads(str(document))
    assert (metadata.getPlateCount(), metadata.getWellCount(0), metadata.getWellSampleCount(0, 1)) == (1, 3, 2)
    assert str(metadata.getWellSampleImageRef(0, 1, 0)) == "Image:0"


def test_original_metadata_is_a_mapping_that_bioformats_reads_back():
    document = bioformats.OMEXML()
    annotations = document.structured_annotations
    assert len(annotations) == 0 and dict(annotations.OriginalMetadata) == {}
    first = annotations.add_original_metadata(omexml.OM_SAMPLES_PER_PIXEL, "3")
    original = document.structured_annotations.OriginalMetadata
    original["Software"] = "bfbridge"
    original["Software"] = "bfbridge 2"  # an existing key changes its value
    original[omexml.OM_BITS_PER_SAMPLE] = 12
    assert first == "Annotation:0" and list(annotations) == ["Annotation:0", "Annotation:1", "Annotation:2"]
    assert dict(original) == {"SamplesPerPixel": "3", "Software": "bfbridge 2", "BitsPerSample": "12"}
    assert original["Missing"] is None and original.get("Missing", "x") == "x" and "Software" in original
    assert annotations.has_original_metadata("BitsPerSample") and annotations.has_key("Annotation:1")
    assert annotations.get_original_metadata_refs(["Annotation:1"]) == {"Software": "bfbridge 2"}
    assert next(annotations.iter_original_metadata()) == ("Annotation:0", ("SamplesPerPixel", "3"))
    assert annotations["Annotation:0"].get("Namespace") == "openmicroscopy.org/OriginalMetadata"
    with pytest.raises(IndexError, match="no annotation has the ID 'Annotation:9'"):
        annotations["Annotation:9"]
    assert annotations.get("Annotation:9") is None
    bioformats_table = service().getOriginalMetadata(bioformats_reads(str(document)))
    assert {str(k): str(bioformats_table.get(k)) for k in bioformats_table.keySet()} == dict(original)
    ome = ome_types.from_xml(str(document), validate=True)
    assert [a.namespace for a in ome.structured_annotations.xml_annotations] == [omexml.NS_ORIGINAL_METADATA] * 3
    del original["Software"]
    assert dict(omexml.OMEXML(str(document)).structured_annotations.OriginalMetadata) == {
        "SamplesPerPixel": "3", "BitsPerSample": "12",
    }  # fmt: skip
    with pytest.raises(KeyError):
        del original["Software"]


def test_pairs_python_bioformats_wrote_in_its_own_namespace_are_read():
    om = omexml.NS_ORIGINAL_METADATA
    xml = (
        f'<OME xmlns="{NS}" xmlns:om="{om}"><StructuredAnnotations><XMLAnnotation ID="Annotation:x"><Value>'
        "<om:OriginalMetadata><om:Key>Make</om:Key><om:Value>Nikon</om:Value></om:OriginalMetadata>"
        "</Value></XMLAnnotation></StructuredAnnotations></OME>"
    )
    document = omexml.OMEXML(xml)
    assert dict(document.structured_annotations.OriginalMetadata) == {"Make": "Nikon"}
    assert f'xmlns:om="{om}"' in str(document) and "<om:Key>Make</om:Key>" in str(document)


def test_instrument_and_roi_creation_as_python_bioformats():
    document = bioformats.OMEXML()
    document.instrument_count = 1
    instrument = document.instrument()
    assert instrument.ID == "Instrument:0" and instrument.Detector is None and instrument.Objective is None
    instrument.detector_count, instrument.objective_count = 2, 1
    assert [instrument.detector(i).ID for i in range(2)] == ["Detector:0:0", "Detector:0:1"]
    assert instrument.Detector.ID == "Detector:0:0" and instrument.Objective.ID == "Objective:0:0"
    document.roi_count = 2
    image = document.image()
    image.roiref_count = 2
    roi, rectangle = document.roi(1), document.roi(1).Union.Rectangle()
    assert (roi.ID, roi.Name, image.roiref(1).ID) == ("ROI:1", "Marker 1", "ROI:1")
    assert (rectangle.ID, rectangle.StrokeColor, rectangle.StrokeWidth) == ("Shape:1:0", -16776961, 20.0)
    assert (rectangle.X, rectangle.Y, rectangle.Width, rectangle.Height, rectangle.Text) == (0, 0, 512, 512, "1")
    roi.ID = 5  # python-bioformats writes ROI IDs as "ROI:<value>"
    image.roiref(1).ID = 5
    assert roi.ID == "ROI:5" == image.roiref(1).ID
    metadata = bioformats_reads(str(document))
    assert (metadata.getROICount(), str(metadata.getImageROIRef(0, 1))) == (2, "ROI:5")
    assert str(metadata.getROIID(1)) == "ROI:5"
    assert (metadata.getDetectorCount(0), metadata.getObjectiveCount(0)) == (2, 1)
    ome = ome_types.from_xml(str(document), validate=True)
    assert [r.id for r in ome.images[0].roi_refs] == ["ROI:0", "ROI:5"]
    assert ome.rois[1].union[0].stroke_color.as_int32() == -16776961


def test_root_node_helpers_and_accessor_methods():
    document = bioformats.OMEXML()
    root = document.root_node
    ns = document.get_ns("ome")
    image = root.find(omexml.qn(ns, "Image"))
    assert omexml.split_qn(image.tag) == (NS, "Image") and omexml.get_namespaces(root)["ome"] == NS
    date = image.find(omexml.qn(ns, "AcquisitionDate"))
    omexml.set_text(date, "2021-09-10T11:12:13")
    assert omexml.get_text(date) == document.image().AcquisitionDate == "2021-09-10T11:12:13"
    pixels = image.find(omexml.qn(ns, "Pixels"))
    assert omexml.get_int_attr(pixels, "SizeX") == 512 and omexml.get_float_attr(pixels, "PhysicalSizeX") is None
    omexml.make_text_node(image, ns, "Description", "made by hand")
    assert document.image().Description == "made by hand"
    ElementTree.SubElement(pixels, omexml.qn(ns, "Plane"), TheZ="0", TheC="0", TheT="0")
    assert document.image().Pixels.plane_count == 1  # edits of root_node are live
    pixels_wrapper = document.image().Pixels
    pixels_wrapper.set_SizeX(64)
    assert pixels_wrapper.get_SizeX() == 64 and document.get_image_count() == 1
    document.set_image_count(2)
    assert document.image_count == 2 and isinstance(document.image().Pixels, omexml.OMEXML.Pixels)
    assert omexml.page_name_original_metadata(3) == "PageName #3"
    ome_types.from_xml(document.to_xml(), validate=True)


def test_bad_values_and_documents_raise_clear_errors():
    pixels = bioformats.OMEXML().image().Pixels
    bad = [
        ("SizeX", 0, "Pixels.SizeX must be an integer >= 1, got 0"),
        (
            "PixelType",
            "uint12",
            "Pixels.Type must be one of 'int8', 'int16', 'int32', 'uint8', 'uint16', 'uint32', "
            "'float', 'double', 'complex', 'double-complex', 'bit'; got 'uint12'",
        ),
        ("DimensionOrder", "XYZ", "Pixels.DimensionOrder must be one of 'XYZCT', 'XYZTC', 'XYCTZ'"),
        ("PhysicalSizeXUnit", "furlong", "Pixels.PhysicalSizeXUnit must be one of"),
        ("PhysicalSizeX", float("nan"), "Pixels.PhysicalSizeX must be a finite number, got nan"),
        ("BigEndian", "maybe", "Pixels.BigEndian must be true or false, got 'maybe'"),
    ]
    for name, value, message in bad:
        with pytest.raises(ValueError, match=message.replace("(", r"\(")):
            setattr(pixels, name, value)
    with pytest.raises(ValueError, match=r"a colour tuple is \(red, green, blue\[, alpha\]\) of 0-255"):
        pixels.Channel(0).Color = (300, 0, 0)
    pixels.Channel(0).Color = (255, 0, 0)
    assert pixels.Channel(0).Color == -16776961 and pixels.SizeX == 512
    pixels.PhysicalSizeX = None  # None removes an attribute
    assert "PhysicalSizeX" not in pixels.node.attrib
    with pytest.raises(AttributeError, match="Pixels has no attribute 'SizeQ'"):
        _ = pixels.SizeQ
    with pytest.raises(ValueError, match="String not in OME-XML format"):
        omexml.OMEXML("<Image/>")
    with pytest.raises(ValueError, match="not well-formed XML"):
        omexml.OMEXML("<OME")
    with pytest.raises(ValueError, match="DOCTYPE declaration is refused"):
        omexml.OMEXML(f'<!DOCTYPE OME [<!ENTITY a "aaa">]><OME xmlns="{NS}"/>')
