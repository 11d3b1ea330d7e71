"""The `shopkeep` command line: demo, sandbox, materialize, dashboards, prepare."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from orchestration.settings import ConfigError, Settings, load_settings

app = typer.Typer(
    help="shopkeep: analytics-first ERP for multi-channel e-commerce sellers.", no_args_is_help=True
)
console = Console()
# dlt's "log" progress collector warns on every pipeline that psutil (memory stats) is missing: noise for a user
warnings.filterwarnings("ignore", message="psutil dependency is not installed")

REPO = Path(__file__).resolve().parent.parent
DEMO_SECRETS = {
    # Sandbox-only values (the local sandbox servers accept exactly these); never real credentials.
    "SHOPIFY_GLOBAL_TOKEN": "shpat_sandbox_demo_token",
    "WMS_TOKEN": "wms_sandbox_demo_token",
    "SHOPKEEP_PII_SALT": "demo-salt-for-the-simulated-shop",
    "SUPPLIER_WEBHOOK_SECRET": "sandbox-supplier-webhook-secret",
    "SUP06_1688_APP_SECRET": "sandbox-1688-app-secret",
    "SUP06_1688_TOKEN": "sandbox-1688-access-token",
    **{
        f"{prefix}_{kind}": f"sandbox-{prefix.lower()}-{kind.lower()}"
        for prefix in ("TMALL_FLAGSHIP", "JD_POP", "PDD_MAIN", "DOUYIN_LIVE")
        for kind in ("APP_KEY", "APP_SECRET", "TOKEN")
    },
}


def _user_error_classes() -> tuple[type[Exception], ...]:
    """Errors whose message already says what to fix (which shop, key, variable or file): the user gets the
    message as one line, not a traceback. Everything else is a bug and keeps its traceback."""
    from connectors.common.errors import ChannelError
    from connectors.common.pii import MissingSaltError
    from connectors.files.mapping import MappingError
    from connectors.files.workbook import FileImportError
    from orchestration.gates import GateClosed
    from writeback.ops_store import OpsStoreError
    from writeback.stock.rules import RuleError

    return (
        ConfigError, MissingSaltError, ChannelError, FileImportError, MappingError, OpsStoreError, RuleError,
        GateClosed,
    )  # fmt: skip


def _user_error_names() -> set[str]:
    """Class names of the user errors and their subclasses (a Dagster run reports an error by class name)."""
    names: set[str] = set()
    pending = list(_user_error_classes())
    while pending:
        cls = pending.pop()
        names.add(cls.__name__)
        pending.extend(cls.__subclasses__())
    return names


class UserFacingFailure(Exception):
    """A run failed for reasons the user must fix; each message is one line that says what to fix."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


def one_line(message: str) -> str:
    return " ".join(message.split())


def fail(message: str) -> NoReturn:
    """The message on stderr as one line, exit code 2 (usage/configuration error), no traceback."""
    typer.echo(f"error: {one_line(message)}", err=True)
    raise typer.Exit(2)


