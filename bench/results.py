"""Where the benchmarks put their figures: bench/results/<name>.json, one file per benchmark holding its latest
run with the machine it ran on (the previous run's file is replaced: git keeps the history, and
bench/RESULTS.md summarises the latest figures for a reader)."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    """The machine a run measured: cores, CPU model, memory, Python and DuckDB versions."""
    import duckdb

    model = ""
    memory_gib = None
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line), "")
        meminfo = Path("/proc/meminfo").read_text().split()
        memory_gib = round(int(meminfo[meminfo.index("MemTotal:") + 1]) / 2**20, 1)
    except (OSError, ValueError):
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": model or platform.processor(),
        "memory_gib": memory_gib,
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
    }


def save(name: str, figures: dict[str, Any]) -> Path:
    """Write one benchmark's figures to bench/results/<name>.json (replacing its previous run's) and return it."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    record = {"ran_at": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(), **figures}
    path.write_text(json.dumps(record, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return path
