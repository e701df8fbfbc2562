import sys
import threading
import time
import warnings

import pandas as pd

from analytics import values
from analytics.quiet import quietly


def beside_a_quiet_section(then) -> list[str]:
    """Run ``then`` in a second thread once a first thread is inside a quiet section; the order of events."""
    order, first_inside = [], threading.Event()

    def first():
        with quietly():
            print("lost")
            order.append("first in")
            first_inside.set()
            time.sleep(0.2)
            order.append("first out")

    def second():
        first_inside.wait(5)
        then()
        order.append("second done")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return order


def test_quiet_sections_take_turns_and_put_everything_back():
    before_out, before_filters = sys.stdout, list(warnings.filters)

    def another_section():
        with quietly():
            pass

    # without taking turns the second section would enter while the first holds sys.stdout, and whichever left
    # last would put back the other's buffer
    assert beside_a_quiet_section(another_section) == ["first in", "first out", "second done"]
    assert sys.stdout is before_out and warnings.filters == before_filters


def test_the_dates_parsing_takes_its_turn_with_the_other_quiet_sections():
    parse = lambda: values._to_datetime(pd.Series(["2011-01-02", "03/04/2011"]))  # noqa: E731
    assert beside_a_quiet_section(parse) == ["first in", "first out", "second done"]


def test_named_warnings_alone_are_ignored():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with quietly(".*stable_cumsum.*"):
            warnings.warn("stable_cumsum is deprecated", FutureWarning)
            warnings.warn("something else", UserWarning)
    assert [str(w.message) for w in caught] == ["something else"]
