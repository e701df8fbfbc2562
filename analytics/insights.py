"""Executive KPIs and a short narrative, computed from one analysis (Results) alone.

Every KPI carries its own definition, written from the data it was computed on (dates, window, horizon),
so the tower's tooltips and the Methodology tab show the same text. A KPI whose model column is missing
has ``value=None`` and a caption saying what it needs, never a stand-in number.

Money is in the data's currency (net of returns unless the run ignored returns); windows are in days.
"""

from __future__ import annotations

from typing import Any, TypedDict

import numpy as np
import pandas as pd

from analytics.audience import AT_RISK_CHURN_PROBABILITY, is_at_risk
from analytics.clv.record import ClvRecord
from analytics.results import Results
from analytics.trends import WindowRetention

AT_RISK_SEGMENTS: tuple[str, ...] = ("At Risk", "Can't Lose Them", "About To Sleep")
"""Stand-in definition of "at risk" when the results carry no churn model."""

REVENUE_MONTHS = 12
"""The revenue KPI covers this many complete calendar months before the as-of date."""

NEEDS_CLV = "needs the CLV model"


class Kpi(TypedDict):
    """One KPI. ``unit``: "count", "money" or "fraction"; ``value`` None when it cannot be computed."""

    key: str
    name: str
    value: float | None
    unit: str
    definition: str
    caption: str
    risk: bool


def _kpi(key: str, name: str, value: Any, unit: str, definition: str, caption: str,
         risk: bool = False) -> Kpi:
    number = None if value is None or pd.isna(value) else float(value)
    return Kpi(key=key, name=name, value=number, unit=unit, definition=definition, caption=caption, risk=risk)


# -- small text helpers (analytics does not import the UI's formatting) -------------------------------------


def _money(value: float) -> str:
    if abs(value) >= 1e6:
        return f"{value / 1e6:,.2f}M"
    if abs(value) >= 1e4:
        return f"{value / 1e3:,.1f}k"
    return f"{value:,.0f}"


def _pct(fraction: float) -> str:
    return f"{fraction * 100:.1f} %"


def _day(stamp: pd.Timestamp) -> str:
    return f"{stamp.day} {stamp:%b %Y}"


def _month(stamp: pd.Timestamp) -> str:
    return f"{stamp:%b %Y}"


# -- the computations --------------------------------------------------------------------------------------


def at_risk_mask(customers: pd.DataFrame) -> tuple[pd.Series, str]:
    """Boolean "at risk" per customer and how it was decided (churn model if present, else segments)."""
    if "churn_probability" in customers.columns:
        return is_at_risk(customers["churn_probability"]), "churn"
    return customers["segment"].isin(AT_RISK_SEGMENTS).fillna(False).astype(bool), "segments"


def at_risk_rule(basis: str, window_days: int) -> str:
    """The at-risk rule in words, for the basis :func:`at_risk_mask` used."""
    if basis == "churn":
        return (f"a churn probability of at least {AT_RISK_CHURN_PROBABILITY * 100:.0f} % for the next "
                f"{window_days} days (churn model)")
    return (f"an RFM segment of {', '.join(AT_RISK_SEGMENTS[:-1])} or {AT_RISK_SEGMENTS[-1]} "
            "(these results have no churn model, so the segments stand in)")


def at_risk_summary(results: Results) -> dict[str, Any]:
    """How many customers are at risk and by which rule (the CLI's summary and the tower say the same)."""
    at_risk, basis = at_risk_mask(results.customers)
    return {"customers": int(at_risk.sum()), "basis": basis, "rule": at_risk_rule(basis, results.params.churn_window_days)}


