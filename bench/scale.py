"""`python -m bench.scale`: shopkeep's transformation at a large seller's size, beside the floor and pandas.

For each size (`--clones`, copies of the demo shop: 8 ≈ 1 million order lines, 80 ≈ 10 million) the raw tables
come from bench/scale_raw.py (written straight into a build.duckdb, cached under .shopkeep/bench/raw/; the data's
last day of API orders held back). Then, each timed as a process tree of its own (wall-clock; peak memory = the
largest sum of RSS over the process and all its descendants, polled from /proc every 50 ms):

1. full build through dbt alone: `dbt build` of every model with its data tests (as a scheduled build runs it)
   plus the publish of serve.duckdb, `--runs` times on a fresh copy of the raw file, median; dbt's fixed
   overhead (process start-up and parse: wall-clock less run_results' elapsed time) apart, and the slowest models;
2. full build through Dagster: `run_materialize` of the transform and publish stages (every dbt asset, its checks
   and the publish step) in a new process, as `shopkeep materialize` runs them; Dagster's overhead = its
   wall-clock less dbt alone's and the publish's;
3. the hourly incremental runs: the held-back last full day's orders landed as a new load, then `dbt build`
   (incremental models add only what changed; the others are rebuilt; the forecast refits: a new day) and publish
   — the first run of a day; then the orders of the hours after that day landed the same way — a run within
   the day (the forecast's history unchanged);
4. the floor: bench/floor.sql as one DuckDB script on the raw tables (no dbt, no Dagster);
5. pandas: bench/pandas_marts.py (the raw tables read into DataFrames);
   both checked against the marts by bench/scale_check.py — a mismatch is reported and voids its ratio;
6. every dashboard page's queries on the published serve.duckdb (bench.dashboard_queries.time_pages), p50/p95.

Connector pull throughput per channel sandbox (`python -m bench`) and the stock-sync plan and push
(`python -m bench.stock_sync`) do not depend on the warehouse's size; `make bench` runs them on their own.

Before each size's timings the load average is checked: above `--max-load` the bench waits (up to 10 minutes)
and records the load it ran under. Figures go to stdout and bench/results/scale.json. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench.results import save
from bench.scale_check import compare
from bench.scale_raw import REPO, cached_raw, land_new_day, source_clock

PY = sys.executable
WORK = REPO / ".shopkeep" / "bench" / "work"
CLOCK = "2026-12-05T23:00:00+00:00"
"""The builds' "now" (SHOPKEEP_CLOCK): the demo source's load time (`main` sets it from `--source`:
scale_raw.source_clock), so every run builds the same marts."""
TARGETS = {
    "full_build_vs_floor": 1.5,
    "incremental_share_of_full": 0.10,
    "dashboard_p95_ms": 100.0,
    "peak_memory_gib": 6.0,
    "pandas_vs_shopkeep": 20.0,
}


# -- measuring a process tree ------------------------------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def tree_rss(root: int) -> int:
    """Bytes resident in `root` and all its descendants."""
    tree, total, todo = _children(), 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(tree.get(pid, ()))
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            pass
    return total


def measured(cmd: list[str], env: dict[str, str] | None = None, cwd: Path = REPO) -> dict[str, Any]:
    """Run `cmd`; its wall-clock seconds, CPU seconds (user + system of the whole tree: what the work costs, less
    moved by the machine's other load than the wall-clock), peak RSS of its process tree, return code and output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    peak = [0]
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss(proc.pid))
            done.wait(0.05)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    output = proc.communicate()[0]
    done.set()
    poller.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2),
        "load_1m_at_end": round(os.getloadavg()[0], 2),
        "peak_rss_mib": round(peak[0] / 2**20),
        "returncode": proc.returncode,
        "output": output,
    }


def wait_for_quiet(max_load: float, patience_s: int = 600) -> float:
    """Wait until the 1-minute load average is at most `max_load` (at most `patience_s`); return the load then."""
    deadline = time.monotonic() + patience_s
    while os.getloadavg()[0] > max_load and time.monotonic() < deadline:
        print(f"  load {os.getloadavg()[0]:.2f} > {max_load}: waiting", flush=True)
        time.sleep(30)
    return round(os.getloadavg()[0], 2)


# -- the steps ---------------------------------------------------------------------------------------------------


