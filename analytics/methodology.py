"""All the methodology prose the app shows, in one place: how every number is made, in words for readers.

The Methodology tab renders these Markdown texts in order (:data:`SECTIONS`); the Journeys and ROI tabs
show their own section too. Numbers quoted in the text come from the constants the code uses, so the words
cannot drift from the computation. The statistics contract for developers is docs/architecture.md.
"""

from __future__ import annotations

from analytics.audience import AT_RISK_CHURN_PROBABILITY
from analytics.clv.tournament import MAX_CUSTOMERS
from analytics.journeys import DEFAULT_INACTIVE_DAYS
from analytics.roi.targeting import SURE_THING_MAX_SHARE, SURE_THING_P0
from analytics.roi.uncertainty import N_SIMS, RELATIVE, Z_90

DATA = """\
Everything is computed from the transaction log loaded on the Data tab, up to the as-of date (default: the
day after the last transaction). Cancellations are returns: they never count as purchases and their value is
netted from the customer's spend. Rows without a customer, with a non-positive price, exact duplicates and
non-product codes (postage, fees...) are removed; the data-quality report counts each rule.
"""

RFM = """\
- **Recency**: days from the customer's last purchase to the as-of date.
- **Frequency**: number of distinct purchase invoices.
- **Monetary**: net revenue, purchases minus returns, in the data's currency.

Each becomes a score from 1 to 5 by quintiles of ranks: customers are ranked (ties broken by order) and cut
into five equal groups, so each score holds a fifth of the customers. Recency is reversed, so 5 means the
most recent buyers.
"""

SEGMENTS = """\
A rule table over the R, F and M scores assigns every customer exactly one segment: rules are tried from the
top and the first match wins; the last row catches everyone left. The table is data, so it can be replaced
without touching code.
"""

CLV = f"""\
The **BG/NBD** model (Fader, Hardie & Lee 2005) describes purchases: while a customer is active they buy at
their own steady random (Poisson) rate, the rates varying across customers as a Gamma(r, α) distribution;
after each purchase a customer may drop out for good with their own probability, which varies across
customers as a Beta(a, b). Each customer is summarised by frequency (repeat purchase days: distinct purchase
days minus one), recency (first to last purchase) and T (first purchase to the end of the data), in days or
weeks as stated with the parameters.

**P(alive)** is the probability that a customer has not dropped out yet, given their history. A frequent
buyer who has gone quiet gets a low P(alive); a customer with a single purchase long ago is not necessarily
gone, because they may simply buy rarely. P(no purchase) is the probability of no purchase at all over the
CLV horizon.

The **Gamma-Gamma** model describes spend per purchase: it varies around each customer's own mean, and those
means vary across customers; a customer's expected spend is their average shrunk towards the population's,
more so when they bought few times. It assumes spend does not depend on how often a customer buys (the
frequency/spend correlation is reported with the parameters) and is fitted on repeat buyers only.

CLV over a horizon of H months = sum over the months m = 1..H of (expected purchases in month m) ×
(expected spend per purchase) × margin ÷ (1 + monthly discount rate)^m, in the data's currency. The models
are validated by fitting on a calibration period and comparing predictions with the holdout period (above).

Which purchase model feeds CLV is decided by a **tournament**: BG/NBD, MBG/NBD (a customer may also drop out
right at the first purchase), Pareto/NBD (drop-out at any time), gradient boosting on customer features
(trained on earlier windows of the same length, never on the window it is judged on) and the naive rate
(each customer's past repeat rate carried forward) all predict the same holdout. The best mean rank over
per-customer MAE and RMSE, aggregate error and revenue MAE wins, with two exceptions that keep noise from
deciding: among the BTYD models BG/NBD is kept unless another beats its per-customer MAE beyond noise (the
95 % confidence interval of the paired difference below zero), and gradient boosting must beat the BTYD model
the same way; the Data tab can override the choice. On a base of
more than {MAX_CUSTOMERS:,} calibration customers the tournament is run on a seeded random sample of {MAX_CUSTOMERS:,} of them; the
chosen model is then fitted on every customer.

Each customer's CLV and expected purchases carry an **80 % prediction interval**: the BTYD models are refitted
on bootstrap resamples of the customers (parameter uncertainty) and each customer's purchases and spend are
simulated from each refit (the model's own randomness); the interval is the shortest range holding 80 % of
the draws (most customers' likeliest future is no purchase, which a 10th-90th percentile range would mishandle). The
customer equity interval on the executive tower sums the same joint simulations. Gradient boosting and the
naive rate take their spread from how actual counts scattered around their predictions in the last backtest
window.
"""

