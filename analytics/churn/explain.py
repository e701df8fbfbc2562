"""Explanations of the logistic churn model: odds ratios and each customer's top drivers in words.

A driver is a feature whose contribution ``coefficient x standardised value`` pushes the customer's churn
log-odds up. It is phrased from the customer's own (untransformed) number next to the typical value, where
"typical" is the value that standardises to 0 (the training mean on the model's scale), so "below typical"
always agrees with the sign the model saw.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from analytics.clv.patterns import patterns

Template = Callable[[float, float], str]

MIN_CONTRIBUTION = 0.1
"""Smallest push on the churn log-odds worth naming (odds x1.1); smaller ones are noise, not drivers."""

DESCRIPTIONS: dict[str, str] = {
    "recency_days": "days since the last purchase",
    "frequency": "purchase invoices",
    "monetary": "net spend",
    "tenure_days": "days since the first purchase",
    "avg_order_value": "spend per order",
    "unique_products": "distinct products bought",
    "mean_days_between": "mean days between purchase days",
    "peak_share": "share of spend in the peak months",
    "overdue_ratio": "days since the last purchase / own mean gap",
    "is_one_timer": "bought on one day only",
    "main_country": "based in the most common country",
}


def _n(v: float, unit: str) -> str:
    """'1 order', '5 orders'."""
    return f"{v:,.0f} {unit}" + ("" if round(v) == 1 else "s")


def days(v: float) -> str:
    """'1 day', '140 days'."""
    return _n(v, "day")


def _how(v: float, t: float, below: bool) -> str:
    """'well below' when at most half (or above when at least double) the typical value."""
    if below:
        return "well below" if v <= t / 2 else "below"
    return "well above" if v >= 2 * t else "above"


def _money(v: float) -> str:
    return f"{v:,.0f}"


def _typ(t: float) -> str:
    """One decimal when small, so "2 orders vs 2.4 typical" does not read "vs 2"; whole numbers from 10."""
    return f"{t:,.1f}" if abs(t) < 10 else f"{t:,.0f}"


# feature -> (phrase when the value is high, phrase when it is low); v = customer's value, t = typical
TEMPLATES: dict[str, tuple[Template, Template]] = {
    "recency_days": (
        lambda v, t: f"no purchase for {_n(v, 'day')}",
        lambda v, t: f"last purchase only {_n(v, 'day')} ago",
    ),
    "frequency": (
        lambda v, t: f"frequency {_how(v, t, False)} typical ({_n(v, 'order')} vs {_typ(t)} typical)",
        lambda v, t: f"frequency {_how(v, t, True)} typical ({_n(v, 'order')} vs {_typ(t)} typical)",
    ),
    "monetary": (
        lambda v, t: f"high spend ({_money(v)} vs {_money(t)} typical)",
        lambda v, t: f"low spend ({_money(v)} vs {_money(t)} typical)",
    ),
    "tenure_days": (
        lambda v, t: f"first purchase {_n(v, 'day')} ago",
        lambda v, t: f"new customer (first purchase {_n(v, 'day')} ago)",
    ),
    "avg_order_value": (
        lambda v, t: f"large orders ({_money(v)} per order vs {_money(t)} typical)",
        lambda v, t: f"small orders ({_money(v)} per order vs {_money(t)} typical)",
    ),
    "unique_products": (
        lambda v, t: f"broad range ({_n(v, 'product')} vs {_typ(t)} typical)",
        lambda v, t: f"narrow range ({_n(v, 'product')} vs {_typ(t)} typical)",
    ),
    "mean_days_between": (
        lambda v, t: f"long gaps between purchases (every {v:,.0f} days vs {_typ(t)} typical)",
        lambda v, t: f"short gaps between purchases (every {v:,.0f} days vs {_typ(t)} typical)",
    ),
    "peak_share": (
        lambda v, t: f"{v:.0%} of spend in peak months ({t:.0%} typical)",
        lambda v, t: f"little peak-month buying ({v:.0%} of spend vs {t:.0%} typical)",
    ),
    "overdue_ratio": (
        lambda v, t: f"overdue: {_typ(v)}x their usual gap since the last purchase",
        lambda v, t: f"within their usual rhythm ({_typ(v)}x their usual gap since the last purchase)",
    ),
    "is_one_timer": (lambda v, t: "one-time buyer", lambda v, t: "repeat buyer"),
}


def _category(feature: str) -> str:
    return feature.removeprefix("cat_").replace("_", " ")


def template(feature: str, high: bool, context: Mapping[str, str] | None = None) -> Template:
    """The phrase builder for one feature and direction; generic for features without a template."""
    if feature in TEMPLATES:
        return TEMPLATES[feature][0 if high else 1]
    if feature.startswith("cat_"):
        name = _category(feature)
        if high:
            return lambda v, t: f"{v:.0%} of spend on {name} ({t:.0%} typical)"
        return lambda v, t: f"little spend on {name} ({v:.0%} vs {t:.0%} typical)"
    if feature == "main_country":
        country = (context or {}).get("main_country", "the main country")
        return (lambda v, t: f"based in {country}") if high else (lambda v, t: f"based outside {country}")
    word = "above" if high else "below"
    return lambda v, t: f"{feature.replace('_', ' ')} {word} typical ({v:,.3g} vs {t:,.3g})"


def display_digits(feature: str) -> int | None:
    """Decimals a phrase shows of the customer's value (shares as whole percents); None = as given."""
    if feature == "overdue_ratio":
        return 1
    if feature == "peak_share" or feature.startswith("cat_"):
        return 2
    if feature in TEMPLATES or feature == "main_country":
        return 0
    return None


