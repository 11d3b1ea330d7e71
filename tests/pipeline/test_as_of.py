"""`shopkeep materialize --as-of YYYY-MM-DD` (and the dbt assets' run config in the Dagster UI) builds the marts as
of that day: dbt gets var `as_of_date`, which the `as_of_date()` macro reads instead of today."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import pytest

from analytics.dbt_cli import run_dbt
from orchestration.definitions import build_definitions
from orchestration.settings import load_settings
from orchestration.transform import DbtBuildConfig, dbt_build_args, dbt_run_config, parse_as_of_date

REPO = Path(__file__).resolve().parents[2]


def test_a_build_as_of_a_day_passes_that_day_to_dbt_as_var_as_of_date():
    args = dbt_build_args(parse_as_of_date("2026-05-01"))
    assert args[:3] == ["build", "--exclude-resource-type", "unit_test"]
    assert json.loads(args[args.index("--vars") + 1])["as_of_date"] == "2026-05-01"


def test_a_build_without_a_day_passes_only_its_clock_so_the_marts_are_as_of_the_clocks_day():
    clock = datetime(2026, 6, 30, 17, 30, tzinfo=UTC)  # 01:30 on 1 July in Shanghai
    args = dbt_build_args(None, clock=clock)
    assert json.loads(args[args.index("--vars") + 1]) == {"clock": "2026-06-30T17:30:00+00:00"}


def test_dbt_takes_the_clocks_day_in_the_reporting_timezone_as_its_today(tmp_path):
    args = dbt_build_args(None, clock=datetime(2026, 6, 30, 17, 30, tzinfo=UTC))
    result = run_dbt(
        tmp_path / "build.duckdb", tmp_path, "show", "--inline", "select {{ as_of_date() }} as today",
        "--vars", args[args.index("--vars") + 1],
    )  # fmt: skip
    assert result.returncode == 0, result.stdout
    assert "2026-07-01" in result.stdout


@pytest.mark.parametrize("value", ["2026-13-01", "01/05/2026", "20260501", "yesterday"])
def test_a_day_that_is_not_yyyy_mm_dd_is_refused(value):
    with pytest.raises(ValueError, match="is not a day YYYY-MM-DD"):
        parse_as_of_date(value)
    with pytest.raises(Exception, match="is not a day YYYY-MM-DD"):
        DbtBuildConfig(as_of_date=value)


def test_the_dbt_assets_accept_the_as_of_run_config_the_cli_sends():
    job = build_definitions(load_settings(REPO / "shopkeep.toml")).resolve_implicit_global_asset_job_def()
    assert dg.validate_run_config(job, dbt_run_config(date(2026, 5, 1)))["ops"]["dbt_models"]["config"] == {
        "as_of_date": "2026-05-01"
    }


def test_dbt_reads_the_day_passed_as_its_today(tmp_path):
    args = dbt_build_args(date(2026, 5, 1))
    vars_arg = args[args.index("--vars") + 1]
    result = run_dbt(
        tmp_path / "build.duckdb", tmp_path, "compile", "--quiet", "--inline", "select {{ as_of_date() }} as today",
        "--vars", vars_arg,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout
    assert "cast('2026-05-01' as date)" in result.stdout
