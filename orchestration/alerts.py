"""Wiring of alerts (the composition root's part): a run's alerts collected from the published snapshot and the
ops store, sent as one digest per robot with the robots' secrets from the environment (writeback/alerts).

- After each build, the asset `writeback/alerts` (after the publish step, and after `writeback/stock_sync` when
  there is one) reads `serve.duckdb` read-only and the ops store's stock pushes and sends the post-build digest:
  failed dbt tests (`meta.check_results`), stale sources (`marts.source_freshness`), best-sellers about to stock
  out and oversold SKUs (`marts.inventory_health`), stock pushes whose last answer was a failure
  (`stock_pushes`), settlement mismatches from `[alerts] reconciliation_threshold_cny`
  (`marts.settlement_reconciliation`) and late suppliers (`marts.supplier_deliveries`). The rules that flag a
  SKU or an order stay in the marts; this only picks the rows and words them.
- A Dagster run that fails sends a `run_failed` digest from the run-failure sensor `alert_run_failures`.

Without `[alerts]` (or without robots) every alert is only logged.
"""

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

from connectors.common.warehouse import open_published, published_exists
from orchestration.settings import Alerts, ConfigError, Settings
from writeback.alerts import Alert, Policy, Robot, Sender, deliver
from writeback.alerts.robots import Ledger, Outcome

log = logging.getLogger("shopkeep.alerts")

MAX_LINES = 50
"""Lines per alert at most; the rest are counted in a last line that says where to look (never cut silently)."""
HEADING = "shopkeep 告警"


def policy(settings: Settings) -> Policy:
    alerts = settings.alerts or Alerts()
    return Policy(
        muted=frozenset(alerts.muted),
        owners=dict(alerts.owners),
        repeat_after_hours=alerts.repeat_after_hours,
    )


def robots(settings: Settings) -> tuple[list[Robot], list[str]]:
    """The configured robots with their secrets from the environment, and what keeps any of the others from
    being sent to (a variable not set, a URL without its token): those robots are skipped, the rest still get
    their digest."""
    found, problems = [], []
    for robot in settings.alerts.robots if settings.alerts else ():
        try:
            url = settings.secret(robot.url_env, f"webhook URL of alert robot {robot.name}")
            secret = (
                settings.secret(robot.secret_env, f"signing secret of alert robot {robot.name}")
                if robot.secret_env
                else ""
            )
            found.append(Robot(robot.name, robot.kind, url, secret, robot.keyword, robot.kinds))
        except (ConfigError, ValueError) as exc:  # neither names a value, only the variable or the robot
            problems.append(str(exc))
    return found, problems  # fmt: skip


def sender(settings: Settings, max_wait: float, logger: logging.Logger | None = None) -> Sender:
    return Sender(Ledger(settings.ops_path), max_wait=max_wait, logger=logger)


def _lines(rows: list[str], where: str) -> tuple[str, ...]:
    if len(rows) <= MAX_LINES:
        return tuple(rows)
    return (*rows[:MAX_LINES], f"… and {len(rows) - MAX_LINES} more: see {where}")


def _money(value: Decimal | float | None) -> str:
    return "—" if value is None else f"¥{Decimal(value):,.2f}"