MEMORY_LIMIT: str | None = None
"""--memory-limit: DuckDB's memory_limit for the builds (as `[warehouse] memory_limit` sets it: the environment
variable the project's on-run-start hook reads); None: DuckDB's default of 80 % of the machine's memory."""


def limit_env() -> dict[str, str]:
    return {"SHOPKEEP_DUCKDB_MEMORY_LIMIT": MEMORY_LIMIT or ""}


def dbt_cmd(work: Path, *args: str) -> list[str]:
    return [
        str(Path(PY).parent / "dbt"), *args,
        "--project-dir", str(REPO / "dbt_project"), "--profiles-dir", str(REPO / "dbt_project"),
        "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
    ]  # fmt: skip


def fresh_copy(raw: Path, folder: Path) -> Path:
    """A new folder with a copy of the raw file as build.duckdb (dbt's partial parse wants that name)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    build = folder / "build.duckdb"
    shutil.copyfile(raw, build)
    return build


KEY_MARTS = (
    "daily_sku_sales",
    "daily_shop_sales",
    "sku_margins",
    "inventory_health",
    "replenishment_suggestions",
    "demand_forecast_summary",
)
"""The marts the floor and pandas compute (a part of each: bench/scale_check.py CHECKS)."""


def lineage_seconds(target: Path, marts: tuple[str, ...] = KEY_MARTS) -> dict[str, float]:
    """Of a dbt build's run_results in `target`: the seconds of the models `marts` are built from (themselves and
    every model upstream; the statsforecast model apart) — the part of the build that does what the floor does."""
    manifest = json.loads((target / "manifest.json").read_text())
    results = json.loads((target / "run_results.json").read_text())["results"]
    seconds = {r["unique_id"]: r["execution_time"] for r in results}
    todo = [uid for uid in manifest["nodes"] if uid.startswith("model.") and uid.split(".")[-1] in marts]
    seen: set[str] = set()
    while todo:
        uid = todo.pop()
        if uid in seen or not uid.startswith("model."):
            continue
        seen.add(uid)
        todo.extend(manifest["parent_map"].get(uid, ()))
    forecast = [uid for uid in seen if uid.endswith(".int_sku_baseline_forecasts")]
    return {
        "models": len(seen),
        "seconds": round(sum(seconds.get(uid, 0) for uid in seen), 2),
        "forecast_model_s": round(sum(seconds.get(uid, 0) for uid in forecast), 2),
    }


def dbt_build(build: Path, full_refresh: bool = False, env: dict[str, str] | None = None) -> dict[str, Any]:
    """`dbt build` as a scheduled build runs it (no unit tests) on `build`, timed; with its model timings. `env`:
    the profile's variables for another target (a lake's: Settings.dbt_env), `build`'s folder still its work
    folder."""
    from orchestration.transform import dbt_build_args, partial_parse_state

    work = build.parent
    partial_parse_state(work / "target", str(build))
    env = {"SHOPKEEP_BUILD_PATH": str(build), "SHOPKEEP_CLOCK": CLOCK, "DBT_INDIRECT_SELECTION": "cautious",
           **limit_env(), **(env or {})}  # fmt: skip
    result = measured(dbt_cmd(work, *dbt_build_args(full_refresh=full_refresh)), env)
    if result["returncode"] != 0:
        raise RuntimeError(f"dbt build failed:\n{result['output'][-4000:]}")
    run_results = json.loads((work / "target" / "run_results.json").read_text())
    nodes = sorted(run_results["results"], key=lambda r: -r["execution_time"])
    models = [r for r in nodes if r["unique_id"].startswith("model.")]
    tests = [r for r in nodes if r["unique_id"].startswith("test.")]
    result.update(
        dbt_elapsed_s=round(run_results["elapsed_time"], 2),
        fixed_overhead_s=round(result["seconds"] - run_results["elapsed_time"], 2),
        models_s=round(sum(r["execution_time"] for r in models), 2),
        tests_s=round(sum(r["execution_time"] for r in tests), 2),
        other_nodes_s=round(sum(r["execution_time"] for r in nodes if r not in models and r not in tests), 2),
        slowest=[(r["unique_id"].split(".")[-1], round(r["execution_time"], 2)) for r in nodes[:12]],
        key_marts_lineage=lineage_seconds(work / "target"),
    )
    del result["output"]
    return result


def publish(build: Path) -> dict[str, Any]:
    code = (
        "import sys; from pathlib import Path; from orchestration.publish import publish_serving_file; "
        "publish_serving_file(Path(sys.argv[1]), Path(sys.argv[2]))"
    )
    result = measured([PY, "-c", code, str(build), str(build.parent / "serve.duckdb")])
    if result["returncode"] != 0:
        raise RuntimeError(f"publish failed:\n{result['output'][-3000:]}")
    del result["output"]
    return result


DAGSTER_CHILD = """
import sys, time
started = time.perf_counter()
from pathlib import Path
import dagster as dg
from orchestration.settings import load_settings
from orchestration.cli import run_materialize
settings = load_settings(Path(sys.argv[1]))
imported = time.perf_counter() - started
with dg.instance_for_test() as instance:
    run_materialize(settings, instance=instance,
        select="key:staging/* or key:intermediate/* or key:marts/* or key:seeds/* or key:serve/*")
