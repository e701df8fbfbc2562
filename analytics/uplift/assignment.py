"""A campaign test's assignment file: who got the offer (treatment) and who was held out (control).

Read from CSV, XLSX or Parquet with the same reader as a transaction log (``analytics.loading``). The
customer column is found by the transaction log's aliases (``CustomerID``, ``Customer ID``, ``client``...),
the group column by its own (``group``, ``arm``, ``variant``...); group values in the spellings CRM tools
write (treated/holdout/1/0/...) are mapped to ``treatment``/``control``. Anything else is a DataError that
names the column, the values and the rows.

``control_group`` is the other end of the loop: a seeded, segment-stratified holdout for an exported
campaign list, whose file (``customer_id``, ``group``) is exactly what ``read_assignment`` reads.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

from analytics import schema as S
from analytics.columns import ALIASES, normalise_name
from analytics.errors import DataError
from analytics.loading import Source, read_table
from analytics.audience import normalise_id

TREATMENT, CONTROL = "treatment", "control"
GROUP = "group"
# Spellings compared after normalise_name (lower case, letters and digits only).
GROUP_VALUES: dict[str, str] = {
    **{v: TREATMENT for v in ("treatment", "treated", "treat", "t", "test", "1", "true", "yes", "y", "offer",
                              "target", "targeted", "exposed", "contacted", "mailed", "variant", "b")},
    **{v: CONTROL for v in ("control", "controls", "c", "holdout", "heldout", "hold", "0", "false", "no", "n",
                            "untreated", "nottreated", "notcontacted", "unexposed", "baseline", "a")},
}
GROUP_COLUMNS = ("group", "arm", "variant", "cell", "assignment", "treatment", "treated", "testgroup",
                 "controlgroup", "condition", "testcontrol")
DEFAULT_CONTROL_FRACTION = 0.10
MAX_CONTROL_FRACTION = 0.9
_SHOWN = 5


def _find_column(columns: list[str], aliases: tuple[str, ...], what: str, label: str,
                 taken: str | None = None) -> str:
    names = {normalise_name(c): c for c in reversed(columns) if c != taken}
    for alias in aliases:
        if alias in names:
            return names[alias]
    raise DataError(f"{label} has no {what} column; found {', '.join(map(str, columns)) or 'no columns'} "
                    f"(expected one of: {', '.join(aliases[:6])}, ...)")


def read_assignment(source: Source | pd.DataFrame, *, filename: str | None = None) -> pd.DataFrame:
    """``customer_id`` (string) and ``group`` (treatment/control), one row per customer, in file order.

    Raises DataError for a missing column, an empty file, an empty ID, a group value that is neither
    treatment nor control, and a customer listed twice.
    """
    name = filename or (Path(source).name if isinstance(source, (str, PathLike)) else "")
    label = f"the assignment file {name!r}" if name else "the assignment file"
    raw = read_table(source, filename=filename)
    columns = [str(c).strip() for c in raw.columns]
    raw.columns = columns
    if raw.empty:
        raise DataError(f"{label} has no rows")
    id_column = _find_column(columns, ALIASES[S.CUSTOMER_ID] + ("id",), "customer ID", label)
    group_column = _find_column(columns, GROUP_COLUMNS, "group", label, taken=id_column)
    ids = raw[id_column].astype("string").str.strip()
    empty = np.flatnonzero(ids.isna() | (ids == "")).tolist()
    if empty:
        rows = ", ".join(str(r + 2) for r in empty[:_SHOWN])
        raise DataError(f"{label}: column {id_column!r} is empty in {len(empty):,} row(s) (rows {rows}; "
                        f"header = row 1)")
    ids = ids.map(normalise_id)
    spelled = raw[group_column].astype("string").str.strip().fillna("")
    group = spelled.map(lambda v: GROUP_VALUES.get(normalise_name(v)))
    bad = np.flatnonzero(group.isna().to_numpy()).tolist()
    if bad:
        values = ", ".join(repr(v) for v in list(dict.fromkeys(spelled.iloc[bad].tolist()))[:_SHOWN])
        rows = ", ".join(str(r + 2) for r in bad[:_SHOWN])
        raise DataError(f"{label}: column {group_column!r} holds value(s) that are neither treatment nor control: "
                        f"{values} (rows {rows}); use treatment/control (or treated/holdout, 1/0)")
    duplicated = ids[ids.duplicated(keep=False)]
    if len(duplicated):
        first = list(dict.fromkeys(duplicated.tolist()))
        shown = ", ".join(first[:_SHOWN])
        raise DataError(f"{label} lists {len(first):,} customer(s) more than once (e.g. {shown}); "
                        f"each customer must be in exactly one group once")
    return pd.DataFrame({S.CUSTOMER_ID: pd.array(ids.tolist(), dtype="string"), GROUP: group.astype(str).tolist()})


def control_group(customers: pd.DataFrame, control_fraction: float = DEFAULT_CONTROL_FRACTION, *,
                  seed: int = 0, stratify_by: str = "segment") -> pd.Series:
    """``treatment``/``control`` per customer (same index): within each ``stratify_by`` group, a seeded
    random ``control_fraction`` of the customers (rounded, so every segment keeps the share) is held out.

    The same customers, fraction and seed always give the same groups, whatever the row order.
    """
    fraction = _fraction(control_fraction)
    ids = customers.index.astype(str)
    strata = (customers[stratify_by].astype(str) if stratify_by in customers.columns
              else pd.Series("all", index=customers.index))
    group = pd.Series(TREATMENT, index=customers.index, name=GROUP, dtype=object)
    order = np.argsort(ids.to_numpy(), kind="stable")  # independent of the table's row order
    rng = np.random.default_rng(seed)
    by_stratum = pd.Series(np.arange(len(customers))[order]).groupby(strata.to_numpy()[order], sort=True)
    for _, positions in by_stratum:
        n_control = round(fraction * len(positions))
        chosen = rng.permutation(positions.to_numpy())[:n_control]
        group.iloc[chosen] = CONTROL
    return group


def with_control_group(rows: pd.DataFrame, segments: pd.Series, control_pct: object = DEFAULT_CONTROL_FRACTION * 100,
                       seed: object = 0) -> pd.DataFrame:
    """An exported campaign list (indexed by customer_id) with a leading ``group`` column: a seeded
    ``control_pct`` % of each segment (``segments``, by customer) held out. Saved as CSV, it is the
    assignment file of the campaign's test. An empty share or seed (a cleared box) takes the default."""
    control_pct = DEFAULT_CONTROL_FRACTION * 100 if control_pct in (None, "") else control_pct
    seed = 0 if seed in (None, "") else seed
    try:
        share = float(control_pct) / 100
    except (TypeError, ValueError):
        raise DataError(f"the control group share must be a percentage, got {control_pct!r}") from None
    try:
        number = float(seed)
    except (TypeError, ValueError):
        number = float("nan")
    if not (np.isfinite(number) and number >= 0 and number == int(number)):
        raise DataError(f"the control group seed must be a whole number >= 0, got {seed!r}")
    strata = pd.DataFrame({"segment": segments.reindex(rows.index).astype(str)}, index=rows.index)
    group = control_group(strata, share, seed=int(number))
    out = rows.copy()
    out.insert(0, GROUP, group)
    return out


def _fraction(value: object) -> float:
    try:
        fraction = float(value)
    except (TypeError, ValueError):
        raise DataError(f"the control group share must be a number, got {value!r}") from None
    if not (np.isfinite(fraction) and 0 <= fraction <= MAX_CONTROL_FRACTION):
        raise DataError(f"the control group share must be between 0 and {MAX_CONTROL_FRACTION:.0%}, "
                        f"got {fraction:.1%}")
    return fraction
