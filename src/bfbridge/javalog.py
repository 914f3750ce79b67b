"""Route Bio-Formats' Java logging (slf4j + logback) into Python ``logging``.

Records arrive under ``bfbridge.java.<java logger name>`` at their real levels. The
Java root level follows the ``log_level`` setting, so filtering happens in Java and
nothing below it crosses into Python.
"""

from __future__ import annotations

import logging

import jpype

PREFIX = "bfbridge.java"
_JAVA_LEVEL = {"CRITICAL": "ERROR", "ERROR": "ERROR", "WARNING": "WARN", "INFO": "INFO", "DEBUG": "DEBUG"}
_installed = False


@jpype.JImplements("ch.qos.logback.core.Appender", deferred=True)
class _PythonAppender:
    """A logback appender whose every event becomes a Python log record."""

    def __init__(self) -> None:
        self._name = "bfbridge-python"
        self._started = False
        self._context = None

    @jpype.JOverride
    def doAppend(self, event):
        try:
            level = int(event.getLevel().toInt()) // 1000  # logback: ERROR=40000 ... TRACE=5000
            logger = logging.getLogger(f"{PREFIX}.{event.getLoggerName()}")
            if not logger.isEnabledFor(level):
                return
            message = str(event.getFormattedMessage())
            thrown = event.getThrowableProxy()
            if thrown is not None:
                message += f" ({thrown.getClassName()}: {thrown.getMessage()})"
            logger.log(level, "%s", message)
        except Exception:  # a logging failure must never break a read
            pass

    @jpype.JOverride
    def getName(self):
        return self._name

    @jpype.JOverride
    def setName(self, name):
        self._name = str(name)

    @jpype.JOverride
    def start(self):
        self._started = True

    @jpype.JOverride
    def stop(self):
        self._started = False

    @jpype.JOverride
    def isStarted(self):
        return self._started

    @jpype.JOverride
    def setContext(self, context):
        self._context = context

    @jpype.JOverride
    def getContext(self):
        return self._context

    @jpype.JOverride
    def addStatus(self, status):
        pass

    @jpype.JOverride
    def addInfo(self, *args):
        pass

    @jpype.JOverride
    def addWarn(self, *args):
        pass

    @jpype.JOverride
    def addError(self, *args):
        pass

    @jpype.JOverride
    def addFilter(self, new_filter):
        pass

    @jpype.JOverride
    def clearAllFilters(self):
        pass

    @jpype.JOverride
    def getCopyOfAttachedFiltersList(self):
        return jpype.JClass("java.util.ArrayList")()

    @jpype.JOverride
    def getFilterChainDecision(self, event):
        return jpype.JClass("ch.qos.logback.core.spi.FilterReply").NEUTRAL


def _root_logger():
    factory = jpype.JClass("org.slf4j.LoggerFactory")
    return factory.getLogger(jpype.JClass("org.slf4j.Logger").ROOT_LOGGER_NAME)


def install(level: str) -> None:
    """Replace logback's console appender with the Python bridge (once per process)."""
    global _installed
    try:
        root = _root_logger()
        root.detachAndStopAllAppenders()
        appender = _PythonAppender()
        root.addAppender(appender)
        _installed = True
    except Exception as error:  # not logback (explicit jars with another slf4j binding)
        logging.getLogger(PREFIX).debug("Java logging not routed to Python: %s", error)
    set_level(level)


def set_level(level: str) -> None:
    """Set the Java root log level from a Python level name."""
    java_level = _JAVA_LEVEL[level]
    try:
        if _installed:
            root = _root_logger()
            root.setLevel(jpype.JClass("ch.qos.logback.classic.Level").toLevel(java_level))
        else:
            jpype.JClass("loci.common.DebugTools").setRootLevel(java_level)
    except Exception as error:
        logging.getLogger(PREFIX).debug("could not set the Java log level: %s", error)
