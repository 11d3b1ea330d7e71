"""The `shopkeep` CLI reports what the user must fix (a config mistake, a missing secret, a refused credential) as
one line on stderr with exit code 2, whether it happens before the build or inside a Dagster step of it."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import typer
from typer.testing import CliRunner

from connectors.common.pii import require_salt
from connectors.shopify.client import ShopifyAuthError
from orchestration.cli import app, run_failures, user_errors_are_one_line
from orchestration.settings import ConfigError

SHOP = """
[warehouse]
build_path = "build.duckdb"
serve_path = "serve.duckdb"
ops_path = "ops.sqlite"
dlt_dir = "dlt"

[[shops]]
id = "my_store"
channel = "shopify"
name = "My store"
currency = "USD"
base_url = "http://127.0.0.1:9"
token_env = "MY_STORE_TOKEN"
"""


def _invoke(tmp_path: Path, config: str, *args: str, **env: str):
    (tmp_path / "shopkeep.toml").write_text(config, encoding="utf-8")
    env = {
        "SHOPKEEP_CONFIG": str(tmp_path / "shopkeep.toml"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "SHOPKEEP_PII_SALT": "test-salt",
        "MY_STORE_TOKEN": "",
        **env,
    }
    return CliRunner().invoke(app, list(args), env=env)


def _one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0].removeprefix("error: ")


def test_a_misspelt_key_stops_materialize_with_one_line_naming_it(tmp_path):
    result = _invoke(tmp_path, SHOP.replace("build_path", "buildpath"), "materialize")
    line = _one_error_line(result)
    assert line.startswith(
        f"{tmp_path / 'shopkeep.toml'}: warehouse.buildpath: unknown key (did you mean build_path?)"
    )
    assert not (tmp_path / "build.duckdb").exists()


def test_a_missing_secret_stops_materialize_before_anything_is_pulled(tmp_path):
    line = _one_error_line(_invoke(tmp_path, SHOP, "materialize"))
    assert line.startswith("environment variable MY_STORE_TOKEN is not set (access token of shop my_store")
    assert not (tmp_path / "build.duckdb").exists()


def test_a_missing_secret_inside_a_dagster_run_surfaces_as_its_one_line(tmp_path):
    """With --select there is no check up front: the connector step fails inside Dagster, and the CLI prints that
    step's error as the one line, not Dagster's log of it."""
    result = _invoke(tmp_path, SHOP, "materialize", "--select", "key:raw_shopify/*")
    assert _one_error_line(result) == (
        "ingest failed: environment variable MY_STORE_TOKEN is not set (Shopify access token of shop my_store). "
        "Set it in your shell or in .env next to shopkeep.toml; `make demo` sets sandbox values for the demo."
    )


def test_an_as_of_that_is_not_a_day_is_one_line(tmp_path):
    line = _one_error_line(_invoke(tmp_path, SHOP, "materialize", "--as-of", "2026-13-01"))
    assert line == "--as-of: as-of date '2026-13-01' is not a day YYYY-MM-DD (e.g. 2026-05-01)"


def test_a_failed_step_gives_the_user_errors_message_and_a_bugs_traceback():
    @dg.asset
    def refused_token():
        raise ShopifyAuthError("Shopify shop my_store refused the access token (401): renew MY_STORE_TOKEN")

    @dg.asset
    def bug():
        return {}["missing"]

    with dg.instance_for_test() as instance:
        result = dg.materialize([refused_token, bug], instance=instance, raise_on_error=False)
    user, other = run_failures(result)
    assert user == ["Shopify shop my_store refused the access token (401): renew MY_STORE_TOKEN"]
    assert len(other) == 1
    assert (
        "KeyError" in other[0] and 'return {}["missing"]' in other[0]
    )  # the bug's stack, for whoever fixes it


def test_a_missing_salt_raised_by_a_connector_is_one_line_but_a_bug_keeps_its_traceback():
    cli = typer.Typer()

    @cli.command()
    @user_errors_are_one_line
    def load(bug: bool = False) -> None:
        if bug:
            raise KeyError("not a user error")
        require_salt("")

    salted = CliRunner().invoke(cli, [])
    assert salted.exit_code == 2
    assert salted.stderr.startswith("error: environment variable SHOPKEEP_PII_SALT is not set")
    assert len(salted.stderr.strip().splitlines()) == 1

    buggy = CliRunner().invoke(cli, ["--bug"])
    assert buggy.exit_code == 1
    assert isinstance(buggy.exception, KeyError)


def test_a_config_error_raised_inside_a_command_is_one_line():
    error = ConfigError('x.toml: demo.days: expected an integer, got "many"')
    cli = typer.Typer()

    @cli.command()
    @user_errors_are_one_line
    def run() -> None:
        raise error

    result = CliRunner().invoke(cli, [])
    assert (result.exit_code, result.stderr) == (2, f"error: {error}\n")
