"""The tests' clock: every test process runs on a fake clock that starts at PINNED_CLOCK and ticks (time-machine
patches the process's datetime and time, sandbox server threads included), so the simulated shop ending the day
before is the same world, served and built the same way, whatever day the suite runs. dbt gets the clock in its
environment (orchestration.transform.dbt_clock_env, used by the dbt assets and analytics.dbt_cli.run_dbt), so the
marts agree.

`live_clock()` lends a test the real clock (one test keeps exercising it); the pinned clock resumes where it
stopped afterwards, so it never runs backwards."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import time_machine

PINNED_CLOCK = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
"""10:00 on 4 December 2026 in Shanghai. The end-to-end shop (tests/conftest.py, pipeline_world) ends the day
before; the other tests' small shop ends 2026-06-30, well in the past."""

_traveller: time_machine.travel | None = None


def pin(at: datetime = PINNED_CLOCK) -> None:
    """Start this process's fake clock at `at`, ticking."""
    global _traveller
    unpin()
    _traveller = time_machine.travel(at, tick=True)
    _traveller.start()


def unpin() -> None:
    global _traveller
    if _traveller is not None:
        _traveller.stop()
        _traveller = None


@contextmanager
def live_clock() -> Iterator[None]:
    """The real clock for the duration of the block; the fake clock then resumes as if it had kept ticking."""
    if _traveller is None:
        yield
        return
    paused_at, started = datetime.now(UTC), time.monotonic()
    unpin()
    try:
        yield
    finally:
        pin(paused_at + timedelta(seconds=time.monotonic() - started))