def user_errors_are_one_line(command: Callable) -> Callable:
    """A command decorator: configuration, credential and input errors end the command with one line on stderr
    and exit code 2; anything else (a bug) keeps its traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except UserFacingFailure as exc:
            for message in exc.messages:
                typer.echo(f"error: {one_line(message)}", err=True)
            raise typer.Exit(2) from None
        except Exception as exc:
            if not isinstance(exc, _user_error_classes()):
                raise
            fail(str(exc))

    return wrapper


def _settings() -> Settings:
    return load_settings()


def dagster_home(settings: Settings) -> Path:
    """A DAGSTER_HOME next to the warehouse, with the instance config (pool limit 1) in place."""
    home = Path(os.environ.get("DAGSTER_HOME") or settings.build_path.parent / "dagster_home")
    home.mkdir(parents=True, exist_ok=True)
    template = (REPO / "orchestration" / "dagster.yaml").read_text(encoding="utf-8")
    (home / "dagster.yaml").write_text(
        template.replace("{dagster_home}", json.dumps(str(home.resolve()))[1:-1]), encoding="utf-8"
    )
    os.environ["DAGSTER_HOME"] = str(home)
    return home


PID_TAG, HOST_TAG = "shopkeep/pid", "shopkeep/host"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release_orphaned_runs(instance) -> list[str]:
    """Fail the runs this CLI started from a process that no longer exists (killed, machine crashed) and free
    the `warehouse` pool slots they held — otherwise the next run waits for that slot forever. Runs started
    by the Dagster daemon or UI carry no pid tag and are left alone."""
    import dagster as dg

    orphans = []
    records = instance.get_run_records(
        filters=dg.RunsFilter(
            statuses=[
                dg.DagsterRunStatus.STARTED,
                dg.DagsterRunStatus.STARTING,
                dg.DagsterRunStatus.NOT_STARTED,
            ],
            tags={HOST_TAG: socket.gethostname()},
        )
    )
    for record in records:
        run = record.dagster_run
        pid = run.tags.get(PID_TAG)
        if pid is None or _process_alive(int(pid)):
            continue
        instance.report_run_failed(run, message=f"the shopkeep process (pid {pid}) that ran this is gone")
        orphans.append(run.run_id)
    for run_id in instance.event_log_storage.get_concurrency_run_ids():
        run = instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            instance.event_log_storage.free_concurrency_slots_for_run(run_id)
    return orphans


def _user_error_message(error) -> str | None:
    """The message of the user error in a Dagster step failure (the error, its cause or context chain), or None
    when the step failed for another reason."""
    names = _user_error_names()
    pending = [error]
    while pending:
        info = pending.pop(0)
        if info is None:
            continue
        if info.cls_name in names:
            text = info.message.strip()
            return one_line(re.sub(rf"^[\w.]*\b{info.cls_name}:\s*", "", text) or text)
        pending += [info.cause, info.context]
    return None


def run_failures(result) -> tuple[list[str], list[str]]:
    """A failed in-process run's step failures: (one line per user error, full text of every other error)."""
    user: list[str] = []
    other: list[str] = []
    for event in result.all_events:
        if not event.is_step_failure:
            continue
        error = event.step_failure_data.error
        message = _user_error_message(error)
        if message is not None:
            if message not in user:
                user.append(message)
        elif error is not None:
            other.append(f"step {event.step_key} failed: {error.to_string()}")
    return user, other


