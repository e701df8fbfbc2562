"""What a pipeline run produces: plain tables and each model's typed record, pickled into the cache."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analytics.churn.models import ChurnRecord
from analytics.clustering import ClusteringRecord
from analytics.clv.record import ClvRecord
from analytics.errors import ModelFailure
from analytics.journeys import JourneyHistory
from analytics.params import AnalysisParams
from analytics.trends import WindowRetention

__all__ = ["ModelFailure", "Results", "compact_customers", "json_safe"]

# Customer-table columns of a few texts repeated on every row (churn_drivers too: a few thousand sentences
# among tens of thousands of customers), held as categoricals; and of small whole numbers, held in the
# smallest integer type that keeps every value.
REPEATED_TEXT = ("country", "segment", "action", "cluster_name", "churn_drivers")
SMALL_INTEGERS = ("r_score", "f_score", "m_score", "cluster")


@dataclass(frozen=True, eq=False)
class Results:
    """One analysis of one dataset with one set of parameters; immutable once built (the app shares one
    instance across threads).

    key: cache key (fingerprint of the cleaned data, the parameters and the analytics version).
    source: what the data are called (file or dataset name), as the page shows it.
    customers: one row per modelled customer (features, RFM scores, segment, cluster, CLV, churn columns).
    quality: the cleaning report as a JSON-safe dict.
    monthly: monthly activity (see analytics.trends.monthly_activity).
    cohorts: cohort retention shares (see analytics.trends.cohort_retention).
    clustering, clv, churn: each model family's record, or a ModelFailure saying why it could not be fitted
        (plain values and tables only, never fitted estimator objects).
    journeys: the segment journey history at the default settings.
    retention: retention between the two latest churn windows among the modelled customers.
    timings_s: wall seconds per pipeline step; step_cpu_s: CPU seconds of each step's own thread (the model
        steps run in two threads at once, see ``analytics.pipeline.NEEDS``).
    """

    key: str
    source: str
    as_of: pd.Timestamp
    params: AnalysisParams
    customers: pd.DataFrame
    quality: Mapping[str, Any]
    monthly: pd.DataFrame
    cohorts: pd.DataFrame
    clustering: ClusteringRecord | ModelFailure
    clv: ClvRecord | ModelFailure
    churn: ChurnRecord | ModelFailure
    journeys: JourneyHistory
    retention: WindowRetention
    analytics_version: str
    timings_s: Mapping[str, float] = field(default_factory=dict)
    step_cpu_s: Mapping[str, float] = field(default_factory=dict)

    def model_summaries(self) -> dict[str, Any]:
        """Each model's summary (parameters, diagnostics and metrics; no per-customer or plot tables), JSON-safe."""
        return json_safe({"clustering": self.clustering.summary(), "clv": self.clv.summary(),
                          "churn": self.churn.summary(), "journeys": self.journeys.summary()})


def json_safe(value: Any) -> Any:
    """Nested dicts/lists of DataFrames, records (dataclasses), numpy scalars and Timestamps as plain JSON
    types (NaN -> None)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json_safe({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return json_safe(value.reset_index().to_dict("records") if value.index.name else value.to_dict("records"))
    if isinstance(value, pd.Series):
        return json_safe(value.to_dict())
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def compact_customers(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with the ``REPEATED_TEXT`` columns as categoricals and the ``SMALL_INTEGERS`` downcast, every
    value the same. Categories are sorted, so that sorting by such a column still sorts by its text.

    The results are pickled into the cache and read back by every callback, so their size is cache room and
    load time: a 100M-line log's results pickled to 4 GB, the app's whole default cache. This and the journey
    history's like types (``analytics.journeys.history``) halve them; pickle protocol 5, and the median of 15
    ``ResultsCache.get`` on this 2-core host, before -> after:

    - Online Retail (4,320 customers): results 5.1 -> 2.9 MB (customer table 2.2 -> 1.3, journey history
      2.5 -> 1.2); loading 4.4 -> 3.9 CPU ms.
    - The 1M-line synthetic log (32,856 customers): results 37.5 -> 20.1 MB (customer table 17.4 -> 9.4,
      journey history 18.8 -> 9.3); loading 12.3 -> 8.6 CPU ms. The run's whole cache (results, model stages,
      invoice table) 51.0 -> 30.4 MB, 1.55 -> 0.93 KB a customer.

    What is left is mostly float64 columns, which keep every bit. Making the columns costs 0.08 CPU s at 328k
    customers, split between the churn and clustering steps' threads and the assembly. churn_drivers repeats
    enough to gain too: 7,264 distinct sentences among the 1M-line log's customers, 2.7 MB as Arrow strings and
    0.8 MB as a categorical.
    """
    columns = {col: table[col].astype("category") for col in REPEATED_TEXT
               if col in table.columns and not isinstance(table[col].dtype, pd.CategoricalDtype)}
    columns.update({col: pd.to_numeric(table[col], downcast="integer") for col in SMALL_INTEGERS
                    if col in table.columns and pd.api.types.is_integer_dtype(table[col].dtype)})
    return table.assign(**columns)
