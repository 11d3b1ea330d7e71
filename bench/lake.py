"""`python -m bench.lake`: the DuckLake engine beside the single file, on the same scaled raw tables (`--clones 8`
≈ 1 million order lines, from bench/scale_raw.py as `bench.scale` makes them), in one run:

- **file**: `dbt build` on a copy of the raw file, then the publish (a copy into serve.duckdb);
- **lake**: a PostgreSQL catalog (Debian's server programs, a throwaway cluster: orchestration/local_postgres.py)
  with its Parquet files in a local folder; the raw tables moved in as `shopkeep lake-import` does
  (`copy_raw_into_lake`), `dbt build` with the profile's `lake_local` target, and the publish (a tagged snapshot,
  nothing copied);
- every mart of the lake's published snapshot against the file's serve.duckdb (doubles to a relative 1e-9);
- every dashboard page's queries on each (`bench.dashboard_queries.time_pages`: the file's serve.duckdb, the
  lake's locator pinned at its published snapshot), p50/p95.

Each step is timed as a process tree (bench.scale.measured: wall-clock, CPU seconds, peak RSS). Figures go to
stdout and bench/results/lake.json. Not part of `make test`; the lake's own correctness (every mart equal to the
file's) is tests/pipeline/test_lake_build.py's.
"""

from __future__ import annotations

import argparse
import subprocess
import time
from pathlib import Path
from typing import Any

import bench.scale
from bench.results import save
from bench.scale import (
    PY,
    REPO,
    WORK,
    dashboard_times,
    dbt_build,
    fresh_copy,
    measured,
    publish,
    wait_for_quiet,
)
from bench.scale_raw import cached_raw, source_clock

LAKE_PUBLISH = (
    "import json, sys; from connectors.common.warehouse import Lake; from orchestration.publish import publish_lake; "
    "snapshot, counts = publish_lake(Lake(**json.loads(sys.argv[1]))); print('SNAPSHOT', snapshot, sum(counts.values()))"
)
LAKE_IMPORT = (
    "import json, sys; from connectors.common.warehouse import Lake, copy_raw_into_lake; "
    "counts = copy_raw_into_lake(sys.argv[2], Lake(**json.loads(sys.argv[1]))); print('ROWS', sum(counts.values()))"
)


def _checked(result: dict[str, Any], what: str) -> dict[str, Any]:
    if result["returncode"] != 0:
        raise RuntimeError(f"{what} failed:\n{result['output'][-4000:]}")
    del result["output"]
    return result


def _worst(pages: dict[str, Any]) -> tuple[str, float]:
    page, figures = max(pages.items(), key=lambda kv: (kv[1] or {}).get("p95", 0))
    return page, (figures or {}).get("p95", 0)


def file_side(raw: Path, folder: Path, dashboard_runs: int) -> dict[str, Any]:
    build = fresh_copy(raw, folder)
    out = {"dbt": dbt_build(build)}
    out["publish"] = publish(build)
    out["full_build_s"] = round(out["dbt"]["seconds"] + out["publish"]["seconds"], 2)
    out["full_build_cpu_s"] = round(out["dbt"]["cpu_s"] + out["publish"]["cpu_s"], 2)
    out["dashboards_ms"] = dashboard_times(build.parent / "serve.duckdb", dashboard_runs)
    return out


def lake_side(raw: Path, folder: Path, dashboard_runs: int) -> dict[str, Any]:
    import json
    import shutil

    from connectors.common.warehouse import Lake, extension_directory, lake_locator
    from orchestration.local_postgres import postgres

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    with postgres() as pg:
        lake = Lake(catalog_url=pg.create_database("bench_lake"), data_path=f"{folder / 'data'}/")
        (folder / "data").mkdir()
        as_json = json.dumps({"catalog_url": lake.catalog_url, "data_path": lake.data_path})
        out = {"import": _checked(measured([PY, "-c", LAKE_IMPORT, as_json, str(raw)]), "lake import")}
        env = {  # as Settings.dbt_env gives a lake with a local data path
            "SHOPKEEP_DBT_TARGET": "lake_local",
            "SHOPKEEP_LAKE_CATALOG_URL": lake.catalog_url,
            "SHOPKEEP_LAKE_DATA_PATH": lake.data_path,
            "SHOPKEEP_DUCKDB_EXTENSIONS": str(extension_directory(folder / "extensions")),
        }
        out["dbt"] = dbt_build(folder / "build.duckdb", env=env)  # the file is only dbt's work folder's name
        out["publish"] = _checked(measured([PY, "-c", LAKE_PUBLISH, as_json]), "lake publish")
        out["full_build_s"] = round(out["dbt"]["seconds"] + out["publish"]["seconds"], 2)
        out["full_build_cpu_s"] = round(out["dbt"]["cpu_s"] + out["publish"]["cpu_s"], 2)
        out["dashboards_ms"] = dashboard_times(lake_locator(lake), dashboard_runs)
        try:  # a comparison that fails must not lose the timings
            out["marts_vs_file"] = marts_vs_file(folder.parent / "file" / "serve.duckdb", lake)
        except Exception as exc:  # noqa: BLE001
            out["marts_vs_file"] = {"error": repr(exc)}
        out["data_files_mib"] = round(sum(f.stat().st_size for f in (folder / "data").rglob("*")) / 2**20)
    return out


