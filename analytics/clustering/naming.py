"""Human names for clusters from their z-score profile on recency, frequency and monetary value.

Each cluster's mean z-score (log1p RFM standardised over all customers) is read as a level per
dimension - high (z >= 0.5), low (z <= -0.5) or mid - with recency reversed so that "high" means
recent. A cluster whose median customer bought once is "one" on frequency. An ordered rule table turns
levels into a name; anything it does not cover is composed from words ("Lapsed low-value occasional").
Names are made unique by qualifiers on the dimension where the look-alikes differ most
("... (more recent)", "... (lower spend)"), never by bare numbers unless the profiles are identical.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.clustering.methods import NOISE

NOISE_NAME = "Unusual customers"
HIGH_Z = 0.5  # half a standard deviation from the customer average counts as high / low

# (recent, frequent, spend) levels -> name; "*" matches any level; first match wins.
NAME_RULES: tuple[tuple[str, str, str, str], ...] = (
    ("high", "high", "high", "High-value loyal"),
    ("high", "high", "*", "Active regulars"),
    ("high", "*", "high", "Recent big spenders"),
    ("high", "one", "*", "New customers"),
    ("low", "high", "high", "At-risk high-value regulars"),
    ("low", "high", "*", "At-risk regulars"),
    ("low", "*", "high", "Lapsed big spenders"),
    ("low", "one", "*", "Lapsed one-timers"),
)
_RECENCY_WORD = {"high": "recent", "mid": "", "low": "lapsed"}
_VALUE_WORD = {"high": "high-value", "mid": "mid-value", "low": "low-value"}
_FREQUENCY_WORD = {"high": "regulars", "mid": "occasional", "low": "infrequent", "one": "one-timers"}

# Qualifier words, ordered from the low to the high end of each dimension's score.
_QUALIFIERS = {
    "recency": {2: ("less recent", "more recent"), 3: ("least recent", "mid recency", "most recent")},
    "frequency": {
        2: ("less frequent", "more frequent"),
        3: ("least frequent", "mid frequency", "most frequent"),
    },
    "monetary": {2: ("lower spend", "higher spend"), 3: ("lowest spend", "mid spend", "highest spend")},
}


def cluster_zscores(rfm_z: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """Mean z-score per cluster (index = label) of customer-level z-scores with columns recency_days,
    frequency, monetary (see preprocessing.rfm_zscores)."""
    return rfm_z.groupby(labels.reindex(rfm_z.index).to_numpy()).mean()


def name_clusters(profile: pd.DataFrame, median_frequency: pd.Series | None = None) -> dict[int, str]:
    """Unique name per cluster label.

    profile: mean z-scores per cluster (index = label; columns recency_days, frequency, monetary; recency
    NOT reversed). median_frequency: median purchases per customer in each cluster (original units), used
    to tell one-time buyers apart. The NOISE label is always NOISE_NAME.
    """
    scores = pd.DataFrame(
        {
            "recency": -profile["recency_days"].astype(float),
            "frequency": profile["frequency"].astype(float),
            "monetary": profile["monetary"].astype(float),
        },
        index=profile.index,
    )
    names: dict[int, str] = {}
    for label, row in scores.iterrows():
        if label == NOISE:
            names[label] = NOISE_NAME
            continue
        one_time = median_frequency is not None and float(median_frequency.get(label, np.inf)) <= 1.0
        names[label] = base_name(row["recency"], row["frequency"], row["monetary"], one_time)
    return _make_unique(names, scores)


def base_name(recent_z: float, frequency_z: float, monetary_z: float, one_time: bool = False) -> str:
    """Name for one profile; recent_z is the reversed recency z-score (positive = bought recently)."""
    recent, spend = _level(recent_z), _level(monetary_z)
    frequent = _level(frequency_z)
    if one_time and frequent != "high":
        frequent = "one"
    levels = (recent, frequent, spend)
    for *rule, name in NAME_RULES:
        if all(wanted in ("*", level) for wanted, level in zip(rule, levels)):
            return name
    words = [_RECENCY_WORD[recent], _VALUE_WORD[spend], _FREQUENCY_WORD[frequent]]
    text = " ".join(word for word in words if word)
    return text[0].upper() + text[1:]


def _level(z: float) -> str:
    if z >= HIGH_Z:
        return "high"
    if z <= -HIGH_Z:
        return "low"
    return "mid"


def _make_unique(names: dict[int, str], scores: pd.DataFrame) -> dict[int, str]:
    by_name: dict[str, list[int]] = {}
    for label, name in names.items():
        by_name.setdefault(name, []).append(label)
    unique = dict(names)
    for name, labels in by_name.items():
        if len(labels) < 2:
            continue
        for label, words in _qualify(sorted(labels), scores, tuple(_QUALIFIERS)).items():
            unique[label] = f"{name} ({', '.join(words)})"
    return unique


def _qualify(labels: list[int], scores: pd.DataFrame, dims: tuple[str, ...]) -> dict[int, list[str]]:
    """Qualifier words telling ``labels`` apart, splitting on the dimension where they differ most."""
    if len(labels) == 1:
        return {labels[0]: []}
    values = scores.loc[labels, list(dims)]
    spread = values.max() - values.min()
    if not dims or spread.max() <= 0:
        # identical profiles: nothing meaningful left to say, so number them
        return {label: [f"group {i + 1}"] for i, label in enumerate(labels)}
    dim = str(spread.idxmax())
    ordered = sorted(labels, key=lambda label: (scores.loc[label, dim], label))
    if len(ordered) <= 3:
        return {label: [word] for label, word in zip(ordered, _QUALIFIERS[dim][len(ordered)])}
    rest = tuple(d for d in dims if d != dim)
    half = len(ordered) // 2
    words: dict[int, list[str]] = {}
    for part, word in ((ordered[:half], _QUALIFIERS[dim][2][0]), (ordered[half:], _QUALIFIERS[dim][2][1])):
        for label, more in _qualify(part, scores, rest).items():
            words[label] = [word] + more
    return words