def run_materialize(
    settings: Settings, instance=None, select: str | None = None, as_of_date: date | None = None
) -> None:
    """Materialise every asset once, in-process, stage by stage (ingest, transform, publish) with progress.
    Runs are recorded in the DAGSTER_HOME instance (so they show in `dagster dev`) unless one is passed.
    `as_of_date` builds the marts as of that day instead of today. A step failing for a reason the user must fix
    (a missing secret, a refused credential, a missing file) raises UserFacingFailure with its one-line message;
    other failures print their traceback and exit 1."""
    if select is None:
        settings.check_ready()

    import dagster as dg

    from orchestration import ingest
    from orchestration.definitions import build_definitions
    from orchestration.progress import PullBars
    from orchestration.settings import CHANNELS
    from orchestration.transform import dbt_run_config

    pulled = {f"raw_{channel}" for channel in CHANNELS} | {"raw_wms"}

    if instance is None:
        dagster_home(settings)
        instance = dg.DagsterInstance.get()
    orphans = release_orphaned_runs(instance)
    if orphans:
        console.print(
            f"[yellow]marked {len(orphans)} interrupted run(s) failed and freed their pool slots[/yellow]"
        )
    defs = build_definitions(settings)
    tags = {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}
    stages = [
        ("ingest", "key:raw_*/*"),
        ("transform (dbt build)", "key:staging/* or key:intermediate/* or key:marts/* or key:seeds/*"),
        ("publish", "key:serve/*"),
        ("writeback (stock sync, alerts)", "key:writeback/*"),
    ]
    job = defs.resolve_implicit_global_asset_job_def()
    for label, selection in stages:
        graph = defs.resolve_asset_graph()
        keys = dg.AssetSelection.from_string(selection).resolve(graph) & graph.executable_asset_keys
        if select:
            keys &= dg.AssetSelection.from_string(select).resolve(graph)
        keys = sorted(keys)
        if not keys:
            continue
        started = time.monotonic()
        # the console logger stays quiet: a failed step is reported below, once, as its one-line user error or
        # with its traceback (Dagster's own log would bury the one line in it)
        run_config: dict = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
        if as_of_date is not None and label.startswith("transform"):
            run_config |= dbt_run_config(as_of_date)
        pulling = label == "ingest" and any(key.path[0] in pulled for key in keys)
        with (
            PullBars(console)
            if pulling
            else console.status(f"materialising {label}: {len(keys)} assets…") as bars
        ):
            if pulling:  # a bar per channel (and the WMS), pulled at once
                console.print(f"materialising {label}: {len(keys)} assets, the API pulls at once:")
                ingest.PULL_PROGRESS = bars.collector
            try:
                result = job.execute_in_process(
                    instance=instance,
                    asset_selection=keys,
                    raise_on_error=False,
                    tags=tags,
                    run_config=run_config,
                )
            finally:
                ingest.PULL_PROGRESS = None
        if not result.success:
            user, other = run_failures(result)
            for text in other:
                typer.echo(text, err=True)
            if user and not other:
                raise UserFacingFailure([f"{label} failed: {message}" for message in user])
            for message in user:
                typer.echo(f"error: {message}", err=True)
            console.print(
                f"[red]✗ {label} failed[/red] — see the errors above, or run {result.run_id} in the "
                "Dagster UI"
            )
            raise typer.Exit(1)
        console.print(f"[green]✓[/green] {label}: {len(keys)} assets in {time.monotonic() - started:.1f}s")


@app.command()
@user_errors_are_one_line
def prepare() -> None:
    """Compile the dbt manifest that Dagster loads (run once after install and after editing dbt models)."""
    from orchestration.transform import prepare_manifest

    console.print(f"dbt manifest ready: {prepare_manifest(force=True)}")


@app.command()
@user_errors_are_one_line
def materialize(
    select: str = typer.Option(
        None,
        help='Only these assets, in Dagster\'s selection syntax, e.g. "key:raw_shopify/* or key:serve/*" '
        "(default: everything)",
    ),
    as_of: str = typer.Option(
        None,
        "--as-of",
        help="Build the marts as of this day (YYYY-MM-DD) instead of today: old history analysed as of its own "
        "time (dbt var as_of_date).",
    ),
) -> None:
    """Pull every configured channel, build the dbt models and publish serve.duckdb, once."""
    from orchestration.transform import parse_as_of_date

    as_of_date = None
    if as_of:
        try:
            as_of_date = parse_as_of_date(as_of)
        except ValueError as exc:
            fail(f"--as-of: {exc}")
    run_materialize(_settings(), select=select, as_of_date=as_of_date)


def _start_sandbox(settings: Settings) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "sandbox", "serve", "--config", str(settings.config_path)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=REPO)
    assert proc.stdout is not None
    for line in proc.stdout:
        console.print(f"  [dim]sandbox:[/dim] {line.rstrip()}")
        if line.startswith("READY"):
            return proc
    raise typer.Exit(f"the sandbox exited before it was ready (exit code {proc.wait()})")


def _built_marker(generated: Path) -> str:
    """What a demo warehouse was built from: the demo shop's marker and the DuckDB version that wrote it (a file
    another DuckDB version wrote may not open: it is built again)."""
    import duckdb

    return generated.read_text() + f"\nduckdb {duckdb.__version__}\n"


