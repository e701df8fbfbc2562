"""A campaign test end to end: measured average uplift, the cross-fitted uplift model's evidence, uplift
per segment, and the scores the ROI simulator uses.

The model's evidence is judged on held-out (out-of-fold) customers only: the Qini curve and uplift by
decile against random targeting and against ranking by churn probability, the Qini coefficient and AUUC
with percentile bootstrap intervals (resampling customers within each arm). When the model's Qini interval
includes zero the test is too small to show that customers differ: ``heterogeneous`` is False and the ROI
simulator gives everyone the measured average uplift (with its interval) instead of the model's scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.errors import DataError
from analytics.params import AnalysisParams
from analytics.uplift import learner, metrics
from analytics.uplift.features import features_as_of, model_matrix
from analytics.uplift.measure import CampaignMeasurement, difference, measure_campaign

MIN_MODEL_CUSTOMERS = 200
MIN_MODEL_RESPONDERS = 20  # per arm
TOP_FRACTION = 0.3  # uplift@k reported at the top 30 %
MODEL, CHURN, RANDOM = "uplift model", "churn probability", "random"


@dataclass(frozen=True)
class UpliftEvidence:
    """How well the cross-fitted model ranks held-out customers by their response to the offer."""

    n_customers: int
    qini: metrics.Interval  # Qini coefficient of the model's ranking
    qini_churn: metrics.Interval  # of ranking by churn probability
    qini_gain: metrics.Interval  # model minus churn ranking, paired bootstrap
    auuc: metrics.Interval
    uplift_at_top: float  # uplift among the top TOP_FRACTION by the model
    average_uplift: float  # treated minus control response rate over all of them: every decile's, targeted at random
    curves: pd.DataFrame  # targeted_fraction, one column per ranking (MODEL, CHURN, RANDOM)
    deciles: pd.DataFrame  # ranking, decile, n_treatment, n_control, rates, uplift, uplift_se

    @property
    def heterogeneous(self) -> bool:
        """The test shows the model tells customers apart (its Qini interval excludes zero)."""
        return self.qini.ci_low > 0

    def to_dict(self) -> dict:
        return {"n_customers": self.n_customers, "qini_coefficient": self.qini.to_dict(),
                "qini_coefficient_churn_ranking": self.qini_churn.to_dict(),
                "qini_gain_over_churn_ranking": self.qini_gain.to_dict(), "auuc": self.auuc.to_dict(),
                f"uplift_at_top_{TOP_FRACTION:.0%}": self.uplift_at_top,
                "uplift_random_targeting": self.average_uplift,
                "heterogeneous": self.heterogeneous}


@dataclass(frozen=True)
class UpliftAnalysis:
    """measurement: the average; evidence: None when the test is too small for a model (see notes);
    segments: uplift per pre-send segment with intervals; customers: per measured customer (index
    customer_id) group, responded, revenue, segment, churn_probability and the held-out predicted_uplift;
    training: the model's inputs (features as of the send date) with treated and responded."""

    measurement: CampaignMeasurement
    evidence: UpliftEvidence | None
    segments: pd.DataFrame
    customers: pd.DataFrame
    training: pd.DataFrame
    segment_names: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def use_model(self) -> bool:
        """Target by each customer's own predicted uplift (else the average applies to everyone)."""
        return self.evidence is not None and self.evidence.heterogeneous

    @property
    def verdict(self) -> str:
        """One sentence for people on what the test supports."""
        rate = self.measurement.rate_uplift
        average = (f"the average uplift is {rate.estimate * 100:+.1f} percentage points "
                   f"(95 % CI {rate.ci_low * 100:+.1f} to {rate.ci_high * 100:+.1f})")
        if self.evidence is None:
            return f"Too few customers to learn who responds; {average} and applies to everyone."
        q = self.evidence.qini
        if not self.evidence.heterogeneous:
            return (f"The test is too small to show that customers respond differently (Qini coefficient "
                    f"{q.estimate:.3f}, 95 % CI {q.ci_low:.3f} to {q.ci_high:.3f} includes 0): {average}, "
                    "and the ROI simulator uses it for everyone.")
        return (f"The model tells responders apart on held-out customers (Qini coefficient {q.estimate:.3f}, "
                f"95 % CI {q.ci_low:.3f} to {q.ci_high:.3f}); {average}.")

    def to_dict(self) -> dict:
        from analytics.results import json_safe

        return json_safe({
            "measurement": self.measurement.to_dict(),
            "model": self.evidence.to_dict() if self.evidence else None,
            "targeting": "predicted uplift per customer" if self.use_model else "average uplift for everyone",
            "verdict": self.verdict,
            "uplift_by_decile": self.evidence.deciles if self.evidence else [],
            "segments": self.segments,
            "notes": list(self.notes),
        })

    def matrix(self, table: pd.DataFrame) -> pd.DataFrame:
        """The model's inputs for any customer table with the pipeline's columns."""
        return model_matrix(table, list(self.segment_names))