def collect(settings: Settings) -> list[Alert]:
    """The alerts of the published snapshot (and the ops store's stock pushes), in digest order."""
    alerts: list[Alert] = []
    config = settings.alerts or Alerts()
    with open_published(settings.serving_locator) as con:

        def rows(sql: str, params: list | None = None) -> list[tuple]:
            return con.execute(sql, params or []).fetchall()

        failed = rows(
            "select asset_key, check_name, severity, failed_rows from meta.check_results "
            "where passed = false order by severity, asset_key, check_name"
        )
        if failed:
            errors = sum(1 for f in failed if (f[2] or "ERROR") == "ERROR")
            alerts.append(Alert(
                "check_failed", "critical" if errors else "warning", f"{len(failed)} 项数据检查失败 checks failed",
                _lines([f"{a} · {c} ({s or 'ERROR'}): {n if n is not None else '?'} rows" for a, c, s, n in failed],
                       "数据状态 Data status"),
            ))  # fmt: skip

        stale = rows(
            "select source_name, table_name, shop_id, hours_since_last_load from marts.source_freshness "
            "where is_stale order by hours_since_last_load desc, source_name, table_name"
        )
        if stale:
            alerts.append(Alert(
                "stale_source", "warning", f"{len(stale)} 个数据源过期 stale sources",
                _lines([f"{s}.{t}{f' ({shop})' if shop else ''}: {h:.1f} h since the last load"
                        for s, t, shop, h in stale], "数据状态 Data status"),
            ))  # fmt: skip

        oversold = rows(
            "select sku, product_name, available, units_sold_30d from marts.inventory_health "
            "where health_status = 'oversold' order by available, sku"
        )
        if oversold:
            alerts.append(Alert(
                "oversold", "critical", f"{len(oversold)} 个 SKU 超卖 oversold",
                _lines([f"{sku} {name or ''}: available {a} (sold {u or 0} in 30 days)"
                        for sku, name, a, u in oversold], "库存健康 Inventory"),
            ))  # fmt: skip

        at_risk = rows(
            """
            select sku, product_name, days_of_cover, available, daily_demand, on_order, next_expected_date
            from marts.inventory_health
            where demand_rank <= ? and days_of_cover < ? and health_status != 'oversold'
            order by days_of_cover, sku
            """,
            [config.best_sellers, config.stockout_days],
        )
        if at_risk:
            alerts.append(Alert(
                "stockout_risk", "warning",
                f"{len(at_risk)} 个畅销 SKU 库存不足 {config.stockout_days:g} 天 best-sellers under "
                f"{config.stockout_days:g} days of cover",
                _lines([f"{sku} {name or ''}: {cover:.1f} days of cover, {a} available, {d:.1f}/day"
                        + (f", {o} on order (next {nxt})" if o else ", nothing on order")
                        for sku, name, cover, a, d, o, nxt in at_risk], "补货 Replenishment"),
            ))  # fmt: skip

        threshold = config.reconciliation_threshold_cny
        mismatches = rows(
            """
            select shop_id, platform_order_id, status, difference_cny, expected_settlement_cny, settled_amount_cny,
                coalesce(abs(difference_cny), abs(expected_settlement_cny), abs(settled_amount_cny)) as at_stake
            from marts.settlement_reconciliation
            where status in ('amount_mismatch', 'duplicate_bill', 'orphan_bill', 'missing_settlement')
                and coalesce(abs(difference_cny), abs(expected_settlement_cny), abs(settled_amount_cny)) >= ?
            order by at_stake desc, shop_id, platform_order_id
            """,
            [threshold],
        )
        if mismatches:
            total = sum((m[6] for m in mismatches), Decimal(0))
            alerts.append(Alert(
                "reconciliation_mismatch", "warning",
                f"{len(mismatches)} 笔对账差异 ≥ {_money(threshold)} settlement mismatches, {_money(total)} at stake",
                _lines([f"{shop} {order}: {status}, difference {_money(diff)} (expected {_money(exp)}, "
                        f"settled {_money(got)})" for shop, order, status, diff, exp, got, _ in mismatches],
                       "对账 Reconciliation"),
            ))  # fmt: skip

        late = rows(
            """
            select supplier_id, any_value(supplier_name), count(*), sum(open_quantity), max(days_late),
                count(*) filter (where delivery_status = 'overdue')
            from marts.supplier_deliveries
            where delivery_status in ('late_open', 'overdue')
            group by supplier_id
            order by max(days_late) desc, supplier_id
            """
        )
        if late:
            alerts.append(Alert(
                "late_supplier", "warning", f"{len(late)} 家供应商延迟交货 late suppliers",
                _lines([f"{sid} {name or ''}: {n} PO lines, {units} units open, up to {days} days late"
                        + (f" ({overdue} overdue)" if overdue else "")
                        for sid, name, n, units, days, overdue in late], "供应商交付 Supplier deliveries"),
            ))  # fmt: skip

    alerts += _failed_pushes(settings.ops_path)
    return alerts


def _failed_pushes(ops_path: Path) -> list[Alert]:
    """Listings whose last answered stock push failed (writeback/stock: retried by the next run)."""
    if not ops_path.exists():
        return []
    from writeback.stock.store import last_pushes

    last = last_pushes(ops_path)
    failed = last[last["result"] == "failed"].sort_values(
        ["failures_in_a_row", "listing_id"], ascending=[False, True]
    )
    if failed.empty:
        return []
    lines = [f"{row.listing_id}: {row.message or 'no message'} ({int(row.failures_in_a_row)} in a row)"
             for row in failed.itertuples()]  # fmt: skip
    return [Alert("stock_push_failed", "warning", f"{len(lines)} 个商品库存同步失败 stock pushes failed",
                  _lines(lines, "库存同步 Stock sync"))]  # fmt: skip


@dataclass(frozen=True)
class AlertRun:
    alerts: list[Alert]
    outcomes: list[Outcome]
    problems: list[str]
    """Robots that could not be sent to (a variable not set, a URL without its token)."""


def send_alerts(settings: Settings, alerts: list[Alert], digest_id: str, *, max_wait: float, heading: str = HEADING,
                sender_: Sender | None = None, logger: logging.Logger | None = None) -> AlertRun:  # fmt: skip
    """Log `alerts` and send each configured robot its digest (nothing but the log without [alerts] robots)."""
    found, problems = robots(settings)
    for problem in problems:
        (logger or log).warning("alerts: %s", problem)
    chosen = sender_ or sender(settings, max_wait, logger)
    outcomes = deliver(alerts, found, policy(settings), chosen, heading=heading, digest_id=digest_id)
    return AlertRun(alerts, outcomes, problems)