def marts_vs_file(serve: Path, lake) -> dict[str, Any]:
    """Every mart of the lake's published snapshot against the file's serve.duckdb (bench.compare_marts: doubles
    to a relative 1e-9): how many were compared, and mart -> how it differs. Both builds read the same
    raw tables on the same pinned clock, so nothing may differ."""
    import duckdb

    from bench.compare_marts import compare_connections
    from connectors.common.warehouse import connect_warehouse, published_snapshot

    if not serve.exists():
        return {"compared": 0, "differ": "no file build to compare with"}
    with connect_warehouse(None, lake, read_only=True) as con:
        snapshot = published_snapshot(con)
    with (
        duckdb.connect(str(serve), read_only=True) as file_con,
        connect_warehouse(None, lake, read_only=True, snapshot=snapshot) as lake_con,
    ):
        compared = file_con.execute(
            "select count(*) from information_schema.tables where table_schema = 'marts'"
        ).fetchone()[0]
        differ = compare_connections(file_con, lake_con, names=("the file", "the lake"))
    return {"compared": compared, "differ": differ}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.lake", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--source",
        type=Path,
        default=REPO / ".shopkeep" / "build.duckdb",
        help="a built warehouse of the demo shop (make demo) whose raw tables are cloned",
    )
    parser.add_argument("--clones", type=int, default=8, help="8 ≈ 1M order lines")
    parser.add_argument("--dashboard-runs", type=int, default=20)
    parser.add_argument("--max-load", type=float, default=1.5)
    parser.add_argument("--patience", type=int, default=600, help="seconds to wait for --max-load at most")
    parser.add_argument(
        "--memory-limit", help="DuckDB memory_limit of both builds, e.g. 4GB (default: DuckDB's)"
    )
    parser.add_argument("--results-name", default="lake", help="bench/results/<name>.json")
    args = parser.parse_args(argv)
    bench.scale.MEMORY_LIMIT = args.memory_limit
    if not args.source.exists():
        parser.error(f"{args.source} does not exist: build the demo shop first (make demo), or pass --source")
    bench.scale.CLOCK = source_clock(args.source)
    gen = [PY, "-m", "bench.scale_raw", "--source", str(args.source), "--clones", str(args.clones)]
    subprocess.run(["nice", "-n", "5", *gen], check=True, cwd=REPO, stdout=subprocess.DEVNULL)
    raw, generated = cached_raw(args.source, args.clones)
    figures: dict[str, Any] = {
        "clones": args.clones,
        "memory_limit": args.memory_limit,
        "raw": {k: v for k, v in generated.items() if k != "rows"},
    }
    folder = WORK / f"lake-x{args.clones}"
    for side, run in (("file", file_side), ("lake", lake_side)):
        figures[f"load_before_{side}"] = wait_for_quiet(args.max_load, args.patience)
        started = time.perf_counter()
        figures[side] = run(raw, folder / side, args.dashboard_runs)
        result = figures[side]
        page, p95 = _worst(result["dashboards_ms"])
        print(
            f"{side}: build {result['full_build_s']}s (cpu {result['full_build_cpu_s']}s; dbt {result['dbt']['seconds']}s,"
            f" publish {result['publish']['seconds']}s), peak {result['dbt']['peak_rss_mib']} MiB; worst page p95 "
            f"{page} {p95} ms; {time.perf_counter() - started:.0f}s in all"
            + (f"; marts vs the file's: {result['marts_vs_file']}" if "marts_vs_file" in result else ""),
            flush=True,
        )
        save(args.results_name, figures)
    figures["lake_vs_file"] = {
        "full_build": round(figures["lake"]["full_build_s"] / figures["file"]["full_build_s"], 2),
        "full_build_cpu": round(figures["lake"]["full_build_cpu_s"] / figures["file"]["full_build_cpu_s"], 2),
        "worst_page_p95": round(
            _worst(figures["lake"]["dashboards_ms"])[1] / _worst(figures["file"]["dashboards_ms"])[1], 2
        ),
    }
    print(f"lake / file: {figures['lake_vs_file']}; results: {save(args.results_name, figures)}")
    return figures


if __name__ == "__main__":
    main()
