"""analytics.loading: every reader path, value layout, alias set and bad-input message."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics import schema
from analytics.errors import DataError
from analytics.loading import detect_mapping, read_transactions, source_columns, to_canonical

UCI_HEADER = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID",
              "Country"]
UK = "United Kingdom"
UCI_ROWS = [
    ["536365", "85123A", "WHITE HEART T-LIGHT HOLDER", "6", "2010-12-01 08:26:00", "2.55", "17850.0", UK],
    ["536365", "71053", "WHITE METAL LANTERN", "6", "2010-12-01 08:26:00", "3.39", "17850.0", UK],
    ["536366", "22633", "HAND WARMER UNION JACK", "6", "2010-12-01 08:28:00", "1.85", "", UK],
    ["C536379", "D", "Discount", "-1", "2010-12-13 09:41:00", "27.50", "14527.0", "Côte d'Ivoire"],
]


def _csv(header=UCI_HEADER, rows=UCI_ROWS, sep=",", newline="\n") -> str:
    def cell(v: str) -> str:
        return f'"{v}"' if sep in v or '"' in v else v

    return newline.join(sep.join(cell(v) for v in line) for line in [header, *rows]) + newline


def _write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def _assert_uci_sample(frame: pd.DataFrame) -> None:
    """The four UCI_ROWS, correctly typed, whatever the container."""
    assert list(frame.columns) == list(schema.CANONICAL_COLUMNS)
    for ids in (schema.CUSTOMER_ID, schema.INVOICE_ID):  # categoricals over their distinct strings
        assert frame[ids].cat.categories.dtype == "string"
    assert frame[schema.INVOICE_DATE].dtype == "datetime64[ns]"
    assert frame[schema.QUANTITY].dtype == "float64"
    assert frame[schema.UNIT_PRICE].dtype == "float64"
    assert frame[schema.CUSTOMER_ID].tolist()[:2] == ["17850", "17850"]
    assert frame[schema.CUSTOMER_ID].isna().tolist() == [False, False, True, False]
    assert frame[schema.INVOICE_ID].tolist() == ["536365", "536365", "536366", "C536379"]
    assert frame[schema.INVOICE_DATE].iloc[3] == pd.Timestamp("2010-12-13 09:41")
    assert frame[schema.QUANTITY].tolist() == [6, 6, 6, -1]
    assert frame[schema.UNIT_PRICE].tolist() == pytest.approx([2.55, 3.39, 1.85, 27.5])
    assert frame[schema.COUNTRY].iloc[3] == "Côte d'Ivoire"
    assert frame[schema.STOCK_CODE].iloc[0] == "85123A"


# ------------------------------------------------------------------------------------------ containers


@pytest.mark.parametrize(
    "sep,name", [(",", "t.csv"), (";", "t.csv"), ("\t", "t.tsv"), ("\t", "t.txt"), ("|", "t.csv")]
)
def test_delimiters_are_sniffed(tmp_path, sep, name):
    frame = read_transactions(_write(tmp_path, name, _csv(sep=sep)))
    _assert_uci_sample(frame)
    assert frame.attrs["loading"]["delimiter"] == sep


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16"])
def test_encodings(tmp_path, encoding):
    frame = read_transactions(_write(tmp_path, "t.csv", _csv().encode(encoding)))
    _assert_uci_sample(frame)  # the ô of Côte d'Ivoire survives every encoding
    assert frame.attrs["loading"]["encoding"] in {encoding, "cp1252"}  # Latin-1 text is valid Windows-1252


def test_windows_1252_euro_sign_and_bom_header(tmp_path):
    text = "\ufeffCustomerID;InvoiceNo;InvoiceDate;Quantity;UnitPrice\n1;A;2011-01-02;2;3,50 €\n"
    utf8 = read_transactions(_write(tmp_path, "bom.csv", text.encode("utf-8")))
    cp = read_transactions(_write(tmp_path, "cp.csv", text[1:].encode("cp1252")))
    for frame in (utf8, cp):
        assert frame[schema.UNIT_PRICE].tolist() == [3.5]
        assert frame[schema.CUSTOMER_ID].tolist() == ["1"]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_endings(tmp_path, newline):
    _assert_uci_sample(read_transactions(_write(tmp_path, "t.csv", _csv(newline=newline))))


def _zip(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


COMPRESSORS = {
    ".gz": gzip.compress,
    ".xz": lzma.compress,
    ".bz2": bz2.compress,
    ".zip": lambda data: _zip("inner/export.csv", data),
}


@pytest.mark.parametrize("suffix", list(COMPRESSORS))
def test_compressed_by_extension_and_by_magic_bytes(tmp_path, suffix):
    packed = COMPRESSORS[suffix](_csv(sep=";").encode("utf-8"))
    by_name = read_transactions(_write(tmp_path, f"export.csv{suffix}", packed))
    _assert_uci_sample(by_name)
    assert by_name.attrs["loading"]["compression"] in {"gzip", "xz", "bz2", "zip"}
    _assert_uci_sample(read_transactions(packed))  # bytes with no name: magic bytes decide
    _assert_uci_sample(read_transactions(packed, filename="upload.bin.csv"))


def test_bytes_and_file_like_sources(tmp_path):
    data = _csv().encode("utf-8")
    _assert_uci_sample(read_transactions(data, filename="x.csv"))
    _assert_uci_sample(read_transactions(io.BytesIO(data)))
    _assert_uci_sample(read_transactions(io.StringIO(_csv())))
    with open(_write(tmp_path, "t.csv", data), "rb") as handle:
        _assert_uci_sample(read_transactions(handle))
    _assert_uci_sample(read_transactions(str(tmp_path / "t.csv")))


def _typed_sample() -> pd.DataFrame:
    raw = pd.DataFrame(UCI_ROWS, columns=UCI_HEADER)
    raw["Quantity"] = raw["Quantity"].astype(int)
    raw["UnitPrice"] = raw["UnitPrice"].astype(float)
    raw["InvoiceDate"] = pd.to_datetime(raw["InvoiceDate"])
    raw["CustomerID"] = pd.to_numeric(raw["CustomerID"])  # float with NaN, as pandas reads the UCI file
    return raw


def test_xlsx_with_typed_cells_and_several_sheets(tmp_path):
    path = tmp_path / "retail.xlsx"
    raw = _typed_sample()
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        raw.iloc[:2].to_excel(writer, sheet_name="Year 2009-2010", index=False)
        raw.iloc[2:].to_excel(writer, sheet_name="Year 2010-2011", index=False)
        pd.DataFrame({"note": ["read me"]}).to_excel(writer, sheet_name="About", index=False)
    frame = read_transactions(path)
    _assert_uci_sample(frame)
    assert frame.attrs["loading"]["format"] == "xlsx"
    assert frame.attrs["loading"]["sheets"] == ["Year 2009-2010", "Year 2010-2011"]
    _assert_uci_sample(read_transactions(path.read_bytes()))  # an xlsx is a zip: told apart by its content
    assert source_columns(path) == UCI_HEADER


def test_xlsx_with_dates_typed_as_text(tmp_path):
    raw = pd.DataFrame(UCI_ROWS, columns=UCI_HEADER)
    raw["InvoiceDate"] = ["12/1/2010 8:26", "12/1/2010 8:26", "12/1/2010 8:28", "12/13/2010 9:41"]
    raw.to_excel(tmp_path / "t.xlsx", index=False)
    _assert_uci_sample(read_transactions(tmp_path / "t.xlsx"))


def test_parquet(tmp_path):
    path = tmp_path / "retail.parquet"
    _typed_sample().to_parquet(path)
    frame = read_transactions(path)
    _assert_uci_sample(frame)
    assert frame.attrs["loading"]["format"] == "parquet"
    _assert_uci_sample(read_transactions(path.read_bytes()))
    indexed = tmp_path / "indexed.parquet"
    _typed_sample().set_index("CustomerID").to_parquet(indexed)  # a named index is a column too
    assert read_transactions(indexed)[schema.CUSTOMER_ID].tolist()[:2] == ["17850", "17850"]


def test_dataframe_source_and_to_canonical():
    _assert_uci_sample(read_transactions(_typed_sample()))
    _assert_uci_sample(to_canonical(pd.DataFrame(UCI_ROWS, columns=UCI_HEADER)))


# ----------------------------------------------------------------------------------------- column names


def test_online_retail_ii_spelling(tmp_path):
    header = ["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price", "Customer ID",
              "Country"]
    frame = read_transactions(_write(tmp_path, "ii.csv", _csv(header=header)))
    _assert_uci_sample(frame)
    assert frame.attrs["loading"]["mapping"][schema.CUSTOMER_ID] == "Customer ID"


def test_snake_case_and_loose_spellings(tmp_path):
    header = ["invoice_id", "stock_code", "description", "quantity", "invoice_date", "unit_price",
              "customer_id", "country"]
    _assert_uci_sample(read_transactions(_write(tmp_path, "a.csv", _csv(header=header))))
    loose = ["INVOICE NO", "Stock-Code", "description", " qty", "Invoice_Date", "unitPrice", "customer id ",
             "COUNTRY"]
    _assert_uci_sample(read_transactions(_write(tmp_path, "b.csv", _csv(header=loose))))


def test_detect_mapping_prefers_specific_names_and_uses_each_column_once():
    mapping = detect_mapping(["Date", "InvoiceDate", "Customer", "Order ID", "Sales", "Product"])
    assert mapping[schema.INVOICE_DATE] == "InvoiceDate"
    assert mapping[schema.CUSTOMER_ID] == "Customer"
    assert mapping[schema.INVOICE_ID] == "Order ID"
    assert mapping[schema.AMOUNT] == "Sales"
    assert mapping[schema.DESCRIPTION] == "Product"
    assert len(set(mapping.values())) == len(mapping)


@pytest.mark.parametrize("amount_name", ["amount", "dollar_value", "Sales", "Revenue", "Total"])
def test_amount_only_log(tmp_path, amount_name):
    text = f"customer_id,date,{amount_name}\n7,1997-01-01,11.77\n7,1997-01-12,-12.00\n8,1997-01-12,0\n"
    frame = read_transactions(_write(tmp_path, "cd.csv", text))
    assert frame[schema.QUANTITY].tolist() == [1.0, -1.0, 1.0]
    assert frame[schema.UNIT_PRICE].tolist() == [11.77, 12.0, 0.0]
    assert (frame[schema.QUANTITY] * frame[schema.UNIT_PRICE]).tolist() == [11.77, -12.0, 0.0]
    assert frame.attrs["loading"]["amount_only"]
    assert schema.STOCK_CODE not in frame.columns


def test_mapping_override(tmp_path):
    text = "Kunde,Ref,When,Units,Each,Country\nA1,9,2011-03-04,2,1.5,France\n"
    path = _write(tmp_path, "odd.csv", text)
    with pytest.raises(DataError) as missing:
        read_transactions(path)
    message = str(missing.value)
    assert "customer_id" in message and "'Kunde'" in message and "'Each'" in message  # names and lists
    explicit = {"customer_id": "Kunde", "invoice_id": "Ref", "invoice_date": "When", "quantity": "Units",
                "unit_price": "Each"}
    frame = read_transactions(path, mapping=explicit)
    assert frame[schema.CUSTOMER_ID].tolist() == ["A1"]
    assert frame[schema.INVOICE_ID].tolist() == ["9"]
    assert frame[schema.COUNTRY].tolist() == ["France"]  # still detected by alias
    dropped = read_transactions(path, mapping={**explicit, "country": None})
    assert schema.COUNTRY not in dropped.columns


def test_mapping_override_wins_over_alias(tmp_path):
    text = "CustomerID,InvoiceNo,InvoiceDate,ShipDate,Quantity,UnitPrice\n1,A,2011-01-01,2011-02-01,1,2\n"
    frame = read_transactions(_write(tmp_path, "t.csv", text), mapping={"invoice_date": "ShipDate"})
    assert frame[schema.INVOICE_DATE].tolist() == [pd.Timestamp("2011-02-01")]


def test_mapping_errors_name_the_column_and_list_found(tmp_path):
    path = _write(tmp_path, "t.csv", _csv())
    with pytest.raises(DataError, match=r"customer_id='Kunde'.*columns found: .*'InvoiceNo'.*'Country'"):
        read_transactions(path, mapping={"customer_id": "Kunde"})
    with pytest.raises(DataError, match=r"unknown target column.*'shoe_size'"):
        read_transactions(path, mapping={"shoe_size": "Quantity"})


def test_source_columns_reads_only_the_header(tmp_path):
    assert source_columns(_write(tmp_path, "t.csv.gz", gzip.compress(_csv(sep=";").encode()))) == UCI_HEADER


# ------------------------------------------------------------------------------------- dates and numbers


def _dated(dates: list[str], sep: str = ",") -> str:
    rows = [sep.join(["1", f"I{i}", d, "1", "2"]) for i, d in enumerate(dates)]
    header = sep.join(["CustomerID", "InvoiceNo", "InvoiceDate", "Quantity", "UnitPrice"])
    return "\n".join([header, *rows]) + "\n"


def test_us_spreadsheet_dates_are_month_first_when_a_day_exceeds_12(tmp_path):
    dates = ["12/1/2010 8:26", "12/13/2010 17:05", "1/2/2011 0:00"]
    frame = read_transactions(_write(tmp_path, "t.csv", _dated(dates)))
    assert frame[schema.INVOICE_DATE].tolist() == [
        pd.Timestamp("2010-12-01 08:26"), pd.Timestamp("2010-12-13 17:05"), pd.Timestamp("2011-01-02")]


def test_dotted_european_dates_are_day_first_when_a_day_exceeds_12(tmp_path):
    dates = ["01.12.2010", "13.12.2010", "02.01.2011 14:30"]
    frame = read_transactions(_write(tmp_path, "t.csv", _dated(dates, ";")))
    assert frame[schema.INVOICE_DATE].tolist() == [
        pd.Timestamp("2010-12-01"), pd.Timestamp("2010-12-13"), pd.Timestamp("2011-01-02 14:30")]


def test_ambiguous_dates_are_refused_with_the_remedy(tmp_path):
    path = _write(tmp_path, "t.csv", _dated(["01/02/2011", "03/04/2011", "05/06/2011"]))
    with pytest.raises(DataError) as error:
        read_transactions(path)
    message = str(error.value)
    assert "ambiguous" in message and "'01/02/2011'" in message
    assert "dayfirst" in message and "date_format" in message
    assert read_transactions(path, dayfirst=True)[schema.INVOICE_DATE].iloc[0] == pd.Timestamp("2011-02-01")
    assert read_transactions(path, dayfirst=False)[schema.INVOICE_DATE].iloc[0] == pd.Timestamp("2011-01-02")
    formatted = read_transactions(path, date_format="%d/%m/%Y")
    assert formatted[schema.INVOICE_DATE].iloc[1] == pd.Timestamp("2011-04-03")


def test_mixed_day_and_month_first_is_an_error(tmp_path):
    with pytest.raises(DataError, match="mixes day-first and month-first"):
        read_transactions(_write(tmp_path, "t.csv", _dated(["13/01/2011", "01/13/2011"])))


def test_iso_variants_and_month_names(tmp_path):
    frame = read_transactions(_write(tmp_path, "t.csv", _dated(
        ["2011-01-02", "2011-01-02T10:11:12", "2011-01-02 10:11", "2011-01-02 10:11:12.5"])))
    assert frame[schema.INVOICE_DATE].dt.floor("D").nunique() == 1
    assert frame[schema.INVOICE_DATE].iloc[1] == pd.Timestamp("2011-01-02 10:11:12")
    named = read_transactions(_write(tmp_path, "n.csv", _dated(["1 Dec 2010", "2 Dec 2010"])))
    assert named[schema.INVOICE_DATE].tolist() == [pd.Timestamp("2010-12-01"), pd.Timestamp("2010-12-02")]
    compact = read_transactions(_write(tmp_path, "c.csv", _dated(["19970101", "19980630"])))
    assert compact[schema.INVOICE_DATE].tolist() == [pd.Timestamp("1997-01-01"), pd.Timestamp("1998-06-30")]


def test_decimal_commas_thousands_and_currency(tmp_path):
    text = (
        "CustomerID;InvoiceNo;InvoiceDate;Quantity;UnitPrice\n"
        "1;A;01.12.2010;12;2,55\n"
        "1;B;13.12.2010;3;1.234,50 €\n"
        "2;C;14.12.2010;-2;£0,85\n"
    )
    frame = read_transactions(_write(tmp_path, "de.csv", text))
    assert frame[schema.UNIT_PRICE].tolist() == [2.55, 1234.5, 0.85]
    assert frame[schema.QUANTITY].tolist() == [12.0, 3.0, -2.0]


def test_english_thousands_and_accounting_negatives(tmp_path):
    text = ('CustomerID,InvoiceNo,InvoiceDate,Quantity,UnitPrice\n'
            '1,A,2011-01-01,"1,200",$2.55\n1,B,2011-01-02,(3),"$1,234.50"\n')
    frame = read_transactions(_write(tmp_path, "us.csv", text))
    assert frame[schema.QUANTITY].tolist() == [1200.0, -3.0]
    assert frame[schema.UNIT_PRICE].tolist() == [2.55, 1234.5]


# ---------------------------------------------------------------------------------------------- errors


def test_empty_file(tmp_path):
    with pytest.raises(DataError, match=r"empty \(0 bytes\)"):
        read_transactions(_write(tmp_path, "empty.csv", b""))
    with pytest.raises(DataError, match="empty"):
        read_transactions(b"", filename="upload.csv")
    with pytest.raises(DataError, match="no data"):
        read_transactions(_write(tmp_path, "blank.csv", "\n\n  \n"))
    with pytest.raises(DataError, match="empty file"):
        read_transactions(_write(tmp_path, "e.csv.gz", gzip.compress(b"")))


def test_header_only(tmp_path):
    with pytest.raises(DataError, match="header but no data rows"):
        read_transactions(_write(tmp_path, "h.csv", ",".join(UCI_HEADER) + "\r\n"))
    pd.DataFrame(columns=UCI_HEADER).to_excel(tmp_path / "h.xlsx", index=False)
    with pytest.raises(DataError, match="header but no data rows"):
        read_transactions(tmp_path / "h.xlsx")


def test_missing_columns_are_named_with_the_columns_found(tmp_path):
    header = ["InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "Country"]
    rows = [["1", "A", "1", "2011-01-01", "UK"]]
    with pytest.raises(DataError) as error:
        read_transactions(_write(tmp_path, "t.csv", _csv(header=header, rows=rows)))
    message = str(error.value)
    assert "customer_id" in message and "unit_price" in message
    assert "invoice_date" not in message.split("Columns found")[0]
    assert "'StockCode'" in message and "'Country'" in message


def test_unparseable_dates_list_first_rows_and_values(tmp_path):
    dates = ["2011-01-01", "2011-01-02", "yesterday", "2011-01-04", "31/31/2011"]
    with pytest.raises(DataError) as error:
        read_transactions(_write(tmp_path, "t.csv", _dated(dates)))
    message = str(error.value)
    assert "2 row(s) are not dates" in message
    assert "row 4: 'yesterday'" in message and "row 6: '31/31/2011'" in message  # header = row 1
    assert "InvoiceDate" in message


def test_missing_dates_are_reported(tmp_path):
    with pytest.raises(DataError, match=r"'InvoiceDate' \(invoice_date\) is empty in 1 row.*rows 3"):
        read_transactions(_write(tmp_path, "t.csv", _dated(["2011-01-01", ""])))


def test_text_in_numeric_columns(tmp_path):
    text = ("CustomerID,InvoiceNo,InvoiceDate,Quantity,UnitPrice\n1,A,2011-01-01,2,1.5\n"
            "1,B,2011-01-02,two,1.5\n1,C,2011-01-03,3,n/a?\n1,D,2011-01-03,lots,2\n")
    with pytest.raises(DataError) as error:
        read_transactions(_write(tmp_path, "t.csv", text))
    message = str(error.value)
    assert "'Quantity' (quantity)" in message and "2 row(s)" in message
    assert "row 3: 'two'" in message and "row 5: 'lots'" in message


def test_text_in_numeric_column_far_down_a_large_file_is_dropped_and_reported(tmp_path):
    """One bad value in 200,000 rows: the row is dropped by cleaning and reported with its row number."""
    from analytics.cleaning import clean

    rows = [f"1,I{i},2011-01-01,1,2.5" for i in range(200_000)]
    rows[150_000] = "1,X,2011-01-01,1,ERR"
    text = "CustomerID,InvoiceNo,InvoiceDate,Quantity,UnitPrice\n" + "\n".join(rows) + "\n"
    frame = read_transactions(_write(tmp_path, "big.csv", text))
    assert len(frame) == 200_000 and np.isnan(frame["unit_price"].iloc[150_000])
    report = clean(frame).report
    taken = report.rules.set_index("rule").loc["unreadable_number", "rows_removed"]
    assert taken == 1 and report.example_rows["unreadable_number"] == [150_002]


def test_a_few_nan_and_inf_prices_are_dropped_and_counted(tmp_path):
    """The issue's case: 30 NaN/inf prices among 111,676 rows no longer refuse the file."""
    from analytics.cleaning import clean

    n = 111_676
    frame = pd.DataFrame({"CustomerID": np.arange(n) % 500 + 1, "InvoiceNo": [f"I{i}" for i in range(n)],
                          "InvoiceDate": pd.Timestamp("2011-01-01") + pd.to_timedelta(np.arange(n) % 300, "D"),
                          "Quantity": 2, "UnitPrice": 1.5})
    bad = np.arange(30) * 3_000 + 7
    frame.loc[bad[:20], "UnitPrice"] = np.nan
    frame.loc[bad[20:], "UnitPrice"] = np.inf
    frame.to_parquet(tmp_path / "few_bad.parquet")
    report = clean(read_transactions(tmp_path / "few_bad.parquet")).report
    rules = report.rules.set_index("rule")
    assert rules.loc["unreadable_number", "rows_removed"] == 30
    assert report.example_rows["unreadable_number"] == (bad[:5] + 2).tolist()
    assert report.rows_out == n - 30


