"""Java logging reaches Python logging at its real level; Java exceptions become bfbridge ones."""

from __future__ import annotations

import logging

import jpype
import pytest

import bfbridge
from bfbridge import jvm


def _java_logger(name: str):
    jvm.ensure_started()
    return jpype.JClass("org.slf4j.LoggerFactory").getLogger(name)


def test_java_warnings_arrive_under_bfbridge_java(caplog):
    logger = _java_logger("bfbridge.test.warn")
    with caplog.at_level(logging.DEBUG, logger="bfbridge.java"):
        logger.warn("careful {}", "now")
        logger.error("broken")
        logger.info("chatty")  # below the default WARNING root level: filtered in Java
        logger.debug("noise")
    records = [(r.name, r.levelno, r.getMessage()) for r in caplog.records if r.name.startswith("bfbridge.java")]
    assert records == [
        ("bfbridge.java.bfbridge.test.warn", logging.WARNING, "careful now"),
        ("bfbridge.java.bfbridge.test.warn", logging.ERROR, "broken"),
    ]


def test_log_level_setting_changes_the_java_level(python):
    result = python(
        """
        import logging, jpype, bfbridge
        logging.basicConfig(level=logging.DEBUG, format="%(name)s|%(levelname)s|%(message)s")
        bfbridge.configure(log_level="INFO")
        bfbridge.jvm_info()
        log = jpype.JClass("org.slf4j.LoggerFactory").getLogger("probe")
        log.info("info shown")
        log.debug("debug hidden")
        bfbridge.configure(log_level="ERROR")
        log.warn("warn hidden")
        log.error("error shown")
        """
    )
    lines = [line for line in result.stderr.splitlines() if line.startswith("bfbridge.java.probe")]
    assert lines == ["bfbridge.java.probe|INFO|info shown", "bfbridge.java.probe|ERROR|error shown"]


def test_default_open_is_quiet(python, corpus):
    result = python(
        f"""
        import bfbridge
        with bfbridge.open({str(corpus / "lif/testdata_2channel_xz.lif")!r}) as f:
            f.series[0][0, 0, 0]
        print("done")
        """
    )
    assert result.stdout.strip() == "done"
    assert result.stderr == ""  # no DEBUG/INFO spam from Bio-Formats or logback


def test_out_of_memory_becomes_java_memory_error():
    jvm.ensure_started()
    with pytest.raises(bfbridge.JavaMemoryError) as raised, jvm.java_errors("big.tif"):
        jpype.JArray(jpype.JLong)((1 << 31) - 16)  # 16 GiB: more than any test heap
    error = raised.value
    assert isinstance(error, MemoryError) and isinstance(error, bfbridge.BioFormatsError)
    assert "max heap is" in str(error) and "BFBRIDGE_MAX_HEAP" in str(error)
    assert "big.tif" in str(error)


def test_format_exception_becomes_format_error():
    jvm.ensure_started()
    with pytest.raises(bfbridge.FormatError) as raised, jvm.java_errors("broken.czi"):
        raise jpype.JClass("loci.formats.FormatException")("Invalid block header")
    assert raised.value.path == "broken.czi"
    assert raised.value.java_message == "Invalid block header"
    assert "broken.czi" in str(raised.value) and "Invalid block header" in str(raised.value)


def test_unknown_format_becomes_unsupported_format_error(tmp_path):
    text = tmp_path / "notes.xyz"
    text.write_text("just some text, no image here\n" * 20)
    with pytest.raises(bfbridge.UnsupportedFormatError) as raised:
        bfbridge.open(text)
    assert str(text) in str(raised.value)
    assert isinstance(raised.value, bfbridge.FormatError)


def test_errors_pickle_with_their_java_stack_trace(python):
    """Errors cross process boundaries (dask workers): with tblib's exception pickling, as dask
    installs it, the whole chain must pickle, so no JPype object may hang on it."""
    result = python(
        """
        import pickle, jpype, tblib.pickling_support, bfbridge
        from bfbridge import jvm
        tblib.pickling_support.install()
        jvm.ensure_started()
        try:
            with jvm.java_errors("broken.czi"):
                raise jpype.JClass("loci.formats.FormatException")("Invalid block header")
        except bfbridge.FormatError as error:
            again = pickle.loads(pickle.dumps(error))
        print(type(again).__name__, again.path, again.java_message)
        print(type(again.__cause__).__name__, again.__cause__.__context__)
        print(str(again.__cause__).splitlines()[0])
        """
    )
    assert result.stdout.splitlines() == [
        "FormatError broken.czi Invalid block header",
        "JavaTrace None",
        "loci.formats.FormatException: Invalid block header",
    ]
