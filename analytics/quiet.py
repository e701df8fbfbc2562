"""Silence a third-party computation's prints and warnings, safely when several threads do it.

``contextlib.redirect_stdout`` and ``warnings.catch_warnings`` change process-wide state (``sys.stdout``, the
warnings filters) and put back, on leaving, what they found on entering. Two threads inside them at once put
back each other's state: when the pipeline's model steps first ran two at once (``analytics.pipeline.NEEDS``),
a lifetimes fit in one thread and another in the other left ``sys.stdout`` pointing at a discarded buffer for
the rest of the process, and the CLI printed nothing. One lock makes the quiet sections take turns: they are
the model fits' optimiser calls, a small part of either thread's work.
"""

from __future__ import annotations

import contextlib
import io
import threading
import warnings
from collections.abc import Iterator

_TURN = threading.RLock()


@contextlib.contextmanager
def quietly() -> Iterator[None]:
    """Run the block with its prints discarded and its warnings ignored, one thread at a time."""
    with _TURN, contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
