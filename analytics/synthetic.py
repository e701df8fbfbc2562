"""A synthetic UK gift retailer in the raw UCI Online Retail columns, drawn from known model parameters.

Generative model (time in days, money in GBP), per customer i:

- **Birth** ``b_i`` in ``[start, end)``: the customer's first purchase. Its density per calendar day is
  proportional to ``ACQUISITION_WEIGHTS`` of the month: a Q4 peak of new customers.
- **BG/NBD**: ``lambda_i ~ Gamma(shape r, rate alpha)`` purchases per day, ``p_i ~ Beta(a, b)``. Repeat
  purchases follow a Poisson(``lambda_i``) process on ``(b_i, end)``; after each repeat purchase the
  customer drops out for good with probability ``p_i``.
- **Gamma-Gamma**: ``nu_i ~ Gamma(shape q, rate v)``; each purchase's spend ``z ~ Gamma(shape p, rate
  nu_i)``, rounded to pence (mean spend per purchase ``p * v / (q - 1)``). The product lines of the
  invoice add up to ``z`` exactly.

Seasonality enters only through birth dates (the models condition on them through ``T``) and the product
mix (christmas items peak in Q4), so both models hold exactly and a fit on the customers' purchase
invoices recovers ``SYNTHETIC_TRUTH`` up to sampling error. Times of day are drawn separately (shop
hours), so a calendar-day summary merges the rare repeat purchases made on one day.

Added on top of the model, each for a cleaning rule to catch: guest invoices without CustomerID (about
``guest_share`` of the rows), returns (``C`` invoices with negative quantities of items the customer
bought on one invoice, some days later), exact duplicate lines, non-product lines (``POST``, ``DOT``,
``M``, ``BANK CHARGES``) on top of the drawn spend, and zero-price stock adjustments without description.

**A past campaign test** (optional, ``CampaignParams``; on in the embedded dataset): on ``sent_on`` every
customer whose first purchase came before it is randomised to treatment or control. The offer's effect is
known and heterogeneous, through the customer's true state on the send date:

- *lost causes* (already dropped out, or alive but so rarely buying that their natural probability of
  buying in the window ``p0 = 1 - exp(-lambda * window)`` is below ``lost_cause_p0``) and *sure things*
  (alive, ``p0 >= sure_thing_p0``) are not moved;
- *persuadables* (alive, ``p0`` in between) make one extra purchase in the window with probability
  ``response_probability``: their uplift in the chance of buying is ``response_probability * (1 - p0)``;
- *sleeping dogs* (sure things who spend a lot, mean spend >= ``sleeping_dog_spend``) are put off: with
  probability ``harm_probability`` their natural purchases in the window (and returns of them) disappear,
  an uplift of ``-harm_probability * p0``.

The campaign draws from its own random stream, so the base log's draws are untouched: the log with the
campaign is the log without it, plus the response invoices, minus the suppressed ones, with invoices
numbered in time order again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analytics.errors import DataError

# Relative density of new customers per calendar day, by month (Jan..Dec): the Q4 peak.
ACQUISITION_WEIGHTS: tuple[float, ...] = (1.0, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 1.1, 1.3, 1.7, 2.3, 1.8)
# Multiplier of the christmas category's share of lines, by month (Jan..Dec).
CHRISTMAS_SEASON: tuple[float, ...] = (0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.4, 0.8, 1.5, 2.5, 3.5, 2.5)

_COUNTRIES = {
    "United Kingdom": 0.82, "Germany": 0.035, "France": 0.03, "EIRE": 0.02, "Spain": 0.012,
    "Netherlands": 0.012, "Belgium": 0.011, "Switzerland": 0.01, "Portugal": 0.009, "Australia": 0.008,
    "Norway": 0.007, "Italy": 0.007, "Channel Islands": 0.006, "Finland": 0.005, "Sweden": 0.004,
    "Denmark": 0.004,
}
# (share of lines, price range GBP, items); descriptions are "<PATTERN> <ITEM>"
_CATEGORIES = {
    "christmas": (0.10, (0.29, 4.95), ("CHRISTMAS BAUBLE", "CHRISTMAS TREE DECORATION", "CHRISTMAS STOCKING",
                                       "ADVENT CALENDAR", "PAPER CHAIN KIT CHRISTMAS", "CHRISTMAS WREATH",
                                       "SANTA GIFT WRAP", "SNOWFLAKE HANGING DECORATION")),
    "bags": (0.15, (0.85, 2.55), ("JUMBO BAG", "LUNCH BAG", "SHOPPER BAG", "CHARLOTTE BAG", "TOTE BAG",
                                  "RECYCLING BAG")),
    "kitchen": (0.25, (0.42, 8.50), ("CAKE TIN", "TEA TOWEL", "MUG", "BAKING SET", "CAKE STAND", "JAM JAR",
                                     "LUNCH BOX", "CAKE CASES", "TEACUP AND SAUCER", "CUTLERY SET")),
    "candles": (0.18, (0.29, 4.25), ("T-LIGHT HOLDER", "SCENTED CANDLE", "PILLAR CANDLE", "CANDLE POT",
                                     "METAL LANTERN", "HANGING T-LIGHT")),
    "stationery": (0.15, (0.19, 2.10), ("NOTEBOOK", "GREETING CARD", "WRAPPING PAPER", "PENCIL SET",
                                        "STICKER SHEET", "GIFT TAG SET", "PARTY BUNTING")),
    "home_decor": (0.17, (0.85, 12.75), ("PHOTO FRAME", "WALL CLOCK", "DOORMAT", "CUSHION COVER",
                                         "METAL SIGN", "WICKER HEART", "STORAGE BASKET")),
}
_PATTERNS = ("RED RETROSPOT", "PINK POLKADOT", "VINTAGE DOILY", "REGENCY", "PAISLEY", "WOODLAND", "SKULL",
             "FLORAL", "BLUE SPOTTY", "WHITE HEART", "IVORY", "GREEN")
# (code, description, probability per invoice in the UK, abroad, price range GBP)
_NON_PRODUCT = (
    ("DOT", "DOTCOM POSTAGE", 0.02, 0.0, (10.0, 250.0)),
    ("POST", "POSTAGE", 0.0, 0.45, (15.0, 40.0)),
    ("M", "Manual", 0.004, 0.004, (0.5, 60.0)),
    ("BANK CHARGES", "Bank Charges", 0.001, 0.003, (15.0, 15.0)),
)
_HOUR_WEIGHTS = {7: 0.5, 8: 3, 9: 6, 10: 9, 11: 11, 12: 12, 13: 11, 14: 10, 15: 8, 16: 5, 17: 2, 18: 1,
                 19: 0.5, 20: 0.3}
_PACK_SIZES = (1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 25, 30, 32, 36, 48, 50, 72, 96, 100, 144)
_FIRST_INVOICE = 536365
_FIRST_CUSTOMER = 12346
_CATALOGUE_SEED = 20101201  # the catalogue is the same for every seed
# Line product codes: >= 0 a catalogue product, -1 - k the k-th non-product line, <= _ADJUSTMENT a
# zero-price adjustment of catalogue product _ADJUSTMENT - code (written without description).
_ADJUSTMENT = -1_000_000
UCI_COLUMNS = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID",
               "Country"]


@dataclass(frozen=True)
class RetailParams:
    """Generating parameters; rates per day, money in GBP."""

    r: float = 0.75  # BG/NBD purchase-rate shape
    alpha: float = 40.0  # BG/NBD purchase-rate scale, days (mean rate r/alpha per day)
    a: float = 0.8  # BG/NBD dropout Beta(a, b)
    b: float = 2.5
    gg_p: float = 6.0  # Gamma-Gamma shape of spend per purchase
    gg_q: float = 4.0  # Gamma-Gamma shape of the customer's rate nu
    gg_v: float = 150.0  # Gamma-Gamma rate of nu, GBP (mean spend p*v/(q-1) = 300)
    start: str = "2010-12-01"
    end: str = "2011-12-10"  # exclusive: the default as-of date of the generated log
    line_value: float = 40.0  # GBP of spend per extra line: lines = 1 + Poisson(spend / line_value)
    max_lines: int = 60
    guest_share: float = 0.20  # share of product lines on guest invoices (no CustomerID)
    return_rate: float = 0.06  # share of customers' invoices with a later return
    full_return_share: float = 0.15  # of those, the share returned entirely
    mean_return_delay_days: float = 10.0
    duplicate_rate: float = 0.01  # share of product lines written twice
    adjustment_rate: float = 0.002  # zero-price adjustment lines per product line

    def truth(self) -> dict:
        """JSON-safe description of the truth, nested by model."""
        d = asdict(self)
        return {
            "time_unit": "days",
            "currency": "GBP",
            "bgnbd": {k: d.pop(k) for k in ("r", "alpha", "a", "b")},
            "gamma_gamma": {"p": d.pop("gg_p"), "q": d.pop("gg_q"), "v": d.pop("gg_v")},
            "mean_spend_per_purchase": self.gg_p * self.gg_v / (self.gg_q - 1),
            "acquisition_weights": list(ACQUISITION_WEIGHTS),
            **d,
        }


SYNTHETIC_TRUTH: dict = RetailParams().truth()


@dataclass(frozen=True)
class CampaignParams:
    """A randomised campaign test inside the synthetic log (see the module docstring)."""

    sent_on: str = "2011-10-15"
    window_days: int = 30
    treatment_share: float = 0.5
    response_probability: float = 0.45  # persuadables: chance of an extra purchase in the window
    lost_cause_p0: float = 0.1  # natural chance of buying in the window below which the offer is not heard
    sure_thing_p0: float = 0.5  # natural chance of buying in the window above which the offer changes nothing
    sleeping_dog_spend: float = 450.0  # GBP mean spend per purchase from which a sure thing is put off
    harm_probability: float = 0.3  # sleeping dogs: chance their window purchases disappear


DEFAULT_CAMPAIGN = CampaignParams()
_CAMPAIGN_STREAM = 14  # the campaign's random stream: default_rng([seed, _CAMPAIGN_STREAM])


@dataclass
class SyntheticCampaign:
    """The campaign test in the log: its assignment file and the truth behind it.

    ``assignment``: customer_id (string), group (treatment/control) - exactly what a user would upload.
    ``customers``: per assigned customer, the truth on the send date: customer_id, group, truth_class
    (persuadable, sure thing, lost cause, sleeping dog), alive, p0 (natural chance of buying in the
    window), true_uplift (expected change in that chance), true_uplift_revenue (expected change in window
    revenue, GBP; for sleeping dogs from the Poisson rate, ignoring dropout within the window), mean_spend
    (expected spend per purchase, GBP).
    """

    params: CampaignParams
    assignment: pd.DataFrame
    customers: pd.DataFrame

    @property
    def sent_on(self) -> pd.Timestamp:
        return pd.Timestamp(self.params.sent_on)

    @property
    def window_days(self) -> int:
        return int(self.params.window_days)

    @property
    def true_average_uplift(self) -> float:
        """The expected uplift in the response rate over the assigned customers (what a test estimates)."""
        return float(self.customers["true_uplift"].mean())


@dataclass
class SyntheticRetail:
    """The generated log (raw UCI columns) and the truth behind it.

    ``customers`` has one row per modelled customer: CustomerID, Country, first_purchase, T_days (days from
    birth to end), lambda_per_day, p_dropout, alive_at_end, repeat_purchases, nu, mean_spend (= p / nu, GBP).
    """

    transactions: pd.DataFrame
    customers: pd.DataFrame
    truth: dict
    campaign: SyntheticCampaign | None = None


def generate_retail(n_rows: int = 100_000, seed: int = 0, *, params: RetailParams | None = None,
                    campaign: CampaignParams | None = None) -> pd.DataFrame:
    """About ``n_rows`` invoice lines in UCI columns; deterministic per (n_rows, seed, params, campaign).

    ``attrs["truth"]`` holds the generating parameters; ``simulate_retail`` also returns per-customer truth.
    """
    return simulate_retail(n_rows, seed, params=params, campaign=campaign).transactions


def simulate_retail(n_rows: int = 100_000, seed: int = 0, *, params: RetailParams | None = None,
                    campaign: CampaignParams | None = None) -> SyntheticRetail:
    """The log and its truth. The number of customers grows with ``n_rows``. With ``campaign``, the log
    holds that randomised test too (see the module docstring)."""
    params = params or RetailParams()
    if int(n_rows) < 1:
        raise DataError(f"the synthetic log needs at least 1 row; got n_rows={n_rows}")
    campaign_rng = np.random.default_rng([seed, _CAMPAIGN_STREAM]) if campaign else None
    simulated = _Simulation(params, np.random.default_rng(seed)).run(int(n_rows), campaign, campaign_rng)
    simulated.truth["seed"] = seed
    return simulated


# ---------------------------------------------------------------------------------------------- internals


def _catalogue() -> pd.DataFrame:
    """Products: stock code, description, category, list price (GBP) and popularity within the category."""
    rng = np.random.default_rng(_CATALOGUE_SEED)
    rows = []
    for category, (_, (low, high), items) in _CATEGORIES.items():
        for item in items:
            base = np.exp(rng.uniform(np.log(low), np.log(high)))
            for pattern in rng.permutation(_PATTERNS)[: rng.integers(4, len(_PATTERNS) + 1)]:
                price = np.round(base * rng.uniform(0.85, 1.15), 2)
                rows.append((category, f"{pattern} {item}", max(price, 0.19)))
    frame = pd.DataFrame(rows, columns=["category", "description", "price"])
    codes = rng.choice(np.arange(20600, 23900), size=len(frame), replace=False)
    suffix = rng.choice(["", "", "", "A", "B", "C"], size=len(frame))
    frame["stock_code"] = [f"{c}{s}" for c, s in zip(codes, suffix)]
    frame["popularity"] = 1.0 / (rng.permutation(frame.groupby("category").cumcount().to_numpy()) + 3.0)
    return frame


def _pack_size(pence: np.ndarray, list_price: np.ndarray) -> np.ndarray:
    """The pack size that divides ``pence`` with a unit price nearest the list price (1 always divides)."""
    sizes = np.array(_PACK_SIZES)
    unit = pence[:, None] / sizes[None, :]
    distance = np.abs(np.log(unit / list_price[:, None]))
    distance[pence[:, None] % sizes[None, :] != 0] = np.inf
    return sizes[np.argmin(distance, axis=1)]


def _grouped_cumsum(values: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Cumulative sums restarting at each group of consecutive ``sizes`` elements."""
    total = np.cumsum(values)
    starts = np.cumsum(sizes) - sizes
    before = np.concatenate([[0.0], total])[starts]
    return total - np.repeat(before, sizes)


