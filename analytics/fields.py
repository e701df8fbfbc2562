"""Validating what a person typed (a form field, a URL parameter, a saved dict): one message style, naming the
field and what it expects, so the scenario, the audience filter and the analysis parameters read alike."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from analytics.errors import DataError


def is_blank(value: Any) -> bool:
    """None or a string of spaces: a field left empty."""
    return value is None or (isinstance(value, str) and not value.strip())


def finite_number(name: str, value: Any, what: str | None = None) -> float:
    """``value`` as a finite float; a DataError names ``name`` (and ``what`` it holds) otherwise."""
    expected = f"a number ({what})" if what else "a number"
    if is_blank(value):
        raise DataError(f"{name} is empty; expected {expected}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DataError(f"{name} must be {expected}; got {value!r}") from None
    if not math.isfinite(number):
        raise DataError(f"{name} must be a finite {expected.removeprefix('a ')}; got {value!r}")
    return number


def optional_number(name: str, value: Any, what: str | None = None) -> float | None:
    """None for an empty field, else :func:`finite_number`."""
    return None if is_blank(value) else finite_number(name, value, what)


def reject_unknown(values: Mapping[str, Any], known: Iterable[str], what: str) -> None:
    """DataError naming the keys of ``values`` that are not in ``known`` (e.g. a misspelt field)."""
    known = set(known)
    unknown = sorted(set(values) - known)
    if unknown:
        raise DataError(f"unknown {what} field(s): {', '.join(unknown)}; expected some of {', '.join(sorted(known))}")
