"""CSV export that is safe to open in a spreadsheet (no formula injection).

A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be run as a formula
by Excel or LibreOffice, so it gets a leading ``'``. Numbers are never touched (a negative monetary value
stays a number), nor is text that is just a plain number such as ``"-12.5"``: it cannot be a formula.
Header and index labels are treated like cells.

Tables of numbers, text, booleans and naive whole-second timestamps (every table the product exports) are
written by formatting each column with Arrow's compute kernels and joining the rows there, a block of rows at
a time: pandas' ``to_csv`` formats cell by cell. On a customers table of 324k rows and 45 columns (Online
Retail's, 75 times; the 10M-line log has 324k customers) pandas took 11.2 CPU s, this 3.3-3.6 (the CLI's
``customers.csv`` at 10M lines was a quarter of its run). The text is what pandas writes (same quoting, dates, booleans, empty cells), except
that a float is written as the shortest text that reads back to the same number, which can differ from
Python's ``repr`` in form (``0.00001`` for ``1e-05``, ``1.234567890123456e+14``); every float keeps a
decimal point or an exponent, so a reader still sees a float column. Other tables go through pandas.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from functools import partial
from typing import IO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analytics.values import codes_of

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
    blocks = _fast_blocks(safe)
    if blocks is None:
        return safe.to_csv(path_or_buffer, index=False, lineterminator="\n", encoding="utf-8")
    if path_or_buffer is None:
        return "".join(blocks)
    if hasattr(path_or_buffer, "write"):
        path_or_buffer.writelines(blocks)
    else:
        with open(path_or_buffer, "w", encoding="utf-8", newline="") as file:
            file.writelines(blocks)
    return None


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
        # each category neutralised once; missing (code -1) takes the appended None
        labels = np.array([_safe_label(c) for c in col.cat.categories] + [None], dtype=object)
        return pd.Series(labels[codes_of(col)], index=col.index, name=col.name)
    if pd.api.types.is_string_dtype(col.dtype) and not pd.api.types.is_object_dtype(col.dtype):
        text = col.astype("string")
        risky = text.str.startswith(_TRIGGER) & ~text.str.fullmatch(_PLAIN_NUMBER)
        return text.mask(risky.fillna(False), "'" + text)
    if pd.api.types.is_object_dtype(col.dtype):
        return col.map(lambda v: neutralise(v) if isinstance(v, str) else v)
    return col


_NEEDS_QUOTES = r'[,"\r\n]'
_BLOCK_ROWS = 100_000  # rows formatted at a time: the text of a block, not of the table, is held at once


def _fast_blocks(df: pd.DataFrame) -> Iterator[str] | None:
    """``df``'s CSV as pandas' ``to_csv(index=False, lineterminator="\\n")`` writes it (floats aside, see the
    module's docstring), header first, a block of rows at a time; None when a column is of a kind only pandas
    formats."""
    formats = [_column_format(df.iloc[:, i]) for i in range(df.shape[1])]
    if not formats or any(f is None for f in formats) or isinstance(df.columns, pd.MultiIndex):
        return None

    def blocks() -> Iterator[str]:
        yield ",".join(_quoted_label(str(label)) for label in df.columns) + "\n"
        for start in range(0, len(df), _BLOCK_ROWS):
            part = df.iloc[start:start + _BLOCK_ROWS]
            columns = [pc.fill_null(f(part.iloc[:, i]), "") for i, f in enumerate(formats)]
            if len(columns) == 1:  # pandas writes an empty field alone on its row as "" (an empty line is no row)
                columns[0] = pc.if_else(pc.equal(columns[0], ""), '""', columns[0])
            columns[-1] = pc.binary_join_element_wise(columns[-1], "\n", "")
            rows = pc.binary_join_element_wise(*columns, ",")
            yield "".join(rows.to_pylist())

    return blocks()


def _quoted_label(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if re.search(_NEEDS_QUOTES, text) else text


def _column_format(col: pd.Series) -> Callable[[pd.Series], pa.Array] | None:
    """How the column's cells are written as pandas writes them (missing values as nulls), or None for a kind
    not handled here."""
    dtype = col.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return _bool_text
    if pd.api.types.is_float_dtype(dtype):
        return _float_text
    if pd.api.types.is_integer_dtype(dtype):
        return lambda part: pc.cast(pa.array(part, from_pandas=True), pa.string())
    if isinstance(dtype, np.dtype) and dtype.kind == "M":
        stamps = col.to_numpy()
        known = stamps[~np.isnat(stamps)]
        if (known.astype("datetime64[s]") != known).any():
            return None  # fractions of a second: pandas' own format
        # pandas leaves out the time when every value is a midnight
        as_dates = (known.astype("datetime64[D]") == known).all()
        return partial(_stamp_text, as_dates=as_dates)
    if pd.api.types.infer_dtype(col, skipna=True) in ("string", "empty"):
        return _quoted_text
    return None


def _bool_text(part: pd.Series) -> pa.Array:
    return pc.if_else(pa.array(part, from_pandas=True), "True", "False")


def _float_text(part: pd.Series) -> pa.Array:
    values = part.to_numpy(dtype=float, na_value=np.nan)
    text = pc.cast(pa.array(values, from_pandas=True), pa.string())
    # Arrow writes a whole number without a point ("1" for 1.0) unless in exponent form ("1e+10"): it is given
    # one, so that a reader still sees a float (as pandas' "1.0" is read)
    with np.errstate(invalid="ignore"):
        whole = pa.array(np.isfinite(values) & (values == np.round(values)))
    bare = pc.and_(whole, pc.invert(pc.match_substring(text, "e")))
    return pc.if_else(bare, pc.binary_join_element_wise(text, ".0", ""), text)


def _stamp_text(part: pd.Series, as_dates: bool) -> pa.Array:
    seconds = pa.array(part.astype("datetime64[s]"), from_pandas=True)
    return pc.cast(pc.cast(seconds, pa.date32()) if as_dates else seconds, pa.string())


def _quoted_text(part: pd.Series) -> pa.Array:
    text = pa.array(part, type=pa.string(), from_pandas=True)
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
    return pc.if_else(pc.match_substring_regex(text, _NEEDS_QUOTES), quoted, text)