def segment_uplift(customers: pd.DataFrame) -> pd.DataFrame:
    """Per segment (as of the send date): customers per arm, response rates, uplift with its 95 % CI, and
    what it means for targeting."""
    rows = []
    for name, part in customers.groupby("segment", sort=True):
        t, c = part.loc[part["treated"], "responded"], part.loc[~part["treated"], "responded"]
        d = difference(t, c)
        if d.ci_low != d.ci_low:
            verdict = "too few customers"
        elif d.ci_low > 0:
            verdict = "the offer works"
        elif d.ci_high < 0:
            verdict = "the offer does harm"
        elif len(c) and c.mean() >= 0.5:
            verdict = "buy anyway: the offer is wasted"
        else:
            verdict = "no clear effect"
        rows.append({"segment": name, "n_treatment": len(t), "n_control": len(c),
                     "rate_treatment": float(t.mean()) if len(t) else np.nan,
                     "rate_control": float(c.mean()) if len(c) else np.nan,
                     "uplift": d.estimate, "ci_low": d.ci_low, "ci_high": d.ci_high, "verdict": verdict})
    return pd.DataFrame(rows)


def _evidence(customers: pd.DataFrame, seed: int) -> UpliftEvidence:
    y = customers["responded"].to_numpy(bool)
    t = customers["treated"].to_numpy(bool)
    model = customers["predicted_uplift"].to_numpy(float)
    churn = customers["churn_probability"].to_numpy(float)

    def paired(rows: np.ndarray) -> np.ndarray:
        return np.array([metrics.qini_coefficient(y[rows], model[rows], t[rows]),
                         metrics.qini_coefficient(y[rows], churn[rows], t[rows]),
                         metrics.auuc(y[rows], model[rows], t[rows])])

    draws, estimate = metrics.bootstrap(paired, t, seed=seed)
    gain = draws[:, 0] - draws[:, 1]
    curves = metrics.qini_curve(y, model, t).rename(columns={"incremental_responders": MODEL})
    curves[CHURN] = metrics.qini_curve(y, churn, t)["incremental_responders"]
    curves[RANDOM] = curves["targeted_fraction"] * curves[MODEL].iloc[-1]
    deciles = pd.concat([metrics.uplift_by_decile(y, model, t).assign(ranking=MODEL),
                         metrics.uplift_by_decile(y, churn, t).assign(ranking=CHURN)], ignore_index=True)
    return UpliftEvidence(
        n_customers=len(customers),
        qini=metrics.percentile_interval(draws[:, 0], estimate[0]),
        qini_churn=metrics.percentile_interval(draws[:, 1], estimate[1]),
        qini_gain=metrics.percentile_interval(gain, estimate[0] - estimate[1]),
        auuc=metrics.percentile_interval(draws[:, 2], estimate[2]),
        uplift_at_top=metrics.uplift_at(y, model, t, TOP_FRACTION),
        average_uplift=float(y[t].mean() - y[~t].mean()),
        curves=curves, deciles=deciles,
    )


