"""Cleaning rules for a canonical transaction log, with a data-quality report.

Rules run in this order; a row is counted by the FIRST rule that catches it (``rows_removed``), while
``rows_flagged`` counts every input row the rule matches on its own, whatever earlier rules did:

1. ``after_as_of``        invoice date on or after ``as_of`` (only lines strictly before it are used)
2. ``missing_date``       no invoice date (empty, or not a date in a file where few are; see loading)
3. ``unreadable_number``  quantity or unit price missing, not a number or infinite (NaN / inf)
4. ``duplicate``          exact duplicate of an earlier row over all canonical source columns
5. ``missing_customer``   no customer ID
6. ``non_positive_price`` unit price <= 0 or missing
7. ``zero_quantity``      quantity 0 or missing
8. ``non_product``        stock code in ``non_product_codes`` (postage, manual, fees, discounts, vouchers...)
9. ``returns``            cancellation / return lines (invoice prefix ``C`` or negative quantity): never
                          purchases; kept and netted from monetary value (``action="netted"``), or dropped
                          when ``net_returns=False``
10. ``non_positive_customer`` every remaining line of a customer whose net value is <= 0

Every row-level rule depends on the row's own values only, so an exact duplicate is always caught by the
same rule as its original: the order changes which rule a row is attributed to, never which rows survive.
Money is in the log's currency; ``revenue`` = quantity x unit price (negative for returns).

Memory: every rule runs on integer codes (32-bit or narrower) and float arrays, never on per-row Python
objects. At 10M lines (synthetic log, this 2-core machine; a raw frame of 0.57 GB, of which the identifiers'
strings are 0.28 GB, and 0.38 GB of kept lines) cleaning peaked at 4.0 GB at first: the identifiers were
turned into an object array of Python strings to build the kept lines (1.5 GB, thrown away at once), and
``DataFrame.duplicated`` over the candidate keys took 1 GB. Building the kept lines from the codes and finding
exact duplicates from a 64-bit hash of each row's codes (candidates, then an exact comparison of those few
rows) brought the peak to 1.8-1.9 GB (resident, from 0.77-0.8 GB before cleaning), with everything held at
once: nine per-row rule flags, two revenue arrays, 8-byte codes made for every text column, the hashes and a
sorted copy of them, and the whole raw frame while the kept lines were built beside it. Now each rule's rows
are made when its turn comes and only its counts, sums and first rows kept; a categorical column's own codes
are used (renumbered when its categories are not in order of first appearance), not factorized again; only the
high half of each row's hash (4 bytes) is sorted, the whole hashes made only for the rows sharing a half; the
identifiers are coded one after the other, not side by side (on this host no slower); and the pipeline hands
its raw frame over (``release_input``), so that the text columns are let go after the duplicate rule and each
other raw column once its kept copy exists. With the identifiers read as strings the peak became 0.99-1.05 GB,
cleaning ending at 0.69-0.76 GB with only the kept lines left (1.17 GB on a frame the caller keeps), and
cleaning took 3.8 CPU s against 4.5-5.1 for the code before, run alternately on this (busy) host, at the same
wall time (3.6-5 s here; on a quiet host it was 3.4-3.7 CPU s and about 3.3 s of wall time; 4.4-5.3 CPU s
before the identifiers were coded in Arrow; with the fingerprint and the invoice table, 12.6 at first). With
the identifiers read as categoricals (``analytics.loading``) it peaked at 0.84-0.91 GB from 0.61-0.67 GB
before cleaning (coding the customer IDs, hashing rows and the rules' first sums each about 0.22 GB above
that), ending at 0.69-0.72 GB (1.04 GB on a kept frame), in 2.3-2.5 CPU s. Coding the customer IDs took 0.15
GB of that: ``.cat.codes`` copies a categorical's codes, and ``np.bincount`` made a 64-bit copy of them to
find the categories present, where the codes as they are and a mark per category take a few MB; gathering the
kept rows' revenue whole for the per-customer sums (95 MB) was the highest point. Without both it peaks at
0.79-0.82 GB from 0.60-0.65 GB (the code before: 0.87-0.89 GB from 0.63-0.65, run alternately on this host,
busier than for the figures above), the rules now highest (each row's revenue and a rule's flags, 0.18 GB
above the start; hashing rows 0.14 GB), and takes 2.8-3.0 CPU s against 2.8-3.6. The whole run's peak is
reached in the model steps.

pandas stays the engine here rather than DuckDB SQL (see ``analytics.loading``): one set of rules, the value
rules of ``analytics.values`` included.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analytics import schema as S
from analytics.allocation import give_back_freed
from analytics.errors import DataError
from analytics.parallel import WORKERS, in_threads
from analytics.values import codes_of, unique_categorical

# Stock codes that are not products, from the UCI Online Retail catalogue. A trailing "*" is a prefix.
DEFAULT_NON_PRODUCT_CODES: tuple[str, ...] = (
    "POST",  # postage
    "DOT",  # dotcom postage
    "C2",  # carriage
    "M",  # manual adjustment
    "D",  # discount
    "S",  # samples
    "B",  # adjust bad debt
    "BANK CHARGES",
    "AMAZONFEE",
    "CRUK",  # charity commission
    "PADS",  # "pads to match all cushions", priced 0.001
    "gift_0001_*",  # gift vouchers
)

RULES: pd.DataFrame = pd.DataFrame(
    [
        ("after_as_of", "invoice date on or after the as-of date (ignored, reported)"),
        ("missing_date", "no invoice date"),
        ("unreadable_number", "quantity or unit price missing, not a number or infinite"),
        ("duplicate", "exact duplicate of an earlier row (all source columns equal)"),
        ("missing_customer", "no customer ID"),
        ("non_positive_price", "unit price zero, negative or missing"),
        ("zero_quantity", "quantity zero or missing"),
        ("non_product", "stock code is not a product (postage, manual, fees, discounts, vouchers)"),
        ("returns", "cancellation or return line (invoice prefix C or negative quantity)"),
        ("non_positive_customer", "all lines of customers whose net value is <= 0"),
    ],
    columns=["rule", "description"],
)

EXAMPLE_ROWS = 5  # row numbers kept per rule in the report

# Net values this close to zero are float noise from netting a purchase against its return (currency units).
_NET_TOLERANCE = 1e-6


@dataclass
class QualityReport:
    """What cleaning removed and kept. Money in the log's currency; dates are naive Timestamps.

    ``rules`` has one row per rule in the order applied: rule, action (removed / netted / dropped /
    reported), rows_flagged (input rows matching the rule on its own), rows_removed (rows this rule took,
    after the earlier rules), revenue_removed (signed quantity x unit price of those rows; for netted returns
    the negative value netted from monetary), description. ``revenue_out`` = ``revenue_in`` minus the
    revenue of every rule whose action is "removed" or "dropped".
    """

    rules: pd.DataFrame
    as_of: pd.Timestamp
    net_returns: bool
    rows_in: int
    rows_out: int
    customers_in: int
    customers_out: int
    invoices_in: int
    invoices_out: int
    revenue_in: float
    revenue_out: float
    date_min_in: pd.Timestamp | None
    date_max_in: pd.Timestamp | None
    date_min_out: pd.Timestamp | None
    date_max_out: pd.Timestamp | None
    rows_after_as_of: int
    cancellation_lines: int  # input lines whose invoice ID starts with "C"
    customers_excluded: list[str] = field(default_factory=list)  # net value <= 0
    # rule -> row numbers of the first rows it took, as a spreadsheet shows them (header = row 1)
    example_rows: dict[str, list[int]] = field(default_factory=dict)
    excluded_detail: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (ints, floats, ISO date strings, None for missing)."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, pd.DataFrame):
                out[name] = [{k: _json_value(v) for k, v in row.items()} for row in value.to_dict("records")]
            elif isinstance(value, list):
                out[name] = [_json_value(v) for v in value]
            elif isinstance(value, dict):
                out[name] = {str(k): [_json_value(v) for v in rows] for k, rows in value.items()}
            else:
                out[name] = _json_value(value)
        out["n_customers_excluded"] = len(self.customers_excluded)
        return out


@dataclass
class CleanResult:
    """Kept lines (canonical columns + ``revenue`` + ``is_return``), the report and the as-of date used."""

    lines: pd.DataFrame
    report: QualityReport
    as_of: pd.Timestamp


def clean(
    transactions: pd.DataFrame,
    *,
    as_of: date | datetime | str | pd.Timestamp | None = None,
    net_returns: bool = True,
    non_product_codes: Iterable[str] = DEFAULT_NON_PRODUCT_CODES,
    release_input: bool = False,
) -> CleanResult:
    """Apply the rules in the module docstring to a canonical transaction log.

    ``as_of`` defaults to midnight after the last transaction date. ``net_returns=False`` ignores returns
    instead of netting them. ``release_input=True`` hands ``transactions`` over: cleaning deletes its columns
    as it goes, so that each raw column is freed (when nothing else holds it) once cleaning has what it needs
    of it, and leaves the frame with no columns; by default the frame is left as it is. Raises
    :class:`DataError` for missing columns, wrong types, or when no valid purchase is left (with the counts
    per rule).
    """
    df = _checked(transactions, in_place=release_input)
    n = len(df)
    source_cols = [c for c in S.CANONICAL_COLUMNS if c in df.columns]
    # Customers and invoices as numbers 0..k-1 (-1 = missing), stripped on their distinct values only, so
    # per-customer sums run on numbers, not string groupbys. Other text columns factorized once: the duplicate
    # and non-product rules and the kept lines share it. Column by column, two at a time.
    text = in_threads({S.INVOICE_ID: partial(_stripped_codes, df[S.INVOICE_ID]),
                       **{c: partial(_factorize, df[c]) for c in _TEXT_COLUMNS if c in df.columns}})
    give_back_freed()
    text[S.CUSTOMER_ID] = _stripped_codes(df[S.CUSTOMER_ID])
    give_back_freed()
    invoice_code, invoice_ids = text[S.INVOICE_ID]
    code, ids = text[S.CUSTOMER_ID]
    dates = df[S.INVOICE_DATE]
    qty = df[S.QUANTITY].to_numpy(dtype="float64", na_value=np.nan)
    price = df[S.UNIT_PRICE].to_numpy(dtype="float64", na_value=np.nan)
    as_of_ts = _resolve_as_of(as_of, dates)
    duplicate = _exact_duplicates(df, source_cols, [qty, price, dates.to_numpy().view(np.int64),
                                                    *(codes for codes, _ in text.values())])
    if release_input:  # the text columns are held as codes from here on: their strings go
        for c in text:
            del df[c]
    non_product = _non_product_mask(text.get(S.STOCK_CODE), n, non_product_codes)
    # Sums count NaN and inf as 0; the kept lines' revenue is their own quantity x price (all finite there).
    revenue = np.nan_to_num(qty * price, copy=False)
    cancel_ids = np.append(invoice_ids.str.startswith(("C", "c")).to_numpy(dtype=bool), False)  # -1: no
    is_return = cancel_ids[invoice_code]
    cancellation_lines = int(np.count_nonzero(is_return))
    is_return |= qty < 0

    removed = np.zeros(n, dtype=bool)
    rows: list[dict[str, Any]] = []
    examples: dict[str, list[int]] = {}
    for rule, flag in _flags(dates, as_of_ts, qty, price, duplicate, code, non_product, is_return):
        taken = ~removed
        taken &= flag
        if rule == "returns":
            action = "netted" if net_returns else "dropped"
        else:
            action = "reported" if rule == "after_as_of" else "removed"
        if action != "netted":
            removed |= taken
        rows.append(_rule_row(rule, action, flag, taken, revenue))
        examples[rule] = (np.flatnonzero(taken)[:EXAMPLE_ROWS] + 2).tolist()
    del duplicate, non_product, flag, taken

    k = len(ids)
    kept = ~removed
    del removed
    has_lines, net = _customer_sums(code, kept, revenue, k)
    bad = np.append(has_lines & (net <= _NET_TOLERANCE), False)  # last slot: code -1
    cust_kept_bad = kept & bad[code]
    rows.append(_rule_row("non_positive_customer", "removed", cust_kept_bad, cust_kept_bad, revenue))
    kept &= ~cust_kept_bad
    examples["non_positive_customer"] = (np.flatnonzero(cust_kept_bad)[:EXAMPLE_ROWS] + 2).tolist()

    rules = pd.DataFrame(rows).merge(RULES, on="rule", how="left")
    excluded = _excluded_detail(ids.take(code[cust_kept_bad]), revenue[cust_kept_bad],
                                is_return[cust_kept_bad])
    revenue_in = round(float(revenue.sum()), 6)
    date_min_in, date_max_in = _ts(dates.min()), _ts(dates.max())
    del revenue, cust_kept_bad, code, invoice_code, dates, qty, price

    # Text columns of the kept lines are categoricals: one copy of each distinct value, and every later
    # grouping (features, churn, invoices) works on their integer codes instead of hashing strings again.
    # (the identifiers straight from their codes: ``to_numpy()`` of a string column is a Python object per
    # row, 1.5 GB at 10M lines, for nothing)
    # Each task lets go of its column's rows once their kept copy is made, so that a handed-over frame's
    # columns are freed one by one. (column by column, two at a time)
    held: dict[str, Any] = {c: text.pop(c) if c in text else df[c].to_numpy() for c in source_cols}
    if release_input:
        for c in [c for c in source_cols if c in df.columns]:
            del df[c]
    columns = in_threads({**{c: partial(_kept_column, held, c, kept) for c in source_cols},
                          S.IS_RETURN: partial(_kept_column, {S.IS_RETURN: is_return}, S.IS_RETURN, kept)})
    del is_return
    columns[S.REVENUE] = _revenue(columns[S.QUANTITY], columns[S.UNIT_PRICE])
    # (copy=True would consolidate the number columns: one more copy of them)
    lines = pd.DataFrame({c: columns.pop(c) for c in [*source_cols, S.REVENUE, S.IS_RETURN]}, copy=False)

    report = QualityReport(
        rules=rules,
        as_of=as_of_ts,
        net_returns=net_returns,
        rows_in=n,
        rows_out=len(lines),
        customers_in=k,
        customers_out=int(np.count_nonzero(has_lines & ~bad[:-1])),  # (kept lines all have a customer)
        invoices_in=len(invoice_ids),
        invoices_out=_n_used(codes_of(lines[S.INVOICE_ID]), len(invoice_ids)),
        revenue_in=revenue_in,
        revenue_out=round(float(lines[S.REVENUE].sum()), 6),
        date_min_in=date_min_in,
        date_max_in=date_max_in,
        date_min_out=_ts(lines[S.INVOICE_DATE].min()),
        date_max_out=_ts(lines[S.INVOICE_DATE].max()),
        rows_after_as_of=rows[0]["rows_flagged"],
        cancellation_lines=cancellation_lines,
        customers_excluded=[str(c) for c in excluded[S.CUSTOMER_ID]],
        excluded_detail=excluded,
        example_rows={rule: found for rule, found in examples.items() if found},
    )
    if not (~lines[S.IS_RETURN]).any():
        counts = "; ".join(f"{r.rule}: {r.rows_removed:,}" for r in rules.itertuples() if r.rows_removed)
        raise DataError(
            f"no valid purchases left after cleaning: {n:,} rows in, 0 purchase lines out "
            f"(as-of {as_of_ts:%Y-%m-%d}); rows taken per rule: {counts or 'none'}"
        )
    return CleanResult(lines=lines, report=report, as_of=as_of_ts)


def _checked(transactions: pd.DataFrame, *, in_place: bool) -> pd.DataFrame:
    if not isinstance(transactions, pd.DataFrame):
        raise DataError(f"expected a transaction table (DataFrame), got {type(transactions).__name__}")
    missing = [c for c in S.REQUIRED_COLUMNS if c not in transactions.columns]
    if missing:
        raise DataError(
            f"transaction table is missing column(s) {missing}; found {list(transactions.columns)}; "
            f"expected {list(S.REQUIRED_COLUMNS)}"
        )
    if not pd.api.types.is_datetime64_any_dtype(transactions[S.INVOICE_DATE]):
        raise DataError(
            f"column {S.INVOICE_DATE} must hold dates, found dtype {transactions[S.INVOICE_DATE].dtype} "
            f"(first values {transactions[S.INVOICE_DATE].head(3).tolist()})"
        )
    for col in (S.QUANTITY, S.UNIT_PRICE):
        dtype = transactions[col].dtype
        if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            raise DataError(
                f"column {col} must be numeric, found dtype {transactions[col].dtype} "
                f"(first values {transactions[col].head(3).tolist()})"
            )
    if len(transactions) == 0:
        raise DataError("no valid purchases left after cleaning: the transaction table has no rows")
    df = transactions
    if getattr(df[S.INVOICE_DATE].dt, "tz", None) is not None:
        naive = df[S.INVOICE_DATE].dt.tz_localize(None)
        if in_place:  # (a copy would keep the handed-over columns alive)
            df[S.INVOICE_DATE] = naive
        else:
            df = df.assign(**{S.INVOICE_DATE: naive})
    return df


def _resolve_as_of(as_of: Any, dates: pd.Series) -> pd.Timestamp:
    if as_of is None:
        last = dates.max()
        if pd.isna(last):
            raise DataError(f"column {S.INVOICE_DATE} has no dates, so there is no default as-of date")
        return pd.Timestamp(last).normalize() + pd.Timedelta(days=1)
    try:
        ts = pd.Timestamp(as_of)
    except (ValueError, TypeError) as exc:
        raise DataError(f"as-of date {as_of!r} is not a date; expected YYYY-MM-DD") from exc
    if pd.isna(ts):
        raise DataError(f"as-of date {as_of!r} is not a date; expected YYYY-MM-DD")
    return ts.tz_localize(None) if ts.tzinfo is not None else ts


def _non_product_mask(stock: tuple[np.ndarray, pd.Index] | None, n: int, codes: Iterable[str]) -> np.ndarray:
    """Rows whose stock code (``stock``: factorized codes and distinct values, None without the column)
    is a non-product code."""
    if stock is None:
        return np.zeros(n, dtype=bool)
    if isinstance(codes, str):
        raise DataError(f"non-product codes must be a list of codes, got the single string {codes!r}")
    normalised = [str(c).strip().upper() for c in codes if str(c).strip()]
    exact = {c for c in normalised if not c.endswith("*")}
    prefixes = tuple(c[:-1] for c in normalised if c.endswith("*"))
    # Match on the few thousand distinct codes, then broadcast back to the lines.
    idx, uniques = stock
    upper = pd.Index(uniques.astype(str)).str.strip().str.upper()
    hit = upper.isin(exact)
    if prefixes:
        hit = hit | np.asarray(upper.str.startswith(prefixes), dtype=bool)
    return np.append(np.asarray(hit, dtype=bool), False)[idx]


def _flags(dates: pd.Series, as_of: pd.Timestamp, qty: np.ndarray, price: np.ndarray, duplicate: np.ndarray,
           customer_code: np.ndarray, non_product: np.ndarray, is_return: np.ndarray,
           ) -> Iterator[tuple[str, np.ndarray]]:
    """Each row-level rule and the rows it matches on its own, in the order of ``RULES``, made only when the
    rule's turn comes: one rule's rows in memory at a time rather than all nine (10M lines: 90 MB)."""
    yield "after_as_of", (dates >= as_of).to_numpy(dtype=bool, na_value=False)
    yield "missing_date", dates.isna().to_numpy()
    yield "unreadable_number", ~(np.isfinite(qty) & np.isfinite(price))
    yield "duplicate", duplicate
    yield "missing_customer", customer_code < 0
    yield "non_positive_price", ~(price > 0)
    yield "zero_quantity", ~((qty > 0) | (qty < 0))  # (NaN too; ``abs`` would copy the numbers)
    yield "non_product", non_product
    yield "returns", is_return


_SUM_BLOCK_ROWS = 1 << 20


def _customer_sums(code: np.ndarray, kept: np.ndarray, revenue: np.ndarray, k: int,
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(whether each customer 0..k-1 has kept lines; the net revenue of those lines) for rows coded ``code``.

    The kept rows' codes and revenue are gathered a block of rows at a time: at 10M lines gathering them
    whole took 95 MB (revenue in float64), the highest point of cleaning. ``np.add.at`` adds row by row, in
    order, as ``np.bincount`` does, without its 64-bit copy of the codes."""
    has_lines = np.zeros(k, dtype=bool)
    net = np.zeros(k)
    for start in range(0, len(code), _SUM_BLOCK_ROWS):
        rows = slice(start, start + _SUM_BLOCK_ROWS)
        in_block = kept[rows]
        kept_code = code[rows][in_block]
        has_lines[kept_code] = True
        np.add.at(net, kept_code, revenue[rows][in_block])
    return has_lines, net