def post_build_alerts(
    settings: Settings, digest_id: str, sender_: Sender | None = None, logger: logging.Logger | None = None
) -> AlertRun:
    """The post-build digest: waits for the rate guard (up to a minute) rather than deferring."""
    if not published_exists(settings.serving_locator):
        raise ConfigError(
            f"no published snapshot at {settings.serving_locator}: run `shopkeep materialize` first"
        )
    zone = ZoneInfo(settings.shops[0].timezone if settings.shops else "Asia/Shanghai")
    now = datetime.now(UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M")
    return send_alerts(settings, collect(settings), digest_id, max_wait=60, heading=f"{HEADING} · {now}",
                       sender_=sender_, logger=logger)  # fmt: skip


ANSI = re.compile(r"\x1b\[[0-9;]*m")
DBT_FAILED = re.compile(
    r"^\d+ of \d+ (FAIL|ERROR)(?: (\d+))? (?:creating sql \w+ model )?(\S+)", re.MULTILINE
)
"""A failed test or model in dbt's summary as dagster-dbt quotes it ("132 of 683 FAIL 418 <test name> …")."""


def run_failed_alert(job_name: str, run_id: str, message: str) -> Alert:
    """A failed run: its job, run id and the first line of the error; a dbt build that failed also lists what
    failed in it (each check or model with its failing rows), which is what a person has to look at."""
    text = ANSI.sub("", message or "no message").strip()
    first = text.splitlines()[0][:300]
    found = DBT_FAILED.findall(text)
    if found:  # dagster-dbt's first line only says that dbt exited 1
        first = f"dbt build: {len(found)} failed, so nothing after it ran (no publish, no stock push):"
    failed = [
        f"{name}: {'error' if kind == 'ERROR' else (rows or '?') + ' failing rows'}"
        for kind, rows, name in found
    ]
    return Alert(
        "run_failed", "critical", f"运行失败 run failed: {job_name}", (f"run {run_id}", first, *_lines(failed, "Dagster")),
        # the same checks failing is the same alert whichever job's build met them; another failure: the same job
        # failing the same way
        same_as="\n".join(sorted(name for _, _, name in found)) if found else f"{job_name}\n{first}",
    )  # fmt: skip


# -- Dagster ----------------------------------------------------------------------------------------------------


def alert_assets(settings: Settings, after: list[dg.AssetKey]) -> list[dg.AssetsDefinition]:
    """`writeback/alerts`: the post-build digest, after the publish step (and `after`, e.g. stock sync)."""

    @dg.asset(
        key=["writeback", "alerts"], deps=[dg.AssetKey(["serve", "snapshot"]), *after], group_name="writeback",
    )  # fmt: skip
    def alerts(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        """Alerts of the published snapshot as one digest per robot ([alerts]; without it logged only)."""
        run = post_build_alerts(settings, digest_id=context.run.run_id, logger=context.log)
        return dg.MaterializeResult(
            metadata={
                "alerts": len(run.alerts),
                "kinds": ", ".join(sorted({a.kind for a in run.alerts})) or "none",
                "sent": sum(o.status == "sent" for o in run.outcomes),
                "deferred": sum(o.status == "deferred" for o in run.outcomes),
                "failed": sum(o.status == "failed" for o in run.outcomes) + len(run.problems),
                "robots": len(settings.alerts.robots) if settings.alerts else 0,
            }
        )

    return [alerts]


def run_failure_alert_sensor(settings: Settings):
    """`alert_run_failures`: a `run_failed` digest for each failed run of this code location (running by default
    when [alerts] has robots; needs `dagster-daemon`). It does not wait for the rate guard: what it may not send
    now is deferred in the ledger and goes first with the next digest."""
    has_robots = bool(settings.alerts and settings.alerts.robots)

    @dg.run_failure_sensor(
        name="alert_run_failures", minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING if has_robots else dg.DefaultSensorStatus.STOPPED,
    )  # fmt: skip
    def alert_run_failures(context: dg.RunFailureSensorContext) -> None:
        run = context.dagster_run
        # why: the first failed step's error (e.g. a quality gate naming its checks), else the run's message
        errors = [e.event_specific_data.error for e in context.get_step_failure_events()
                  if e.event_specific_data is not None and e.event_specific_data.error is not None]  # fmt: skip
        root = errors[0] if errors else None
        while root is not None and root.cause is not None:  # Dagster wraps what the step raised: say that
            root = root.cause
        why = root.message if root is not None else context.failure_event.message
        alert = run_failed_alert(run.job_name, run.run_id, why or "")
        send_alerts(settings, [alert], digest_id=run.run_id, max_wait=0, logger=context.log)

    return alert_run_failures
