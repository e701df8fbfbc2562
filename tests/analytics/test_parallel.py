"""Steps on threads: errors in order, and an interruption (a cancelled run's SIGTERM, Ctrl-C) that does not
wait for the work still running."""

from __future__ import annotations

import signal
import threading

import pytest

from analytics import pipeline
from analytics.parallel import in_threads


class Stopped(SystemExit):
    """What billiard raises in a Celery pool process that receives SIGTERM (a cancelled run)."""


@pytest.fixture
def interrupt_when():
    """``interrupt_when(event)``: a SIGALRM, raising ``Stopped`` in the main thread, once ``event`` is set."""
    previous = signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(Stopped(-15)))
    watchers = []

    def arm(event: threading.Event) -> None:
        def watch():
            if event.wait(30):
                signal.setitimer(signal.ITIMER_REAL, 0.05)
        watchers.append(threading.Thread(target=watch, daemon=True))
        watchers[-1].start()

    yield arm
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)


def blocking(started: list, finished: list, release: threading.Event, name: str, all_started: threading.Event,
             wanted: int):
    def step():
        started.append(name)
        if len(started) >= wanted:
            all_started.set()
        release.wait(30)
        finished.append(name)
    return step


def test_the_first_tasks_error_is_raised_though_another_failed_before_it():
    second_failed = threading.Event()

    def first():
        second_failed.wait(30)
        raise ValueError("first")

    def second():
        second_failed.set()
        raise ValueError("second")

    with pytest.raises(ValueError, match="first"):
        in_threads({"first": first, "second": second})


def test_an_interrupted_in_threads_does_not_wait_for_the_running_tasks(interrupt_when):
    started, finished, release, both = [], [], threading.Event(), threading.Event()
    interrupt_when(both)
    try:
        with pytest.raises(Stopped):
            in_threads({name: blocking(started, finished, release, name, both, 2) for name in ("a", "b")})
        assert sorted(started) == ["a", "b"] and finished == []  # returned while both still ran
    finally:
        release.set()


def test_an_interrupted_run_begins_no_further_step_and_does_not_wait(interrupt_when):
    started, finished, release, two = [], [], threading.Event(), threading.Event()
    interrupt_when(two)
    steps = {name: blocking(started, finished, release, name, two, pipeline.MODEL_THREADS)
             for name in pipeline.NEEDS}
    try:
        with pytest.raises(Stopped):
            pipeline._scheduled(steps, pipeline.MODEL_THREADS)
        assert finished == []  # the two running steps were not waited for
    finally:
        release.set()
    for thread in threading.enumerate():
        if thread.name.startswith("ThreadPoolExecutor"):
            thread.join(10)
    assert len(started) == pipeline.MODEL_THREADS  # the steps that were running ended, and none began after
    assert len(pipeline.NEEDS) > pipeline.MODEL_THREADS