def _rule_row(
    rule: str, action: str, flag: np.ndarray, taken: np.ndarray, revenue: np.ndarray
) -> dict[str, Any]:
    return {
        "rule": rule,
        "action": action,
        "rows_flagged": int(flag.sum()),
        "rows_removed": int(taken.sum()),
        "revenue_removed": round(float(revenue[taken].sum()), 6),
    }


_TEXT_COLUMNS = (S.STOCK_CODE, S.DESCRIPTION, S.COUNTRY)
_ARROW_STRING = pd.StringDtype("pyarrow")


def _stripped_codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """(code per row, -1 when missing; sorted distinct values) of identifiers stripped of spaces, "" missing.

    In Arrow: one hash pass over the rows, then stripping and sorting on the distinct values only (10M lines:
    the 1.2M distinct invoice numbers sort in 0.06 s, where pandas' sorted factorize took 0.27 s). A categorical
    is coded from its own codes and categories: the loader's identifiers (stripped, sorted) as they are."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        row_codes, categories = codes_of(values), values.cat.categories
        present = _used(row_codes, len(categories))
        if not present.all():  # the report counts the distinct values present
            row_codes = np.append(np.cumsum(present, dtype=np.int32) - 1, np.int32(-1))[row_codes]
            categories = categories[present]
        distinct = pa.array(pd.Series(categories).astype(_ARROW_STRING).array)
        if isinstance(distinct, pa.ChunkedArray):
            distinct = distinct.combine_chunks()
    else:
        strings = pa.array(values.astype(_ARROW_STRING).array)
        if isinstance(strings, pa.ChunkedArray):
            strings = strings.combine_chunks()
        encoded = pc.dictionary_encode(strings)
        row_codes, distinct = pc.fill_null(encoded.indices, -1).to_numpy(), encoded.dictionary
    stripped = pc.utf8_trim_whitespace(distinct)
    if stripped.equals(distinct) and not pc.any(pc.equal(distinct, "")).as_py():
        if len(distinct) < 2 or pc.all(pc.less(distinct[:-1], distinct[1:])).as_py():  # sorted: coded already
            return row_codes.astype(np.int32, copy=False), pd.Index(pd.arrays.ArrowStringArray(distinct),
                                                                    dtype="string")
        per_distinct = np.arange(len(distinct), dtype=np.int32)
    else:  # values equal once stripped share a code
        merged = pc.dictionary_encode(pc.if_else(pc.equal(stripped, ""), pa.scalar(None, stripped.type), stripped))
        per_distinct, distinct = pc.fill_null(merged.indices, -1).to_numpy(), merged.dictionary
    order = pc.array_sort_indices(distinct).to_numpy()
    rank = np.empty(len(order) + 1, dtype=np.int32)
    rank[order], rank[-1] = np.arange(len(order), dtype=np.int32), -1
    codes = np.append(rank[per_distinct], np.int32(-1))[row_codes]
    return codes, pd.Index(pd.arrays.ArrowStringArray(distinct.take(pa.array(order))), dtype="string")


def _factorize(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize``: (code per row, -1 missing; distinct values in order of first appearance), with 32-bit
    codes (half the memory of its 64-bit ones; 2**31 distinct values is beyond any log).

    A categorical is coded from its own codes, in their own width: taken as they are when its categories all
    occur in order of first appearance (a loader's, read in one piece), renumbered in that order otherwise
    (sorted ones, say). At 10M lines ``pd.factorize`` hashed every row's value and made an 8-byte code per
    row, then narrowed (0.06 CPU s and 80 + 40 MB a column), where this makes one pass over the small codes
    (0.025 s) and, to renumber, one gather (20 MB for 2-byte codes)."""
    if not isinstance(values.dtype, pd.CategoricalDtype):
        codes, uniques = pd.factorize(values)
        return codes.astype(np.int32), uniques
    codes, categories = codes_of(values), values.cat.categories
    seen = pd.unique(codes)
    seen = seen[seen >= 0]
    if np.array_equal(seen, np.arange(len(categories))):
        return codes, categories
    rank = np.full(len(categories) + 1, -1, dtype=codes.dtype)  # last slot: code -1
    rank[seen] = np.arange(len(seen))
    return rank[codes], categories[seen]