def _drop_unreadable_demo_warehouse(settings: Settings) -> None:
    """The demo's build and serve files, and its dlt state, removed when another DuckDB version wrote them (this
    one cannot open them): the demo then builds its warehouse anew from the sandboxes."""
    import duckdb

    for path in (settings.build_path, settings.serve_path):
        if not path.is_file():
            continue
        try:
            duckdb.connect(str(path), read_only=True).close()
        except duckdb.Error as exc:
            console.print(f"[yellow]{path.name} does not open with DuckDB {duckdb.__version__} ({exc}); the demo's "
                          "warehouse is built anew[/yellow]")  # fmt: skip
            for stale in (settings.build_path, settings.serve_path):
                stale.unlink(missing_ok=True)
            shutil.rmtree(settings.dlt_dir, ignore_errors=True)
            return


def _demo_markers(settings: Settings) -> tuple[Path, Path]:
    """The demo shop's marker (what it was generated with, written by the sandbox) and the warehouse's (the
    marker of the shop the published warehouse was built from, written after a demo build)."""
    data_dir = settings.config_path.parent / settings.demo.data_dir
    return data_dir / "world" / "generated_with.json", data_dir / "built_with.json"


def _watch_parent() -> None:
    """Stop this process (as Ctrl-C does) when its parent goes: `make demo` killed with SIGTERM leaves its child
    to init, which must not keep serving."""
    import _thread
    import threading

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        _thread.interrupt_main()

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _start_dashboards(settings: Settings, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "SHOPKEEP_SERVE_PATH": settings.serving_locator,
        "SHOPKEEP_OPS_PATH": str(settings.ops_path),
    }
    options = ["--server.headless", "true", "--server.port", str(port), "--browser.gatherUsageStats", "false"]
    if settings.dashboards_login:
        # behind a login ([access]): the dashboards' own launcher hands Streamlit the login's secrets from the
        # environment in a private file it deletes on exit (dashboards/serve.py; a subprocess, not an import)
        env["SHOPKEEP_CONFIG"] = str(settings.config_path)
        return subprocess.Popen([sys.executable, "-m", "dashboards.serve", *options], env=env, cwd=REPO)
    cmd = [sys.executable, "-m", "streamlit", "run", str(REPO / "dashboards" / "app.py"), *options]
    return subprocess.Popen(cmd, env=env, cwd=REPO)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _stop(children: list[subprocess.Popen]) -> None:
    """Terminate every child (SIGTERM, then SIGKILL after 10 s, and wait until they are gone). A child started in a
    session of its own
    (`start_new_session`) is stopped with its whole process group: what it started (Dagster's code servers and
    runs) goes with it."""
    groups = [
        child.pid for child in children if _group_alive(child.pid) and os.getpgid(child.pid) == child.pid
    ]
    for child in children:
        if child.pid in groups:
            os.killpg(child.pid, signal.SIGTERM)
        elif child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
    deadline = time.monotonic() + 10
    while any(_group_alive(g) for g in groups) and time.monotonic() < deadline:
        time.sleep(0.2)
    for group in groups:
        if _group_alive(group):
            os.killpg(group, signal.SIGKILL)
    # a killed process is gone only once it has exited: wait for that too, so nothing is left when this returns
    # (a run stopped while it was starting could outlast the 10 s above, and a restart would find it still there)
    deadline = time.monotonic() + 10
    while any(_group_alive(g) for g in groups) and time.monotonic() < deadline:
        time.sleep(0.1)


