import re

import numpy as np
import pandas as pd

from analytics.clustering.methods import NOISE
from analytics.clustering.naming import NOISE_NAME, base_name, cluster_zscores, name_clusters


def profile(rows: dict[int, tuple[float, float, float]]) -> pd.DataFrame:
    """Mean z-scores per cluster: (recency_days, frequency, monetary); high recency z = long ago."""
    return pd.DataFrame.from_dict(rows, orient="index", columns=["recency_days", "frequency", "monetary"])


def test_recent_frequent_big_spenders_are_high_value():
    names = name_clusters(profile({0: (-1.2, 1.5, 1.8), 1: (0.1, 0.0, -0.1), 2: (1.3, -1.0, -1.2)}))
    assert "high-value" in names[0].lower()


def test_long_ago_single_purchase_low_spend_is_lapsed_one_timer():
    z = profile({0: (-1.2, 1.5, 1.8), 1: (1.4, -0.9, -1.1)})
    names = name_clusters(z, median_frequency=pd.Series({0: 15.0, 1: 1.0}))
    assert "lapsed" in names[1].lower() and "one-time" in names[1].lower()
    # without the one-purchase evidence it is still lapsed, but not called one-time
    assert "lapsed" in name_clusters(z)[1].lower()
    assert "one-time" not in name_clusters(z)[1].lower()


def test_at_risk_regulars_and_middle_of_the_road():
    assert base_name(recent_z=-1.0, frequency_z=1.0, monetary_z=0.2) == "At-risk regulars"
    assert base_name(0.1, -0.2, 0.3) == "Mid-value occasional"


def test_every_level_combination_gets_a_name_and_no_digits():
    levels = (-1.0, 0.0, 1.0)
    seen = set()
    for r in levels:
        for f in levels:
            for m in levels:
                for one_time in (False, True):
                    name = base_name(r, f, m, one_time)
                    assert name and name[0].isupper() and not re.search(r"\d", name)
                    assert name != NOISE_NAME
                    seen.add(name)
    assert len(seen) > 10  # the words actually vary with the profile


def test_look_alikes_get_qualifiers_on_the_dimension_where_they_differ():
    names = name_clusters(profile({0: (0.1, 0.0, -0.2), 1: (-0.3, 0.1, -0.1), 2: (-1.5, 1.2, 1.4)}))
    assert len(set(names.values())) == 3
    assert names[1].endswith("(more recent)") and names[0].endswith("(less recent)")
    assert names[0].startswith("Mid-value occasional")


def test_many_look_alikes_stay_unique_without_numbers():
    rng = np.random.default_rng(0)
    z = profile({label: tuple(rng.uniform(-0.4, 0.4, 3)) for label in range(7)})  # all "mid" on every axis
    names = name_clusters(z)
    assert len(set(names.values())) == 7
    assert not any(re.search(r"\d", name) for name in names.values())


def test_identical_profiles_still_get_unique_names():
    names = name_clusters(profile({0: (0.0, 0.0, 0.0), 1: (0.0, 0.0, 0.0)}))
    assert len(set(names.values())) == 2


def test_random_profiles_always_unique():
    rng = np.random.default_rng(1)
    for _ in range(50):
        k = int(rng.integers(2, 11))
        z = profile({label: tuple(rng.normal(0.0, 1.0, 3)) for label in range(k)})
        names = name_clusters(z, median_frequency=pd.Series(rng.choice([1.0, 3.0], k)))
        assert len(set(names.values())) == k


def test_noise_is_named_unusual_and_nothing_else_is():
    names = name_clusters(profile({NOISE: (0.5, 2.0, 3.0), 0: (0.0, 0.0, 0.0), 1: (2.0, -2.0, -2.0)}))
    assert names[NOISE] == NOISE_NAME
    assert list(names.values()).count(NOISE_NAME) == 1


def test_cluster_zscores_are_group_means():
    z = pd.DataFrame(
        {"recency_days": [1.0, 3.0, -2.0], "frequency": [0.0, 2.0, 1.0], "monetary": [1.0, 1.0, 1.0]},
        index=["a", "b", "c"],
    )
    labels = pd.Series([1, 0, 1], index=["c", "b", "a"])  # different order on purpose
    means = cluster_zscores(z, labels)
    assert means.loc[1, "recency_days"] == -0.5 and means.loc[0, "frequency"] == 2.0