def _kept_column(held: dict[str, Any], name: str, kept: np.ndarray) -> np.ndarray | pd.Categorical:
    """The kept rows of ``held[name]`` (an array, or a text column's codes and distinct values), which
    ``held`` lets go of."""
    column = held.pop(name)
    return _categorical(*column, kept) if isinstance(column, tuple) else column[kept]


def _revenue(qty: np.ndarray, price: np.ndarray) -> np.ndarray:
    """quantity x unit price, in float64 whatever the columns' own number types (as the rules compute it)."""
    return np.multiply(np.asarray(qty, dtype=np.float64), np.asarray(price, dtype=np.float64))


def _categorical(codes: np.ndarray, uniques: pd.Index, kept: np.ndarray) -> pd.Categorical:
    """The kept rows of a factorized text column as a categorical over its distinct values (strings)."""
    return unique_categorical(codes[kept], pd.Index(uniques, dtype="string"))


def _excluded_detail(cust: pd.Series, revenue: np.ndarray, is_return: np.ndarray) -> pd.DataFrame:
    """Per excluded customer (their lines given): value bought, returned (negative), net; line counts."""
    part = pd.DataFrame(
        {
            S.CUSTOMER_ID: np.asarray(cust, dtype=object),
            "purchase_value": np.where(is_return, 0.0, revenue),
            "returned_value": np.where(is_return, revenue, 0.0),
            "purchase_lines": (~is_return).astype(int),
            "return_lines": is_return.astype(int),
        }
    )
    out = part.groupby(S.CUSTOMER_ID, sort=True).sum().reset_index()
    out.insert(3, "net_value", out["purchase_value"] + out["returned_value"])
    money = ["purchase_value", "returned_value", "net_value"]
    out[money] = out[money].round(6)  # hide float noise such as 4.5e-13 left by netting
    out[S.CUSTOMER_ID] = out[S.CUSTOMER_ID].astype("string")
    return out


