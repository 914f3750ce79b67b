"""python-bioformats 4.x's ``bioformats.logback`` (formerly ``log4j``): ``basic_config()`` is kept and does nothing.

See :mod:`.log4j`: bfbridge already routes Bio-Formats' Java logging through Python :mod:`logging`.
"""

from __future__ import annotations

from .log4j import basic_config

__all__ = ["basic_config"]