CLV_REFERENCE = "Reference check: the code refits the published CDNOW example and compares with the paper."

CHURN = f"""\
A label that cannot leak: the cutoff is the as-of date minus the churn window. Features are computed only
from transactions before the cutoff; a customer who bought before the cutoff is labelled churned when they
made no purchase between the cutoff and the as-of date. The model is fitted on part of these customers and
evaluated on customers it has not seen (ROC AUC, PR AUC, Brier score, calibration) against baselines: a
recency rule and 1 − P(alive) from BG/NBD. On a large base (more than 40,000 labelled customers) the
fitting and evaluation use a random sample of 40,000 that keeps the churn rate; more customers did not
change which model wins or its held-out scores measurably. The model is then refitted (on at most 100,000
customers, sampled the same way) and scores every current customer with features as of the as-of date for
the coming window. Logistic regression is the default because it explains itself (odds ratios, each
customer's top drivers); with too little data a clearly flagged heuristic is used instead.

A customer is **at risk** when their churn probability is at least {AT_RISK_CHURN_PROBABILITY:.0%}: the tower's
count, the explorer's high-value at-risk list, the churn sliders and the command line's summary all use this
one rule. Without a churn model the tower falls back to the At Risk, Can't Lose Them and About To Sleep
segments, and says so.
"""

CLUSTERS = """\
Behavioural features are log-transformed (spend and counts are heavily skewed) and standardised so that no
feature dominates by its scale. K-means, a Gaussian mixture, agglomerative (Ward) clustering or DBSCAN group
the customers; k is chosen over a range by the silhouette score (on a sample for large data), with
Davies-Bouldin, Calinski-Harabasz and inertia/BIC shown alongside. Each cluster is named from its profile of
z-scores; DBSCAN's noise points form their own group.
"""