class _Simulation:
    def __init__(self, params: RetailParams, rng: np.random.Generator):
        self.p = params
        self.rng = rng
        self.start = pd.Timestamp(params.start)
        self.horizon = (pd.Timestamp(params.end) - self.start) / pd.Timedelta(days=1)
        days = pd.date_range(self.start, periods=int(np.ceil(self.horizon)), freq="D")
        self.day_month = days.month.to_numpy() - 1
        weights = np.asarray(ACQUISITION_WEIGHTS)[self.day_month]
        weights[-1] *= self.horizon - (len(days) - 1)  # a partial last day
        self.day_cdf = np.cumsum(weights) / weights.sum()
        self.countries = np.array(list(_COUNTRIES))
        share = np.array(list(_COUNTRIES.values()))
        self.country_cdf = np.cumsum(share) / share.sum()
        self.products = _catalogue()
        hours = np.array(list(_HOUR_WEIGHTS))
        hour_p = np.array(list(_HOUR_WEIGHTS.values()), dtype=float)
        self.hours, self.hour_cdf = hours, np.cumsum(hour_p) / hour_p.sum()

    # --------------------------------------------------------------------------------- customers
    def _customers(self, n: int) -> dict[str, np.ndarray]:
        p, rng = self.p, self.rng
        birth = np.searchsorted(self.day_cdf, rng.random(n), side="right") + rng.random(n)
        birth = np.minimum(birth, self.horizon - 1e-6)
        T = self.horizon - birth
        lam = rng.gamma(p.r, 1.0 / p.alpha, n)
        drop = rng.beta(p.a, p.b, n)
        arrivals = rng.poisson(lam * T)
        death = rng.geometric(np.clip(drop, 1e-12, 1.0))  # dropout after this repeat purchase
        repeats = np.minimum(arrivals, death)
        # the first `repeats` of `arrivals` uniform order statistics on (0, T), by successive minima
        owner = np.repeat(np.arange(n), repeats)
        rank = np.arange(len(owner)) - np.repeat(np.cumsum(repeats) - repeats, repeats)
        log_gap = np.log(rng.random(len(owner))) / (arrivals[owner] - rank)
        fraction = 1.0 - np.exp(_grouped_cumsum(log_gap, repeats))
        nu = rng.gamma(p.gg_q, 1.0 / p.gg_v, n)
        invoice_owner = np.concatenate([np.arange(n), owner])
        invoice_time = np.concatenate([birth, birth[owner] + T[owner] * fraction])
        spend, lines = self._spend(nu[invoice_owner])
        # the customer drops out right after their last repeat purchase when `death` came before the end
        last_repeat = np.full(n, np.inf)
        last_repeat[owner] = birth[owner] + T[owner] * fraction  # purchase times rise within a customer
        dropout = np.where(arrivals < death, np.inf, last_repeat)
        return {
            "birth": birth, "T": T, "lam": lam, "drop": drop, "alive": arrivals < death, "repeats": repeats,
            "dropout": dropout,
            "nu": nu, "country": np.searchsorted(self.country_cdf, rng.random(n), side="right"),
            "inv_owner": invoice_owner, "inv_time": invoice_time, "inv_spend": spend, "inv_lines": lines,
            "lines": np.bincount(invoice_owner, weights=lines, minlength=n),
        }

    def _spend(self, nu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Spend per purchase in pence (>= 1) and its number of product lines (never above spend in GBP)."""
        p, rng = self.p, self.rng
        pence = np.maximum(np.rint(rng.gamma(p.gg_p, 1.0 / nu) * 100), 1).astype(np.int64)
        lines = 1 + rng.poisson(pence / 100 / p.line_value)
        lines = np.minimum(lines, np.maximum(1, np.minimum(p.max_lines, pence // 100)))
        return pence, lines

    def _draw_customers(self, target_lines: float) -> dict[str, np.ndarray]:
        """Customers in chunks until their product lines reach the target; the last chunk is cut."""
        chunks, done, size = [], 0.0, max(64, int(target_lines / 25))
        while True:
            chunk = self._customers(size)
            reached = done + np.cumsum(chunk["lines"])
            if reached[-1] >= target_lines:
                keep = int(np.searchsorted(reached, target_lines)) + 1
                kept = chunk["inv_owner"] < keep
                chunks.append({k: v[kept] if k.startswith("inv_") else v[:keep] for k, v in chunk.items()})
                break
            chunks.append(chunk)
            rate = max((reached[-1] - done) / size, 1e-9)  # lines per customer so far
            done = reached[-1]
            size = max(64, int((target_lines - done) / rate * 1.05) + 1)
        offsets = np.cumsum([0] + [len(c["birth"]) for c in chunks[:-1]])
        out = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0] if k != "inv_owner"}
        out["inv_owner"] = np.concatenate([c["inv_owner"] + o for c, o in zip(chunks, offsets)])
        return out

    # --------------------------------------------------------------------------------------- run
    def run(self, n_rows: int, campaign: CampaignParams | None = None,
            campaign_rng: np.random.Generator | None = None) -> SyntheticRetail:
        p, rng = self.p, self.rng
        overhead = 1 + p.duplicate_rate + p.adjustment_rate + p.return_rate * 0.5
        cust = self._draw_customers(n_rows * (1 - p.guest_share) / overhead)
        n_customers = len(cust["birth"])
        customer_ids = _FIRST_CUSTOMER + rng.permutation(n_customers)

        # purchase invoices: the customers' and the guests'
        guest_time, guest_spend, guest_lines = self._guests(n_rows * p.guest_share / overhead)
        n_guest = len(guest_time)
        guest_country = np.where(rng.random(n_guest) < 0.95, 0,
                                 np.searchsorted(self.country_cdf, rng.random(n_guest), side="right"))
        owner = np.concatenate([cust["inv_owner"], np.full(n_guest, -1)])
        day = np.floor(np.concatenate([cust["inv_time"], guest_time])).astype(np.int64)
        spend = np.concatenate([cust["inv_spend"], guest_spend])
        n_lines = np.concatenate([cust["inv_lines"], guest_lines])
        country = np.concatenate([cust["country"][cust["inv_owner"]], guest_country])
        minute = self._minute_of_day(len(day))
        when = day * 1440 + minute  # minutes since start

        lines = self._product_lines(spend, n_lines, self.day_month[np.minimum(day, len(self.day_month) - 1)])
        lines = self._add_non_product_lines(lines, country)
        returns, ret_invoices = self._returns(lines, owner, when)
        adjustments, adj_invoices = self._adjustments(len(lines["invoice"]), day.max())

        inv_owner = np.concatenate([owner, owner[ret_invoices["source"]], np.full(len(adj_invoices), -1)])
        inv_when = np.concatenate([when, ret_invoices["when"], adj_invoices])
        inv_country = np.concatenate([country, country[ret_invoices["source"]],
                                      np.zeros(len(adj_invoices), int)])
        inv_cancel = np.concatenate([np.zeros(len(when), bool), np.ones(len(ret_invoices["when"]), bool),
                                     np.zeros(len(adj_invoices), bool)])
        n_purchase, n_return = len(when), len(ret_invoices["when"])
        returns["invoice"] = returns["invoice"] + n_purchase
        adjustments["invoice"] = adjustments["invoice"] + n_purchase + n_return
        rows = {k: np.concatenate([lines[k], returns[k], adjustments[k]]) for k in lines}
        rows = self._duplicate(rows)
        test = None
        if campaign is not None:
            invoices = {"owner": inv_owner, "when": inv_when, "country": inv_country, "cancel": inv_cancel,
                        "return_source": ret_invoices["source"], "n_purchase": n_purchase}
            rows, invoices, test = _Campaign(self, campaign, campaign_rng).apply(rows, invoices, cust,
                                                                                  customer_ids)
            inv_owner, inv_when, inv_country, inv_cancel = (invoices[k] for k in ("owner", "when", "country",
                                                                                  "cancel"))

        frame = self._frame(rows, inv_owner, inv_when, inv_country, inv_cancel, customer_ids)
        truth = {**p.truth(), "n_customers": int(n_customers), "n_rows_target": int(n_rows)}
        frame.attrs["truth"] = truth
        customers = pd.DataFrame({
            "CustomerID": customer_ids,
            "Country": self.countries[cust["country"]],
            "first_purchase": self.start + pd.to_timedelta(np.floor(cust["birth"]), unit="D"),
            "T_days": cust["T"],
            "lambda_per_day": cust["lam"],
            "p_dropout": cust["drop"],
            "alive_at_end": cust["alive"],
            "repeat_purchases": cust["repeats"],
            "nu": cust["nu"],
            "mean_spend": p.gg_p / cust["nu"],
        })
        if test is not None:
            truth["campaign"] = {**asdict(campaign), "true_average_uplift": test.true_average_uplift}
        return SyntheticRetail(frame, customers, truth, test)

    def _guests(self, target_lines: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Guest invoices (time in days, spend in pence, lines) until their lines reach the target."""
        rng, p = self.rng, self.p
        times, spends, lines, done = [np.zeros(0)], [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], 0
        while done < target_lines:
            mean_lines = 1 + p.gg_p * p.gg_v / max(p.gg_q - 1, 0.5) / p.line_value
            n = max(16, int((target_lines - done) / mean_lines * 1.2))
            time = np.searchsorted(self.day_cdf, rng.random(n), side="right") + rng.random(n)
            spend, count = self._spend(rng.gamma(p.gg_q, 1.0 / p.gg_v, n))
            keep = int(np.searchsorted(done + np.cumsum(count), target_lines)) + 1
            times.append(time[:keep])
            spends.append(spend[:keep])
            lines.append(count[:keep])
            done += int(count[:keep].sum())
        return np.concatenate(times), np.concatenate(spends), np.concatenate(lines)

    def _minute_of_day(self, n: int) -> np.ndarray:
        hour = self.hours[np.searchsorted(self.hour_cdf, self.rng.random(n), side="right")]
        return hour * 60 + self.rng.integers(0, 60, n)

    def _product_lines(self, spend: np.ndarray, n_lines: np.ndarray,
                       month: np.ndarray) -> dict[str, np.ndarray]:
        """Lines whose quantity x price (pence) add up to each invoice's spend; the last line takes the rest
        in a pack size that divides it exactly."""
        rng, products = self.rng, self.products
        invoice = np.repeat(np.arange(len(spend)), n_lines)
        position = np.arange(len(invoice)) - np.repeat(np.cumsum(n_lines) - n_lines, n_lines)
        last = position == n_lines[invoice] - 1
        # category by month (christmas in season), then a product by popularity within the category
        names = list(_CATEGORIES)
        base = np.array([_CATEGORIES[c][0] for c in names])
        season = np.outer(CHRISTMAS_SEASON, np.array(names) == "christmas") + (np.array(names) != "christmas")
        by_month = base * season
        cdf = np.cumsum(by_month, axis=1) / by_month.sum(axis=1, keepdims=True)
        category = (rng.random(len(invoice))[:, None] > cdf[month[invoice]]).sum(axis=1)
        category = np.minimum(category, len(names) - 1)
        cat_of_product = products["category"].map({c: i for i, c in enumerate(names)}).to_numpy()
        order = np.argsort(cat_of_product, kind="stable")
        popularity = products["popularity"].to_numpy()[order]
        sizes = np.bincount(cat_of_product, minlength=len(names))
        totals = np.add.reduceat(popularity, np.cumsum(sizes) - sizes)
        within = _grouped_cumsum(popularity, sizes) / np.repeat(totals, sizes)
        keys = np.repeat(np.arange(len(names)), sizes) + np.minimum(within, 1.0)
        found = np.searchsorted(keys, category + rng.random(len(invoice)))
        product = order[np.minimum(found, len(order) - 1)]
        # rounding can step past a category's last product: take that last product instead
        last_of_category = order[np.cumsum(sizes)[category] - 1]
        product = np.where(cat_of_product[product] == category, product, last_of_category)
        # split the spend: every line gets at least half of an equal share
        g = rng.gamma(2.0, 1.0, len(invoice))
        share = 0.5 / n_lines[invoice] + 0.5 * g / np.bincount(invoice, weights=g)[invoice]
        target = spend[invoice] * share  # pence
        list_price = np.rint(products["price"].to_numpy()[product] * 100)
        quantity = np.maximum(1, np.rint(target / list_price)).astype(np.int64)
        price = np.maximum(np.floor(target / quantity), 1).astype(np.int64)
        quantity[last], price[last] = 0, 0
        rest = spend - np.bincount(invoice, weights=quantity * price, minlength=len(spend)).astype(np.int64)
        quantity[last] = _pack_size(rest, list_price[last])
        price[last] = rest // quantity[last]
        return {"invoice": invoice, "position": position, "product": product, "quantity": quantity,
                "price": price, "duplicable": np.ones(len(invoice), bool)}

    def _add_non_product_lines(self, lines: dict, country: np.ndarray) -> dict[str, np.ndarray]:
        """Postage, manual and bank-charge lines (on top of the drawn spend), after the product lines."""
        rng, n = self.rng, len(country)
        abroad = country != 0
        extra = {k: [v] for k, v in lines.items()}
        next_position = np.bincount(lines["invoice"], minlength=n)
        for k, (_, _, uk, foreign, (low, high)) in enumerate(_NON_PRODUCT):
            chosen = np.flatnonzero(rng.random(n) < np.where(abroad, foreign, uk))
            extra["invoice"].append(chosen)
            extra["position"].append(next_position[chosen])
            next_position[chosen] += 1
            extra["product"].append(np.full(len(chosen), -1 - k))
            extra["quantity"].append(np.ones(len(chosen), np.int64))
            extra["price"].append(np.rint(rng.uniform(low, high, len(chosen)) * 100).astype(np.int64))
            extra["duplicable"].append(np.zeros(len(chosen), bool))
        return {k: np.concatenate(v) for k, v in extra.items()}

    def _returns(self, lines: dict, owner: np.ndarray, when: np.ndarray) -> tuple[dict, dict]:
        """C-invoices returning some (or all) product lines of a customer's earlier invoice."""
        p, rng = self.p, self.rng
        eligible = (owner >= 0) & (rng.random(len(owner)) < p.return_rate)
        delay = np.ceil(rng.exponential(p.mean_return_delay_days * 1440, len(owner))).astype(np.int64)
        eligible &= when + delay < self.horizon * 1440
        source = np.flatnonzero(eligible)
        full = np.zeros(len(owner), bool)
        full[source] = rng.random(len(source)) < p.full_return_share
        product_line = lines["product"] >= 0
        on_source = eligible[lines["invoice"]] & product_line
        chosen = on_source & (full[lines["invoice"]] | (rng.random(len(on_source)) < 0.35))
        first_line = on_source & (lines["position"] == 0)
        none_chosen = np.bincount(lines["invoice"], weights=chosen, minlength=len(owner)) == 0
        chosen |= first_line & none_chosen[lines["invoice"]]
        idx = np.flatnonzero(chosen)
        bought = lines["quantity"][idx]
        partial = np.maximum(1, np.rint(bought * rng.uniform(0.2, 1.0, len(idx)))).astype(np.int64)
        quantity = -np.where(full[lines["invoice"][idx]], bought, partial)
        new_number = np.full(len(owner), -1)
        new_number[source] = np.arange(len(source))
        returns = {
            "invoice": new_number[lines["invoice"][idx]], "position": lines["position"][idx],
            "product": lines["product"][idx], "quantity": quantity, "price": lines["price"][idx],
            "duplicable": np.zeros(len(idx), bool),
        }
        return returns, {"source": source, "when": when[source] + delay[source]}

    def _adjustments(self, n_product_lines: int, last_day: int) -> tuple[dict, np.ndarray]:
        """Single-line guest invoices at price 0 with no description: stock corrections."""
        rng = self.rng
        n = int(rng.binomial(n_product_lines, self.p.adjustment_rate))
        day = rng.integers(0, last_day + 1, n)
        rows = {
            "invoice": np.arange(n), "position": np.zeros(n, np.int64),
            "product": _ADJUSTMENT - rng.integers(0, len(self.products), n),
            "quantity": rng.choice([-1, 1], n) * rng.integers(1, 100, n),
            "price": np.zeros(n, np.int64), "duplicable": np.zeros(n, bool),
        }
        return rows, day * 1440 + self._minute_of_day(n)

    def _duplicate(self, rows: dict) -> dict:
        """Write a few product lines twice, the copy right after the original."""
        drawn = self.rng.random(len(rows["invoice"])) < self.p.duplicate_rate
        copy = np.flatnonzero(rows["duplicable"] & drawn)
        order = np.concatenate([np.arange(len(rows["invoice"])), copy])
        out = {k: v[order] for k, v in rows.items()}
        out["is_copy"] = np.arange(len(order)) >= len(rows["invoice"])
        return out

    def _frame(self, rows: dict, inv_owner, inv_when, inv_country, inv_cancel, customer_ids) -> pd.DataFrame:
        """Raw UCI columns; invoices numbered in time order, lines in invoice order, copies last."""
        rank = np.empty(len(inv_when), np.int64)
        rank[np.lexsort((inv_cancel, inv_when))] = np.arange(len(inv_when))
        numbers = pc.cast(pa.array(_FIRST_INVOICE + rank), pa.string())
        numbers = pc.if_else(pa.array(inv_cancel), pc.binary_join_element_wise("C", numbers, ""), numbers)
        invoice = rows["invoice"]
        key = (rank[invoice] << 16 | rows["position"]) << 1 | rows["is_copy"]
        line_order = np.argsort(key, kind="stable")
        invoice, product = invoice[line_order], rows["product"][line_order]

        codes = pa.array([c for c, *_ in _NON_PRODUCT] + list(self.products["stock_code"]))
        texts = pa.array([d for _, d, *_ in _NON_PRODUCT] + list(self.products["description"]))
        adjustment = product <= _ADJUSTMENT
        catalogue = np.where(adjustment, _ADJUSTMENT - product, product)
        index = np.where((product < 0) & ~adjustment, -1 - product, catalogue + len(_NON_PRODUCT))
        owner = inv_owner[invoice]
        customer = np.where(owner >= 0, customer_ids[np.maximum(owner, 0)], np.nan)
        when = self.start.to_datetime64().astype("datetime64[m]") + inv_when[invoice].astype("timedelta64[m]")
        table = pa.table({
            "InvoiceNo": numbers.take(pa.array(invoice)),
            "StockCode": codes.take(pa.array(index)),
            "Description": texts.take(pa.array(index, mask=adjustment)),
            "Quantity": pa.array(rows["quantity"][line_order]),
            "InvoiceDate": pa.array(when.astype("datetime64[ns]")),
            "UnitPrice": pa.array(rows["price"][line_order] / 100.0),
            "CustomerID": pa.array(customer.astype(float)),
            "Country": pa.array(self.countries).take(pa.array(inv_country[invoice])),
        })
        return table.to_pandas()


class _Campaign:
    """Adds a randomised campaign test to a simulated log (see the module docstring)."""

    def __init__(self, simulation: _Simulation, params: CampaignParams, rng: np.random.Generator):
        self.sim, self.c, self.rng = simulation, params, rng
        # invoices and lines of the responses come from the campaign's own stream
        self.draw = _Simulation(simulation.p, rng)

    def apply(self, rows: dict, invoices: dict, cust: dict, customer_ids: np.ndarray):
        c, rng, sim = self.c, self.rng, self.sim
        send = (pd.Timestamp(c.sent_on) - sim.start) / pd.Timedelta(days=1)
        if not 0 < send < sim.horizon - c.window_days:
            raise DataError(f"the campaign's send date {c.sent_on} and {c.window_days}-day window must lie "
                            f"inside the log ({sim.p.start} to {sim.p.end})")
        assigned = np.flatnonzero(np.floor(cust["birth"]) < send)  # bought before the send date
        n = len(assigned)
        treated = np.zeros(n, bool)
        treated[rng.permutation(n)[: round(c.treatment_share * n)]] = True
        lam, nu = cust["lam"][assigned], cust["nu"][assigned]
        alive = cust["dropout"][assigned] > send
        p0 = alive * -np.expm1(-lam * c.window_days)
        mean_spend = sim.p.gg_p / nu
        sure = alive & (p0 >= c.sure_thing_p0)
        persuadable = alive & ~sure & (p0 >= c.lost_cause_p0)
        sleeping = sure & (mean_spend >= c.sleeping_dog_spend)
        responds = persuadable & (rng.random(n) < c.response_probability)
        put_off = sleeping & (rng.random(n) < c.harm_probability)
        truth_class = np.select([persuadable, sleeping, sure], ["persuadable", "sleeping dog", "sure thing"],
                                "lost cause")
        true_uplift = np.where(persuadable, c.response_probability * (1 - p0), 0.0)
        true_uplift = np.where(sleeping, -c.harm_probability * p0, true_uplift)
        window_revenue = lam * c.window_days * mean_spend  # expected natural purchases x spend, if alive
        true_revenue = np.where(persuadable, c.response_probability * mean_spend, 0.0)
        true_revenue = np.where(sleeping, -c.harm_probability * window_revenue, true_revenue)

        rows, invoices = self._suppress(rows, invoices, assigned[treated & put_off], send)
        rows, invoices = self._respond(rows, invoices, assigned[treated & responds], cust, send)
        ids = pd.array(customer_ids[assigned].astype(str), dtype="string")
        group = np.where(treated, "treatment", "control")
        customers = pd.DataFrame({
            "customer_id": ids, "group": group, "truth_class": truth_class, "alive": alive, "p0": p0,
            "true_uplift": true_uplift, "true_uplift_revenue": true_revenue, "mean_spend": mean_spend,
        }).sort_values("customer_id", ignore_index=True)
        return rows, invoices, SyntheticCampaign(c, customers[["customer_id", "group"]].copy(), customers)

    def _suppress(self, rows: dict, invoices: dict, put_off: np.ndarray, send: float):
        """Drop the put-off customers' purchase invoices in the window and the returns of them."""
        start, end = send * 1440, (send + self.c.window_days) * 1440
        n_purchase = invoices["n_purchase"]
        owner, when = invoices["owner"][:n_purchase], invoices["when"][:n_purchase]
        gone = np.zeros(len(invoices["owner"]), bool)
        gone[:n_purchase] = np.isin(owner, put_off) & (when >= start) & (when < end)
        source = invoices["return_source"]
        gone[n_purchase: n_purchase + len(source)] = gone[source]
        keep = ~gone[rows["invoice"]]
        return {k: v[keep] for k, v in rows.items()}, invoices

    def _respond(self, rows: dict, invoices: dict, buyers: np.ndarray, cust: dict, send: float):
        """One purchase invoice per responder at a random time in the window, spend drawn as any other."""
        draw, n = self.draw, len(buyers)
        day = np.floor(send + self.rng.random(n) * self.c.window_days).astype(np.int64)
        when = day * 1440 + draw._minute_of_day(n)
        spend, n_lines = draw._spend(cust["nu"][buyers])
        lines = draw._product_lines(spend, n_lines, self.sim.day_month[day])
        lines["is_copy"] = np.zeros(len(lines["invoice"]), bool)
        lines["invoice"] = lines["invoice"] + len(invoices["owner"])
        rows = {k: np.concatenate([rows[k], lines[k]]) for k in rows}
        invoices = {**invoices,
                    "owner": np.concatenate([invoices["owner"], buyers]),
                    "when": np.concatenate([invoices["when"], when]),
                    "country": np.concatenate([invoices["country"], cust["country"][buyers]]),
                    "cancel": np.concatenate([invoices["cancel"], np.zeros(n, bool)])}
        return rows, invoices
