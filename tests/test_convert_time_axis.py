"""The OME-Zarr ``t`` axis: TimeIncrement when the file has one, else the mean step of the planes' DeltaT."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import tifffile
import zarr

import bfbridge
from tests.test_convert import ome_attributes

CZI = "czi/CD_s_1_t_3_c_2_z_5.czi"  # DeltaT in seconds at three time points, no TimeIncrement
VERSIONS = {"0.5": "ngff05", "0.4": "ngff04"}


def validate(target: Path, version: str) -> None:
    """The independent validators test_convert.py uses: yaozarrs for 0.5, ome-zarr-models for 0.4."""
    if version == "0.4":
        from ome_zarr_models import open_ome_zarr
        from ome_zarr_models.v04.image import Image

        assert isinstance(open_ome_zarr(target / "0", version="0.4"), Image)
        return
    import yaozarrs

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yaozarrs.validate_zarr_store(str(target))
    assert [str(w.message) for w in caught if w.category.__module__.startswith("yaozarrs")] == []


def time_axis(source, tmp_path: Path, version: str = "0.5") -> tuple[dict, float]:
    """Convert ``source``, validate the store, and return series 0's ``t`` axis and ``t`` scale."""
    target = bfbridge.convert(source, tmp_path / f"out-{version}.ome.zarr", ngff_version=version)
    validate(target, version)
    multiscale = ome_attributes(zarr.open_group(target, mode="r")["0"], VERSIONS[version])["multiscales"][0]
    scales = {dataset["coordinateTransformations"][0]["scale"][0] for dataset in multiscale["datasets"]}
    assert len(scales) == 1  # every level has the same time step
    return multiscale["axes"][0], scales.pop()


def ome_tiff(tmp_path: Path, delta_t: list[float], **pixels) -> Path:
    """A T x 8 x 8 OME-TIFF whose planes record ``delta_t`` seconds, plus any Pixels attributes."""
    path = tmp_path / "times.ome.tif"
    planes = {"DeltaT": delta_t, "DeltaTUnit": ["s"] * len(delta_t)}
    data = np.arange(len(delta_t) * 64, dtype=np.uint8).reshape(len(delta_t), 8, 8)
    tifffile.imwrite(path, data, metadata={"axes": "TYX", "Plane": planes, **pixels})
    return path


@pytest.mark.corpus
@pytest.mark.parametrize("version", VERSIONS)
def test_czi_time_axis_is_the_mean_delta_t_step(version, corpus, tmp_path):
    with bfbridge.open(corpus / CZI) as image:
        times = image.series[0].to_xarray().coords["T"]  # bfbridge's own DeltaT per time point
    assert times.attrs["units"] == "s" and len(times) == 3
    step = float(times[-1] - times[0]) / (len(times) - 1)
    assert step == 60.04549992084503
    axis, scale = time_axis(corpus / CZI, tmp_path, version)
    assert axis == {"name": "t", "type": "time", "unit": "second"}
    assert scale == step


@pytest.mark.parametrize("version", VERSIONS)
def test_time_increment_wins_over_delta_t(version, tmp_path):
    source = ome_tiff(tmp_path, [0.0, 1.0, 7.0], TimeIncrement=2.5, TimeIncrementUnit="ms")
    axis, scale = time_axis(source, tmp_path, version)
    assert axis == {"name": "t", "type": "time", "unit": "millisecond"} and scale == 2.5


@pytest.mark.corpus
def test_corpus_time_increment_is_used(corpus, tmp_path):
    axis, scale = time_axis(corpus / "ome-tiff/rand_uint16.ome.tiff", tmp_path)  # TimeIncrement 0.1 s
    assert axis == {"name": "t", "type": "time", "unit": "second"} and scale == 0.1


def test_delta_t_steps_of_a_synthetic_file(tmp_path):
    axis, scale = time_axis(ome_tiff(tmp_path, [0.0, 1.0, 7.0]), tmp_path)
    assert axis == {"name": "t", "type": "time", "unit": "second"} and scale == 3.5


@pytest.mark.corpus
def test_single_time_point_keeps_scale_one(corpus, tmp_path):
    axis, scale = time_axis(corpus / "czi/s_1_t_1_c_1_z_1.czi", tmp_path)  # one DeltaT, no TimeIncrement
    assert axis == {"name": "t", "type": "time"} and scale == 1.0


def test_delta_t_that_does_not_increase_is_ignored(tmp_path):
    axis, scale = time_axis(ome_tiff(tmp_path, [0.0, 5.0, 3.0]), tmp_path)
    assert axis == {"name": "t", "type": "time"} and scale == 1.0
