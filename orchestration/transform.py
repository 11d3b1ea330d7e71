"""dbt assets: every staging, intermediate and mart model (and seed) of dbt_project/, built with `dbt build`.

Asset keys mirror warehouse tables (`staging/stg_shopify__orders`, `marts/daily_shop_sales`); dbt sources map to
the ingest assets' keys (`raw_shopify/orders`) — nested raw tables such as `orders__line_items` name their parent
resource's asset in the source YAML (`meta.dagster.asset_key`). dbt tests become asset checks.
"""

import json
import os
import re
import shutil
import sys
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)
from pydantic import Field, field_validator

from orchestration.ingest import WAREHOUSE_POOL
from orchestration.settings import Settings

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


class WarehouseTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        meta_key = dbt_resource_props.get("meta", {}).get("dagster", {}).get("asset_key")
        if meta_key:
            return dg.AssetKey(meta_key)
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        schema = dbt_resource_props.get("config", {}).get("schema") or "seeds"
        return dg.AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return None
        return dbt_resource_props.get("config", {}).get("schema") or "seeds"


def dbt_resource() -> DbtCliResource:
    # the dbt installed next to this Python (the venv), whatever PATH says
    return DbtCliResource(project_dir=dbt_project, dbt_executable=str(Path(sys.executable).parent / "dbt"))


PROJECT_SOURCES = ("dbt_project.yml", "models", "macros", "seeds", "tests", "snapshots", "analyses")
"""What `dbt parse` reads: the manifest is stale when one of these is newer. Not the whole folder: dbt itself
writes files there (`.user.yml`, logs), and a re-parse on every process start made concurrent runs race."""


def _manifest_is_stale() -> bool:
    manifest = dbt_project.manifest_path
    if not manifest.is_file():
        return True
    built = manifest.stat().st_mtime
    for name in PROJECT_SOURCES:
        root = DBT_PROJECT_DIR / name
        files = [root] if root.is_file() else root.rglob("*") if root.is_dir() else []
        if any(
            p.suffix in {".sql", ".yml", ".csv", ".py", ".md"} and p.stat().st_mtime > built
            for p in files
            if not p.name.startswith(".")
        ):
            return True
    return False


def prepare_manifest(force: bool = False) -> Path:
    """`dbt parse` into dbt_project/target/manifest.json (the Makefile does this once after install; here it
    only happens again when a model, YAML or seed file is newer than the manifest — an analyst's edit).

    dbt parses into a target folder of its own and the manifest then replaces the old one in one rename, so a
    process loading the manifest meanwhile reads the old or the new one, never half of each."""
    if force or _manifest_is_stale():
        scratch = Path("target") / f"parse-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        dbt_resource().cli(["parse", "--quiet"], target_path=scratch).wait()
        os.replace(DBT_PROJECT_DIR / scratch / "manifest.json", dbt_project.manifest_path)
        shutil.rmtree(DBT_PROJECT_DIR / scratch, ignore_errors=True)
    return dbt_project.manifest_path


def parse_as_of_date(value: str) -> date:
    """A `YYYY-MM-DD` day, or a ValueError saying what was expected (one line)."""
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"as-of date {value!r} is not a day YYYY-MM-DD (e.g. 2026-05-01)") from None


def dbt_build_args(as_of_date: date | None = None, clock: datetime | None = None) -> list[str]:
    """The `dbt build` of a scheduled build: data tests but not unit tests (they check the SQL, not the day's data,
    and run in `make test`). dbt var `clock` is this process's clock (`clock`, default now), so the marts' "now"
    is the clock that stamped the loads (the `clock()` macro); with `as_of_date`, the marts are built as of that
    day (dbt var `as_of_date`, read by the `as_of_date()` macro) instead of the clock's day."""
    variables = {"clock": (clock or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")}
    if as_of_date is not None:
        variables["as_of_date"] = as_of_date.isoformat()
    return ["build", "--exclude-resource-type", "unit_test", "--vars", json.dumps(variables)]


class DbtBuildConfig(dg.Config):
    """Run config of the dbt assets (the launchpad in the Dagster UI; `shopkeep materialize --as-of`)."""

    as_of_date: str | None = Field(
        default=None,
        description="Build the marts as of this day (YYYY-MM-DD) instead of today, to analyse old history as of "
        "its own time.",
    )

    @field_validator("as_of_date")
    @classmethod
    def _is_a_day(cls, value: str | None) -> str | None:
        if value:
            parse_as_of_date(value)
        return value or None


DBT_OP_NAME = "dbt_models"


def dbt_run_config(as_of_date: date) -> dict:
    """Run config that builds the dbt assets as of `as_of_date`."""
    return {"ops": {DBT_OP_NAME: {"config": {"as_of_date": as_of_date.isoformat()}}}}


def transform_assets(settings: Settings) -> list[dg.AssetsDefinition]:
    os.environ.update(settings.dbt_env)
    prepare_manifest()

    @dbt_assets(
        manifest=dbt_project.manifest_path,
        project=dbt_project,
        dagster_dbt_translator=WarehouseTranslator(
            settings=DagsterDbtTranslatorSettings(
                enable_asset_checks=True, enable_duplicate_source_asset_keys=True
            )
        ),
        pool=WAREHOUSE_POOL,
    )
    def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig):
        """Staging views, intermediate models and marts, with their data tests. dbt's unit tests check the SQL,
        not the data, so they run in development and CI (`make test`), not on every scheduled build."""
        os.environ.update(settings.dbt_env)
        # a subset run (a Dagster selection of some models) runs only the tests whose every parent is built: dbt's
        # default (eager) also runs a relationship test whose other side was not built, which fails on a new
        # warehouse; a full build runs every test either way
        os.environ.setdefault("DBT_INDIRECT_SELECTION", "cautious")
        as_of = parse_as_of_date(config.as_of_date) if config.as_of_date else None
        yield from dbt.cli(dbt_build_args(as_of), context=context).stream()

    return [dbt_models]
