"""How far a pull has got, for whoever watches it: a windowed resource tells the running dlt pipeline's progress
collector how many time windows it will read and each one it finished (dlt's collector counts the rows by
itself). `shopkeep materialize` and `shopkeep demo` draw a bar per channel from it; elsewhere dlt logs it. A
resource iterated outside a pipeline (a unit test) tells nobody."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

import dlt
from dlt.common.runtime.collector import NullCollector
from dlt.common.runtime.collector_base import Collector

T = TypeVar("T")

WINDOWS = " windows"
"""The suffix of a window counter's name: `orders windows`."""


def _collector() -> Collector:
    try:
        return dlt.current.pipeline().collector
    except Exception:  # no pipeline is running this resource
        return NullCollector()


def counted_windows(name: str, windows: Iterable[T], total: int | None = None) -> Iterator[T]:
    """`windows`, each reported done once the caller has read it (the generator resumes); `total`: how many
    windows are left in all (default: these), when this run reads only the first of them."""
    todo = list(windows)
    collector = _collector()
    counter = name + WINDOWS
    collector.update(counter, 0, total=len(todo) if total is None else total)
    for window in todo:
        yield window
        collector.update(counter, 1)
