"""Monte Carlo populations for the CLV tests: BG/NBD and MBG/NBD customers simulated in continuous time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class Population:
    """Per customer: history in (0, T] (frequency, recency, T), whether alive at T, and repeat purchases in
    (T, T + horizon] (future). ``purchases`` lists every purchase time, first purchase (time 0) included."""

    frequency: np.ndarray
    recency: np.ndarray
    T: np.ndarray
    alive: np.ndarray
    future: np.ndarray
    purchases: list[np.ndarray]

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"frequency": self.frequency, "recency": self.recency, "T": self.T, "monetary_value": 0.0},
            index=pd.Index([str(i) for i in range(len(self.T))], name="customer_id", dtype="string"),
        )


def simulate(
    params: dict, T, horizon: float, seed: int, model: str = "bgnbd", keep_times: bool = False
) -> Population:
    """Customers with first purchase at time 0, observed to T, followed for ``horizon`` more time units.

    Purchases come at rate lambda ~ Gamma(r, rate alpha); after each repeat purchase (MBG/NBD: also after the
    first one) the customer drops out for good with probability p ~ Beta(a, b).
    """
    rng = np.random.default_rng(seed)
    T = np.asarray(T, dtype=float)
    n = len(T)
    lam = rng.gamma(params["r"], 1.0 / params["alpha"], n)
    p = rng.beta(params["a"], params["b"], n)
    active = np.ones(n, bool) if model == "bgnbd" else rng.random(n) >= p
    died_at = np.where(active, np.inf, 0.0)
    t = np.zeros(n)
    frequency = np.zeros(n, int)
    recency = np.zeros(n)
    future = np.zeros(n, int)
    times: list[list[float]] = [[0.0] for _ in range(n)] if keep_times else []
    end = T + horizon
    while active.any():
        idx = np.flatnonzero(active)
        t[idx] += rng.exponential(1.0 / lam[idx])
        over = t[idx] > end[idx]
        active[idx[over]] = False
        idx = idx[~over]
        in_calibration = t[idx] <= T[idx]
        frequency[idx[in_calibration]] += 1
        recency[idx[in_calibration]] = t[idx[in_calibration]]
        future[idx[~in_calibration]] += 1
        if keep_times:
            for i in idx:
                times[i].append(t[i])
        drop = rng.random(len(idx)) < p[idx]
        active[idx[drop]] = False
        died_at[idx[drop]] = t[idx[drop]]
    return Population(frequency, recency, T, died_at > T, future,
                      [np.array(ts) for ts in times] if keep_times else [])


def to_lines(
    population: Population, start: str, unit_days: float, births=None, value: float = 10.0
) -> pd.DataFrame:
    """Canonical invoice lines, one per purchase, dated start + birth + time (times in ``unit_days`` days)."""
    births = np.zeros(len(population.purchases)) if births is None else np.asarray(births, dtype=float)
    customers = np.repeat([str(i) for i in range(len(births))], [len(ts) for ts in population.purchases])
    offsets = np.concatenate([birth + ts for birth, ts in zip(births, population.purchases)])
    dates = pd.Timestamp(start) + pd.to_timedelta(offsets * unit_days, unit="D")
    return pd.DataFrame(
        {
            "customer_id": pd.array(customers, dtype="string"),
            "invoice_id": pd.array([f"inv{k}" for k in range(len(customers))], dtype="string"),
            "invoice_date": pd.DatetimeIndex(dates).astype("datetime64[ns]"),
            "quantity": 1.0,
            "unit_price": value,
        }
    )
