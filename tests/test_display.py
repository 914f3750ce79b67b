"""Notebook reprs: HTML tables, thumbnails (decoded and checked pixel by pixel), text reprs.

Thumbnails are decoded with Pillow, an encoder that shares nothing with bfbridge's.
"""

from __future__ import annotations

import base64
import io
import pickle
import re
import time

import numpy as np
import pytest
import tifffile
from PIL import Image

import bfbridge
from bfbridge import guard
from bfbridge.display import thumbnail
from tests.test_reading import _count_reads

RED, BLUE, GREEN = -16776961, 65535, 16711935  # OME colours: RGBA packed in a signed 32-bit int
PNG_SOURCE = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" width="(\d+)" height="(\d+)"')


def pngs_in(html: str) -> list[Image.Image]:
    return [Image.open(io.BytesIO(base64.b64decode(match[0]))) for match in PNG_SOURCE.findall(html)]


def drawn(series) -> tuple[str, np.ndarray]:
    """The caption and the decoded pixels of a series' thumbnail."""
    made = thumbnail.make_thumbnail(series)
    assert made.png is not None, made.caption
    image = Image.open(io.BytesIO(made.png))
    assert image.format == "PNG" and image.mode == "RGB" and image.size == (made.width, made.height)
    return made.caption, np.asarray(image)


@pytest.fixture
def two_channels(tmp_path):
    """An OME-TIFF whose max over Z is channel 0 (red) on the left half and channel 1 (blue) on the right."""
    data = np.zeros((3, 2, 32, 40), np.uint16)  # Z, C, Y, X
    data[1, 0, :, :20] = 1000
    data[2, 1, :, 20:] = 500
    path = tmp_path / "two <channels> & more.ome.tif"
    metadata = {
        "axes": "ZCYX",
        "Name": "<script>alert(1)</script>",
        "Channel": {"Name": ["<b>DAPI</b>", "GFP & co"], "Color": [RED, BLUE]},
        "PhysicalSizeX": 0.25,
        "PhysicalSizeY": 0.25,
    }
    tifffile.imwrite(path, data, ome=True, metadata=metadata)
    return path


# ---------------------------------------------------------------------------- thumbnails


def test_channels_are_drawn_in_their_ome_colours_over_a_max_projection(two_channels):
    with bfbridge.open(two_channels) as image:
        series = image.series[0]
        caption, picture = drawn(series)
    assert picture.shape == (32, 40, 3)
    assert (picture[:, :20] == [255, 0, 0]).all() and (picture[:, 20:] == [0, 0, 255]).all()
    assert caption == "max over 3 z planes"


def test_a_channel_without_a_colour_gets_the_default_and_one_channel_is_grey(tmp_path):
    path = tmp_path / "grey.tif"
    ramp = np.repeat(np.arange(0, 256, 4, dtype=np.uint16)[None, :], 8, axis=0) * 100  # 8 x 64: 0 .. 25200
    tifffile.imwrite(path, ramp)
    with bfbridge.open(path) as image:
        _, picture = drawn(image.series[0])
    assert picture.shape == (8, 64, 3)
    assert (picture[..., 0] == picture[..., 1]).all() and (picture[..., 1] == picture[..., 2]).all()
    row = picture[0, :, 0].astype(int)
    assert row[0] == 0 and row[-1] == 255 and (np.diff(row) >= 0).all()  # auto-contrast spans black to white


def test_two_channels_without_colours_get_red_and_green():
    fake = "two&sizeX=64&sizeY=32&sizeC=2.fake"
    with bfbridge.open(fake) as image:
        _, picture = drawn(image.series[0])
    picture = picture.astype(int)
    assert picture[..., 2].max() == 0  # red and green only
    assert picture[..., 0].max() == 255 and picture[..., 1].max() == 255


def test_rgb_is_shown_as_rgb_exactly(tmp_path):
    rgb = np.random.default_rng(3).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    path = tmp_path / "rgb.tif"
    tifffile.imwrite(path, rgb, photometric="rgb")
    with bfbridge.open(path) as image:
        assert image.series[0].dims == "TCZYXS"
        np.testing.assert_array_equal(drawn(image.series[0])[1], rgb)


