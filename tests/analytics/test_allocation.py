"""The process-wide allocation settings applied when ``analytics`` is imported (``analytics.allocation``)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# prints the pyarrow pool in use and whether numpy still asks for huge pages (the switch returns the old value)
REPORT = ("import pyarrow, numpy; from numpy._core.multiarray import _set_madvise_hugepage as s; "
          "print(pyarrow.default_memory_pool().backend_name, s(False))")


def settings_after(code: str, **environ: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NUMPY_MADVISE_HUGEPAGE", "ARROW_DEFAULT_MEMORY_POOL")}
    done = subprocess.run([sys.executable, "-c", f"{code}; {REPORT}"], cwd=ROOT, env={**env, **environ},
                          capture_output=True, text=True, check=True)
    return done.stdout.split()


@pytest.mark.parametrize("code", ["import analytics", "import numpy, pyarrow, pandas; import analytics"])
def test_importing_analytics_turns_off_huge_pages_and_uses_the_c_allocator(code):
    assert settings_after(code) == ["system", "False"]


def test_an_operators_choice_is_kept():
    chosen = {"NUMPY_MADVISE_HUGEPAGE": "1", "ARROW_DEFAULT_MEMORY_POOL": "jemalloc"}
    assert settings_after("import analytics", **chosen) == ["jemalloc", "True"]
    assert settings_after("import numpy, pyarrow; import analytics", **chosen) == ["jemalloc", "True"]


def test_without_analytics_the_libraries_keep_their_defaults():
    # the check above could pass by accident if these were already the defaults here
    pool, huge_pages = settings_after("import numpy, pyarrow")
    assert (pool, huge_pages) != ("system", "False")


# Half of 3,000 heap blocks of 64 KB freed, every other one, so that the heap's top stays in use and glibc's own
# trimming at the top cannot return them: only ``give_back_freed`` can.
FRAGMENTED = """
import os
from analytics.allocation import give_back_freed
def rss_mb():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
blocks = [bytearray(64 * 1024) for _ in range(3000)]
del blocks[::2]
before = rss_mb()
give_back_freed()
print(before - rss_mb())
"""


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads resident memory from /proc")
def test_freed_heap_memory_is_given_back_to_the_kernel():
    from analytics.allocation import _TRIM

    if _TRIM is None:
        pytest.skip("no glibc malloc_trim here")
    done = subprocess.run([sys.executable, "-c", FRAGMENTED], cwd=ROOT, capture_output=True, text=True, check=True)
    assert float(done.stdout) > 60  # of the ~94 MB freed