def analyse_campaign(lines: pd.DataFrame, assignment: pd.DataFrame, sent_on: object, window_days: object,
                     as_of: pd.Timestamp, params: AnalysisParams | None = None, seed: int = 0) -> UpliftAnalysis:
    """Measure the test in the cleaned ``lines`` and learn who responds from features as of the send date."""
    params = params or AnalysisParams()
    measurement = measure_campaign(lines, assignment, sent_on, window_days, as_of)
    table, notes = features_as_of(lines, measurement.sent_on, params)
    customers = measurement.outcomes.join(table[["segment", "churn_probability"]], how="inner")
    segment_names = tuple(sorted(table["segment"].dropna().unique()))
    # a feature the log cannot give (e.g. products in an amount-only log) is all missing: leave it out
    X = model_matrix(table.loc[customers.index], list(segment_names)).dropna(axis=1, how="all")
    training = X.assign(treated=customers["treated"], responded=customers["responded"])
    responders = customers.groupby("treated")["responded"].sum()
    evidence = None
    if len(customers) < MIN_MODEL_CUSTOMERS or responders.min() < MIN_MODEL_RESPONDERS:
        notes.append(f"a model of who responds needs at least {MIN_MODEL_CUSTOMERS} customers and "
                     f"{MIN_MODEL_RESPONDERS} responders in each group; this test has {len(customers):,} "
                     f"customers and {int(responders.min())} responders in its smaller group")
        customers["predicted_uplift"] = measurement.rate_uplift.estimate
    else:
        held_out = learner.cross_fit(X, customers["treated"].to_numpy(), customers["responded"].to_numpy(),
                                     seed=seed)
        customers["predicted_uplift"] = held_out["uplift"]
        evidence = _evidence(customers, seed)
    return UpliftAnalysis(measurement, evidence, segment_uplift(customers), customers, training,
                          segment_names, tuple(measurement.notes) + tuple(notes))


@dataclass(frozen=True)
class CustomerUplift:
    """Each current customer's uplift for the ROI simulator: ``uplift`` (fraction, p1 - p0) and
    ``draws`` (n_draws x customers) for the Monte Carlo - bootstrap refits of the model, or the average's
    sampling distribution when the test shows no heterogeneity."""

    uplift: pd.Series
    draws: np.ndarray
    per_customer: bool
    source: str  # a sentence saying where the numbers come from


def score_customers(analysis: UpliftAnalysis, table: pd.DataFrame, n_draws: int = learner.N_MODEL_BOOTSTRAP,
                    seed: int = 0) -> CustomerUplift:
    """Predicted uplift for the customers of ``table`` (the pipeline's customer table, as of today)."""
    rate = analysis.measurement.rate_uplift
    if not analysis.use_model:
        se = (rate.ci_high - rate.ci_low) / (2 * 1.959964)
        draws = np.random.default_rng(seed).normal(rate.estimate, se, n_draws)[:, None] * np.ones(len(table))
        return CustomerUplift(pd.Series(rate.estimate, index=table.index, name="uplift"), draws, False,
                              "the measured average uplift for everyone (the test shows no differences "
                              "between customers)")
    missing = [c for c in analysis.training.columns if c not in ("treated", "responded")
               and not c.startswith("segment=") and c not in table.columns]
    if missing:
        raise DataError(f"the customer table lacks {', '.join(missing)}, which the uplift model needs")
    train = analysis.training
    X = train.drop(columns=["treated", "responded"])
    X_new = analysis.matrix(table)[X.columns]
    t, y = train["treated"].to_numpy(bool), train["responded"].to_numpy(bool)
    p0, p1 = learner.fit_predict(X, t, y, X_new, seed)
    draws = learner.bootstrap_uplift(X, t, y, X_new, n_draws, seed)
    return CustomerUplift(pd.Series(p1 - p0, index=table.index, name="uplift"), draws, True,
                          "each customer's uplift predicted by the model learned from the campaign test")





@dataclass(frozen=True)
class CampaignTest:
    """What the app keeps for one analysed test: the analysis, today's customers scored for the ROI
    simulator, and the results it belongs to (a test measured on other data must not be used)."""

    results_key: str
    analysis: UpliftAnalysis
    scored: CustomerUplift


def campaign_test(invoices: pd.DataFrame, customers: pd.DataFrame, assignment: pd.DataFrame, sent_on: object,
                  window_days: object, as_of: pd.Timestamp, params: AnalysisParams, results_key: str,
                  progress=None) -> CampaignTest:
    """``analyse_campaign`` on the invoice table, then ``score_customers`` on the results' customer table."""
    if progress:
        progress("Measuring the test and fitting the uplift model on customers it does not score")
    analysis = analyse_campaign(invoices, assignment, sent_on, window_days, as_of, params)
    if progress:
        progress("Scoring today's customers (with bootstrap refits for the uncertainty)")
    return CampaignTest(results_key, analysis, score_customers(analysis, customers))