def test_a_large_level_is_shrunk_by_block_means(tmp_path):
    data = np.zeros((600, 520), np.uint8)
    data[:, 260:] = 200
    data[:300, :260] = 100
    path = tmp_path / "large.tif"
    tifffile.imwrite(path, data)
    with bfbridge.open(path) as image:
        picture = drawn(image.series[0])[1][..., 0]
    assert picture.shape == (200, 174)  # 3 x 3 blocks: ceil(600 / 3) x ceil(520 / 3)
    # levels 0, 100, 200 stretch to 0, 127.5, 255; the column of blocks across x = 260 is a mixed one
    assert (picture[:100, :86] == 128).all() and (picture[100:, :86] == 0).all() and (picture[:, 87:] == 255).all()


def test_a_pyramid_shows_the_smallest_level_wide_enough_and_reads_only_it(tmp_path, monkeypatch):
    fake = "pyr&sizeX=4096&sizeY=2048&resolutions=5&pixelType=uint8.fake"
    calls = _count_reads(monkeypatch)
    with bfbridge.open(fake) as image:
        series = image.series[0]
        assert [level.shape[3:5] for level in series.levels][-2:] == [(256, 512), (128, 256)]
        made = thumbnail.make_thumbnail(series)
    assert made.caption == "level 4 of 5 (256×128)" and (made.width, made.height) == (256, 128)
    assert calls == [(0, 0, 0, 256, 128)]  # one openBytes: the whole of that level