def test_a_column_mostly_bad_is_refused_with_the_threshold_named(tmp_path):
    frame = pd.DataFrame({"CustomerID": [1] * 10, "InvoiceNo": list("ABCDEFGHIJ"),
                          "InvoiceDate": pd.Timestamp("2011-01-01"), "Quantity": 1,
                          "UnitPrice": [1.0] * 8 + [np.nan, np.inf]})
    frame.to_parquet(tmp_path / "bad.parquet")
    with pytest.raises(DataError, match=r"'UnitPrice' \(unit_price\) is empty or not a finite number in 2 "
                                        r"row\(s\) \(rows 10, 11.*at most 10%"):
        read_transactions(tmp_path / "bad.parquet")


def test_binary_file_named_csv(tmp_path):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
    with pytest.raises(DataError, match="binary data"):
        read_transactions(_write(tmp_path, "photo.csv", png))
    with pytest.raises(DataError, match="binary data"):
        read_transactions(np.random.default_rng(0).bytes(4096), filename="noise.csv")


def test_unreadable_encoding(tmp_path):
    row = ["1", "A", "Пример описания товара", "1", "2011-01-01", "2", "1", "Россия"]
    text = _csv(rows=[row] * 20)
    with pytest.raises(DataError, match=r"cannot read the text encoding.*not UTF-8.*save the file as UTF-8|"
                                        r"cannot read the text encoding.*Save the file as UTF-8"):
        read_transactions(_write(tmp_path, "ru.csv", text.encode("cp866")))