@app.command()
@user_errors_are_one_line
def daemon(
    ui_port: Annotated[
        int | None, typer.Option(help="also serve the Dagster UI on this port (127.0.0.1)")
    ] = None,
    dashboards_port: Annotated[
        int | None, typer.Option(help="also serve the dashboards on this port")
    ] = None,
) -> None:
    """Run shopkeep unattended until stopped: start its schedules (hourly refresh, nightly full refresh) and run
    the Dagster daemon, which runs them and the sensors (exports folder, purchase orders, stock pushes, the lean
    path, failed-run alerts). Ctrl-C or SIGTERM stops everything it started. Run it as a service (README)."""
    settings = _settings()
    settings.pii_salt()  # a build needs it: refuse now, not at the first scheduled run
    home = dagster_home(settings)
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "DAGSTER_HOME": str(home), "SHOPKEEP_CONFIG": str(settings.config_path)}
    location = ["-m", "orchestration.definitions"]
    started = subprocess.run(
        [str(bin_dir / "dagster"), "schedule", "start", "--start-all", *location],
        env=env, cwd=REPO, capture_output=True, text=True,
    )  # fmt: skip
    if started.returncode != 0:
        raise ConfigError(f"could not start the schedules: {one_line(started.stderr[-400:])}")
    # each in a process group of its own, so that stopping it stops what it started (code servers, runs)
    children = [subprocess.Popen([str(bin_dir / "dagster-daemon"), "run", *location], env=env, cwd=REPO,
                                 start_new_session=True)]  # fmt: skip
    if ui_port:
        children.append(subprocess.Popen(
            [str(bin_dir / "dagster-webserver"), *location, "-h", "127.0.0.1", "-p", str(ui_port)], env=env, cwd=REPO,
            start_new_session=True,
        ))  # fmt: skip
    if dashboards_port:
        children.append(_start_dashboards(settings, dashboards_port))
    console.print(
        f"shopkeep daemon: schedules started (hourly_refresh, nightly_full_refresh), Dagster daemon running with "
        f"DAGSTER_HOME={home} (process groups {', '.join(str(c.pid) for c in children)})" + (f"; Dagster UI on http://127.0.0.1:{ui_port}" if ui_port else "")
        + (f"; dashboards on http://localhost:{dashboards_port}" if dashboards_port else ""),
        soft_wrap=True, markup=False,
    )  # fmt: skip
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        while all(child.poll() is None for child in children):
            time.sleep(1)
    except KeyboardInterrupt:
        console.print("stopping…")
        return
    finally:
        _stop(children)
    console.print("a child process stopped by itself: stopped the others (exit 1, for the service manager to "
                  "restart)", markup=False)  # fmt: skip
    raise typer.Exit(1)


files_app = typer.Typer(
    help="Exported files: preview how a file maps before importing it.", no_args_is_help=True
)
app.add_typer(files_app, name="files")


@files_app.command("check")
@user_errors_are_one_line
def files_check(
    paths: Annotated[list[Path], typer.Argument(help="the export file(s) to preview")],
    shop: str | None = typer.Option(None, help="the shop, for a file whose name does not start <shop_id>__"),
    rows: int = typer.Option(5, help="how many of the first rows to show"),
) -> None:
    """Show how each file would import — its mapping, shop, the first rows as they would land and every row
    that would be set aside, with the reason — without importing anything. Exit code 1 if a file would be
    refused or would set rows aside."""
    from rich.table import Table

    from connectors.files.exports import preview
    from connectors.files.mapping import load_mappings
    from connectors.files.workbook import FileImportError

    settings = _settings()
    mappings = [m for m in load_mappings(settings.files_mappings_dir()) if m.is_export]
    problems = False
    for path in paths:
        try:
            found = preview(path, mappings, shops=settings.shop_channels() or None, shop_id=shop, limit=rows)
        except FileImportError as exc:
            console.print(f"[red]✗ {path.name}: would not be imported[/red] — {one_line(str(exc))}")
            problems = True
            continue
        mark = "[green]✓[/green]" if not found["set_aside"] else "[yellow]![/yellow]"
        console.print(
            f"{mark} {found['file']}: {found['entity']} of shop {found['shop_id']} through mapping "
            f"{found['mapping']} ({found['mapping_file']}) — {found['rows_loaded']} rows would load"
            + (f" ({found['returns']} negative lines as returns of their orders)" if found["returns"] else "")
            + f", {found['rows_set_aside']} would be set aside"
        )
        table = Table(
            *found["columns"], title=f"the first {len(found['first_rows'])} rows as they would land"
        )
        for row in found["first_rows"]:
            table.add_row(*("" if row[c] is None else str(row[c]) for c in found["columns"]))
        console.print(table)
        for _, reason in found["set_aside"]:
            console.print(f"  set aside: {reason}")
        problems = problems or bool(found["set_aside"])
    raise typer.Exit(1 if problems else 0)


