"""Read a transaction log into the canonical frame of ``analytics.schema``.

Formats: CSV/TSV text (delimiter ``,`` ``;`` tab or ``|`` sniffed from the first lines; UTF-8, UTF-8 with
BOM, UTF-16 with BOM, Windows-1252 or Latin-1; any line ending), XLSX (every sheet with the first sheet's
header, stacked) and Parquet, each optionally compressed with gzip, xz, bzip2 or zip. The container is
recognised by its magic bytes first and by the file name second, so bytes uploaded without a name work.

A file from an untrusted source is read under ``ReadLimits``: compressed layers are decompressed as a stream
into a temporary file, and the caps on decompressed bytes and rows are checked chunk by chunk, so a
decompression bomb is refused having cost one chunk of memory. Zip members (and workbooks) are checked
against their declared sizes, which ``zipfile`` enforces while reading; Parquet against its metadata.

Readers are pyarrow's (CSV, Parquet) and pandas/openpyxl (XLSX). Memory decides how: at 10M lines (the
synthetic log, this 2-core machine) reading the whole Parquet file with every text column as strings, then
typing it, peaked at 2.6 GB and took 7.1 CPU s. Only the mapped columns are read (projection), two at a time,
and no column is held whole twice: a Parquet file on disk is read from its path (never whole in memory),
numbers and timestamps go a row group at a time into their numpy arrays, and text columns arrive
dictionary-encoded, a row group at a time, as pandas categoricals over their distinct values (each distinct
stock code, description, country, invoice number and customer held once, the row groups' dictionaries unified
by sorting: ``_dictionary_categorical``); numeric customer IDs are dictionary-encoded in Arrow, so no
identifier is ever a string per row. pyarrow's CSV reader gives the text columns as dictionaries too (dates
included), converted column by column. Reading the 10M-line log peaks at 0.84-0.89 GB of RSS (Python and the
libraries about 0.2 GB of it) and takes 2.2-2.7 CPU s, for a 375 MB frame (0.81-0.84 GB, against 0.87-0.91 in
the same runs, since ``analytics.values`` takes the categoricals' codes without the copy ``.cat.codes``
makes); with the identifiers a string per
row and each column in Arrow and in pandas at once (two at a time, the file's bytes in memory) it peaked at
1.4-1.5 GB and took 2.8-3.3 CPU s for a 539 MB frame (1.6-1.7 GB and 2-4 CPU s a session earlier; this machine
is shared, so the figures spread). ``analytics.values`` then works on the distinct values. The cleaned lines,
invoice table and quality report are unchanged (``tests/analytics/test_lean_reading.py``). DuckDB was measured as the reader on the
1M-line synthetic log (this 2-core machine, warm, other work running): Parquet to Arrow 1.8 s against
pyarrow's 0.8 s, CSV 2.5 s against 1.6 s, and its GROUP BY over the cleaned frame was no faster than pandas
on integer codes (``analytics.invoices``). As SQL straight over the file (the cleaning rules and the invoice
table, ``benchmarks/bench_duckdb_clean.py``), it gives the same quality counts and invoice table as this
path and ``cleaning.clean`` on the 1M and 10M-line logs, and at 10M lines takes 17.7 CPU s and 1.3 GB peak
(memory limit 1 GB, spilling to disk) against 22.7 CPU s and 4.0 GB on this path then; this path now
reads and cleans them in about 5.5 CPU s under 0.85 GB (session 7). DuckDB is not the product's path, for two
reasons: the value rules of ``analytics.values`` (text dates in any layout, decimal commas, currency
signs, the bad-value tolerance with row numbers in the messages, amount-only logs) run in pandas on each
column's distinct values and would need SQL twins kept identical to them; and the customer features and the
churn labels read line-level data (distinct products, category spend from descriptions, the country mode,
purchases around a cutoff), so the lines would still be materialised in pandas unless those move into SQL
too. With pandas on codes the whole 100M-line run fits 8 GB (README, speed table). polars was not measured
(not installed).

Values (dates, numbers, identifiers) are parsed by ``analytics.values``; this module finds the container,
the compression, the encoding and the delimiter, and hands the raw columns over. Every problem with the input
raises ``DataError``.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import lzma
import os
import re
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO, Union

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from analytics import schema
from analytics.columns import detect_mapping, resolve_mapping
from analytics.errors import DataError
from analytics.parallel import in_threads
from analytics.quiet import quietly
from analytics.values import canonical_frame, check_required, code_dtype, sorted_distinct, unique_categorical

__all__ = ["read_transactions", "source_columns", "to_canonical", "detect_mapping", "ReadLimits",
           "SUPPORTED_FORMATS"]

Source = Union[str, os.PathLike, bytes, bytearray, IO, pd.DataFrame]

SUPPORTED_FORMATS = "CSV/TSV/TXT, XLSX or Parquet, optionally compressed as .gz, .xz, .bz2 or .zip"

_TEXT_EXTENSIONS = {"", ".csv", ".tsv", ".txt", ".tab", ".dat"}
_EXCEL_EXTENSIONS = {".xlsx", ".xlsm"}
_PARQUET_EXTENSIONS = {".parquet", ".pq"}
_COMPRESSED_EXTENSIONS = {".gz": "gzip", ".gzip": "gzip", ".xz": "xz", ".bz2": "bz2", ".zip": "zip"}
# Streaming readers: each reads concatenated members/streams (a multi-member .gz) chunk by chunk.
_DECOMPRESS = {"gzip": lambda raw: gzip.GzipFile(fileobj=raw), "xz": lzma.LZMAFile, "bz2": bz2.BZ2File}
_CHUNK_BYTES = 1 << 20
# A transaction log has a dozen columns; thousands mean a broken or hostile file, and every column would
# become an option in the mapping editor and a name in the messages.
MAX_COLUMNS = 500
_DELIMITERS = (",", ";", "\t", "|")
_CONTROL_BYTES = bytes(range(0, 9)) + b"\x0b\x0e\x0f" + bytes(range(16, 32))  # not tab, newline, form feed
_TEXT_CANONICAL = (schema.CUSTOMER_ID, schema.INVOICE_ID, schema.INVOICE_DATE, schema.STOCK_CODE,
                   schema.DESCRIPTION, schema.COUNTRY)
_REPEATED_CANONICAL = (schema.STOCK_CODE, schema.DESCRIPTION, schema.COUNTRY)
_ID_CANONICAL = {schema.CUSTOMER_ID, schema.INVOICE_ID}
_DICTIONARY_CANONICAL = {*_REPEATED_CANONICAL, *_ID_CANONICAL}
_NUMBER_CANONICAL = {schema.QUANTITY, schema.UNIT_PRICE, schema.AMOUNT}
_ARROW_STRINGS = {pa.string(): pd.StringDtype("pyarrow"), pa.large_string(): pd.StringDtype("pyarrow")}



# ----------------------------------------------------------------------------------------------- public


@dataclass(frozen=True)
class ReadLimits:
    """Caps for reading a file from an untrusted source (``None`` limits: a trusted local file, no caps)."""

    max_decompressed_bytes: int = 1 << 30
    max_rows: int = 5_000_000

    def too_big(self, label: str, what: str) -> DataError:
        return DataError(f"{label} {what} when decompressed; the server's limit is "
                         f"{self.max_decompressed_bytes / 2**20:,.0f} MB. Upload a smaller extract")

    def too_many_rows(self, label: str) -> DataError:
        return DataError(f"{label} has more than {self.max_rows:,} rows; the server's limit is "
                         f"{self.max_rows:,}. Upload a shorter period or a sample")


def read_transactions(
    source: Source,
    *,
    filename: str | None = None,
    mapping: Mapping[str, str | None] | None = None,
    date_format: str | None = None,
    dayfirst: bool | None = None,
    limits: ReadLimits | None = None,
) -> pd.DataFrame:
    """Canonical transactions from a path, bytes (``filename=`` names the format), a file-like or a DataFrame.

    ``mapping`` overrides detected columns: ``{canonical: source_column}`` (``None`` ignores a column).
    ``date_format`` (strptime, e.g. ``"%d/%m/%Y %H:%M"``) or ``dayfirst`` settle ambiguous dates.
    ``limits`` caps decompressed bytes and rows (give them for any file from outside).
    The frame's ``attrs["loading"]`` records format, encoding, delimiter and the mapping used.
    """
    with _reading(source, filename, "read"):
        if isinstance(source, pd.DataFrame):
            return to_canonical(source, mapping=mapping, date_format=date_format, dayfirst=dayfirst)
        data, name = _read_source(source, filename)
        return _read_bytes(data, name, limits, mapping=mapping, date_format=date_format, dayfirst=dayfirst)


@contextmanager
def _reading(source: Source, filename: str | None, what: str) -> Iterator[None]:
    """A parser failure on odd input reaches the user as a DataError naming the source (``could not
    <what> <source>``); our own DataErrors and running out of memory pass through as they are."""
    try:
        yield
    except (DataError, MemoryError):
        raise
    except Exception as exc:
        label = filename or _source_name(source) or "the data"
        raise DataError(f"could not {what} {label}: {type(exc).__name__}: {str(exc)[:300]}") from exc


def source_columns(source: Source, *, filename: str | None = None, limits: ReadLimits | None = None) -> list[str]:
    """The column names a file offers (for a mapping editor), read from its header only."""
    with _reading(source, filename, "read the columns of"):
        if isinstance(source, pd.DataFrame):
            return [str(c) for c in source.columns]
        data, name = _read_source(source, filename)
        label = _label(name)
        kind, data, name, _ = _unwrap(data, name, label, limits)
        return _header(data, kind, label)


def read_table(source: Source, *, filename: str | None = None) -> pd.DataFrame:
    """Any small table (e.g. a campaign's assignment file) in the formats above, every cell as text.

    The same format, compression, encoding and delimiter handling as a transaction log, no column mapping.
    """
    with _reading(source, filename, "read"):
        if isinstance(source, pd.DataFrame):
            return _flatten_index(source)
        data, name = _read_source(source, filename)
        label = _label(name)
        kind, data, name, _ = _unwrap(data, name, label)
        if kind == "xlsx":
            return _excel_frame(data, label, {}).astype("string")
        if kind == "parquet":
            return _parquet_frame(data, label, {}).astype("string")
        encoding = _text_encoding(data, label)
        delimiter, _ = _sniff(data, encoding)
        return pd.read_csv(io.BytesIO(data), sep=delimiter, encoding=encoding, dtype="string",
                           skipinitialspace=True)


def to_canonical(
    frame: pd.DataFrame,
    *,
    mapping: Mapping[str, str | None] | None = None,
    date_format: str | None = None,
    dayfirst: bool | None = None,
) -> pd.DataFrame:
    """Map and type an already-read raw frame (any column spelling) into the canonical frame."""
    frame = _flatten_index(frame)
    frame.columns = [str(c) for c in frame.columns]
    resolved = resolve_mapping(frame.columns, mapping)
    return canonical_frame(frame, resolved, date_format=date_format, dayfirst=dayfirst, label="the data",
                      info={"format": "dataframe"})


# ---------------------------------------------------------------------------------------- bytes, formats


def _source_name(source: object) -> str:
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name
    name = getattr(source, "name", None)
    return Path(name).name if isinstance(name, str) else ""


def _read_source(source: Source, filename: str | None) -> tuple[bytes | Path, str]:
    """The raw bytes and the file name that tells their format ('' when unknown); for a Parquet file on disk
    its path: pyarrow reads the column chunks it needs from the file, so the whole file (80 MB at 10M
    lines, 812 MB at 100M) is never in memory beside the columns."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), filename or ""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_dir():
            raise DataError(f"{path} is a folder, not a file")
        if not path.is_file():
            raise DataError(f"file not found: {path}")
        try:
            with path.open("rb") as file:
                if file.read(4) == b"PAR1":
                    return path, filename or path.name
            return path.read_bytes(), filename or path.name
        except OSError as exc:
            raise DataError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if hasattr(source, "read"):
        data = source.read()
        if isinstance(data, str):
            data = data.encode("utf-8")
        return bytes(data), filename or _source_name(source)
    raise DataError(f"cannot read transactions from a {type(source).__name__}; give a path, bytes or a file")


def _magic(data: bytes) -> str | None:
    if data.startswith(b"\x1f\x8b"):
        return "gzip"
    if data.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if re.match(rb"BZh[1-9]1AY&SY", data[:10]):
        return "bz2"
    if data.startswith(b"PK\x03\x04"):
        return "zip"
    if data.startswith(b"PAR1"):
        return "parquet"
    return None


def _split_name(name: str) -> tuple[str, str]:
    """(name without a compression suffix, that suffix)."""
    suffix = Path(name).suffix.lower()
    if suffix in _COMPRESSED_EXTENSIONS:
        return name[: -len(suffix)], suffix
    return name, ""


def _unzip(data: bytes, label: str, limits: ReadLimits | None) -> tuple[str, bytes | None, str]:
    """('xlsx', None, name) for a workbook, else ('member', its bytes, its name).

    Sizes are checked as the archive declares them: ``zipfile`` never inflates a member past its declared
    size, so the declared sizes bound what reading costs.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
        if "xl/workbook.xml" in names:
            if limits and sum(i.file_size for i in archive.infolist()) > limits.max_decompressed_bytes:
                raise limits.too_big(label, "(an Excel workbook) expands to more than the limit")
            return "xlsx", None, label
        members = [n for n in names if not n.endswith("/") and not n.startswith("__MACOSX/")
                   and not Path(n).name.startswith(".")]
        if len(members) != 1:
            listed = ", ".join(members[:10]) or "nothing"
            raise DataError(f"{label} is a zip archive holding {len(members)} files ({listed}); "
                            f"it must hold exactly one data file")
        if limits and archive.getinfo(members[0]).file_size > limits.max_decompressed_bytes:
            size_mb = archive.getinfo(members[0]).file_size / 2**20
            raise limits.too_big(label, f"holds {Path(members[0]).name!r}, which is {size_mb:,.0f} MB")
        return "member", archive.read(members[0]), Path(members[0]).name
    except zipfile.BadZipFile as exc:
        raise DataError(f"{label} looks like a zip archive but cannot be opened: {exc}") from exc


def _decompress(data: bytes, kind: str, label: str, limits: ReadLimits | None) -> bytes:
    """The decompressed bytes, streamed through a temporary file with the caps checked on every chunk."""
    cap_bytes = limits.max_decompressed_bytes if limits else None
    cap_lines = limits.max_rows + 1 if limits else None  # + the header line
    total = lines = 0
    nested = False  # a nested archive's lines are not rows; its own layer is checked when it is unpacked
    try:
        with _DECOMPRESS[kind](io.BytesIO(data)) as stream, tempfile.TemporaryFile() as spool:
            while chunk := stream.read(_CHUNK_BYTES):
                if total == 0:
                    nested = _magic(chunk) is not None
                total += len(chunk)
                if cap_bytes is not None and total > cap_bytes:
                    raise limits.too_big(label, f"expands to more than {cap_bytes / 2**20:,.0f} MB")
                if cap_lines is not None and not nested:
                    lines += chunk.count(b"\n")
                    if lines > cap_lines:
                        raise limits.too_many_rows(label)
                spool.write(chunk)
            spool.seek(0)
            return spool.read()
    except DataError:
        raise
    except (OSError, EOFError, lzma.LZMAError, ValueError) as exc:
        raise DataError(f"{label} is {kind}-compressed but cannot be decompressed: {exc}") from exc


def _unwrap(data: bytes | Path, name: str, label: str,
            limits: ReadLimits | None = None) -> tuple[str, bytes | Path, str, dict]:
    """(format csv | xlsx | parquet, decompressed bytes, their file name, info): by magic bytes, then name."""
    if isinstance(data, Path):  # a Parquet file on disk (``_read_source``)
        if limits:
            _check_parquet(data, label, limits)
        return "parquet", data, name, {"compression": None}
    if not data:
        raise DataError(f"{label} is empty (0 bytes)")
    info: dict[str, object] = {"compression": None}
    for _ in range(3):  # peel compression layers (e.g. a .csv.gz inside a .zip)
        kind = _magic(data)
        stem, suffix = _split_name(name)
        if kind in _DECOMPRESS:
            data = _decompress(data, kind, label, limits)
            name, info["compression"] = stem, kind
        elif kind == "zip":
            what, inner, inner_name = _unzip(data, label, limits)
            if what == "xlsx":
                return "xlsx", data, name, info
            data, name, info["compression"] = inner, inner_name, "zip"
        elif kind == "parquet":
            if limits:
                _check_parquet(data, label, limits)
            return "parquet", data, name, info
        else:
            if suffix:
                kind_named = _COMPRESSED_EXTENSIONS[suffix]
                raise DataError(f"{label} is named {suffix} but is not {kind_named}-compressed")
            break
        if not data:
            raise DataError(f"{label} holds an empty file (0 bytes)")
    extension = Path(name).suffix.lower()
    if extension in _EXCEL_EXTENSIONS:
        raise DataError(f"{label} is named {extension} but is not an Excel workbook (not a zip archive)")
    if extension == ".xls":
        raise DataError(f"{label} is an old Excel .xls file, which is not supported: save it as .xlsx or CSV")
    if extension in _PARQUET_EXTENSIONS:
        raise DataError(f"{label} is named {extension} but is not a Parquet file (no PAR1 signature)")
    if extension not in _TEXT_EXTENSIONS:
        raise DataError(f"unsupported file type {extension!r} ({label}); expected {SUPPORTED_FORMATS}")
    if limits and data.count(b"\n") > limits.max_rows + 1:
        raise limits.too_many_rows(label)
    return "csv", data, name, info


def _parquet_file(data: bytes | Path, **options):
    """A ``pyarrow.parquet.ParquetFile`` over the bytes or the file."""
    # imported here: pyarrow's Parquet module costs a run that reads a CSV 13 ms of imports for nothing
    import pyarrow.parquet as pq

    return pq.ParquetFile(str(data) if isinstance(data, Path) else pa.BufferReader(data), **options)


def _check_parquet(data: bytes | Path, label: str, limits: ReadLimits) -> None:
    """Rows and uncompressed size from the Parquet footer, before any column is decompressed."""
    try:
        meta = _parquet_file(data).metadata
    except Exception as exc:
        raise DataError(f"{label} cannot be read as Parquet: {exc}") from exc
    if meta.num_rows > limits.max_rows:
        raise limits.too_many_rows(label)
    if sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups)) > limits.max_decompressed_bytes:
        raise limits.too_big(label, "(Parquet) expands to more than the limit")


def _label(name: str) -> str:
    return repr(name) if name else "the uploaded data"


def _read_bytes(data: bytes | Path, name: str, limits: ReadLimits | None, **options) -> pd.DataFrame:
    label = _label(name)
    kind, data, name, info = _unwrap(data, name, label, limits)
    if kind == "xlsx":
        frame = _excel_frame(data, label, info)
        if limits and len(frame) > limits.max_rows:
            raise limits.too_many_rows(label)
        return _finish_frame(frame, label, info, **options)
    if kind == "parquet":
        return _read_parquet(data, label, info, **options)
    return _read_csv(data, label, info, **options)


def _check_width(columns, label: str) -> None:
    if len(columns) > MAX_COLUMNS:
        raise DataError(f"{label} has {len(columns):,} columns; a transaction file has at most {MAX_COLUMNS:,}. "
                        f"Export only the needed columns")


def _header(data: bytes | Path, kind: str, label: str) -> list[str]:
    if kind == "xlsx":
        columns = _excel_frame(data, label, {}, nrows=0).columns
        _check_width(columns, label)
        return [str(c).strip() for c in columns]
    if kind == "parquet":
        columns = _parquet_columns(data, label)
        _check_width(columns, label)
        return [str(c).strip() for c in columns]
    return [h.strip() for h in _sniff(data, _text_encoding(data, label))[1]]


def _excel_frame(data: bytes, label: str, info: dict, nrows: int | None = None) -> pd.DataFrame:
    """Every sheet with the first sheet's header, stacked (Online Retail II keeps a year per sheet)."""
    try:
        with quietly():  # openpyxl warns about styles it does not know
            sheets = pd.read_excel(io.BytesIO(data), sheet_name=None, engine="openpyxl", nrows=nrows)
    except Exception as exc:
        raise DataError(f"{label} cannot be read as an Excel workbook: {exc}") from exc
    sheets = {k: v for k, v in sheets.items() if len(v.columns)}
    if not sheets:
        raise DataError(f"{label} is an Excel workbook with no data in any sheet")
    first = next(iter(sheets.values()))
    same = [k for k, v in sheets.items() if list(v.columns) == list(first.columns)]
    info.update(format="xlsx", sheets=same)
    return pd.concat([sheets[k] for k in same], ignore_index=True) if len(same) > 1 else first


def _parquet_frame(data: bytes | Path, label: str, info: dict) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(data if isinstance(data, Path) else io.BytesIO(data))
    except Exception as exc:
        raise DataError(f"{label} cannot be read as Parquet: {exc}") from exc
    info.update(format="parquet")
    return _flatten_index(frame)


def _parquet_columns(data: bytes | Path, label: str) -> pd.Index:
    """The columns ``_parquet_frame`` would give (a named index as a column), from the schema alone."""
    try:
        schema_arrow = _parquet_file(data).schema_arrow
    except Exception as exc:
        raise DataError(f"{label} cannot be read as Parquet: {exc}") from exc
    return _flatten_index(schema_arrow.empty_table().to_pandas()).columns


def _read_parquet(data: bytes | Path, label: str, info: dict, *, mapping, date_format,
                  dayfirst) -> pd.DataFrame:
    """Only the mapped columns: text dictionary-encoded (pandas categoricals: each distinct stock code,
    description, invoice number... held once, and every rule runs on the distinct values), numbers and
    timestamps a row group at a time into their arrays."""
    raw_columns = _parquet_columns(data, label)
    _check_width(raw_columns, label)
    header = [str(c).strip() for c in raw_columns]
    resolved = resolve_mapping(header, mapping)
    check_required(resolved, header, label)
    raw_name = dict(zip(header, map(str, raw_columns)))
    wanted = list(dict.fromkeys(raw_name[c] for c in resolved.values()))
    try:
        file_schema = _parquet_file(data).schema_arrow
        roles: dict[str, set[str]] = {}
        for canonical, source in resolved.items():
            roles.setdefault(raw_name[source], set()).add(canonical)
        text = [c for c in wanted if roles[c] <= _DICTIONARY_CANONICAL and c in file_schema.names
                and file_schema.field(c).type in (pa.string(), pa.large_string())]

        def column(name: str) -> pd.Series | pd.Categorical | np.ndarray:
            parquet = _parquet_file(data, read_dictionary=text)
            kind = file_schema.field(name).type if name in file_schema.names else pa.null()
            role = next(iter(roles[name])) if len(roles[name]) == 1 else None
            numeric = pa.types.is_integer(kind) or pa.types.is_floating(kind)
            if name in text or (role in _ID_CANONICAL and (numeric or pa.types.is_dictionary(kind))):
                return _parquet_categorical(parquet, name, name in text)
            if role in _NUMBER_CANONICAL and numeric:
                return _row_groups_into(parquet, name, np.float64, lambda chunk: chunk)
            if role == schema.INVOICE_DATE and pa.types.is_timestamp(kind):  # as UTC, as ``values`` has it
                return _row_groups_into(parquet, name, "datetime64[ns]",
                                        lambda chunk: chunk.cast(pa.timestamp("ns")))
            # other types through pandas, with its metadata (a named index, time zones, nullable ints)
            part = parquet.read(columns=[name], use_pandas_metadata=True)
            part = part.to_pandas(types_mapper=_ARROW_STRINGS.get)
            return _flatten_index(part)[name]

        # two columns at a time, each through its own reader (see ``analytics.parallel``)
        columns = in_threads({name: partial(column, name) for name in wanted})
        frame = pd.DataFrame({name.strip(): values for name, values in columns.items()}, copy=False)
    except Exception as exc:
        raise DataError(f"{label} cannot be read as Parquet: {exc}") from exc
    info.update(format="parquet")
    return canonical_frame(frame, resolved, date_format=date_format, dayfirst=dayfirst, label=label, info=info)


def _row_groups_into(parquet, name: str, dtype, convert) -> np.ndarray:
    """One column into a numpy array, a row group at a time: never the whole column in Arrow beside it."""
    out = np.empty(parquet.metadata.num_rows, dtype=dtype)
    at = 0
    for group in range(parquet.num_row_groups):
        for chunk in parquet.read_row_group(group, columns=[name]).column(0).chunks:
            out[at:at + len(chunk)] = convert(chunk).to_numpy(zero_copy_only=False)  # (nulls: NaN, NaT)
            at += len(chunk)
    return out


def _parquet_categorical(parquet, name: str, dictionary: bool) -> pd.Categorical:
    """A Parquet column as a categorical over its distinct values: text a row group at a time as the file's
    dictionaries, numbers dictionary-encoded whole (one dictionary); no value per row is ever materialised."""
    kind = parquet.schema_arrow.field(name).type
    if dictionary or pa.types.is_dictionary(kind):
        pieces = [chunk for group in range(parquet.num_row_groups)
                  for chunk in parquet.read_row_group(group, columns=[name]).column(0).chunks]
        return _dictionary_categorical(pieces, kind.value_type if pa.types.is_dictionary(kind) else kind)
    return _dictionary_categorical(pc.dictionary_encode(parquet.read(columns=[name]).column(0)).chunks, kind)


def _dictionary_categorical(pieces: list[pa.DictionaryArray], value_type: pa.DataType) -> pd.Categorical:
    """Dictionary-encoded pieces as one categorical. Pieces with dictionaries of their own (a Parquet row
    group's, a CSV block's) are unified by sorting, which also gives the identifiers the order
    ``analytics.values`` sorts them in: ``unify_dictionaries`` peaked at 150 MB more for the 1.2M invoice
    numbers of the 10M-line log, and ``to_pandas`` has pandas check again that they are distinct."""
    dictionaries = [piece.dictionary for piece in pieces]
    if all(dictionary.equals(dictionaries[0]) for dictionary in dictionaries[1:]):
        categories = dictionaries[0] if dictionaries else pa.array([], value_type)
        position, offsets = np.arange(len(categories), dtype=np.int32), [0] * len(pieces)
    else:
        position, categories = sorted_distinct(pa.concat_arrays(dictionaries))
        offsets = np.cumsum([0] + [len(dictionary) for dictionary in dictionaries[:-1]]).tolist()
    del dictionaries
    codes = np.empty(sum(map(len, pieces)), dtype=code_dtype(len(categories)))
    at = 0
    for offset in offsets:
        piece = pieces.pop(0)  # (each piece's indices freed once copied)
        mapping = np.append(position[offset:offset + len(piece.dictionary)], -1).astype(codes.dtype)
        codes[at:at + len(piece)] = mapping[pc.fill_null(piece.indices, -1).to_numpy()]
        at += len(piece)
    categories = pd.Index(categories.to_pandas(types_mapper=_ARROW_STRINGS.get))
    absent = np.flatnonzero(categories.isna())  # a float NaN is a value to Arrow, missing to pandas
    if len(absent):
        gone = codes == absent[0]  # (in place: no other array of codes per row)
        np.subtract(codes, codes > absent[0], out=codes, casting="unsafe")
        codes[gone] = -1
        categories = categories.delete(absent[0])
    return unique_categorical(codes, categories)


def _flatten_index(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame with a plain RangeIndex; a named index (e.g. written by ``to_parquet``) becomes columns."""
    if any(n is not None for n in frame.index.names):
        return frame.reset_index()
    return frame.reset_index(drop=True)


def _finish_frame(frame: pd.DataFrame, label: str, info: dict, *, mapping, date_format,
                  dayfirst) -> pd.DataFrame:
    _check_width(frame.columns, label)
    frame = frame.copy(deep=False)
    frame.columns = [str(c).strip() for c in frame.columns]
    resolved = resolve_mapping(frame.columns, mapping)
    return canonical_frame(frame, resolved, date_format=date_format, dayfirst=dayfirst, label=label,
                           info=info)


# ------------------------------------------------------------------------------------------------- text


def _text_encoding(data: bytes, label: str) -> str:
    """The first of UTF-8 (BOM or not), Windows-1252 and Latin-1 that decodes ``data`` as text."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    head = data[: 1 << 16]
    nul = head.find(b"\x00")
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    if nul >= 0 or controls > len(head) // 100:
        where = (f" (a NUL byte at offset {nul})" if nul >= 0
                 else f" ({controls} control bytes in the first {len(head)})")
        raise DataError(f"{label} does not look like a text table: it contains binary data{where}; "
                        f"expected {SUPPORTED_FORMATS}")
    try:
        data.decode("utf-8")
        return "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc
    try:
        data.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        pass
    high = len(data) - len(data.translate(None, bytes(range(0x80, 0x100))))
    c1 = len(data) - len(data.translate(None, bytes(range(0x80, 0xA0))))
    if c1 <= high // 20:  # a stray C1 byte is tolerable in Latin-1 text; many mean another encoding
        return "latin-1"
    bad = data[utf8_error.start: utf8_error.start + 1].hex()
    raise DataError(
        f"cannot read the text encoding of {label}: it is not UTF-8 (byte 0x{bad} at offset "
        f"{utf8_error.start} is invalid), and as Windows-1252/Latin-1 it has {c1} control characters. "
        f"Save the file as UTF-8 CSV and upload it again"
    )


def _sniff(data: bytes, encoding: str) -> tuple[str, list[str]]:
    """(delimiter, raw header names) from the first lines: the delimiter giving the steadiest columns."""
    sample = data[: 1 << 16].decode(encoding, errors="ignore")
    lines = [line for line in sample.splitlines() if line.strip()]
    if len(data) > 1 << 16 and len(lines) > 1:
        lines = lines[:-1]  # the sample may cut the last line
    lines = lines[:50]
    best: tuple[tuple, str, list[str]] | None = None
    for delimiter in _DELIMITERS:
        rows = list(csv.reader(lines, delimiter=delimiter))
        width = len(rows[0])
        consistent = sum(len(r) == width for r in rows[1:]) / max(len(rows) - 1, 1)
        score = (width > 1, consistent, width)
        if best is None or score > best[0]:
            best = (score, delimiter, rows[0])
    if len(best[2]) > MAX_COLUMNS:
        raise DataError(f"the file's header has more than {MAX_COLUMNS:,} columns ({len(best[2]):,} in its first "
                        f"{len(sample) // 1024} KB); a transaction file has a dozen. Check the delimiter or "
                        f"export only the needed columns")
    return best[1], best[2]


def _read_csv(data: bytes, label: str, info: dict, *, mapping, date_format, dayfirst) -> pd.DataFrame:
    encoding = _text_encoding(data, label)
    blank = b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"
    if not data[: 1 << 16].strip(blank) and not data.strip(blank):
        raise DataError(f"{label} contains no data (only blank lines)")
    delimiter, raw_header = _sniff(data, encoding)
    header = [h.strip() for h in raw_header]
    resolved = resolve_mapping(header, mapping)
    check_required(resolved, header, label)
    raw_name = dict(zip(header, raw_header))
    wanted = [raw_name[c] for c in resolved.values()]
    text = [raw_name[resolved[c]] for c in _TEXT_CANONICAL if c in resolved]
    frame = _read_csv_arrow(data, encoding, delimiter, wanted, text)
    if frame is None:
        frame = _read_csv_pandas(data, encoding, delimiter, wanted, text, label)
    frame.columns = [str(c).strip() for c in frame.columns]
    info.update(format="csv", encoding=encoding, delimiter=delimiter)
    return canonical_frame(frame, resolved, date_format=date_format, dayfirst=dayfirst, label=label,
                           info=info)


def _read_csv_arrow(data: bytes, encoding: str, delimiter: str, columns: list[str],
                    text: list[str]) -> pd.DataFrame | None:
    """Fast multi-threaded parse; None when pyarrow objects (odd rows, quoting, types changing mid-file)."""
    try:
        table = pa_csv.read_csv(
            pa.BufferReader(data),
            read_options=pa_csv.ReadOptions(encoding="utf8" if encoding.startswith("utf-8") else encoding),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter),
            convert_options=pa_csv.ConvertOptions(
                include_columns=columns,
                column_types=dict.fromkeys(text, pa.dictionary(pa.int32(), pa.string())),
                strings_can_be_null=True,
            ),
        )
    except (pa.ArrowException, ValueError, UnicodeDecodeError):
        return None
    strings = {pa.string(): pd.StringDtype(), pa.large_string(): pd.StringDtype()}
    columns = dict(zip(table.column_names, table.columns))
    del table
    # column by column, each freed in Arrow once in pandas; dictionaries as ``_dictionary_categorical``
    return pd.DataFrame({name: _dictionary_categorical(columns.pop(name).chunks, pa.string())
                         if name in text else columns.pop(name).to_pandas(types_mapper=strings.get)
                         for name in list(columns)}, copy=False)


def _read_csv_pandas(data: bytes, encoding: str, delimiter: str, columns: list[str], text: list[str],
                     label: str) -> pd.DataFrame:
    """pandas' C parser: more lenient than pyarrow, and its errors name the offending line."""
    try:
        # no usecols: with it pandas silently accepts rows with too many fields
        frame = pd.read_csv(io.BytesIO(data), sep=delimiter, encoding=encoding,
                            dtype=dict.fromkeys(text, str), low_memory=False)
        return frame[columns]
    except pd.errors.ParserError as exc:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if found:
            expected, line, saw = found.groups()
            raise DataError(f"{label}: line {line} has {saw} fields but the header has {expected} "
                            f"(delimiter {delimiter!r}); check quoting and delimiters on that line") from exc
        raise DataError(f"{label} cannot be parsed as CSV (delimiter {delimiter!r}): {exc}") from exc
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{label} contains no data") from exc
