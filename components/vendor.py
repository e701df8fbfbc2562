"""Bootstrap 5 CSS and icons served by the app itself, from the files the bootstrap-flask wheel installs.

Company intranets and CI have no internet, so the page must never ask a CDN for anything.
"""

from __future__ import annotations

from importlib.resources import files

import flask

VENDOR_ROUTE = "/vendor/bootstrap5/"
BOOTSTRAP_CSS = VENDOR_ROUTE + "css/bootstrap.min.css"
BOOTSTRAP_ICONS_CSS = VENDOR_ROUTE + "css/font/bootstrap-icons.min.css"
STYLESHEETS = [BOOTSTRAP_CSS, BOOTSTRAP_ICONS_CSS]


def bootstrap_static_dir() -> str:
    """Folder of the installed Bootstrap 5 distribution (css/, js/, icon fonts)."""
    return str(files("flask_bootstrap") / "static" / "bootstrap5")


def register_vendor_route(server: flask.Flask) -> None:
    """Serve the Bootstrap 5 files under ``VENDOR_ROUTE``."""
    static_dir = bootstrap_static_dir()

    @server.route(VENDOR_ROUTE + "<path:filename>")
    def _bootstrap_vendor(filename: str) -> flask.Response:
        return flask.send_from_directory(static_dir, filename, max_age=86400)