stock_app = typer.Typer(
    help="Stock sync: plan the listed stock of every SKU in every shop from the published marts, and push it."
)
app.add_typer(stock_app, name="stock")


def _stock_run(shop: list[str] | None, push: bool, csv: Path | None) -> None:
    from rich.table import Table

    from orchestration.writeback import run_stock_sync

    settings = _settings()
    result = run_stock_sync(settings, shops=set(shop) if shop else None, dry_run=not push)
    frame = result.frame()
    if shop:  # the plan is made for every shop (they share stock); show the ones asked for
        frame = frame[frame["shop_id"].isin(shop)]
    if csv:
        frame.to_csv(csv, index=False)
        console.print(f"plan written to {csv} ({len(frame)} listings)")
    changes = frame[frame["action"] != "unchanged"]
    table = Table(title=f"stock plan {result.run_id}: {len(changes)} of {len(frame)} listings to change")
    for column in ("shop_id", "sku", "rule", "stock", "planned", "listed", "change", "action", "reason"):
        table.add_column(column)
    for row in changes.head(40).itertuples():
        table.add_row(
            *(
                ("" if value is None or value != value else str(value))
                for value in (
                    row.shop_id,
                    row.sku,
                    row.rule,
                    row.stock,
                    row.planned,
                    row.listed,
                    row.change,
                    row.action,
                    row.reason,
                )
            )
        )
    console.print(table)
    if len(changes) > 40:
        console.print(f"… and {len(changes) - 40} more (--csv for all)")
    if result.interrupted:
        console.print(
            f"[yellow]{result.interrupted} push(es) of a run that stopped were marked interrupted[/yellow]"
        )
    if push:
        failed = [p for p in result.pushed if not p["ok"]]
        console.print(
            f"[green]✓[/green] pushed {len(result.pushed) - len(failed)} listings"
            + (f", [red]{len(failed)} failed[/red] (retried next run)" if failed else "")
        )
        for p in failed[:10]:
            console.print(f"  {p['shop_id']} {p['sku']}: {one_line(p['message'])}")
        if failed:
            raise typer.Exit(1)
    else:
        console.print("dry run: nothing was sent (`shopkeep stock push` sends the changes)")


@stock_app.command("plan")
@user_errors_are_one_line
def stock_plan(
    shop: Annotated[list[str] | None, typer.Option(help="only these shops (repeat --shop)")] = None,
    csv: Annotated[
        Path | None, typer.Option(help="write the whole plan (every listing) to this CSV file")
    ] = None,
) -> None:
    """Show the plan: per listing, the rule, the stock it counts, what to list, what the channel lists now and
    why. Sends nothing."""
    _stock_run(shop, push=False, csv=csv)


@stock_app.command("push")
@user_errors_are_one_line
def stock_push(
    shop: Annotated[list[str] | None, typer.Option(help="only these shops (repeat --shop)")] = None,
    csv: Annotated[Path | None, typer.Option(help="also write the plan to this CSV file")] = None,
) -> None:
    """Plan, then push every change to its channel; each push is audited in the ops store. Exit code 1 if a
    push failed (it is retried on the next run)."""
    _stock_run(shop, push=True, csv=csv)


po_app = typer.Typer(help="Purchase orders: from the replenishment page's approved drafts to the suppliers.")
app.add_typer(po_app, name="po")