print(f"DAGSTER_IMPORT_S={imported:.2f}")
"""


def dagster_build(raw: Path, folder: Path) -> dict[str, Any]:
    """Transform and publish through Dagster (run_materialize, in-memory instance) on a fresh copy."""
    build = fresh_copy(raw, folder)
    config = (REPO / "shopkeep.toml").read_text()
    for key, value in {
        "build_path": build,
        "serve_path": folder / "serve.duckdb",
        "ops_path": folder / "ops.sqlite",
        "dlt_dir": folder / "dlt",
    }.items():
        config = "\n".join(
            f'{key} = "{value}"' if line.split("=")[0].strip() == key else line
            for line in config.splitlines()
        )
    if MEMORY_LIMIT:
        config = config.replace("[warehouse]\n", f'[warehouse]\nmemory_limit = "{MEMORY_LIMIT}"\n', 1)
    (folder / "shopkeep.toml").write_text(config)
    result = measured([PY, "-c", DAGSTER_CHILD, str(folder / "shopkeep.toml")], {"SHOPKEEP_CLOCK": CLOCK})
    if result["returncode"] != 0:
        raise RuntimeError(f"Dagster build failed:\n{result['output'][-4000:]}")
    for line in result["output"].splitlines():
        if "transform (dbt build)" in line or "publish" in line or line.startswith("DAGSTER_IMPORT_S"):
            result.setdefault("log", []).append(line.strip())
    del result["output"]
    return result


def floor_run(raw: Path, folder: Path, as_of: str) -> tuple[dict[str, Any], Path]:
    build = fresh_copy(raw, folder)
    code = (
        "import sys; from datetime import date; from pathlib import Path; from bench.scale_check import run_floor; "
        "run_floor(Path(sys.argv[1]), date.fromisoformat(sys.argv[2]))"
    )
    result = measured([PY, "-c", code, str(build), as_of])
    if result["returncode"] != 0:
        raise RuntimeError(f"floor failed:\n{result['output'][-3000:]}")
    del result["output"]
    return result, build


def pandas_run(raw: Path, folder: Path, as_of: str) -> tuple[dict[str, Any], Path]:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    out = folder / "pandas_out.duckdb"
    result = measured([PY, "-W", "ignore", "-m", "bench.pandas_marts", str(raw), str(out), as_of])
    if result["returncode"] != 0:
        raise RuntimeError(f"pandas failed:\n{result['output'][-3000:]}")
    del result["output"]
    return result, out


def dashboard_times(serve: Path, runs: int) -> dict[str, Any]:
    import streamlit.logger

    streamlit.logger.set_log_level("error")
    from bench.dashboard_queries import time_pages
    from dashboards.queries import serving

    serving.release_snapshots()
    figures = time_pages(str(serve), runs)
    serving.release_snapshots()
    return {
        page: result["page_ms"] | ({"errors": result["errors"]} if result["errors"] else {})
        for page, result in figures["pages"].items()
    }


def median(runs: list[dict[str, Any]], key: str) -> float:
    return round(statistics.median(r[key] for r in runs), 2)


def one_size(
    source: Path,
    clones: int,
    runs: int,
    dashboard_runs: int,
    max_load: float,
    patience_s: int,
    pandas_max_mib: float,
    skip: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    out: dict[str, Any] = {"clones": clones}
    started = time.perf_counter()
    # generated (when not cached) at a lower priority than the machine's other work, as a process of its own
    gen = [PY, "-m", "bench.scale_raw", "--source", str(source), "--clones", str(clones)]
    subprocess.run(["nice", "-n", "5", *gen], check=True, cwd=REPO, stdout=subprocess.DEVNULL)
    raw, generated = cached_raw(source, clones)
    out["generate"] = {k: v for k, v in generated.items() if k != "rows"} | {
        "this_run_s": round(time.perf_counter() - started, 1)
    }
    rows = generated["rows"]
    print(
        f"\n== x{clones}: raw {raw} ({generated['file_mb']} MB, made in {generated['generate_s']}s)",
        flush=True,
    )
    out["load_before"] = wait_for_quiet(max_load, patience_s)
    folder = WORK / f"x{clones}"

    dbt_runs = []
    for i in range(runs):
        build = fresh_copy(raw, folder / "dbt")
        run = dbt_build(build)
        run["publish"] = publish(build)
        dbt_runs.append(run)
        print(
            f"  dbt build {i + 1}/{runs}: {run['seconds']}s, cpu {run['cpu_s']}s (fixed {run['fixed_overhead_s']}s, models "
            f"{run['models_s']}s, tests {run['tests_s']}s), peak {run['peak_rss_mib']} MiB; publish "
            f"{run['publish']['seconds']}s",
            flush=True,
        )
    out["dbt"] = {
        "runs": dbt_runs,
        "median_s": median(dbt_runs, "seconds"),
        "fixed_overhead_s": median(dbt_runs, "fixed_overhead_s"),
        "publish_s": round(statistics.median(r["publish"]["seconds"] for r in dbt_runs), 2),
        "peak_rss_mib": max(r["peak_rss_mib"] for r in dbt_runs),
    }
    out["dbt"]["full_build_s"] = round(out["dbt"]["median_s"] + out["dbt"]["publish_s"], 2)
    out["dbt"]["full_build_cpu_s"] = round(
        statistics.median(r["cpu_s"] + r["publish"]["cpu_s"] for r in dbt_runs), 2
    )
    with __import__("duckdb").connect(str(build), read_only=True) as con:
        (lines,) = con.execute("select count(*) from marts.order_line_margins").fetchone()
        (skus,) = con.execute("select count(*) from marts.skus").fetchone()
    out["order_lines"], out["skus"] = lines, skus
    print(f"  {lines:,} order lines, {skus:,} SKUs", flush=True)
    out["dashboards_ms"] = dashboard_times(build.parent / "serve.duckdb", dashboard_runs)
    worst = max(out["dashboards_ms"].items(), key=lambda kv: (kv[1] or {}).get("p95", 0))
    print(f"  dashboards: worst page p95 {worst[0]} {worst[1]}", flush=True)
    from bench.scale_check import as_of_date

    as_of = as_of_date(build).isoformat()

    dagster_runs = []
    for i in range(0 if "dagster" in skip else runs):
        run = dagster_build(raw, folder / "dagster")
        dagster_runs.append(run)
        print(
            f"  Dagster {i + 1}/{runs}: {run['seconds']}s, cpu {run['cpu_s']}s, peak {run['peak_rss_mib']} MiB {run.get('log')}"
        )
    out["dagster"] = (
        {"skipped": "--skip dagster"}
        if not dagster_runs
        else {
            "runs": dagster_runs,
            "median_s": median(dagster_runs, "seconds"),
            "cpu_s": median(dagster_runs, "cpu_s"),
            "peak_rss_mib": max(r["peak_rss_mib"] for r in dagster_runs),
        }
    )
    if dagster_runs:
        out["dagster"]["overhead_s"] = round(out["dagster"]["median_s"] - out["dbt"]["full_build_s"], 2)

    floor_runs, floor_build = [], None
    for _ in range(runs):
        run, floor_build = floor_run(raw, folder / "floor", as_of)
        floor_runs.append(run)
    out["floor"] = {
        "runs": floor_runs,
        "median_s": median(floor_runs, "seconds"),
        "cpu_s": median(floor_runs, "cpu_s"),
        "peak_rss_mib": max(r["peak_rss_mib"] for r in floor_runs),
        "mismatches": compare(build, "floor", floor_build),
    }
    print(f"  floor: {out['floor']['median_s']}s, cpu {out['floor']['cpu_s']}s, peak {out['floor']['peak_rss_mib']} MiB; "
          f"mismatches: {out['floor']['mismatches'] or 'none'}", flush=True)  # fmt: skip

    if "pandas" in skip or pandas_max_mib < 0:  # or a projection from a smaller size says it would not fit
        why = (
            "--skip pandas"
            if "pandas" in skip
            else f"projected peak {-pandas_max_mib:.0f} MiB is over the limit"
        )
        out["pandas"] = {"skipped": why}
        print(f"  pandas: {out['pandas']['skipped']}", flush=True)
    else:
        pandas_runs, pandas_out = [], None
        for _ in range(runs):
            run, pandas_out = pandas_run(raw, folder / "pandas", as_of)
            pandas_runs.append(run)
        out["pandas"] = {
            "runs": pandas_runs,
            "median_s": median(pandas_runs, "seconds"),
            "cpu_s": median(pandas_runs, "cpu_s"),
            "peak_rss_mib": max(r["peak_rss_mib"] for r in pandas_runs),
            "mismatches": compare(build, "pandas", pandas_out),
        }
        print(f"  pandas: {out['pandas']['median_s']}s, cpu {out['pandas']['cpu_s']}s, peak {out['pandas']['peak_rss_mib']} MiB; "
              f"mismatches: {out['pandas']['mismatches'] or 'none'}", flush=True)  # fmt: skip

    # the hourly runs on the last full build: the held-back day lands (the first run of a day: the forecast
    # refits), then the hours of the day after it (a run within the day: the forecast's history is unchanged)
    for key, through, what in [
        ("incremental", generated["held_out"]["day"], "one new day"),
        ("incremental_hours", None, "the next day's hours"),
    ]:
        landed = land_new_day(build, through)
        incremental = dbt_build(build)
        incremental["publish"] = publish(build)
        incremental["landed"] = landed
        incremental["full_build_s"] = round(incremental["seconds"] + incremental["publish"]["seconds"], 2)
        incremental["full_build_cpu_s"] = round(incremental["cpu_s"] + incremental["publish"]["cpu_s"], 2)
        out[key] = incremental
        print(
            f"  incremental ({what}, {sum(v for k, v in landed.items() if k.endswith('orders'))} orders): "
            f"{incremental['full_build_s']}s (cpu {incremental['full_build_cpu_s']:.1f}s), "
            f"peak {incremental['peak_rss_mib']} MiB",
            flush=True,
        )

    out["load_after"] = round(os.getloadavg()[0], 2)
    out["ratios"] = ratios(out)
    out["raw_rows"] = {k: v for k, v in rows.items() if v > 10_000}
    return out


def ratios(size: dict[str, Any]) -> dict[str, Any]:
    """shopkeep / floor (whole build, and without fixed overheads), pandas / shopkeep, incremental / full; a
    comparison whose outputs differ from the marts is void (None)."""
    dbt, floor, pandas = size["dbt"], size["floor"], size["pandas"]
    full = dbt["full_build_s"]
    proportional = full - dbt["fixed_overhead_s"]
    out = {
        "incremental_share_of_full": round(size["incremental"]["full_build_s"] / full, 3),
        "incremental_hours_share_of_full": round(size["incremental_hours"]["full_build_s"] / full, 3),
        "incremental_share_of_full_cpu": round(
            size["incremental"]["full_build_cpu_s"] / dbt["full_build_cpu_s"], 3
        ),
        "peak_memory_gib": round(max(dbt["peak_rss_mib"], size["dagster"].get("peak_rss_mib", 0)) / 1024, 2),
        "dashboard_worst_p95_ms": max((p or {}).get("p95", 0) for p in size["dashboards_ms"].values()),
    }
    if floor["mismatches"]:
        out["full_build_vs_floor"] = out["data_time_vs_floor"] = out["dagster_vs_floor"] = None
    else:
        out["full_build_vs_floor"] = round(full / floor["median_s"], 2)
        out["data_time_vs_floor"] = round(proportional / floor["median_s"], 2)
        if "median_s" in size["dagster"]:
            out["dagster_vs_floor"] = round(size["dagster"]["median_s"] / floor["median_s"], 2)
        out["full_build_vs_floor_cpu"] = round(dbt["full_build_cpu_s"] / floor["cpu_s"], 2)
        lineage = statistics.median(
            r["key_marts_lineage"]["seconds"] - r["key_marts_lineage"]["forecast_model_s"]
            for r in dbt["runs"]
        )
        out["key_marts_models_vs_floor"] = round(lineage / floor["median_s"], 2)
    void = "skipped" in pandas or pandas["mismatches"]
    out["pandas_vs_shopkeep"] = None if void else round(pandas["median_s"] / full, 2)
    out["pandas_vs_shopkeep_cpu"] = None if void else round(pandas["cpu_s"] / dbt["full_build_cpu_s"], 2)
    out["pandas_vs_floor"] = (
        None if void or floor["mismatches"] else round(pandas["median_s"] / floor["median_s"], 2)
    )
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--source",
        type=Path,
        default=REPO / ".shopkeep" / "build.duckdb",
        help="a built warehouse of the demo shop (make demo) whose raw tables are cloned",
    )
    parser.add_argument("--clones", type=int, nargs="+", default=[8, 80], help="8 ≈ 1M order lines, 80 ≈ 10M")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per step (median)")
    parser.add_argument("--big-runs", type=int, default=1, help="runs per step for sizes over 20 clones")
    parser.add_argument("--dashboard-runs", type=int, default=20)
    parser.add_argument("--max-load", type=float, default=1.5)
    parser.add_argument("--skip", nargs="*", choices=["dagster", "pandas"], help="leave these steps out")
    parser.add_argument("--results-name", default="scale", help="bench/results/<name>.json")
    parser.add_argument(
        "--memory-limit", help="DuckDB memory_limit of the dbt builds, e.g. 4GB (default: DuckDB's)"
    )
    parser.add_argument("--patience", type=int, default=600, help="seconds to wait for --max-load at most")
    parser.add_argument(
        "--pandas-max-gib",
        type=float,
        default=12,
        help="skip pandas where its projected peak memory is above",
    )
    args = parser.parse_args(argv)
    global MEMORY_LIMIT, CLOCK
    MEMORY_LIMIT = args.memory_limit
    if not args.source.exists():
        parser.error(f"{args.source} does not exist: build the demo shop first (make demo), or pass --source")
    CLOCK = source_clock(args.source)

    figures: dict[str, Any] = {
        "args": {k: str(v) for k, v in vars(args).items()},
        "clock": CLOCK,
        "targets": TARGETS,
        "sizes": {},
    }
    pandas_budget = args.pandas_max_gib * 1024
    for clones in args.clones:
        runs = args.runs if clones <= 20 else args.big_runs
        size = one_size(
            args.source,
            clones,
            runs,
            args.dashboard_runs,
            args.max_load,
            args.patience,
            pandas_budget,
            frozenset(args.skip or ()),
        )
        figures["sizes"][str(clones)] = size
        # pandas grows with the rows: project the next size from this one
        if "peak_rss_mib" in size["pandas"]:
            per_clone = size["pandas"]["peak_rss_mib"] / clones
            bigger = [c for c in args.clones if c > clones]
            if bigger and per_clone * bigger[0] > args.pandas_max_gib * 1024:
                pandas_budget = -per_clone * bigger[0]
        path = save(args.results_name, figures)  # after each size: a long run keeps what it measured
    sizes = list(figures["sizes"].values())
    if len(sizes) > 1:
        small, big = sizes[0], sizes[-1]
        factor = big["order_lines"] / small["order_lines"]
        figures["growth"] = {
            "order_lines_x": round(factor, 1),
            "dbt_full_build_x": round(big["dbt"]["full_build_s"] / small["dbt"]["full_build_s"], 2),
            "dbt_fixed_overhead_x": round(
                big["dbt"]["fixed_overhead_s"] / small["dbt"]["fixed_overhead_s"], 2
            ),
            "incremental_x": round(
                big["incremental"]["full_build_s"] / small["incremental"]["full_build_s"], 2
            ),
            "floor_x": round(big["floor"]["median_s"] / small["floor"]["median_s"], 2),
        }
        if "median_s" in big["dagster"] and "median_s" in small["dagster"]:
            figures["growth"]["dagster_x"] = round(
                big["dagster"]["median_s"] / small["dagster"]["median_s"], 2
            )
        if "median_s" in big["pandas"] and "median_s" in small["pandas"]:
            figures["growth"]["pandas_x"] = round(big["pandas"]["median_s"] / small["pandas"]["median_s"], 2)
        path = save(args.results_name, figures)
    for clones, size in figures["sizes"].items():
        print(f"x{clones} ({size['order_lines']:,} lines): {json.dumps(size['ratios'])}")
    print(f"results: {path}")
    return figures


if __name__ == "__main__":
    main()