@pytest.mark.parametrize("name", ["data.json", "report.pdf", "sheet.ods", "old.xls"])
def test_unsupported_extensions(tmp_path, name):
    with pytest.raises(DataError, match="unsupported file type|old Excel"):
        read_transactions(_write(tmp_path, name, _csv()))


def test_misnamed_containers(tmp_path):
    with pytest.raises(DataError, match=r"named \.gz but is not gzip"):
        read_transactions(_write(tmp_path, "t.csv.gz", _csv()))
    with pytest.raises(DataError, match="not an Excel workbook"):
        read_transactions(_write(tmp_path, "t.xlsx", _csv()))
    with pytest.raises(DataError, match="not a Parquet file"):
        read_transactions(_write(tmp_path, "t.parquet", _csv()))
    with pytest.raises(DataError, match="cannot be decompressed"):
        read_transactions(_write(tmp_path, "t.csv.gz", gzip.compress(_csv().encode())[:40]))


def test_zip_with_several_files(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.csv", _csv())
        archive.writestr("b.csv", _csv())
    with pytest.raises(DataError, match=r"holding 2 files \(a.csv, b.csv\)"):
        read_transactions(_write(tmp_path, "two.zip", buffer.getvalue()))


def test_ragged_rows_name_the_line(tmp_path):
    text = _csv() + "536999,X,too,many,fields,here,1,2,3,4\n"
    with pytest.raises(DataError, match=r"line 6 has 10 fields but the header has 8"):
        read_transactions(_write(tmp_path, "t.csv", text))


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_transactions(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="is a folder"):
        read_transactions(tmp_path)


def test_single_customer_loads_fine(tmp_path):
    rows = [[f"5{i}", "A", "MUG", "1", f"2011-0{i + 1}-01", "3.5", "42", "UK"] for i in range(3)]
    frame = read_transactions(_write(tmp_path, "one.csv", _csv(rows=rows)))
    assert frame[schema.CUSTOMER_ID].unique().tolist() == ["42"]
    assert len(frame) == 3


def test_no_pandas_error_escapes(tmp_path):
    # odd inputs each end in a DataError, never a bare pandas or pyarrow exception
    odd = ['"unterminated,quote\n1,2', "a,b\n1", ",,,\n,,,\n", "CustomerID\n1\n"]
    for i, text in enumerate(odd):
        with pytest.raises(DataError):
            read_transactions(_write(tmp_path, f"odd{i}.csv", text))


# --------------------------------------------------------------------------------------------- real file


@pytest.mark.slow
def test_online_retail_published_counts(online_retail_path):
    frame = read_transactions(online_retail_path)
    assert len(frame) == 541_909
    assert int(frame[schema.CUSTOMER_ID].isna().sum()) == 135_080
    assert int(frame[schema.DESCRIPTION].isna().sum()) == 1_454
    assert int(frame[schema.INVOICE_ID].str.startswith("C").sum()) == 9_288
    assert frame[schema.QUANTITY].sum() == 5_176_450
    assert round(float((frame[schema.QUANTITY] * frame[schema.UNIT_PRICE]).sum()), 2) == 9_747_747.93
    assert frame[schema.CUSTOMER_ID].nunique() == 4_372
    assert frame[schema.INVOICE_DATE].min() == pd.Timestamp("2010-12-01 08:26")
    assert frame[schema.INVOICE_DATE].max() == pd.Timestamp("2011-12-09 12:50")
    assert int(frame.duplicated().sum()) == 5_268
