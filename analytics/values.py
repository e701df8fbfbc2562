"""Values of a raw transaction table as the canonical frame (``analytics.schema``): ids, dates, numbers.

Values are read as spreadsheets and shops write them: ISO dates, ``12/1/2010 8:26``, ``01.12.2010``;
decimal commas (``2,55``), thousands separators, currency symbols and accounting negatives ``(3.50)``.
When every numeric date fits both day/month and month/day order the loader raises a DataError rather than
guess; the caller settles it with ``dayfirst=`` or ``date_format=``.

Every problem with the input raises ``DataError``, except a few bad values: dates, quantities, prices or
amounts that are empty, not readable or not finite in at most ``MAX_BAD_FRACTION`` of the rows become
missing (NaT / NaN), and cleaning drops and counts those rows (rules ``missing_date`` and
``unreadable_number``). A column with more bad values than that is refused as a whole: so many usually
means a wrong column mapping, date layout or decimal mark, and dropping them would silently change the
analysis. Row numbers in messages count the header as row 1, as a spreadsheet shows them. Parsing works
on the distinct values of a column (an invoice date repeats on every line of its invoice), so large files
stay fast; a column read dictionary-encoded (``analytics.loading``) is never expanded to a string per row.
Identifiers, stock code, description and country are categoricals: at 10M lines stock code, description and
country take 0.05 GB instead of 0.6 GB as strings, and the customer and invoice identifiers 0.1 GB instead of
0.26 GB (``_ids``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import partial

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analytics import schema
from analytics.columns import ALIASES
from analytics.errors import DataError
from analytics.parallel import in_threads
from analytics.quiet import quietly

_SHOWN = 5  # bad rows quoted in a message
MAX_BAD_FRACTION = 0.1
"""Largest share of rows whose date or number may be bad (dropped and reported); more refuses the column."""

_ISO_DATE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?"
)
_NUMERIC_DATE = r"^(\d{1,2})[/.\-](\d{1,2})[/.\-]\d{2,4}(?!\d)"
# Currency signs and codes, spaces (incl. no-break and thin) and apostrophes used as thousands marks.
_NUMBER_NOISE = r"[\s\u00a0\u202f'\u2019$£€¥₹]|(?i:\b(?:usd|eur|gbp|chf|aud|cad)\b)"


def check_required(mapping: Mapping[str, str], columns, label: str) -> None:
    amount_only = schema.UNIT_PRICE not in mapping and schema.AMOUNT in mapping
    needed = [schema.CUSTOMER_ID, schema.INVOICE_DATE]
    if not amount_only:
        needed += [schema.INVOICE_ID, schema.QUANTITY, schema.UNIT_PRICE]
    missing = [c for c in needed if c not in mapping]
    if not missing:
        return
    described = []
    for canonical in missing:
        examples = ", ".join(ALIASES[canonical][:3])
        if canonical == schema.UNIT_PRICE:
            examples += "; or, instead of quantity and price, an amount column (amount, dollar_value, sales)"
        described.append(f"{canonical} (e.g. {examples})")
    found = ", ".join(repr(str(c)) for c in columns) or "none"
    raise DataError(
        f"{label} is missing required column(s): {'; '.join(described)}. Columns found: {found}. "
        f"Rename the column or map it, e.g. mapping={{'{missing[0]}': 'YourColumn'}}"
    )


def canonical_frame(frame: pd.DataFrame, mapping: dict[str, str], *, date_format, dayfirst, label: str,
               info: dict) -> pd.DataFrame:
    check_required(mapping, frame.columns, label)
    frame = frame.reset_index(drop=True)
    if frame.empty:
        found = ", ".join(repr(c) for c in frame.columns)
        raise DataError(f"{label} has a header but no data rows (columns: {found})")
    context = {"delimiter": info.get("delimiter")}

    def col(canonical: str) -> tuple[pd.Series, str]:
        source = mapping[canonical]
        return frame[source], f"column {source!r} ({canonical})"

    # Each canonical column from its own source column, two at a time (see ``analytics.parallel``); a bad
    # column is reported as if they had been read in this order.
    amount_only = schema.UNIT_PRICE not in mapping
    tasks = {
        schema.CUSTOMER_ID: partial(_ids, *col(schema.CUSTOMER_ID), required=False),
        schema.INVOICE_DATE: partial(_dates, *col(schema.INVOICE_DATE), date_format=date_format,
                                     dayfirst=dayfirst),
    }
    if schema.INVOICE_ID in mapping:
        tasks[schema.INVOICE_ID] = partial(_ids, *col(schema.INVOICE_ID), required=True)
    for canonical in (schema.AMOUNT,) if amount_only else (schema.QUANTITY, schema.UNIT_PRICE):
        tasks[canonical] = partial(_numbers, *col(canonical), **context)
    for canonical in (schema.STOCK_CODE, schema.DESCRIPTION, schema.COUNTRY):
        if canonical in mapping:
            tasks[canonical] = partial(_repeated_text, col(canonical)[0],
                                       free_text=canonical == schema.DESCRIPTION)
    done = in_threads(tasks)
    out: dict[str, object] = {schema.CUSTOMER_ID: done[schema.CUSTOMER_ID]}
    # an amount-only log without invoice numbers: every row is one purchase
    out[schema.INVOICE_ID] = done[schema.INVOICE_ID] if schema.INVOICE_ID in done else \
        _row_invoices(done[schema.CUSTOMER_ID], done[schema.INVOICE_DATE])
    out[schema.INVOICE_DATE] = done[schema.INVOICE_DATE]
    if amount_only:
        amount = done.pop(schema.AMOUNT)
        out[schema.QUANTITY] = np.where(amount < 0, -1.0, 1.0)
        out[schema.UNIT_PRICE] = np.abs(amount)
    out.update((name, values) for name, values in done.items() if name not in out)
    result = pd.DataFrame(out, copy=False)  # no consolidation copy of the number columns
    used = {k: v for k, v in mapping.items() if k in out or (amount_only and k == schema.AMOUNT)}
    info.update(mapping=used, amount_only=amount_only, rows=len(result))
    result.attrs["loading"] = info
    return result


def _repeated_text(series: pd.Series, free_text: bool) -> pd.Categorical:
    """A column of few distinct values repeated on many lines (stock code, description, country) as a
    categorical over strings (a categorical keeps its categories' order, others are in order of first
    appearance); read as identifiers (``_ids``) unless ``free_text`` (kept as written, spacing included).
    Each distinct value is stored once: at 10M lines these three columns take 0.05 GB instead of 0.6 GB as
    strings, and a categorical whose categories need no change keeps its codes (no copy)."""
    if isinstance(series.dtype, pd.CategoricalDtype):  # its own codes: factorizing them costs 2 x 8 bytes a row
        codes, uniques = codes_of(series), series.cat.categories
    else:
        codes, uniques = pd.factorize(series)
    distinct = pd.Series(np.asarray(uniques))
    texts = distinct.astype("string") if free_text else \
        pd.Series(pd.arrays.ArrowStringArray(_distinct_texts(distinct)))
    merged, categories = pd.factorize(texts)  # identifiers equal once stripped share a category
    if len(categories) < len(merged) or (merged != np.arange(len(merged))).any():
        codes = np.append(merged, -1).astype(code_dtype(len(categories)))[codes]
    return unique_categorical(codes, pd.Index(categories, dtype="string"))


def codes_of(series: pd.Series) -> np.ndarray:
    """A categorical column's codes (-1: missing), read-only, without the copy ``series.cat.codes`` makes in
    pandas 3 (4 bytes a line: 0.3 GB at 78M cleaned lines)."""
    return series.array.codes


# pandas' private constructor that takes the categories as distinct (pandas 2.2 to 3 have it); a pandas without
# it gets the public one, which checks them again
_UNCHECKED_DTYPE = getattr(pd.CategoricalDtype, "_from_fastpath", None)


def unique_categorical(codes: np.ndarray, categories: pd.Index) -> pd.Categorical:
    """``pd.Categorical.from_codes`` for categories known to be distinct (a factorization's uniques): pandas
    would check them again with a hash table, 0.16 s for the 1.2M invoice numbers of the 10M-line log. The
    codes are still checked against the categories."""
    dtype = (_UNCHECKED_DTYPE or pd.CategoricalDtype)(categories, ordered=False)
    return pd.Categorical.from_codes(codes, dtype=dtype)


def _row_invoices(customers: pd.Categorical, dates: pd.Series) -> pd.Categorical:
    """Invoice ids ``{customer}-{YYYYMMDD}-{n}``, unique per row (n counts a customer's rows on one day)."""
    day_codes, days = pd.factorize(dates.dt.normalize())
    day_text = pd.Series(pd.DatetimeIndex(days).strftime("%Y%m%d"), dtype="string").array.take(day_codes)
    who = pd.Series(customers).astype("string").fillna("guest")
    nth = who.groupby([who.to_numpy(), day_codes]).cumcount().astype("string")
    return _ids(who + "-" + pd.Series(day_text, dtype="string") + "-" + nth, "", False)


def _row_list(positions: np.ndarray, values: list) -> str:
    return "; ".join(f"row {p + 2}: {v!r}" for p, v in zip(positions[:_SHOWN], values[:_SHOWN]))


def _first_rows(codes: np.ndarray, bad_unique: np.ndarray) -> np.ndarray:
    """Positions (0-based) of the rows whose value code is one of ``bad_unique``."""
    return np.flatnonzero(np.isin(codes, bad_unique))


def _missing_error(what: str, positions: np.ndarray, problem: str = "is empty") -> DataError:
    shown = ", ".join(str(p + 2) for p in positions[:_SHOWN])
    return DataError(f"{what} {problem} in {len(positions):,} row(s) (rows {shown}; header = row 1); at most "
                     f"{MAX_BAD_FRACTION:.0%} of the rows may be bad (they are then dropped and reported)")


def _tolerable(bad: np.ndarray) -> bool:
    """True when so few rows are bad (at most MAX_BAD_FRACTION) that cleaning drops and reports them."""
    return bad.sum() <= MAX_BAD_FRACTION * len(bad)


_ARROW_STRING = pd.StringDtype("pyarrow")


def _ids(series: pd.Series, what: str, required: bool) -> pd.Categorical:
    """Identifiers as a categorical over their distinct strings, sorted: stripped, ``17850.0`` -> ``17850``,
    empty -> missing (code -1), values equal once normalised sharing one category.

    Only the distinct values become strings: at 10M lines the customer and invoice columns take 42 and 55 MB
    (40 MB of codes each, then the 324k and 1.2M distinct strings), where a string per row took 122 and 141 MB.
    Sorted, so that every reader gives the same categories and cleaning takes the codes as they are."""
    codes, texts = _id_codes(series)
    result = _sorted_categorical(codes, texts)
    if required and result.codes.min(initial=0) < 0:  # (no flag per row unless some are missing)
        raise _missing_error(what, np.flatnonzero(result.codes < 0))
    return result


def _id_codes(series: pd.Series) -> tuple[np.ndarray, pa.Array]:
    """(code per row into the distinct values, -1 when missing; each distinct value as an identifier string,
    null when it means missing). Distinct values may still share a string (``" 7"`` and ``"7"``)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return codes_of(series), _distinct_texts(series.cat.categories)
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        encoded = pc.dictionary_encode(pa.array(series.to_numpy("float64", na_value=np.nan), from_pandas=True))
        return pc.fill_null(encoded.indices, -1).to_numpy(), _number_texts(encoded.dictionary.to_numpy())
    encoded = pc.dictionary_encode(_arrow_strings(series))
    return pc.fill_null(encoded.indices, -1).to_numpy(), _normalised(encoded.dictionary)


def _distinct_texts(values: pd.Index | pd.Series) -> pa.Array:
    """Identifier strings of distinct values (null: missing), in their order."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return _number_texts(np.asarray(values, dtype="float64"))
    return _normalised(_arrow_strings(pd.Series(values)))


def _arrow_strings(series: pd.Series) -> pa.Array:
    strings = pa.array(series.astype(_ARROW_STRING).array)
    return strings.combine_chunks() if isinstance(strings, pa.ChunkedArray) else strings


def _number_texts(values: np.ndarray) -> pa.Array:
    """Whole numbers as integers (``17850.0`` -> ``17850``) when every value is whole, NaN as null."""
    absent = np.isnan(values)
    whole = np.where(absent, 0.0, values)
    if (whole == np.rint(whole)).all() and np.abs(whole).max(initial=0) < 2**53:
        return pc.cast(pa.array(whole.astype(np.int64), mask=absent), pa.string())
    return pc.cast(pa.array(values, mask=absent), pa.string())


def _normalised(strings: pa.Array) -> pa.Array:
    """Stripped of spaces, ``17850.0`` (a float column written as text) -> ``17850``, empty -> null."""
    strings = pc.utf8_trim_whitespace(strings)
    floaty = pc.fill_null(pc.ends_with(strings, ".0"), False)
    if pc.any(floaty).as_py():
        fixed = pc.replace_substring_regex(pc.filter(strings, floaty), r"^(-?\d+)\.0+$", r"\1")
        strings = pc.replace_with_mask(strings, floaty, fixed)
    return pc.if_else(pc.equal(strings, ""), pa.scalar(None, strings.type), strings)


def _sorted_categorical(codes: np.ndarray, texts: pa.Array) -> pd.Categorical:
    """Rows coded into ``texts`` as a categorical over the distinct non-null texts, sorted (Arrow's byte
    order, as cleaning sorts identifiers); texts sorted and distinct already keep the rows' codes."""
    position, categories = sorted_distinct(texts)
    if len(categories) < len(texts) or (position != np.arange(len(texts))).any():
        codes = np.append(position, -1).astype(code_dtype(len(categories)))[codes]
    return unique_categorical(codes, pd.Index(pd.arrays.ArrowStringArray(categories), dtype="string"))


def sorted_distinct(strings: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """(each string's position among the distinct non-null strings, -1 for null; those strings, sorted).

    By sorting, not hashing: Arrow's hash table for the 1.2M distinct invoice numbers of the 10M-line log
    peaks at 160 MB (``dictionary_encode``, ``unify_dictionaries``), the sort at a tenth of that."""
    order = pc.array_sort_indices(strings, null_placement="at_end").to_numpy()
    present = len(strings) - strings.null_count
    ordered = strings.take(pa.array(order[:present]))
    first = np.ones(present, dtype=bool)
    if present > 1:
        first[1:] = pc.not_equal(ordered[1:], ordered[:-1]).to_numpy(zero_copy_only=False)
    position = np.full(len(strings), -1, dtype=np.int32)
    position[order[:present]] = np.cumsum(first, dtype=np.int32) - 1
    return position, ordered.filter(pa.array(first))


def code_dtype(n_categories: int) -> type[np.signedinteger]:
    """The codes' dtype pandas gives a categorical of that many categories (built in it, never converted)."""
    for dtype in (np.int8, np.int16, np.int32):
        if n_categories < np.iinfo(dtype).max:
            return dtype
    return np.int64


def _numbers(series: pd.Series, what: str, *, delimiter: str | None = None) -> np.ndarray:
    """float64 values; text such as ``1.234,50 €`` or ``(3.50)`` is understood, other text is an error."""
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        codes, uniques = pd.factorize(series)
        texts = pd.Series(uniques, dtype="object").astype("string").str.strip()
        values = _parse_number_texts(texts, delimiter)
        bad = values.isna() & texts.notna() & (texts != "")
        if bad.any() and not _tolerable(np.isin(codes, np.flatnonzero(bad.to_numpy()))):
            rows = _first_rows(codes, np.flatnonzero(bad.to_numpy()))
            shown = _row_list(rows, [uniques[c] for c in codes[rows[:_SHOWN]]])
            raise DataError(f"{what} should hold numbers but {len(rows):,} row(s) hold text that is not a "
                            f"number (header = row 1): {shown}")
        result = values.to_numpy("float64", na_value=np.nan)[codes]
        result[codes < 0] = np.nan
    else:
        result = series.to_numpy("float64", na_value=np.nan)
    missing = ~np.isfinite(result)
    if missing.any():
        if not _tolerable(missing):
            raise _missing_error(what, np.flatnonzero(missing), "is empty or not a finite number")
        # inf too: cleaning's unreadable_number rule drops and counts the row
        result = np.where(missing, np.nan, result)
    return result


def _parse_number_texts(texts: pd.Series, delimiter: str | None) -> pd.Series:
    """Numbers from distinct texts, choosing the decimal mark once for the whole column."""
    cleaned = texts.str.replace(_NUMBER_NOISE, "", regex=True)
    negative = cleaned.str.fullmatch(r"\(.*\)").fillna(False).astype(bool)
    cleaned = cleaned.str.strip("()")
    last_comma = cleaned.str.rfind(",")
    last_dot = cleaned.str.rfind(".")
    both = (last_comma >= 0) & (last_dot >= 0)
    comma_only = (last_comma >= 0) & (last_dot < 0)
    grouped = cleaned.str.fullmatch(r"[-+]?\d{1,3}(?:,\d{3})+").fillna(False).astype(bool)
    decimal_comma = bool(
        (both & (last_comma > last_dot)).any()
        or (comma_only & ~grouped).any()
        or (delimiter in (";", "\t") and comma_only.any() and not (both & (last_dot > last_comma)).any())
    )
    if decimal_comma:
        cleaned = cleaned.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        cleaned = cleaned.str.replace(",", "", regex=False)
    values = pd.to_numeric(cleaned.astype("object"), errors="coerce")
    return values.where(~negative, -values)


def _naive(values: pd.Series | pd.DatetimeIndex) -> pd.Series:
    """datetime64[ns] without a time zone (aware values are converted to UTC first)."""
    values = pd.Series(values)
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values.astype("datetime64[ns]")


def _to_datetime(texts: pd.Series, **kw) -> pd.Series:
    with quietly():  # "could not infer format" is expected for mixed layouts
        try:
            return _naive(pd.to_datetime(texts, errors="coerce", **kw))
        except (ValueError, TypeError, OverflowError):
            return _naive(pd.to_datetime(texts, errors="coerce", utc=True, **kw))


def _infer_dayfirst(texts: pd.Series, what: str) -> bool:
    """Day/month order of numeric dates such as 01/12/2010, from values where one part exceeds 12."""
    parts = texts.str.extract(_NUMERIC_DATE).dropna()
    if parts.empty:
        return False  # month names or year-first layouts: nothing to decide
    first, second = parts[0].astype(int), parts[1].astype(int)
    day_first, month_first = (first > 12) & (second <= 12), (second > 12) & (first <= 12)
    if day_first.any() and month_first.any():
        a, b = texts[day_first[day_first].index[0]], texts[month_first[month_first].index[0]]
        raise DataError(f"{what} mixes day-first and month-first dates (e.g. {a!r} and {b!r}); "
                        f"pass date_format= to say which layout the file uses")
    if day_first.any():
        return True
    undecided = (first <= 12) & (second <= 12)
    if month_first.any() or not undecided.any():
        return False  # (values with both parts above 12 are not dates and are reported as such)
    examples = ", ".join(repr(v) for v in texts[undecided[undecided].index[:3]])
    raise DataError(
        f"{what} has ambiguous dates: no day is above 12, so values such as {examples} read both as "
        f"day/month and as month/day. Say which: dayfirst=True for DD/MM/YYYY, dayfirst=False for "
        f"MM/DD/YYYY, or an exact date_format such as '%d/%m/%Y %H:%M'"
    )


def _dates(series: pd.Series, what: str, *, date_format: str | None, dayfirst: bool | None) -> pd.Series:
    """datetime64[ns] invoice dates; unparseable or empty values are an error listing the first rows."""
    if isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(series):
        result = _naive(series)
    elif pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        finite = series.dropna()
        compact = (finite == np.round(finite)) & finite.between(19000101, 21001231)  # YYYYMMDD
        if not compact.all():
            raise DataError(f"{what} holds numbers (e.g. {finite[~compact].iloc[0]!r}), not dates; expected "
                            f"dates such as 2011-12-09 or 20111209")
        result = _to_datetime(series.astype("Int64").astype("string"), format="%Y%m%d")
    else:
        codes, uniques = pd.factorize(series)
        texts = pd.Series(uniques, dtype="object").astype("string").str.strip()
        present = texts.fillna("") != ""
        if date_format is not None:
            parsed = _to_datetime(texts, format=date_format)
        else:
            parsed = pd.Series(pd.NaT, index=texts.index, dtype="datetime64[ns]")
            iso = texts.str.fullmatch(_ISO_DATE.pattern).fillna(False).astype(bool)
            if iso.any():
                parsed[iso] = _to_datetime(texts[iso], format="ISO8601").to_numpy()
            rest = present & ~iso
            if rest.any():
                order = dayfirst if dayfirst is not None else _infer_dayfirst(texts[rest], what)
                guess = _to_datetime(texts[rest], dayfirst=order)
                if guess.isna().any():  # rows in another layout than the first one
                    retry = guess.isna()
                    guess[retry] = _to_datetime(texts[rest][retry], format="mixed", dayfirst=order).to_numpy()
                parsed[rest] = guess.to_numpy()
        bad = (parsed.isna() & present).to_numpy()
        if bad.any() and not _tolerable(np.isin(codes, np.flatnonzero(bad))):
            rows = _first_rows(codes, np.flatnonzero(bad))
            shown = _row_list(rows, [uniques[c] for c in codes[rows[:_SHOWN]]])
            hint = (f"the format {date_format!r}" if date_format
                    else "dates such as 2011-12-09 08:26, 12/9/2011 8:26 or 09.12.2011")
            raise DataError(f"{what}: {len(rows):,} row(s) are not dates (header = row 1): {shown}. "
                            f"Expected {hint}; pass date_format= (e.g. '%d/%m/%Y %H:%M') for another layout")
        values = parsed.to_numpy("datetime64[ns]")[codes]
        values[(codes < 0) | np.isin(codes, np.flatnonzero(~present.to_numpy()))] = np.datetime64("NaT")
        result = pd.Series(values, dtype="datetime64[ns]")
    missing = result.isna().to_numpy()
    if missing.any() and not _tolerable(missing):
        raise _missing_error(what, np.flatnonzero(missing))
    return result.reset_index(drop=True)
