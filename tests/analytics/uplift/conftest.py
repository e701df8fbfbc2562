"""The synthetic retailer's embedded campaign test, cleaned and analysed once per session (on the invoice
table, as the app and the CLI do)."""

from __future__ import annotations

import pytest

from analytics import cleaning
from analytics.datasets import embedded_campaign, load_dataset
from analytics.invoices import invoice_table
from analytics.uplift import analyse_campaign


@pytest.fixture(scope="session")
def campaign():
    return embedded_campaign()


@pytest.fixture(scope="session")
def cleaned():
    return cleaning.clean(load_dataset("synthetic"))


@pytest.fixture(scope="session")
def analysis(campaign, cleaned):
    return analyse_campaign(invoice_table(cleaned.lines), campaign.assignment, campaign.sent_on, campaign.window_days,
                            cleaned.as_of)
