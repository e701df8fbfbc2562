"""Embedded datasets that load on a fresh machine with no network, as canonical transaction frames.

- ``cdnow``: the full CDNOW master file shipped by ``lifetimes`` (23,570 customers, 69,659 purchases,
  1997-01-01 to 1998-06-30, US dollars).
- ``cdnow_sample``: its 1/10 sample (2,357 customers, 6,919 purchases), the file of Fader, Hardie & Lee (2005).
- ``synthetic``: a generated UK-style gift retailer (see ``analytics.synthetic``), read through the same
  column-mapping and parsing path as an uploaded file.

``DEFAULT_DATASET`` is ``"synthetic"``: it is the only embedded dataset with countries, product descriptions
(so category shares), a Q4 peak, returns, missing customer IDs and duplicates, so every tab of the app and
every cleaning rule has something to show; and its customers come from known BG/NBD and Gamma-Gamma
parameters, so the CLV numbers on screen can be checked against the truth. CDNOW is real but carries only
customer, date, CD count and dollar value.

The CDNOW files are located with ``importlib.resources`` rather than ``lifetimes.datasets``, which imports
the removed ``pkg_resources``.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics import schema
from analytics.errors import DataError

_CDNOW_MASTER = "CDNOW_master.txt"
_CDNOW_SAMPLE = "CDNOW_sample.txt"


def _lifetimes_file(name: str):
    """A traversable for a data file that the ``lifetimes`` package installs."""
    try:
        path = importlib.resources.files("lifetimes") / "datasets" / name
    except ModuleNotFoundError as exc:  # pragma: no cover - lifetimes is a hard requirement
        raise DataError(f"the embedded dataset needs the 'lifetimes' package, which is not installed") from exc
    if not path.is_file():
        raise DataError(f"embedded data file {name} not found in the installed 'lifetimes' package")
    return path


def _cdnow_frame(customer: pd.Series, date: pd.Series, amount: pd.Series) -> pd.DataFrame:
    """Canonical frame for an amount-only log: one invoice per row, quantity = sign, unit_price = |amount|."""
    customer = customer.astype(np.int64).astype(str)
    occurrence = customer.groupby([customer, date]).cumcount().astype(str)
    amount = amount.astype(np.float64)
    frame = pd.DataFrame(
        {
            schema.CUSTOMER_ID: customer.astype("string"),
            # invoice ids must be unique per row: a customer can buy more than once on the same day
            schema.INVOICE_ID: (customer + "-" + date + "-" + occurrence).astype("string"),
            schema.INVOICE_DATE: pd.to_datetime(date, format="%Y%m%d").astype("datetime64[ns]"),
            schema.QUANTITY: np.where(amount < 0, -1.0, 1.0),
            schema.UNIT_PRICE: amount.abs().to_numpy(),
        }
    )
    return frame.reset_index(drop=True)


def _load_cdnow() -> pd.DataFrame:
    """Full CDNOW master file: columns customer id, date YYYYMMDD, number of CDs, dollar value."""
    with _lifetimes_file(_CDNOW_MASTER).open("rb") as handle:
        raw = pd.read_csv(handle, sep=r"\s+", dtype=str, header=0,
                          names=["customer", "date", "cds", "dollars"])
    return _cdnow_frame(raw["customer"], raw["date"], raw["dollars"])


def _load_cdnow_sample() -> pd.DataFrame:
    """CDNOW 1/10 sample: columns id in the full set, id in the sample (used here), date, CDs, dollar value."""
    with _lifetimes_file(_CDNOW_SAMPLE).open("rb") as handle:
        raw = pd.read_csv(handle, sep=r"\s+", dtype=str, header=None,
                          names=["master_id", "customer", "date", "cds", "dollars"])
    return _cdnow_frame(raw["customer"], raw["date"], raw["dollars"])


def _load_synthetic(**kw) -> pd.DataFrame:
    """Synthetic retailer, written by ``generate_retail`` in raw UCI columns and read like an uploaded file."""
    from analytics.loading import to_canonical
    from analytics.synthetic import generate_retail

    raw = generate_retail(**kw)
    frame = to_canonical(raw)
    frame.attrs.update(raw.attrs)
    return frame


@dataclass(frozen=True)
class Dataset:
    """One embedded dataset: a loader returning the canonical frame and a sentence for people."""

    name: str
    description: str
    load: Callable[..., pd.DataFrame]


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset(
            "synthetic",
            "Synthetic UK gift retailer (about 100k invoice lines, 2010-12 to 2011-12): countries, product "
            "categories, a Q4 peak, returns, missing IDs and duplicates; customers drawn from known BG/NBD "
            "and Gamma-Gamma parameters.",
            _load_synthetic,
        ),
        Dataset(
            "cdnow",
            "CDNOW (real): 23,570 customers of an online CD store, 69,659 purchases, 1997-01 to 1998-06; "
            "amount only (US dollars), no products or countries.",
            _load_cdnow,
        ),
        Dataset(
            "cdnow_sample",
            "CDNOW 1/10 sample (real): 2,357 customers, 6,919 purchases - the sample of Fader, Hardie & Lee "
            "(2005) used to validate BG/NBD and Gamma-Gamma.",
            _load_cdnow_sample,
        ),
    )
}

DEFAULT_DATASET = "synthetic"


def load_dataset(name: str = DEFAULT_DATASET, **kw) -> pd.DataFrame:
    """Canonical transactions of an embedded dataset; ``kw`` go to its loader (e.g. ``n_rows``, ``seed``)."""
    try:
        dataset = DATASETS[name]
    except KeyError:
        raise DataError(f"unknown dataset {name!r}; available: {', '.join(DATASETS)}") from None
    return dataset.load(**kw)
