import numpy as np
import pandas as pd
import pytest

from analytics import values


@pytest.mark.parametrize("private", [True, False])
def test_unique_categorical_is_from_codes_with_or_without_pandas_private_constructor(private, monkeypatch):
    if not private:
        monkeypatch.setattr(values, "_UNCHECKED_DTYPE", None)
    categories = pd.Index(["b", "a", "c"])
    codes = np.array([0, 2, -1, 1, 0], dtype=np.int8)
    made = values.unique_categorical(codes, categories)
    pd.testing.assert_extension_array_equal(made, pd.Categorical.from_codes(codes, categories=categories))
    with pytest.raises(ValueError):
        values.unique_categorical(np.array([3]), categories)  # codes are still checked
