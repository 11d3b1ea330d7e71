"""The bar per pull that `shopkeep materialize` and `shopkeep demo` draw while the channels are pulled at once.

Each pull's dlt pipeline gets a `PullCollector` (dlt's progress-collector interface): dlt reports the rows it
extracts per table, and the windowed connectors report the time windows they plan and finish
(connectors/common/progress.py). One line per pull: the windows read of those planned (the bar; Shopify and the
WMS page through their data without windows, so their bar pulses until done), rows fetched, rows a second and the
time it has taken.
"""

from __future__ import annotations

import time

from dlt.common.runtime.collector_base import Collector
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from connectors.common.progress import WINDOWS


class PullCollector(Collector):
    """One pull's line: updated by dlt (rows per table while extracting) and by the connector (windows)."""

    def __init__(self, progress: Progress, label: str) -> None:
        self.progress = progress
        self.task = progress.add_task(label, total=None, windows="", rows=0, rate="")
        self.started = time.monotonic()
        self.step: str | None = None
        self.rows = 0
        self.done: dict[str, int] = {}
        self.base: dict[str, int] = {}
        self.planned: dict[str, int] = {}

    def update(
        self,
        name: str,
        inc: int = 1,
        total: int | None = None,
        inc_total: int | None = None,
        message: str | None = None,
        label: str | None = None,
    ) -> None:
        if name.endswith(WINDOWS):
            if total is not None:  # a run's plan: the windows left from its cursor
                self.base[name] = self.done.get(name, 0)
                self.planned[name] = self.base[name] + total
            self.done[name] = self.done.get(name, 0) + inc
        elif (
            self.step == "extract"
            and name != "Resources"
            and "__" not in name
            and not name.startswith("_dlt")
        ):
            self.rows += inc  # records of a top-level table (an order, a refund, …), not their nested lines
        self._draw()

    def _draw(self, finished: bool = False) -> None:
        planned, done = sum(self.planned.values()), sum(self.done.values())
        elapsed = max(time.monotonic() - self.started, 1e-6)
        total = planned or (1 if finished else None)
        self.progress.update(
            self.task,
            total=total,
            completed=(done if planned else (1 if finished else 0)),
            windows=f"{done}/{planned} windows" if planned else "",
            rows=self.rows,
            rate=f"{self.rows / elapsed:,.0f} rows/s",
        )

    def finish(self, error: BaseException | None) -> None:
        """The pull is over: the bar full, or the line marked failed."""
        if error is not None:
            self.progress.update(
                self.task, description=f"[red]✗ {self.progress.tasks[self.task].description}"
            )
        self._draw(finished=error is None)
        if error is None:
            self.progress.update(self.task, completed=self.progress.tasks[self.task].total or 1)
        self.progress.stop_task(self.task)

    def _start(self, step: str) -> None:
        self.step = step.split()[0].lower() if step else None  # dlt says "Extract <source>"

    def _stop(self) -> None:
        self.step = None


class PullBars:
    """A rich Progress with a line per pull, live while the `with` block runs."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("  {task.description:<18}"),
            BarColumn(bar_width=28),
            TextColumn("{task.fields[windows]:>18}"),
            TextColumn("{task.fields[rows]:>9,} rows"),
            TextColumn("{task.fields[rate]:>14}"),
            TimeElapsedColumn(),
            console=console,
        )

    def collector(self, label: str) -> PullCollector:
        return PullCollector(self.progress, label)

    def __enter__(self) -> PullBars:
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()
