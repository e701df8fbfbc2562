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
