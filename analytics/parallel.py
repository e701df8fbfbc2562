"""Independent pieces of work on two threads, for the steps before the model lanes (reading, cleaning).

Threads, not processes: the pieces read the same line-level arrays, which a process would copy, and their
heavy loops (pyarrow's decoding and compute kernels, numpy, pandas' hash tables, hashlib) release the GIL,
so two threads use both cores of a 2-core machine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
WORKERS = 2


def in_threads(tasks: Mapping[str, Callable[[], T]]) -> dict[str, T]:
    """Each task's result by name. Failures surface as if the tasks had run one by one in order: the first
    task's (in ``tasks``' order) error is raised, and tasks not yet begun are dropped."""
    pool = ThreadPoolExecutor(min(WORKERS, max(len(tasks), 1)))
    try:
        running = {name: pool.submit(task) for name, task in tasks.items()}
        return {name: future.result() for name, future in running.items()}
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
