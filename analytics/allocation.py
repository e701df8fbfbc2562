"""How this process takes memory from the kernel: fresh pages are what a large run pays for most after its models.

A 10M-line run allocates and frees about 11 GB of line-sized temporaries (80 MB each). Every fresh page the
kernel hands out is zeroed first, and on this 2-core virtual machine that zeroing was 18 % of a run's CPU
samples (``perf``: ``clear_page_erms`` under huge-page faults), with system time varying from 9 to 12 s per run.
Two defaults made it dearer than it needs to be:

- numpy asks the kernel for transparent huge pages on every large array (``madvise``), so a fault zeroes 2 MB
  at once; this kernel's huge-page mode is ``madvise``, where that hint is what switches them on;
- pyarrow's default pool (mimalloc) hands freed memory back to the kernel within milliseconds, so the next
  column read faults it in again.

With numpy's hint off and pyarrow on the C library's allocator, the 10M-line benchmark on this machine (two
runs each, quiet host) took 22.2 s wall and 6 s system time against 24.6-26.4 s and 9-12 s, at the same peak
(1.89-1.96 GB against 1.86 GB). Keeping freed memory in the C heap for reuse (``MALLOC_MMAP_MAX_=0``) saved
2 s more of system time but raised the peak to 2.4 GB, over the 2 GB budget, so it is not done.

Both are process-wide settings read when numpy and pyarrow start, which is why this runs when ``analytics``
is imported; an operator who sets ``NUMPY_MADVISE_HUGEPAGE`` or ``ARROW_DEFAULT_MEMORY_POOL`` keeps their choice.

The C library's heap keeps what is freed for reuse, in one arena per thread that allocated it, and memory freed
in one thread's arena is not reused by another. The pipeline's steps run on several threads, so a run's resident
memory ratcheted up: at 10M lines the model steps began at 1.1-1.5 GB, with the cleaned lines 0.37 GB and
the libraries 0.2 GB. ``give_back_freed`` (glibc's ``malloc_trim``, after reading, after cleaning and after each
step) returns the free pages of every arena to the kernel. On the 10M-line log the steps then began at
0.74-1.06 GB, and their maxima fell by 100-400 MB each (features 1652 -> 1353 MB, CLV forecast 1652 -> 1540,
trends 1593 -> 1300, journeys 1538 -> 1266); the twelve calls took 0.18 s together, the longest 40 ms.
"""

from __future__ import annotations

import ctypes
import os
import sys

__all__ = ["economise_fresh_pages", "give_back_freed"]

_SETTINGS = {"NUMPY_MADVISE_HUGEPAGE": "0", "ARROW_DEFAULT_MEMORY_POOL": "system"}


def economise_fresh_pages() -> None:
    """Apply the settings above unless the environment already chose; also to numpy/pyarrow if loaded."""
    chosen = {name: name in os.environ for name in _SETTINGS}
    for name, value in _SETTINGS.items():
        os.environ.setdefault(name, value)
    # Either library may already be loaded (a notebook, the app importing pandas first): its setting was read
    # at its import, so it is changed directly.
    if not chosen["NUMPY_MADVISE_HUGEPAGE"] and "numpy" in sys.modules:
        from numpy._core.multiarray import _set_madvise_hugepage  # numpy's switch behind the variable

        _set_madvise_hugepage(False)
    if not chosen["ARROW_DEFAULT_MEMORY_POOL"] and "pyarrow" in sys.modules:
        import pyarrow

        pyarrow.set_memory_pool(pyarrow.system_memory_pool())


def _malloc_trim():
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim this way
        return None


_TRIM = _malloc_trim()


def give_back_freed() -> None:
    """Return the C heap's free pages to the kernel (see the module docstring); a no-op without glibc."""
    if _TRIM is not None:
        _TRIM(0)
