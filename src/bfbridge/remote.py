"""Read fsspec URLs lazily: a Java ``IRandomAccess`` over fsspec files, mapped into Bio-Formats."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def freeze_options(options: dict[str, Any]) -> tuple:
    """Storage options as a hashable, picklable value for :class:`~bfbridge.reader.FileSpec`."""
    try:
        return (("json", json.dumps(options, sort_keys=True)),)
    except TypeError as error:
        raise ValueError(f"storage_options must be JSON-serialisable: {error}") from error


def thaw_options(frozen: tuple) -> dict[str, Any]:
    return json.loads(dict(frozen)["json"]) if frozen else {}


@dataclass
class Mount:
    """A URL mapped into Bio-Formats' ``Location`` under ``java_id`` until ``close()``."""

    java_id: str
    close: Callable[[], None]


def mount(url: str, storage_options: dict[str, Any]) -> Mount:
    raise NotImplementedError("remote reading is not implemented yet")
