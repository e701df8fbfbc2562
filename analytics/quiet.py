"""Silence a third-party computation's prints and warnings, safely when several threads do it.

``contextlib.redirect_stdout`` and ``warnings.catch_warnings`` change process-wide state (``sys.stdout``, the
warnings filters) and put back, on leaving, what they found on entering. Two threads inside them at once put
back each other's state: when the pipeline's model steps first ran two at once (``analytics.pipeline.NEEDS``),
a lifetimes fit in one thread and another in the other left ``sys.stdout`` pointing at a discarded buffer for
the rest of the process, and the CLI printed nothing. One lock makes the quiet sections take turns: they are
the model fits' optimiser calls, the dates' parsing, an Excel workbook's reading and scikit-uplift's scores, a
small part of any thread's work. Every warning filter set for a block goes through here for that reason.
"""

from __future__ import annotations

import contextlib
import io
import threading
import warnings
from collections.abc import Iterator

_TURN = threading.RLock()


@contextlib.contextmanager
def quietly(*messages: str) -> Iterator[None]:
    """Run the block with its prints discarded and its warnings ignored (only those whose text matches one of
    the regular expressions ``messages``, when given), one thread at a time."""
    with _TURN, contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        for message in messages:
            warnings.filterwarnings("ignore", message=message)
        if not messages:
            warnings.simplefilter("ignore")
        yield