JOURNEYS = f"""\
**Segment journeys.** At each snapshot date (the end of every quarter or month, and the as-of date), each
customer's RFM segment is computed again from the transactions *before that date only*: the data are cut
at the snapshot before anything is calculated, so a snapshot can never use later purchases. Two extra
states complete the picture: *Not yet a customer* (first purchase after the snapshot) and *Inactive* (no
purchase for longer than the inactivity window at that snapshot, {DEFAULT_INACTIVE_DAYS} days by default). The last snapshot
is the as-of date, so the last period may be shorter than the others; its label says where it ends.

**Comparable scores.** By default the R, F and M scores are recomputed at every snapshot as quintiles of
the customers known at that date (*per-snapshot scoring*, the usual RFM convention). A score therefore
means the same thing at every snapshot: the customer's standing among the customer base of the day. This
matters because frequency and monetary value are cumulative: with thresholds fixed once, everybody looks
weaker at early snapshots simply because less history exists, and customers drift "up" over time without
buying more than their peers. The price of relative scores is that a customer can change segment because
others changed, and segment sizes stay roughly stable by construction; a shrinking or growing base shows
in the *Not yet a customer* and *Inactive* states instead. The alternative, *fixed scoring*, freezes the
score thresholds of a reference snapshot (the last one by default) and applies them to every snapshot
(a value scores where it would have ranked among the reference customers; tied values share one score).
It shows absolute change, but early snapshots are biased low for the reason above; and with a later
reference the yardstick, though never a customer's own later purchases, comes from a later date.

**Flows and revenue.** A flow counts the customers in one state at the first snapshot and another at the
second. Its revenue is, by choice, the net revenue (purchases minus returns) those customers brought in
the period ending at the first snapshot ("revenue at stake"), or between the two snapshots ("revenue
since"). Each customer's previous and current state and the date of their last change are exported with
the customer table. The headline sentences pick, between two snapshots, the move into a lapsing state
(Inactive, or a segment whose customers mostly have an R score of 1-2) holding the most revenue at stake,
the upward move bringing the most revenue since, the newcomers, those who went inactive, and how many of
the best segment stayed there.
"""
ROI = f"""\
**Incremental, not gross.** For each targeted customer: *p0* = probability of purchasing within the
campaign horizon without the offer (from the purchase model), *p1* = min(1, max(0, p0 + uplift)) with the
offer (uplift in percentage points, the same for everyone), *spend* = expected order value,
*m* = gross margin x spend, *d* = discount x spend, *r* = redemption (share of purchasers who use the
offer), *c* = contact cost per customer, *F* = fixed campaign cost.

- Incremental value of a customer = p1 (m - r d) - p0 m - c. Customers who would have bought anyway (p0)
  take the discount too: r p0 d is pure cost.
- Incremental margin = sum (p1 - p0) m; discount cost = r sum p1 d (of which r sum p0 d on purchases that
  would have happened anyway); contact cost = n c; total cost = discount + contact + F.
- Net profit = incremental margin - total cost; ROI = net profit / total cost.
- Expected incremental customers = sum (p1 - p0); cost per incremental customer = total cost / that.
- Break-even uplift: the uplift at which net profit = 0, solved exactly (including the cap p1 <= 1).
  There is none when discount x redemption >= gross margin (every sale with the offer loses money) or
  when even certain purchase by everyone does not pay.
- If the model's purchase probability is for a different horizon, it is converted assuming a constant
  purchase rate: p(h) = 1 - (1 - p(H))^(h / H).

**Who to target.** Customers are ranked by incremental value; the profit curve is the net profit of
targeting the top k (0 for nobody: no campaign, no fixed cost). Its maximum is the best audience size,
and no other subset of the audience does better. Warnings: the best is nobody; the targeted audience
loses money; more than {SURE_THING_MAX_SHARE:.0%} of it are "sure things" (p0 > {SURE_THING_P0:.0%}).

**Uncertainty.** Uplift and redemption are uncertain. Pessimistic / optimistic scenarios put each at
the worse / better end of its 90 % range (base +/- {Z_90:.3f} sd). The tornado moves one lever at a
time to its low and high value (uncertain levers over their 90 % range, the others +/- {RELATIVE:.0%})
and sorts levers by the swing in net profit. The Monte Carlo draws uplift ~ Normal(base, sd) and
redemption ~ Beta(mean, sd), independently ({N_SIMS:,} draws, fixed seed), computes net profit exactly
for each draw and reports the 5th, 50th and 95th percentiles and P(net profit > 0). An uplift estimated
from a past test is treated rate - control rate, with sd = sqrt(pt (1 - pt) / nt + pc (1 - pc) / nc).
"""

SECTIONS: tuple[tuple[str, str], ...] = (
    ("Data and the as-of date", DATA),
    ("RFM scores", RFM),
    ("Named segments", SEGMENTS),
    ("Customer lifetime value: BG/NBD and Gamma-Gamma", CLV),
    ("Churn label and model", CHURN),
    ("Clusters", CLUSTERS),
    ("Segment journeys", JOURNEYS),
    ("Campaign ROI", ROI),
)
"""(title, Markdown) of every methodology section, in the order the Methodology tab shows them."""
