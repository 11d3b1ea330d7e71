"""dbt assets: every staging, intermediate and mart model (and seed) of dbt_project/, built with `dbt build`.

Asset keys mirror warehouse tables (`staging/stg_shopify__orders`, `marts/daily_shop_sales`); dbt sources map to
the ingest assets' keys (`raw_shopify/orders`) — nested raw tables such as `orders__line_items` name their parent
resource's asset in the source YAML (`meta.dagster.asset_key`). dbt tests become asset checks.
"""

import json
import os
import pprint
import re
import shutil
import sys
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
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


PARTIAL_PARSE_FILE = "partial_parse.msgpack"
PROJECT_SOURCES = ("dbt_project.yml", "models", "macros", "seeds", "tests", "snapshots", "analyses")
"""What `dbt parse` reads: the manifest is stale when one of these is newer. Not the whole folder: dbt itself
writes files there (`.user.yml`, logs), and a re-parse on every process start made concurrent runs race."""


def _manifest_is_stale() -> bool:
    manifest = dbt_project.manifest_path
    if not manifest.is_file() or not (manifest.parent / PARTIAL_PARSE_FILE).is_file():
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


PARSE_BUILD_PATH = "build.duckdb"
"""The build file `dbt parse` is told about (`prepare_manifest`): dbt keys its partial-parse state to the profile,
build file included; `partial_parse_state` re-keys it to each build's own file."""


def prepare_manifest(force: bool = False) -> Path:
    """`dbt parse` into dbt_project/target/manifest.json (the Makefile does this once after install; here it
    only happens again when a model, YAML or seed file is newer than the manifest — an analyst's edit), with
    dbt's partial-parse state beside it (`partial_parse_state`).

    dbt parses into a target folder of its own and the manifest then replaces the old one in one rename, so a
    process loading the manifest meanwhile reads the old or the new one, never half of each."""
    if force or _manifest_is_stale():
        scratch = Path("target") / f"parse-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        # parsed for the file profile whatever the engine: the saved state is keyed to it (partial_parse_state)
        saved = {name: os.environ.get(name) for name in ("SHOPKEEP_BUILD_PATH", "SHOPKEEP_DBT_TARGET")}
        os.environ.update({"SHOPKEEP_BUILD_PATH": PARSE_BUILD_PATH, "SHOPKEEP_DBT_TARGET": "dev"})
        try:
            dbt_resource().cli(["parse", "--quiet"], target_path=scratch).wait()
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name)
                else:
                    os.environ[name] = value
        target = dbt_project.manifest_path.parent
        os.replace(DBT_PROJECT_DIR / scratch / PARTIAL_PARSE_FILE, target / PARTIAL_PARSE_FILE)
        os.replace(DBT_PROJECT_DIR / scratch / "manifest.json", dbt_project.manifest_path)
        shutil.rmtree(DBT_PROJECT_DIR / scratch, ignore_errors=True)
    return dbt_project.manifest_path


def _profile_hash(build_path: str) -> str:
    """dbt's checksum of the profile (dbt.parser.manifest, the state check of partial parsing): the sorted
    connection keys and values of the profile's DuckDB credentials, which name the build file."""
    from dbt.adapters.duckdb.credentials import DuckDBCredentials
    from dbt.artifacts.resources.base import FileHash

    credentials = DuckDBCredentials.from_dict({"path": build_path, "schema": "main"})
    return FileHash.from_contents(pprint.pformat(sorted(credentials.connection_info()))).checksum