def _exact_duplicates(df: pd.DataFrame, cols: list[str], row_codes: list[np.ndarray]) -> np.ndarray:
    """``df.duplicated(subset=cols)``, in a fraction of its time and memory on big logs (10M lines: 0.45 CPU s
    and 0.2 GB against 2.9 s and 1 GB).

    Candidates are rows sharing a 64-bit hash of ``row_codes`` (integer codes or numbers standing for every
    column's values, equal values having equal codes) with another row; only those few are compared on every
    column. A hash collision only adds a candidate.
    """
    # Hashes seen twice, by sorting a copy (a hash table over every row takes twice the memory): first the
    # high halves of every row's hash (only they are kept: 4 bytes a row, and 4 for the sorted copy, against
    # 8 and 8), then the whole hashes of the few rows whose halves are seen twice.
    half = _row_digest(row_codes, len(df), np.uint32)
    rows = np.flatnonzero(pd.Series(half, copy=False).isin(_repeated(np.sort(half))).to_numpy())
    del half
    whole = _row_digest([codes[rows] for codes in row_codes], len(rows), np.uint64)
    rows = rows[pd.Series(whole, copy=False).isin(_repeated(np.sort(whole))).to_numpy()]
    out = np.zeros(len(df), dtype=bool)
    out[rows] = df[cols].iloc[rows].duplicated().to_numpy()
    return out


