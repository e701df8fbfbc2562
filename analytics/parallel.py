"""Independent pieces of work on two threads, for the steps before the model lanes (reading, cleaning).

Threads, not processes: the pieces read the same line-level arrays, which a process would copy, and their
heavy loops (pyarrow's decoding and compute kernels, numpy, pandas' hash tables, hashlib) release the GIL,
so two threads use both cores of a 2-core machine.

An interruption (``interrupted``) is not waited out: a cancelled Celery run is stopped by SIGTERM, which
billiard turns into ``SystemExit`` in the main thread, and its process exits as soon as that has unwound.
Waiting there for the pieces still running, as for an ordinary error, kept a cancelled run computing for
seconds (minutes on a large log) beside the user's next run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
WORKERS = 2


def interrupted(error: BaseException) -> bool:
    """Whether ``error`` ends the run rather than reports a failure: ``SystemExit`` (a cancelled run's
    SIGTERM) or ``KeyboardInterrupt``. Threads still running are then left to end with the process."""
    return not isinstance(error, Exception)


def in_threads(tasks: Mapping[str, Callable[[], T]]) -> dict[str, T]:
    """Each task's result by name. Failures surface as if the tasks had run one by one in order: the first
    task's (in ``tasks``' order) error is raised, and tasks not yet begun are dropped."""
    pool = ThreadPoolExecutor(min(WORKERS, max(len(tasks), 1)))
    try:
        running = {name: pool.submit(task) for name, task in tasks.items()}
        results = {name: future.result() for name, future in running.items()}
    except BaseException as error:
        pool.shutdown(wait=not interrupted(error), cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return results
