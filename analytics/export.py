"""CSV export that is safe to open in a spreadsheet (no formula injection).

A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be run as a formula
by Excel or LibreOffice, so it gets a leading ``'``. Numbers are never touched (a negative monetary value
stays a number), nor is text that is just a plain number such as ``"-12.5"``: it cannot be a formula.
Header and index labels are treated like cells.
"""

from __future__ import annotations

import os
import re
from typing import IO

import pandas as pd

_TRIGGER = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"


def to_safe_csv(
    df: pd.DataFrame,
    path_or_buffer: str | os.PathLike[str] | IO[str] | None = None,
    *,
    index: bool | None = None,
) -> str | None:
    """Write ``df`` as UTF-8 CSV with risky text cells neutralised; return the text when no target is given.

    ``index=None`` writes the index (as leading column(s)) only when it carries information: it is named or
    is not the default 0..n-1 range, e.g. a customer table indexed by ``customer_id``.
    """
    if index is None:
        index = _informative_index(df.index)
    table = df.reset_index() if index else df
    safe = table.copy()
    for i in range(table.shape[1]):
        safe.isetitem(i, _safe_column(table.iloc[:, i]))
    safe.columns = [_safe_label(c) for c in table.columns]
    return safe.to_csv(path_or_buffer, index=False, lineterminator="\n", encoding="utf-8")


def neutralise(text: str) -> str:
    """``text`` prefixed with ``'`` when a spreadsheet would read it as a formula, else unchanged."""
    if text.startswith(_TRIGGER) and not re.fullmatch(_PLAIN_NUMBER, text):
        return "'" + text
    return text


def _informative_index(idx: pd.Index) -> bool:
    if any(name is not None for name in idx.names):
        return True
    return not (isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1)


def _safe_label(label: object) -> object:
    return neutralise(label) if isinstance(label, str) else label


def _safe_column(col: pd.Series) -> pd.Series:
    if isinstance(col.dtype, pd.CategoricalDtype):
        col = col.astype(object).where(col.notna(), None)
    if pd.api.types.is_string_dtype(col.dtype) and not pd.api.types.is_object_dtype(col.dtype):
        text = col.astype("string")
        risky = text.str.startswith(_TRIGGER) & ~text.str.fullmatch(_PLAIN_NUMBER)
        return text.mask(risky.fillna(False), "'" + text)
    if pd.api.types.is_object_dtype(col.dtype):
        return col.map(lambda v: neutralise(v) if isinstance(v, str) else v)
    return col