def _repeated(ordered: np.ndarray) -> np.ndarray:
    """The values seen more than once in ``ordered`` (sorted)."""
    return np.unique(ordered[1:][ordered[1:] == ordered[:-1]])


_DIGEST_BLOCK_ROWS = 1 << 16


def _row_digest(row_codes: list[np.ndarray], n: int, dtype: type[np.unsignedinteger]) -> np.ndarray:
    """FNV-1a over each row's 64-bit words (a wide word's high bits folded down first), a block of rows at a
    time so that the passes over every column stay in the CPU's cache, with no converted copy of a column
    (10M lines: 0.27 s against 1.1 s column by column), the two halves of the rows in two threads. ``dtype``
    ``np.uint32`` keeps the high half of each 64-bit hash (the half every input bit reaches)."""
    digest = np.zeros(n, dtype=dtype)
    bounds = np.linspace(0, n, WORKERS + 1).astype(int)
    in_threads({f"rows {start}-{stop}": partial(_digest_rows, digest, row_codes, start, stop)
                for start, stop in pairwise(bounds)})
    return digest


def _digest_rows(digest: np.ndarray, row_codes: list[np.ndarray], start: int, stop: int) -> None:
    fold = np.empty(_DIGEST_BLOCK_ROWS, dtype=np.uint64)
    number = np.empty(_DIGEST_BLOCK_ROWS, dtype=np.float64)
    whole = np.empty(_DIGEST_BLOCK_ROWS, dtype=np.uint64) if digest.dtype != np.uint64 else None
    prime = np.uint64(0x100000001B3)
    for first in range(start, stop, _DIGEST_BLOCK_ROWS):
        last = min(first + _DIGEST_BLOCK_ROWS, stop)
        if whole is None:
            block = digest[first:last]
        else:
            block = whole[:last - first]
            block[:] = 0
        folded = fold[:len(block)]
        for codes in row_codes:
            part = codes[first:last]
            if part.dtype.kind == "f":  # -0.0 as 0.0 and every NaN as one NaN, as ``duplicated`` sees them
                part = np.add(part, 0.0, out=number[:len(block)])
                part[np.isnan(part)] = np.nan
            if part.dtype.itemsize == 8:
                word = part.view(np.uint64)
                np.bitwise_xor(block, word, out=block)
                np.right_shift(word, np.uint64(29), out=folded)
                np.bitwise_xor(block, folded, out=block)
            else:  # 32-bit codes are small numbers: no high bits to fold
                np.bitwise_xor(block, part, out=block, dtype=np.uint64, casting="unsafe")
            np.multiply(block, prime, out=block)
        if whole is not None:
            np.right_shift(block, np.uint64(64 - 8 * digest.itemsize), out=folded)
            digest[first:last] = folded


def _n_used(codes: np.ndarray, k: int) -> int:
    """How many of the codes 0..k-1 occur in ``codes`` (-1, missing, not counted)."""
    return int(np.count_nonzero(_used(codes, k)))


def _used(codes: np.ndarray, k: int) -> np.ndarray:
    """Whether each of the codes 0..k-1 occurs in ``codes`` (-1: missing), by marking: sorting them is slower,
    and ``np.bincount`` makes a 64-bit copy of them (10M lines: 80 MB)."""
    seen = np.zeros(k + 1, dtype=bool)  # last slot: code -1
    seen[codes] = True
    return seen[:-1]


def _ts(value: Any) -> pd.Timestamp | None:
    return None if pd.isna(value) else pd.Timestamp(value)


def _json_value(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return value.isoformat()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    return str(value)