def partial_parse_state(target: Path, build_path: str, saved: Path | None = None) -> bool:
    """Put dbt's partial-parse state for a build on `build_path` into the target folder `target`, so dbt parses only
    the files changed since `prepare_manifest` (~1 s) instead of the whole project (~10 s, every build).

    dbt refuses its saved state when the profile differs, and the profile names the build file, which differs
    between a seller's warehouses (and between tests). Only the build file differs, so the state is re-keyed:
    its profile checksum is replaced by the one dbt computes for `build_path`. This is checked, never assumed:
    unless the saved checksum is exactly the one computed for PARSE_BUILD_PATH (the same profile, the same dbt),
    and the file's stem (dbt's database name, written into every parsed node) is the same, nothing is written
    and dbt parses the whole project as before. Returns whether the state was written. `saved`: the state
    `prepare_manifest` saved (by default, beside the manifest)."""
    saved = saved or dbt_project.manifest_path.parent / PARTIAL_PARSE_FILE
    if not saved.is_file() or Path(build_path).stem != Path(PARSE_BUILD_PATH).stem:
        return False
    state = saved.read_bytes()
    parsed_with = _profile_hash(PARSE_BUILD_PATH).encode()
    if state.count(parsed_with) != 1:
        return False
    target.mkdir(parents=True, exist_ok=True)
    (target / PARTIAL_PARSE_FILE).write_bytes(state.replace(parsed_with, _profile_hash(build_path).encode()))
    return True


BUILD_FOLDERS_KEPT = timedelta(days=2)
"""How long a build's dbt target folder (its compiled SQL, run_results.json and log, ~15 MB) is kept."""


def prune_build_folders(current: Path, keep: timedelta = BUILD_FOLDERS_KEPT) -> None:
    """Delete the target folders of builds `keep` older than this build's folder `current` (the file system's
    times, whatever the process's clock says): an hourly schedule leaves one per build, which would fill the disk
    over months. A build still running is younger than that, so it never loses its folder."""
    cutoff = current.stat().st_mtime - keep.total_seconds()
    for folder in current.parent.glob(f"{DBT_OP_NAME}-*"):
        try:
            if folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
        except FileNotFoundError:  # another process pruned it first
            pass


def parse_as_of_date(value: str) -> date:
    """A `YYYY-MM-DD` day, or a ValueError saying what was expected (one line)."""
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"as-of date {value!r} is not a day YYYY-MM-DD (e.g. 2026-05-01)") from None


def dbt_build_args(as_of_date: date | None = None, full_refresh: bool = False) -> list[str]:
    """The `dbt build` of a scheduled build: data tests but not unit tests (they check the SQL, not the day's data,
    and run in `make test`); with `as_of_date`, the marts are built as of that day (dbt var `as_of_date`, read by
    the `as_of_date()` macro) instead of the clock's day; with `full_refresh`, incremental models
    (`order_line_margins`) are rebuilt from all history (the nightly refresh)."""
    args = ["build", "--exclude-resource-type", "unit_test"]
    if full_refresh:
        args.append("--full-refresh")
    if as_of_date is not None:
        args += ["--vars", json.dumps({"as_of_date": as_of_date.isoformat()})]
    return args


def dbt_clock_env(clock: datetime | None = None) -> dict[str, str]:
    """The environment that gives dbt this process's clock (`clock`, default now) as its "now" (the `clock()`
    macro reads SHOPKEEP_CLOCK when the SQL runs), so the marts' "now" is the clock that stamped the loads. An
    environment variable rather than a dbt var: a var that changes every build would make dbt parse the whole
    project again every build instead of reusing its partial parse."""
    return {"SHOPKEEP_CLOCK": (clock or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")}


class DbtBuildConfig(dg.Config):
    """Run config of the dbt assets (the launchpad in the Dagster UI; `shopkeep materialize --as-of`)."""

    as_of_date: str | None = Field(
        default=None,
        description="Build the marts as of this day (YYYY-MM-DD) instead of today, to analyse old history as of "
        "its own time.",
    )

    full_refresh: bool = Field(
        default=False,
        description="Rebuild incremental models from all history (what the nightly_full_refresh schedule does).",
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
        os.environ.update(dbt_clock_env())
        as_of = parse_as_of_date(config.as_of_date) if config.as_of_date else None
        target = DBT_PROJECT_DIR / "target" / f"{DBT_OP_NAME}-{context.run.run_id[:8]}-{uuid.uuid4().hex[:7]}"
        target.mkdir(parents=True)
        if settings.lake is None:  # the lake's profile is not the parse's: dbt parses the whole project
            partial_parse_state(target, os.environ["SHOPKEEP_BUILD_PATH"])
        prune_build_folders(target)
        args = dbt_build_args(as_of, config.full_refresh)
        yield from dbt.cli(args, context=context, target_path=target).stream()

    return [dbt_models]
