import sys
import threading
import time
import warnings

from analytics.quiet import quietly


def test_quiet_sections_take_turns_and_put_everything_back():
    before_out, before_filters = sys.stdout, list(warnings.filters)
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
        with quietly():
            order.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    # without taking turns the second section would enter while the first holds sys.stdout, and whichever left
    # last would put back the other's buffer
    assert order == ["first in", "first out", "second in"]
    assert sys.stdout is before_out and warnings.filters == before_filters
