"""`shopkeep materialize --as-of YYYY-MM-DD` (and the dbt assets' run config in the Dagster UI) builds the marts as
of that day: dbt gets var `as_of_date`, which the `as_of_date()` macro reads instead of today."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import pytest
import time_machine

from analytics.dbt_cli import run_dbt
from orchestration.definitions import build_definitions
from orchestration.settings import load_settings
from orchestration.transform import (
    DbtBuildConfig,
    dbt_build_args,
    dbt_clock_env,
    dbt_run_config,
    parse_as_of_date,
)

REPO = Path(__file__).resolve().parents[2]


def test_a_build_as_of_a_day_passes_that_day_to_dbt_as_var_as_of_date():
    args = dbt_build_args(parse_as_of_date("2026-05-01"))
    assert args[:3] == ["build", "--exclude-resource-type", "unit_test"]
    assert json.loads(args[args.index("--vars") + 1])["as_of_date"] == "2026-05-01"


def test_a_build_without_a_day_passes_no_var_and_its_clock_in_the_environment():
    clock = datetime(2026, 6, 30, 17, 30, tzinfo=UTC)  # 01:30 on 1 July in Shanghai
    assert "--vars" not in dbt_build_args(None)
    assert dbt_clock_env(clock) == {"SHOPKEEP_CLOCK": "2026-06-30T17:30:00+00:00"}


def test_dbt_takes_the_clocks_day_in_the_reporting_timezone_as_its_today(tmp_path, monkeypatch):
    monkeypatch.setenv(
        "SHOPKEEP_CLOCK", "2020-01-01T00:00:00+00:00"
    )  # run_dbt gives dbt this process's clock
    with time_machine.travel(datetime(2026, 6, 30, 17, 30, tzinfo=UTC), tick=False):
        result = run_dbt(
            tmp_path / "build.duckdb", tmp_path, "show", "--inline", "select {{ as_of_date() }} as today"
        )
    assert result.returncode == 0, result.stdout
    assert "2026-07-01" in result.stdout


def test_each_build_file_and_clock_keeps_dbts_partial_parse(tmp_path):
    """The clock changes every build and the build file differs between warehouses: neither may make dbt parse
    the whole project again (~10 s a build)."""
    for hour in (1, 2):
        work = tmp_path / f"warehouse_{hour}"
        with time_machine.travel(datetime(2026, 6, 30, hour, tzinfo=UTC), tick=False):
            result = run_dbt(
                work / "build.duckdb",
                work,
                "show",
                "--inline",
                "select cast(epoch({{ clock() }}) as varchar) as now",
                "--debug",
            )
        assert result.returncode == 0, result.stdout
        assert str(int(datetime(2026, 6, 30, hour, tzinfo=UTC).timestamp())) in result.stdout
        assert "Unable to do partial parsing" not in result.stdout, result.stdout[-3000:]
        assert "Partial parsing enabled: 0 files deleted, 0 files added, 0 files changed" in result.stdout


@pytest.mark.parametrize("value", ["2026-13-01", "01/05/2026", "20260501", "yesterday"])
def test_a_day_that_is_not_yyyy_mm_dd_is_refused(value):
    with pytest.raises(ValueError, match="is not a day YYYY-MM-DD"):
        parse_as_of_date(value)
    with pytest.raises(Exception, match="is not a day YYYY-MM-DD"):
        DbtBuildConfig(as_of_date=value)


def test_the_dbt_assets_accept_the_as_of_run_config_the_cli_sends():
    job = build_definitions(load_settings(REPO / "shopkeep.toml")).resolve_implicit_global_asset_job_def()
    assert dg.validate_run_config(job, dbt_run_config(date(2026, 5, 1)))["ops"]["dbt_models"]["config"] == {
        "as_of_date": "2026-05-01",
        "full_refresh": False,
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
