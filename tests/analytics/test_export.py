"""Spreadsheet-safe CSV export."""

import io

import numpy as np
import pandas as pd
import pytest

from analytics.export import neutralise, to_safe_csv


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
        ("+1+1", "'+1+1"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("-12.5", "-12.5"),  # a plain number cannot be a formula
        ("+3e5", "+3e5"),
        ("Lost", "Lost"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_neutralise(text, expected):
    assert neutralise(text) == expected


def test_text_cells_are_neutralised_numbers_are_not():
    df = pd.DataFrame(
        {
            "name": pd.Series(["=1+1", "ok", None, "-x"], dtype="string"),
            "note": pd.Series(["@me", 5, None, "+y"], dtype=object),
            "monetary": [-12.5, 3.0, np.nan, -0.25],
            "frequency": [-1, 2, 3, 4],
            "segment": pd.Categorical(["-Lost", "Lost", "Lost", None]),
        }
    )
    text = to_safe_csv(df)
    text_columns = {"name": str, "note": str, "segment": str}
    back = pd.read_csv(io.StringIO(text), dtype=text_columns, keep_default_na=False)
    assert back["name"].tolist() == ["'=1+1", "ok", "", "'-x"]
    assert back["note"].tolist() == ["'@me", "5", "", "'+y"]
    assert back["segment"].tolist() == ["'-Lost", "Lost", "Lost", ""]
    raw = pd.read_csv(io.StringIO(text))
    assert raw["monetary"].dtype == "float64" and raw["monetary"].iloc[0] == -12.5
    assert raw["frequency"].tolist() == [-1, 2, 3, 4]
    assert df["name"].iloc[0] == "=1+1"  # the caller's frame is untouched


def test_a_categorical_is_written_as_its_texts_are():
    """The customer table holds its texts as categoricals, made safe category by category."""
    texts = pd.DataFrame({"v": pd.Series(["-Lost", "=1+1", None, "-12.5", "Lost", "-Lost"], dtype="string")})
    assert to_safe_csv(texts.astype("category")) == to_safe_csv(texts)
    assert to_safe_csv(texts.astype("category")).splitlines() == ["v", "'-Lost", "'=1+1", '""', "-12.5",
                                                                   "Lost", "'-Lost"]
    numbers = pd.DataFrame({"v": pd.Categorical([3, -1, None, 3])})
    assert to_safe_csv(numbers).splitlines() == ["v", "3", "-1", '""', "3"]


def test_named_index_is_written_and_headers_are_safe():
    df = pd.DataFrame({"=cmd": [1.0]}, index=pd.Index(["-1+1"], name="customer_id"))
    assert to_safe_csv(df).splitlines() == ["customer_id,'=cmd", "'-1+1,1.0"]
    plain = pd.DataFrame({"a": [1, 2]})
    assert to_safe_csv(plain).splitlines() == ["a", "1", "2"]
    assert to_safe_csv(df, index=False).splitlines() == ["'=cmd", "1.0"]


def test_writes_to_path_and_buffer(tmp_path):
    df = pd.DataFrame({"a": ["=x"], "b": [-1]})
    path = tmp_path / "out.csv"
    assert to_safe_csv(df, path) is None
    assert path.read_text(encoding="utf-8") == "a,b\n'=x,-1\n"
    buffer = io.StringIO()
    assert to_safe_csv(df, buffer) is None
    assert buffer.getvalue() == "a,b\n'=x,-1\n"


def test_duplicate_column_labels_survive():
    df = pd.DataFrame([["=a", "b"]], columns=["x", "x"])
    assert to_safe_csv(df).splitlines() == ["x,x", "'=a,b"]


def _pandas_csv(df: pd.DataFrame) -> str:
    """What pandas itself writes for ``df`` after the same neutralising (the slow path the fast one replaces)."""
    from analytics.export import _safe_column

    safe = pd.concat([_safe_column(df.iloc[:, i]) for i in range(df.shape[1])], axis=1)
    return safe.to_csv(index=False, lineterminator="\n")


def test_a_real_customers_table_reads_back_as_pandas_own_csv_of_it(synthetic_run):
    customers = synthetic_run.results.customers.reset_index()
    fast, slow = to_safe_csv(customers), _pandas_csv(customers)
    assert fast.splitlines()[0] == slow.splitlines()[0]
    as_text = {"customer_id": str}
    pd.testing.assert_frame_equal(pd.read_csv(io.StringIO(fast), dtype=as_text),
                                  pd.read_csv(io.StringIO(slow), dtype=as_text))
    # cell for cell the same text except the form of some floats (same number)
    floats = {i for i, dtype in enumerate(customers.dtypes) if pd.api.types.is_float_dtype(dtype)}
    for fast_row, slow_row in zip(fast.splitlines()[1:], slow.splitlines()[1:]):
        for i, (a, b) in enumerate(zip(fast_row.split(","), slow_row.split(","))):
            assert a == b or (i in floats and float(a) == float(b)), (customers.columns[i], a, b)


def test_floats_keep_a_point_or_exponent_and_text_is_quoted_only_where_needed():
    df = pd.DataFrame({
        "whole": [1.0, 0.0, -0.0, 1e10, 9999999999999998.0, np.inf, np.nan],
        "text": ["plain", "a,b", 'say "hi"', "two\nlines", None, "", "-3"],
        "flag": [True, False, True, False, True, False, True],
        "day": pd.to_datetime(["2011-01-0%d" % d for d in range(1, 8)]),
        "stamp": pd.to_datetime(["2011-01-01 10:00:00"] * 7),
        "count": pd.array([1, None, 3, 4, 5, 6, 7], dtype="Int64"),
    })
    text = to_safe_csv(df)
    rows = text.splitlines()
    assert rows[1] == "1.0,plain,True,2011-01-01,2011-01-01 10:00:00,1"
    assert rows[2] == '0.0,"a,b",False,2011-01-02,2011-01-01 10:00:00,'
    assert rows[3].startswith('-0.0,"say ""hi""",')
    back = pd.read_csv(io.StringIO(text), dtype={"text": str}, keep_default_na=False, na_values={"whole": [""]})
    assert back["whole"].dtype == "float64"
    np.testing.assert_array_equal(back["whole"].to_numpy(), df["whole"].to_numpy())
    assert back["text"].tolist() == ["plain", "a,b", 'say "hi"', "two\nlines", "", "", "-3"]
    assert back["flag"].tolist() == df["flag"].tolist()


def test_kinds_only_pandas_formats_are_written_as_pandas_writes_them():
    df = pd.DataFrame({
        "zoned": pd.to_datetime(["2011-01-01 10:00", "2011-01-02 00:00"]).tz_localize("UTC"),
        "fraction": pd.to_datetime(["2011-01-01 10:00:01.5", "2011-01-02"], format="ISO8601"),
        "span": pd.to_timedelta([1, 2], unit="D"),
    })
    for column in df.columns:
        assert to_safe_csv(df[[column]]) == _pandas_csv(df[[column]])


def test_an_empty_field_alone_on_its_row_is_quoted_as_pandas_does():
    df = pd.DataFrame({"a": ["x", "", None]})
    assert to_safe_csv(df) == _pandas_csv(df) == 'a\nx\n""\n""\n'
