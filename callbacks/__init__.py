"""Thin Dash callbacks, one module per tab; each exposes ``register(app)``.

Each module's callbacks need a role (see ``auth``): recorded here as they are registered, so the server can
refuse a callback to a user whose role does not reach it, whatever the browser sends.
"""

from __future__ import annotations

import dash

from components import ids

# The least role for each module's callbacks; a module not listed needs admin.
MODULE_ROLES = {"run": "admin", "shell": "viewer", "uploads": "admin", "database": "admin", "data": "viewer",
                "explorer": "marketing", "tower": "viewer", "journeys": "viewer", "methodology": "viewer",
                "roi": "finance", "uplift": "marketing"}
# Callbacks whose role differs from their module's, by an output they set.
OUTPUT_ROLES = {
    ids.AUTORUN: "viewer",  # showing an embedded dataset's cached results: every role sees those
    ids.JOURNEYS_DOWNLOAD: "marketing",  # a customer list export
    ids.DB_PANEL: "viewer",  # only shows or hides the database panel (fires on every page load)
    ids.TABS: "viewer",  # a share link opens its tab (fires on every page load)
    ids.UPLIFT_SUMMARY: "viewer",  # showing a measured campaign test (measuring one is marketing's)
}


def register_all(app: dash.Dash) -> dict[str, str]:
    """Register every tab's callbacks on this app (never module-level, so tests can build many apps);
    returns {callback-map key: least role}."""
    from callbacks import data, database, explorer, journeys, methodology, roi, run, shell, tower, uplift, uploads

    roles: dict[str, str] = {}
    for module in (run, shell, uploads, database, data, explorer, tower, journeys, methodology, roi, uplift):
        before = set(app.callback_map)
        module.register(app)
        for key in set(app.callback_map) - before:
            outputs = {part.rsplit(".", 1)[0] for part in key.strip(".").split("...")}
            override = [OUTPUT_ROLES[o] for o in outputs if o in OUTPUT_ROLES]
            roles[key] = override[0] if override else MODULE_ROLES.get(module.__name__.rsplit(".", 1)[1], "admin")
    return roles
