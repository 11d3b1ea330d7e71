"""`python -m bench.pulls`: the demo's API pulls one after another and all at once, side by side in one run
(issue 17: where `make demo`'s ingest time goes, and what pulling at once gains).

Starts the demo's sandboxes in their own process, as `make demo` does (`shopkeep.toml`, the demo shop in
`.shopkeep/demo`, generated if missing), then pulls every API source of the demo config (five shops and the WMS)
into a fresh warehouse twice: with one worker (one source after another: how ingest ran before) and with a thread
per source (`orchestration.ingest.run_pulls`, what `raw_pulls` does). Per source: seconds from its start to its
end and the rows in its main table; per way: the wall time. The rows differ between the two ways only by the
orders the sandboxes' live clock adds in between (today's orders come in as the day goes on).
Figures go to stdout and bench/results/pulls.json. Not part of `make test`.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from pathlib import Path

import duckdb

from bench.results import save

MAIN_TABLE = {"raw_shopify": "orders", "raw_taobao": "orders", "raw_jd": "orders", "raw_pinduoduo": "orders",
              "raw_douyin": "orders", "raw_wms": "stock_movements"}  # fmt: skip


def pull_all(settings, workers: int) -> dict:
    from orchestration.ingest import pulls, run_pulls

    spans: dict[str, list[float]] = {}

    def timed(pull):
        def load(pipeline):
            spans[pull.label] = [time.perf_counter()]
            try:
                return pull.load(pipeline)
            finally:
                spans[pull.label].append(time.perf_counter())

        return dataclasses.replace(pull, load=load)

    chosen = [timed(p) for p in pulls(settings)]
    started = time.perf_counter()
    failed = run_pulls(settings, chosen, lambda message: None, workers=workers)
    wall = time.perf_counter() - started
    assert not failed, failed
    rows = {}
    with duckdb.connect(str(settings.build_path), read_only=True) as con:
        for pull in chosen:
            table = f"{pull.dataset}.{MAIN_TABLE[pull.dataset]}"
            rows[table] = con.execute(f"select count(*) from {table}").fetchone()[0]
    return {
        "workers": workers,
        "wall_s": round(wall, 1),
        "per_source_s": {label: round(end - start, 1) for label, (start, end) in spans.items()},
        "rows": rows,
    }


def main() -> None:
    from orchestration.cli import DEMO_SECRETS, _start_sandbox, _stop
    from orchestration.settings import load_settings

    for key, value in DEMO_SECRETS.items():
        os.environ.setdefault(key, value)
    settings = load_settings(Path("shopkeep.toml"))
    sandbox = _start_sandbox(settings)
    figures: dict[str, object] = {}
    try:
        runs = []
        for workers in (1, None):
            with tempfile.TemporaryDirectory(prefix="bench-pulls-") as tmp:
                here = dataclasses.replace(
                    settings, build_path=Path(tmp) / "build.duckdb", dlt_dir=Path(tmp) / "dlt"
                )
                run = pull_all(here, workers or len(settings.enabled_shops) + 1)
                runs.append(run)
                print(f"{'one after another' if workers == 1 else 'all at once':>18}: {run['wall_s']} s "
                      f"(per source: {run['per_source_s']})")  # fmt: skip
        figures = {
            "sequential": runs[0],
            "concurrent": runs[1],
            "speedup": round(runs[0]["wall_s"] / runs[1]["wall_s"], 2),
        }
        print(f"rows: {runs[0]['rows']} / {runs[1]['rows']}; speed-up {figures['speedup']}×")
    finally:
        _stop([sandbox])
    print(f"results: {save('pulls', figures)}")


if __name__ == "__main__":
    main()