def describe(feature: str) -> str:
    """A short description of a model feature for tables."""
    if feature.startswith("cat_"):
        return f"share of spend on {_category(feature)}"
    return DESCRIPTIONS.get(feature, feature.replace("_", " "))


def odds_ratio_table(
    features: Sequence[str], coefficients: np.ndarray, transforms: Mapping[str, str]
) -> pd.DataFrame:
    """Odds ratio of churn per +1 standard deviation of each feature (on the model's scale), largest effect
    first. ``transforms`` names the scale (e.g. "log1p") per feature."""
    coef = np.asarray(coefficients, dtype=float)
    table = pd.DataFrame(
        {
            "feature": list(features),
            "description": [describe(f) for f in features],
            "scale": [transforms.get(f, "as is") for f in features],
            "coefficient": coef,
            "odds_ratio": np.exp(coef),
            "effect": np.where(coef > 0, "raises churn", np.where(coef < 0, "lowers churn", "none")),
        }
    )
    order = np.argsort(-np.abs(coef), kind="stable")
    return table.iloc[order].reset_index(drop=True)


def _largest(values: np.ndarray, k: int) -> np.ndarray:
    """Columns of each row's ``k`` largest values, largest first and ties in column order, as a stable sort of
    the negated values orders them, by ``k`` passes of argmax (a sort of every column was most of the
    drivers' time at 324k customers: 0.33 against 0.10 CPU s). A NaN ranks last, as in the sort."""
    left = np.where(np.isnan(values), -np.inf, values)
    rows = np.arange(len(values))
    top = np.empty((len(values), k), dtype=np.intp)
    for c in range(k):
        top[:, c] = np.argmax(left, axis=1)
        left[rows, top[:, c]] = -np.inf
    return top


def top_drivers(
    contributions: np.ndarray,
    values: np.ndarray,
    features: Sequence[str],
    typical: Sequence[float],
    k: int = 3,
    context: Mapping[str, str] | None = None,
    min_contribution: float = MIN_CONTRIBUTION,
) -> np.ndarray:
    """Up to ``k`` phrases per customer, joined with "; ", largest churn-raising contribution first.

    ``contributions`` (n x p) are coefficient x standardised value; ``values`` (n x p) the customer's raw
    numbers (NaN = not applicable, never a driver); ``typical`` the raw value that standardises to 0.
    Only contributions of at least ``min_contribution`` (log-odds) are drivers; a customer with none gets "".
    """
    contributions = np.where(np.isnan(values), 0.0, np.asarray(contributions, dtype=float))
    n, p = contributions.shape
    k = min(k, p)
    out = np.full(n, "", dtype=object)
    if n == 0 or k == 0:
        return out
    top = _largest(contributions, k)
    shown = np.take_along_axis(contributions, top, axis=1) >= min_contribution
    top_values = np.take_along_axis(values, top, axis=1)
    # a positive contribution means the value lies on the side of typical that the coefficient penalises
    high = top_values > np.asarray(typical, dtype=float)[top]
    # each shown phrase as its number in ``texts`` (0: none shown)
    phrase, texts = np.zeros((n, k), dtype=np.int64), [""]
    for j in np.unique(top[shown]):
        digits = display_digits(features[j])
        for direction in (True, False):
            where = shown & (top == j) & (high == direction)
            if not where.any():
                continue
            build = template(features[j], direction, context)
            t = float(typical[j])
            v = top_values[where]
            # phrase each distinct displayed value once: days, counts and percents repeat a lot
            unique, inverse = np.unique(v if digits is None else np.round(v, digits), return_inverse=True)
            phrase[where] = len(texts) + inverse
            texts.extend(build(u, t) for u in unique.tolist())
    # each distinct combination of phrases joined once, its customers sharing the text: a string of its own
    # for every customer held the drivers of 324k customers in 50 MB, and joining them made as much again.
    # The combinations are found as the CLV models find distinct purchase patterns (one sort of an integer
    # key) and joined a column at a time over the object arrays, not in a Python loop over them
    found = patterns(pd.DataFrame(phrase), tuple(range(k)))
    combos, which = found.table.to_numpy(dtype=np.int64), found.inverse
    words = np.array(texts, dtype=object)
    joined = words[combos[:, 0]]
    for c in range(1, k):
        joined = joined + np.where(combos[:, c] > 0, "; " + words[combos[:, c]], "")
    return joined[which]