def test_a_huge_plane_shows_its_centre_and_reads_at_most_the_budget(monkeypatch):
    fake = "huge&sizeX=100000&sizeY=100000&pixelType=uint16.fake"  # 20 GB in one plane
    calls = _count_reads(monkeypatch)
    with bfbridge.open(fake) as image:
        made = thumbnail.make_thumbnail(image.series[0])
    assert made.png is not None and (made.width, made.height) == (242, 242)  # 6 x 6 blocks of the centre
    assert made.caption == "centre 1448×1448 (the plane is too large for a thumbnail)"
    read = sum(width * height * 2 for _, _, _, width, height in calls)
    assert read == 1448 * 1448 * 2 <= thumbnail.BUDGET
    assert {(x, y) for _, x, y, _, _ in calls} == {((100000 - 1448) // 2, (100000 - 1448) // 2)}


def test_many_channels_show_the_first_eight():
    with bfbridge.open("many&sizeX=32&sizeY=16&sizeC=12.fake") as image:
        made = thumbnail.make_thumbnail(image.series[0])
    assert made.png is not None and made.caption == "first 8 of 12 channels"


def test_a_closed_file_has_no_thumbnail_but_keeps_its_metadata(two_channels):
    image = bfbridge.open(two_channels)
    series = image.series[0]
    image.close()
    assert thumbnail.make_thumbnail(series).caption == "no thumbnail: the file is closed"
    html = series._repr_html_()
    assert "T=1 × C=2 × Z=3 × Y=32 × X=40" in html and "no thumbnail: the file is closed" in html
    assert "<img" not in html
    assert "(closed)" in image._repr_html_() and "(closed)" in repr(image)


def test_a_file_that_fails_to_read_shows_its_metadata_and_why(two_channels):
    image = bfbridge.open(two_channels)
    series = image.series[0]
    tifffile.imwrite(two_channels, np.ones((4, 4), np.uint8))  # rewritten after the open
    html = image._repr_html_()
    image.close()
    assert "T=1 × C=2 × Z=3 × Y=32 × X=40" in html and "uint16" in html
    assert "no thumbnail: FormatError: " in html and "changed on disk since it was opened" in html
    assert "<img" not in html
    assert repr(series).startswith("<bfbridge.Series 0 ")


def test_a_slow_read_gives_up_within_the_thumbnail_time_budget(monkeypatch):
    monkeypatch.setattr(thumbnail, "SECONDS", 0.5)
    with bfbridge.open("slow&sizeX=64&sizeY=64&sleepOpenBytes=20000.fake") as image:
        made = thumbnail.make_thumbnail(image.series[0])
        assert made.png is None and made.caption == "no thumbnail: reading it took longer than 0.5 s"
        assert image.readers_open <= image.pool_size  # the stuck reader was replaced


def test_a_deadline_bounds_all_calls_made_inside_it():
    calls = []
    with guard.deadline(30):
        assert guard.call(lambda: calls.append(1) or "done", None, "a call") == "done"
        with guard.deadline(0.2):
            with pytest.raises(bfbridge.ReadTimeoutError, match="did not finish within"):
                guard.call(lambda: time.sleep(5), None, "a slow call")
            with pytest.raises(bfbridge.ReadTimeoutError, match="its time budget is spent"):
                guard.call(lambda: calls.append(2), None, "a late call")
        assert guard.call(lambda: calls.append(3) or "again", 60, "a call after the inner block") == "again"
    assert calls == [1, 3]


# ---------------------------------------------------------------------------- HTML and text


def test_series_html_shows_sizes_dtype_pixel_sizes_channels_and_a_thumbnail(two_channels):
    with bfbridge.open(two_channels) as image:
        html = image.series[0]._repr_html_()
    assert "<b>bfbridge.Series</b> 0" in html
    assert "T=1 × C=2 × Z=3 × Y=32 × X=40" in html and ">uint16<" in html and "15.0 KiB" in html
    assert "X 0.25 µm, Y 0.25 µm" in html
    assert "#FF0000" in html and "#0000FF" in html  # the channel colour swatches
    (picture,) = pngs_in(html)
    assert picture.size == (40, 32) and picture.mode == "RGB"
    assert 'width="128" height="102"' in html  # small pictures are drawn larger, pixelated


def test_text_from_the_file_is_escaped(two_channels):
    with bfbridge.open(two_channels) as image:
        pages = [image._repr_html_(), image.series[0]._repr_html_()]
    for html in pages:
        assert "<script>" not in html and "<b>DAPI</b>" not in html and "<channels>" not in html
        assert "&lt;b&gt;DAPI&lt;/b&gt;" in html and "GFP &amp; co" in html
        assert "two &lt;channels&gt; &amp; more.ome.tif" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[0]


def test_image_file_html_lists_series_and_shows_the_first_ones_thumbnail():
    names = ("multi", "multi 2", "multi 3")  # Bio-Formats' names for fake series
    fake = "multi&sizeX=96&sizeY=64&sizeZ=2&series=3&pixelType=int16&physicalSizeX=0.5.fake"
    with bfbridge.open(fake) as image:
        html = image._repr_html_()
        text = repr(image)
    assert "Simulated data (FakeReader)" in html and "not memoized" in html
    rows = re.findall(r"<tr><td[^>]*>(\d+)</td>", html)
    assert rows == ["0", "1", "2"] and "<details>" not in html
    assert html.count(">T=1 × C=1 × Z=2 × Y=64 × X=96<") == 3 and html.count(">int16<") == 3
    (picture,) = pngs_in(html)
    assert picture.size == (96, 64)
    assert text.splitlines() == [
        f"<bfbridge.ImageFile {fake!r} (open)>",
        "  Simulated data (FakeReader), 3 series, memo: not memoized",
        *[f"  [{i} {name!r}: T=1 C=1 Z=2 Y=64 X=96 int16; pixel size X 0.5 µm]" for i, name in enumerate(names)],
    ]


def test_hundreds_of_series_fold_into_details():
    with bfbridge.open("plate&sizeX=8&sizeY=8&series=300.fake") as image:
        html = image._repr_html_()
        text = repr(image)
    visible, folded = html.split("<details><summary>295 more series</summary>")
    assert re.findall(r"<tr><td[^>]*>(\d+)</td>", visible) == ["0", "1", "2", "3", "4"]
    listed = re.findall(r"<tr><td[^>]*>(\d+)</td>", folded)
    assert listed == [str(i) for i in range(5, 200)]
    assert "100 more series not listed" in folded
    assert len(text.splitlines()) == 2 + 5 + 1 and text.endswith("  ... and 295 more series")


def test_series_text_repr_is_one_line():
    with bfbridge.open("pyr&sizeX=512&sizeY=256&sizeC=2&resolutions=2.fake") as image:
        series = image.series[0]
        assert repr(series) == "<bfbridge.Series 0 'pyr': T=1 C=2 Z=1 Y=256 X=512 uint8, level 0 of 2>"
        assert repr(series.level(1)) == "<bfbridge.Series 0 'pyr': T=1 C=2 Z=1 Y=128 X=256 uint8, level 1 of 2>"
        assert repr(image.series).count("\n") == 0


def test_a_handle_not_yet_opened_is_described_without_opening_it():
    fake = "lazy&sizeX=16&sizeY=8.fake"
    with bfbridge.open(fake) as image:
        data = pickle.dumps(image)
    handle = pickle.loads(data)  # what a dask worker holds before its first read
    assert handle.state == "not yet opened"
    assert repr(handle).splitlines() == [
        f"<bfbridge.ImageFile {fake!r} (not yet opened)>",
        "  (a handle from another process: the file opens on first use)",
    ]
    assert "(not yet opened)" in handle._repr_html_()
    assert handle.state == "not yet opened"
    handle.close()


# ---------------------------------------------------------------------------- jvm_info()


def test_jvm_info_is_a_dict_that_renders_as_a_table():
    info = bfbridge.jvm_info()
    assert isinstance(info, dict) and info["max_heap"] == bfbridge.config.in_force().max_heap
    assert 0 < info["heap_used_bytes"] <= info["max_heap_bytes"]
    html = info._repr_html_()
    assert html.count("<tr>") == len(info)
    assert f'<td style="text-align:left;vertical-align:top;padding:0.1em 0.6em 0.1em 0">{info["max_heap"]}</td>' in html
    assert f"{len(info['classpath'])} entries" in html and "bfbridge.configure(max_heap=&quot;...&quot;)" in html


# ---------------------------------------------------------------------------- thumbnails of the corpus


def assert_follows(shown: np.ndarray, raw: np.ndarray) -> None:
    """``shown`` is a non-decreasing function of ``raw`` from black to full: one channel, auto-contrasted."""
    order = np.argsort(raw, axis=None, kind="stable")
    values = shown.ravel()[order].astype(int)
    assert (np.diff(values) >= 0).all() and values[0] == 0 and values[-1] > 0


@pytest.mark.corpus
def test_corpus_rgb_is_shown_as_rgb(corpus):
    path = corpus / "png/chelsea.png"
    with bfbridge.open(path) as image:
        _, picture = drawn(image.series[0])
    expected = np.asarray(Image.open(path).convert("RGB").reduce(2))  # Pillow's own 2 x 2 box means
    assert picture.shape == expected.shape == (150, 226, 3)
    assert np.abs(picture.astype(int) - expected).max() <= 1  # rounding of .5 means


@pytest.mark.corpus
def test_corpus_16_bit_grey_spans_its_range(corpus):
    path = corpus / "tiff/chessboard_GRAY_U16B.tif"
    raw = tifffile.imread(path)
    assert raw.dtype == np.uint16 and (raw.min(), raw.max()) == (0, 255)  # 16-bit, big-endian in the file
    with bfbridge.open(path) as image:
        _, picture = drawn(image.series[0])
    assert picture.shape == (200, 200, 3)
    for colour in range(3):  # one channel without a colour is white: each value maps to itself
        np.testing.assert_array_equal(picture[..., colour], raw)


def hex_colour(colour: int) -> str:
    return f"{(colour & 0xFFFFFFFF) >> 8:06X}"


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("name", "colours", "time", "caption"),
    [
        ("czi/CD_s_1_t_3_c_2_z_5.czi", ["FF7E00", "00FF33"], 1, "t=1 of 3, max over 5 z planes"),
        ("lif/testdata_2channel_xz.lif", ["00FF00", "FF0000"], 10, "t=10 of 20"),
    ],
)
def test_corpus_channels_are_drawn_in_their_colours(corpus, name, colours, time, caption):
    with bfbridge.open(corpus / name) as image:
        series = image.series[0]
        assert [hex_colour(c) for c in series.channel_colors] == colours
        shown, picture = drawn(series)
        raw = series[time].max(axis=1)  # the middle time point, max over Z: (C, Y, X)
        html = series._repr_html_()
        labels = series.channel_names
    assert shown == caption and picture.shape == (*series.shape[3:5], 3)
    for component in range(3):  # red, green, blue: from the one channel whose colour has it, or none
        givers = [c for c, colour in enumerate(colours) if int(colour[2 * component : 2 * component + 2], 16)]
        if not givers:
            assert picture[..., component].max() == 0
        elif len(givers) == 1:
            assert_follows(picture[..., component], raw[givers[0]])
    for colour, label in zip(colours, labels, strict=True):
        assert f"#{colour}" in html and label in html


@pytest.mark.corpus
def test_corpus_pyramid_shows_a_reduced_level(corpus, monkeypatch):
    calls = _count_reads(monkeypatch)
    with bfbridge.open(corpus / "ome-tiff/largeimg.ome.tiff") as image:
        series = image.series[0]
        caption, picture = drawn(series)
    assert caption == "level 1 of 2 (256×256)" and picture.shape == (256, 256, 3)
    assert {(x, y, width, height) for _, x, y, width, height in calls} == {(0, 0, 256, 256)}  # level 1 only
    assert (picture[..., 0] == picture[..., 1]).all() and (picture[..., 1] == picture[..., 2]).all()  # white + white
    assert picture.min() == 0 and picture.max() == 255


@pytest.mark.corpus
def test_corpus_pyramid_smaller_than_a_thumbnail_shows_its_full_level(corpus):
    with bfbridge.open(corpus / "ome-tiff/synthetic/dim5_pyramid.ome.tif") as image:
        series = image.series[0]
        caption, picture = drawn(series)
        raw = series[0, 0].max(axis=0)
    assert caption == "level 0 of 3 (48×32), max over 6 z planes" and picture.shape == (32, 48, 3)
    assert_follows(picture[..., 0], raw)


@pytest.mark.corpus
def test_corpus_large_rgb_plane_shows_its_centre(corpus):
    with bfbridge.open(corpus / "svs/CMU-1-Small-Region.svs") as image:
        series = image.series[0]
        caption, picture = drawn(series)
        top, left = (2967 - 1366) // 2, (2220 - 1022) // 2
        centre = series[0, 0, 0, top : top + 1366, left : left + 1022]
    assert caption == "centre 1022×1366 (the plane is too large for a thumbnail)"
    expected = np.asarray(Image.fromarray(centre).reduce(6))
    assert picture.shape == expected.shape == (228, 171, 3)
    assert np.abs(picture.astype(int) - expected).max() <= 1


def test_heap_advice_names_a_concrete_larger_heap():
    memory = bfbridge.config.physical_memory()
    assert bfbridge.config.larger_heap(256 << 20) == "512m"
    assert bfbridge.config.larger_heap(1 << 30) == ("2g" if memory >= (8 << 30) // 3 else None)
    assert bfbridge.config.larger_heap(memory) is None  # never more than 3/4 of the memory
    bfbridge.jvm_info()
    heap = bfbridge.config.in_force()
    larger = bfbridge.config.larger_heap(heap.max_heap_bytes)
    advice = bfbridge.jvm.memory_advice()
    assert advice.startswith(f"the JVM max heap is {heap.max_heap}")
    if larger is None:
        assert "already most of this machine's memory: read smaller pieces" in advice
    else:
        assert f'bfbridge.configure(max_heap="{larger}")' in advice and f"BFBRIDGE_MAX_HEAP={larger}" in advice
