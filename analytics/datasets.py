"""Embedded datasets that load on a fresh machine with no network, as canonical transaction frames.

- ``cdnow``: the full CDNOW master file shipped by ``lifetimes`` (23,570 customers, 69,659 purchases,
  1997-01-01 to 1998-06-30, US dollars).
- ``cdnow_sample``: its 1/10 sample (2,357 customers, 6,919 purchases) used by Fader, Hardie & Lee (2005).
- ``synthetic``: a generated UK-style gift retailer (see ``analytics.synthetic``), read through the same
  column-mapping and parsing path as an uploaded file. Its log holds a randomised campaign test with a
  known, heterogeneous effect; ``embedded_campaign`` gives its assignment file, send date and window.

``DEFAULT_DATASET`` is ``"synthetic"``: it is the only embedded dataset with countries, product descriptions
(so category shares), a Q4 peak, returns, missing customer IDs and duplicates, so every tab of the app and
every cleaning rule has something to show; and its customers come from known BG/NBD and Gamma-Gamma
parameters, so the CLV numbers on screen can be checked against the truth. CDNOW is real but carries only
customer, date, CD count and dollar value.

The CDNOW files are located through the ``lifetimes`` package's import spec, which finds its directory
without running it: ``lifetimes.datasets`` imports the removed ``pkg_resources``, and
``importlib.resources.files("lifetimes")`` imports ``lifetimes`` itself, i.e. its fitters, ``autograd`` and
``dill``, which no model of this project uses any more (see ``analytics.clv.bgnbd``).
"""

from __future__ import annotations

import importlib.util
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analytics.errors import DataError
from analytics.loading import to_canonical

if TYPE_CHECKING:
    from analytics.synthetic import SyntheticCampaign

_CDNOW_MASTER = "CDNOW_master.txt"
_CDNOW_SAMPLE = "CDNOW_sample.txt"


def _lifetimes_file(name: str) -> Path:
    """The path of a data file that the ``lifetimes`` package installs (the package is not imported)."""
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - lifetimes is a requirement
        raise DataError("the embedded dataset needs the 'lifetimes' package, which is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / name
    if not path.is_file():
        raise DataError(f"embedded data file {name} not found in the installed 'lifetimes' package")
    return path


def _read_cdnow(name: str, columns: list[str], header: int | None) -> pd.DataFrame:
    """A whitespace-separated CDNOW file, mapped like an uploaded amount-only log (one invoice per row)."""
    with _lifetimes_file(name).open("rb") as handle:
        raw = pd.read_csv(handle, sep=r"\s+", header=header, names=columns,
                          dtype={"date": str, "customer_id": np.int64})
    frame = to_canonical(raw[["customer_id", "date", "dollar_value"]])
    frame.attrs["loading"]["format"] = f"lifetimes/datasets/{name}"
    return frame


def _load_cdnow() -> pd.DataFrame:
    """Full CDNOW master file: customer id, date YYYYMMDD, number of CDs, dollar value."""
    return _read_cdnow(_CDNOW_MASTER, ["customer_id", "date", "cds", "dollar_value"], 0)


def _load_cdnow_sample() -> pd.DataFrame:
    """CDNOW 1/10 sample: id in the full set, id in the sample (used here), date, CDs, dollar value."""
    return _read_cdnow(_CDNOW_SAMPLE, ["master_id", "customer_id", "date", "cds", "dollar_value"], None)


def _load_synthetic(n_rows: int = 100_000, seed: int = 0) -> pd.DataFrame:
    """Synthetic retailer: ``generate_retail`` writes raw UCI columns, mapped like an uploaded file."""
    # imported here: the generator's catalogue costs 15 ms of imports to every run that reads a file
    from analytics.synthetic import DEFAULT_CAMPAIGN, generate_retail

    raw = generate_retail(n_rows, seed, campaign=DEFAULT_CAMPAIGN)
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
    try:
        inspect.signature(dataset.load).bind(**kw)
    except TypeError:
        raise DataError(f"dataset {name!r} does not take the option(s) {', '.join(sorted(kw))}") from None
    return dataset.load(**kw)


def embedded_campaign(name: str = DEFAULT_DATASET, n_rows: int = 100_000, seed: int = 0) -> SyntheticCampaign:
    """The campaign test inside an embedded dataset (only ``synthetic`` has one), with its truth."""
    if name != "synthetic":
        raise DataError(f"dataset {name!r} holds no campaign test; only 'synthetic' does")
    from analytics.synthetic import DEFAULT_CAMPAIGN, simulate_retail

    return simulate_retail(n_rows, seed, campaign=DEFAULT_CAMPAIGN).campaign