@po_app.command("send")
@user_errors_are_one_line
def po_send() -> None:
    """Make an order of every draft with approved lines, write its XLSX document and send it to its supplier's
    webhook, exactly once (an order sent before is asked after, not sent again). Exit code 1 if one failed."""
    from rich.markup import escape
    from rich.table import Table

    from orchestration.purchasing import documents_dir, send_purchase_orders

    settings = _settings()
    run = send_purchase_orders(settings)
    table = Table(title=f"purchase orders: {len(run.made)} from approved drafts, {len(run.sent)} to send")
    for column in ("po_number", "outcome", "state", "message"):
        table.add_column(column)
    for result in run.sent:
        table.add_row(result.po_number, result.outcome, result.state, escape(one_line(result.message)))
    console.print(table)
    if run.documents:
        console.print(f"{len(run.documents)} documents in {documents_dir(settings)}")
    failed = [result for result in run.sent if result.outcome == "failed"]
    for result in failed:
        console.print(
            f"  {result.po_number} not sent: {one_line(result.message)}", soft_wrap=True, markup=False
        )
    if run.refused:
        console.print(one_line(run.refused), soft_wrap=True, markup=False)
    if failed or run.refused:
        raise typer.Exit(1)


@app.command()
@user_errors_are_one_line
def sandbox() -> None:
    """Start the simulated shop's channel servers on loopback (Ctrl-C stops them)."""
    settings = _settings()
    for key, value in DEMO_SECRETS.items():
        os.environ.setdefault(key, value)
    proc = _start_sandbox(settings)
    try:
        proc.wait()
    except KeyboardInterrupt:
        proc.terminate()


@app.command()
@user_errors_are_one_line
def dashboards(port: int = 8501) -> None:
    """Serve the Streamlit dashboards over serve.duckdb (read-only)."""
    proc = _start_dashboards(_settings(), port)
    try:
        proc.wait()
    except KeyboardInterrupt:
        proc.terminate()


@app.command("lake-import")
@user_errors_are_one_line
def lake_import(build_file: Path) -> None:
    """Copy the raw tables (and dlt's cursors) of a single-file build.duckdb into the configured, empty lake;
    then `shopkeep materialize` builds and publishes the marts there."""
    from connectors.common.warehouse import copy_raw_into_lake

    settings = _settings()
    if settings.lake is None:
        raise ConfigError(
            '[warehouse] engine is "duckdb": set engine = "ducklake", catalog_url and data_path first'
        )
    if not build_file.is_file():
        raise ConfigError(f"no warehouse file at {build_file}")
    counts = copy_raw_into_lake(build_file, settings.lake)
    console.print(
        f"copied {len(counts)} raw tables ({sum(counts.values()):,} rows) into the lake; "
        "now `shopkeep materialize` builds and publishes the marts there"
    )


def _demo_writeback(settings: Settings) -> None:
    """The demo's writeback steps after its build: a live-stream lock and the stock push, the purchase orders."""
    from orchestration.writeback import demo_stock_sync

    lock, synced = demo_stock_sync(settings)
    failed = sum(1 for p in synced.pushed if not p["ok"])
    console.print(
        f"stock sync: {lock}; pushed {len(synced.pushed)} listing changes to "
        f"{len({p['shop_id'] for p in synced.pushed})} channels ({failed} failed) — `shopkeep stock plan` "
        "shows the plan, the ops store's stock_pushes every push"
    )
    if settings.suppliers:
        from orchestration.purchasing import demo_purchase_orders

        console.print(f"purchase orders: {demo_purchase_orders(settings)} — the 采购订单 page shows them")


