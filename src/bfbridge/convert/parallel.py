"""Run the blocks of dask arrays in parallel, a bounded number at a time.

Each block is submitted as its own small graph (culled once from the array's graph),
so results stream back as they finish: to a local thread pool, or to the active
``dask.distributed`` client, whose workers reopen the source by unpickling it. Only
``window`` blocks are in flight at once, which keeps memory bounded whatever the
file's size, and lets a writer consume blocks in order (OME-TIFF) or as they come
(OME-Zarr).
"""

from __future__ import annotations

import concurrent.futures
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import dask
import numpy as np
from dask.optimization import cull

from ..reader import serial_reads


@dataclass(frozen=True)
class Block:
    """One block of a dask array: the graph that computes it and where it goes."""

    graph: dict
    key: tuple
    region: tuple[slice, ...]

    def compute(self) -> np.ndarray:
        with serial_reads():  # the runner computes blocks in parallel already: one block, one thread
            return dask.get(self.graph, self.key)


def blocks(array) -> Iterator[Block]:
    """The blocks of a dask array in C order (for an image: plane by plane, rows then columns)."""
    (optimized,) = dask.optimize(array)
    graph = dict(optimized.__dask_graph__())
    edges = [np.cumsum((0, *sizes)) for sizes in optimized.chunks]
    for index in np.ndindex(*optimized.numblocks):
        key = (optimized.name, *index)
        needed, _ = cull(graph, [key])
        region = tuple(slice(int(e[i]), int(e[i + 1])) for e, i in zip(edges, index, strict=True))
        yield Block(needed, key, region)


def active_client():
    """The ``dask.distributed`` client in use, if any."""
    try:
        from distributed import default_client
    except ImportError:
        return None
    try:
        return default_client()
    except ValueError:
        return None


class Runner:
    """Submits ``function(item)`` per item to threads or to the distributed client."""

    def __init__(self, workers: int) -> None:
        self._client = active_client()
        if self._client is not None:
            workers = max(1, sum(self._client.nthreads().values()))
            self._pool = None
        else:
            self._pool = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="bfbridge-convert")
        self.workers = workers
        self.window = 2 * workers

    def _submit(self, function: Callable[[Any], Any], item: Any):
        if self._client is not None:
            return self._client.submit(function, item, pure=False)
        return self._pool.submit(function, item)

    def _cancel(self, futures: Iterable) -> None:
        futures = list(futures)
        if self._client is not None:
            if futures:
                self._client.cancel(futures)
            return
        for future in futures:
            future.cancel()

    def unordered(self, function: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        """Results as they finish."""
        pending: set = set()
        try:
            for item in items:
                if len(pending) >= self.window:
                    done, pending = self._wait_first(pending)
                    yield from (future.result() for future in done)
                pending.add(self._submit(function, item))
            while pending:
                done, pending = self._wait_first(pending)
                yield from (future.result() for future in done)
        finally:
            self._cancel(pending)

    def ordered(self, function: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        """Results in the order of ``items``, computed up to ``window`` ahead."""
        pending: deque = deque()
        try:
            for item in items:
                if len(pending) >= self.window:
                    yield pending.popleft().result()
                pending.append(self._submit(function, item))
            while pending:
                yield pending.popleft().result()
        finally:
            self._cancel(pending)

    def _wait_first(self, pending: set) -> tuple[set, set]:
        if self._client is not None:
            from distributed import wait

            done, not_done = wait(pending, return_when="FIRST_COMPLETED")
        else:
            done, not_done = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
        return set(done), set(not_done)

    def close(self) -> None:
        """Stop: cancel what has not started and wait for running blocks (so no write outlives us)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