def complete_months(monthly: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Rows of ``monthly`` for calendar months ending before ``as_of``; months without activity are 0."""
    last = as_of.to_period("M") - 1  # the as-of month itself is never complete: lines stop before as_of
    table = monthly.set_index(monthly["month"].dt.to_period("M")).drop(columns="month")
    if table.empty:
        return monthly.iloc[0:0]
    months = pd.period_range(table.index.min(), last, freq="M")
    table = table.reindex(months, fill_value=0)
    return table.rename_axis("month").reset_index().assign(month=lambda t: t["month"].dt.to_timestamp())


def revenue_in_period(monthly: pd.DataFrame, as_of: pd.Timestamp,
                      months: int = REVENUE_MONTHS) -> dict[str, Any]:
    """Net revenue (currency) of the last ``months`` complete calendar months before ``as_of``."""
    table = complete_months(monthly, as_of).tail(months)
    if table.empty:
        return {"value": None, "first": None, "last": None, "months": 0}
    return {
        "value": float(table["net_revenue"].sum()),
        "first": table["month"].iloc[0],
        "last": table["month"].iloc[-1],
        "months": int(len(table)),
    }


def kpis(results: Results) -> list[Kpi]:
    """The executive KPIs, in display order, each with its definition and a short caption."""
    customers = results.customers
    as_of = results.as_of
    window = results.params.churn_window_days
    params = results.params
    n = len(customers)
    last_day = as_of - pd.Timedelta(days=1)
    quality = results.quality
    excluded = int(quality["n_customers_excluded"])
    items = [
        _kpi(
            "customers", "Customers", n, "count",
            f"Customers with at least one purchase before the as-of date ({_day(as_of)}) and a positive net "
            f"value (purchases minus returns). {excluded:,} customer(s) with a net value of zero or less are "
            "left out (see the data-quality report).",
            f"as of {_day(last_day)}",
        )
    ]

    active_since = as_of - pd.Timedelta(days=window)
    active = int((customers["last_purchase"] >= active_since).sum())
    items.append(
        _kpi(
            "active", "Active customers", active, "count",
            f"Customers with at least one purchase in the churn window: the {window} days from "
            f"{_day(active_since)} up to the as-of date ({_day(as_of)}, exclusive).",
            f"bought in the last {window} days · {_pct(active / n) if n else '–'} of customers",
        )
    )

    revenue = revenue_in_period(results.monthly, as_of)
    period = (f"{_month(revenue['first'])} – {_month(revenue['last'])}" if revenue["months"]
              else "no complete month")
    short = ("" if revenue["months"] in (0, REVENUE_MONTHS)
             else f" (only {revenue['months']} complete months of data)")
    items.append(
        _kpi(
            "revenue", "Revenue in the period", revenue["value"], "money",
            f"Net revenue (purchases minus returns) of the modelled customers in the last {REVENUE_MONTHS} "
            f"complete calendar months before the as-of date: {period}{short}.",
            f"{period}, net of returns",
        )
    )

    retention = results.retention
    caption = (f"of {retention.n_previous:,} buyers in the previous {window} days, share who bought "
               f"again in the last {window}" if retention.n_previous
               else f"nobody bought in the previous {window} days")
    items.append(
        _kpi(
            "retention", "Retention rate", retention.rate_fraction, "fraction",
            f"Of the customers who purchased in the previous window ({window} days before the latest "
            f"window), the share who purchased again in the latest window (the last {window} days before the "
            "as-of date). Returns do not count as purchases.",
            caption,
        )
    )

    at_risk, basis = at_risk_mask(customers)
    count_at_risk = int(at_risk.sum())
    share_at_risk = _pct(count_at_risk / n) if n else "–"
    rule = at_risk_rule(basis, window)
    if basis == "churn":
        risk_caption = f"churn probability ≥ {AT_RISK_CHURN_PROBABILITY * 100:.0f} % · {share_at_risk} of customers"
    else:
        risk_caption = f"RFM segments at risk · {share_at_risk} of customers"
    items.append(_kpi("at_risk", "Customers at risk", count_at_risk, "count", f"Customers with {rule}.",
                      risk_caption, risk=True))

    has_clv = "clv" in customers.columns and customers["clv"].notna().any()
    clv_values = pd.to_numeric(customers["clv"], errors="coerce") if has_clv else None
    forecast = results.clv.forecast if isinstance(results.clv, ClvRecord) else None
    model_label = forecast.label if forecast is not None else "BG/NBD"
    clv_def = (f"predicted customer lifetime value over the next {params.clv_horizon_months} months: expected "
               f"purchases ({model_label}) × expected spend per purchase × margin "
               f"{params.gross_margin_fraction:.0%}, discounted at {params.monthly_discount_rate:.1%} a month")
    equity_interval = (forecast is not None and np.isfinite(forecast.equity_low)
                       and np.isfinite(forecast.equity_high))
    horizon_note = forecast.horizon_note if forecast is not None and has_clv else ""
    items.append(
        _kpi(
            "revenue_at_risk", "Revenue at risk", clv_values[at_risk].sum() if has_clv else None, "money",
            f"Sum of the {clv_def}, over the customers at risk: those with {rule}.",
            (f"CLV of the {count_at_risk:,} customers at risk" if has_clv else NEEDS_CLV),
            risk=True,
        )
    )
    items.append(
        _kpi(
            "clv", "Predicted CLV", clv_values.sum() if has_clv else None, "money",
            f"Sum over every customer of the {clv_def}."
            + (f" The 80 % interval of the total: {forecast.equity_note}." if has_clv and equity_interval else "")
            + (f" Warning: {horizon_note}" if horizon_note else ""),
            ((f"80 % interval {_money(forecast.equity_low)}–{_money(forecast.equity_high)} · "
              if equity_interval else "")
             + ("⚠ extrapolated from a short window (see the definition) · " if horizon_note else "")
             + f"next {params.clv_horizon_months} months, margin {params.gross_margin_fraction:.0%}, discounted" if has_clv
             else NEEDS_CLV),
        )
    )
    return items


# -- the narrative -------------------------------------------------------------------------------------------


def _segment_sentence(customers: pd.DataFrame) -> str | None:
    revenue = customers["monetary"].clip(lower=0)
    total = revenue.sum()
    if total <= 0 or "segment" not in customers.columns:
        return None
    by_segment = revenue.groupby(customers["segment"]).sum().sort_values(ascending=False)
    top = by_segment.index[0]
    share_customers = (customers["segment"] == top).mean()
    return (f"{top} are {_pct(share_customers)} of customers and hold {_pct(by_segment.iloc[0] / total)} of "
            "net revenue to date.")


def _concentration_sentence(customers: pd.DataFrame) -> str | None:
    revenue = customers["monetary"].clip(lower=0).sort_values(ascending=False)
    if len(revenue) < 5 or revenue.sum() <= 0:
        return None
    top = int(np.ceil(len(revenue) * 0.2))
    share = revenue.iloc[:top].sum() / revenue.sum()
    return f"The top 20 % of customers ({top:,}) bring in {_pct(share)} of net revenue."


def _risk_sentence(results: Results) -> str | None:
    customers = results.customers
    at_risk, basis = at_risk_mask(customers)
    n = int(at_risk.sum())
    if not len(customers):
        return None
    window = results.params.churn_window_days
    who = (f"{n:,} customers ({_pct(n / len(customers))}) are likely to stop buying within {window} days "
           f"(churn probability ≥ {AT_RISK_CHURN_PROBABILITY * 100:.0f} %)" if basis == "churn" else
           f"{n:,} customers ({_pct(n / len(customers))}) sit in the {', '.join(AT_RISK_SEGMENTS[:-1])} or "
           f"{AT_RISK_SEGMENTS[-1]} segments")
    if "clv" in customers.columns and customers["clv"].notna().any():
        clv = pd.to_numeric(customers["clv"], errors="coerce")
        total = clv.sum()
        horizon = results.params.clv_horizon_months
        share = f", {_pct(clv[at_risk].sum() / total)} of the base's" if total > 0 else ""
        return f"{who}; they carry {_money(clv[at_risk].sum())} of predicted {horizon}-month CLV{share}."
    revenue = customers["monetary"].clip(lower=0)
    if revenue.sum() <= 0:
        return f"{who}."
    return (f"{who}; they brought in {_money(revenue[at_risk].sum())} "
            f"({_pct(revenue[at_risk].sum() / revenue.sum())}) of net revenue to date.")


def _change(new: float, old: float) -> str:
    if old == 0:
        return "up from nothing" if new > 0 else "unchanged"
    change = (new - old) / abs(old)
    if abs(change) < 0.0005:
        return "unchanged"
    return f"{'up' if change > 0 else 'down'} {_pct(abs(change))}"


def _new(count: int) -> str:
    return f"{count:,} new" if count else "no new customers"


def _month_sentence(results: Results) -> str | None:
    table = complete_months(results.monthly, results.as_of)
    if len(table) < 2:
        return None
    last, previous = table.iloc[-1], table.iloc[-2]
    return (
        f"In {last['month']:%B %Y} net revenue was {_money(last['net_revenue'])}, "
        f"{_change(last['net_revenue'], previous['net_revenue'])} on {previous['month']:%B}, with "
        f"{int(last['active_customers']):,} active customers ({int(previous['active_customers']):,} in "
        f"{previous['month']:%B}) and {_new(int(last['new_customers']))}."
    )


def _retention_sentence(retention: WindowRetention) -> str | None:
    if not retention.n_previous:
        return None
    end = retention.latest_start - pd.Timedelta(days=1)
    return (f"Of the {retention.n_previous:,} customers who bought between {_day(retention.previous_start)} "
            f"and {_day(end)}, {_pct(retention.rate_fraction)} bought again in the following "
            f"{retention.window_days} days.")


def narrative(results: Results) -> list[str]:
    """Three to five sentences, each templated from numbers computed here (never fixed text)."""
    sentences = [
        _segment_sentence(results.customers),
        _risk_sentence(results),
        _month_sentence(results),
        _retention_sentence(results.retention),
        _concentration_sentence(results.customers),
    ]
    return [s for s in sentences if s]


# -- the published reference ---------------------------------------------------------------------------------

FHL_2005: dict[str, dict[str, float]] = {
    "BG/NBD": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    "Gamma-Gamma": {"p": 6.25, "q": 3.74, "v": 15.44},
}
"""Fader, Hardie & Lee (2005): CDNOW 1/10 sample, weeks, calibration period to 1997-09-30."""


def cdnow_reference() -> pd.DataFrame:
    """The CLV models refitted on the embedded CDNOW sample next to the published estimates.

    Columns: model, parameter, published, reproduced, plus n_customers and n_repeat_buyers as attrs.
    """
    from analytics import cleaning
    from analytics.clv import BetaGeoModel, GammaGammaModel, calibration_holdout
    from analytics.datasets import load_dataset

    lines = cleaning.clean(load_dataset("cdnow_sample")).lines
    summary = calibration_holdout(lines, "1997-10-01", "1998-07-01", unit="W")
    fitted = {"BG/NBD": BetaGeoModel().fit(summary).params_,
              "Gamma-Gamma": GammaGammaModel().fit(summary).params_}
    rows = [
        {"model": model, "parameter": name, "published": value, "reproduced": float(fitted[model][name])}
        for model, params in FHL_2005.items()
        for name, value in params.items()
    ]
    table = pd.DataFrame(rows)
    table.attrs.update(n_customers=int(len(summary)), n_repeat_buyers=int((summary["frequency"] > 0).sum()))
    return table