@contextlib.contextmanager
def _demo_lake(settings: Settings) -> Iterator[Settings]:
    """The demo's settings on a DuckLake: a PostgreSQL cluster of its own as the catalog (Debian's `postgresql`
    package; started here, removed when the demo stops) and the Parquet files in a local folder, with the demo's
    other state (dlt cursors, ops store, Dagster home) beside them, apart from the single-file demo's."""
    import dataclasses

    from connectors.common.warehouse import Lake
    from orchestration.local_postgres import postgres, postgres_bin

    if postgres_bin() is None:
        fail(
            "shopkeep demo --lake starts a PostgreSQL of its own, and PostgreSQL's server programs are not "
            "installed: install Debian's package (sudo apt-get install postgresql; `make postgresql` does it)"
        )
    folder = settings.build_path.parent / "lake-demo"
    shutil.rmtree(folder, ignore_errors=True)  # the catalog is new each time, so are its files and cursors
    (folder / "data").mkdir(parents=True)
    with postgres() as server:
        lake = Lake(catalog_url=server.create_database("shopkeep_demo"), data_path=f"{folder / 'data'}/")
        console.print(f"    the lake: catalog {lake.catalog_url}, data files in {lake.data_path}")
        yield dataclasses.replace(
            settings,
            lake=lake,
            build_path=folder / "build.duckdb",  # never written on a lake; its folder holds the Dagster home
            serve_path=folder / "serve.duckdb",
            ops_path=folder / "ops.sqlite",
            dlt_dir=folder / "dlt",
        )


@app.command()
@user_errors_are_one_line
def demo(
    port: int = 8501,
    serve: bool = typer.Option(True, help="keep serving the dashboards after the build"),
    rebuild: bool = typer.Option(
        False, help="build again even when the published warehouse is this demo shop's"
    ),
    lake: bool = typer.Option(
        False,
        help="build into a DuckLake instead of the single file: a PostgreSQL catalog started for the demo and "
        "Parquet files under .shopkeep/lake-demo (built anew each time; needs Debian's postgresql package)",
    ),
) -> None:
    """Generate the demo shop, start its sandboxes, materialise everything once, then serve the dashboards. A second
    run over the same demo shop serves the warehouse the first built (`--rebuild` builds it again)."""
    with contextlib.ExitStack() as stack:
        settings = _settings()
        if lake:
            settings = stack.enter_context(_demo_lake(settings))
        _demo(settings, port, serve, rebuild)


def _demo(settings: Settings, port: int, serve: bool, rebuild: bool) -> None:
    _watch_parent()
    for key, value in DEMO_SECRETS.items():
        os.environ.setdefault(key, value)
    children: list[subprocess.Popen] = []

    def stop_all(*_: object) -> None:
        _stop(children)

    started = time.monotonic()
    try:
        console.rule("shopkeep demo")
        console.print("1/3 generating the demo shop and starting its channel servers on 127.0.0.1…")
        children.append(_start_sandbox(settings))
        generated, built = _demo_markers(settings)
        reuse = (
            not rebuild and settings.lake is None and settings.serve_path.exists() and built.is_file()
            and generated.is_file()
            and built.read_text() == _built_marker(generated)
        )  # fmt: skip
        dagster_home(settings)
        if reuse:
            console.print(
                "2/3 reusing the warehouse a previous `make demo` built from this demo shop (`shopkeep demo "
                "--rebuild` builds it again; `shopkeep materialize` pulls what is new)"
            )
        else:
            if settings.lake is None:  # the single file's marker; a lake demo leaves the file demo alone
                built.unlink(missing_ok=True)
            _drop_unreadable_demo_warehouse(settings)
            console.print("2/3 materialising every asset (channels → raw → dbt → serve.duckdb)…")
            run_materialize(settings)
            console.print(f"[bold green]build finished in {time.monotonic() - started:.0f}s[/bold green]")
            _demo_writeback(settings)
            if generated.is_file() and settings.lake is None:
                built.write_text(_built_marker(generated))
        if not serve:
            return
        console.print(f"3/3 serving the dashboards: [bold]http://localhost:{port}[/bold]")
        if settings.lake is None:  # the lake demo's settings are made here, not read from a config file
            console.print(
                f"    Dagster UI (same definitions, sandboxes stay up while this runs): in another terminal\n"
                f"    DAGSTER_HOME={os.environ['DAGSTER_HOME']} .venv/bin/dagster dev -m orchestration.definitions\n"
                f"    Ctrl-C stops everything this command started."
            )
        children.append(_start_dashboards(settings, port))
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        children[-1].wait()
    except KeyboardInterrupt:
        console.print("stopping…")
    finally:
        stop_all()


if __name__ == "__main__":
    app()
