"""Locks and run slots are tied to a live process: a killed or cancelled holder never strands the next run."""

import multiprocessing
import os
import signal
import threading
import time

import pytest

from analytics.cache import ResultsCache


def _hold(directory, name, ready, slots=None):
    cache = ResultsCache(directory)
    context = cache.run_slot(slots) if slots else cache.lock(name)
    with context:
        ready.set()
        time.sleep(120)


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["killed", "cancelled"])
def test_a_dead_holder_releases_the_fitting_lock_at_once(tmp_path, how):
    ready = multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold, args=(tmp_path, "lock:k", ready))
    holder.start()
    assert ready.wait(30)
    cache = ResultsCache(tmp_path)
    waiter = threading.Thread(target=lambda: cache.get_or_compute("k", lambda: "fitted"))
    waiter.start()
    time.sleep(0.5)
    assert waiter.is_alive(), "the lock must hold while its owner lives"
    os.kill(holder.pid, how)  # Dash's cancel terminates the job's process; no finally runs
    started = time.monotonic()
    waiter.join(10)
    assert not waiter.is_alive() and time.monotonic() - started < 2
    assert cache.get("k") == "fitted"
    holder.join(5)


def test_runs_beyond_the_slots_wait_in_line_and_start_when_a_slot_frees(tmp_path):
    ready = multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold, args=(tmp_path, None, ready, 1))
    holder.start()
    assert ready.wait(30)
    cache = ResultsCache(tmp_path)
    places, ran = [], threading.Event()

    def run():
        with cache.run_slot(1, waiting=places.append):
            ran.set()

    waiter = threading.Thread(target=run)
    waiter.start()
    time.sleep(1.0)
    assert places == [1] and not ran.is_set()
    os.kill(holder.pid, signal.SIGKILL)
    assert ran.wait(5)
    waiter.join(5)
    holder.join(5)
