"""Thin Dash callbacks, one module per tab; each exposes ``register(app)``."""

from __future__ import annotations

import dash


def register_all(app: dash.Dash) -> None:
    """Register every tab's callbacks on this app (never module-level, so tests can build many apps)."""
    from callbacks import data, database, explorer, journeys, methodology, roi, run, shell, tower, uploads

    for module in (run, shell, uploads, database, data, explorer, tower, journeys, methodology, roi):
        module.register(app)
