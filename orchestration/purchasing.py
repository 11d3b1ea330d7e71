"""Wiring of purchase orders (the composition root's part): orders made from the replenishment page's approved
drafts, written as each supplier's XLSX document and sent to its webhook with the secret from the environment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from connectors.common.warehouse import open_published, published_exists
from orchestration.gates import PURCHASING_READS, GateClosed, blocking_failures, require_passing
from orchestration.settings import ConfigError, Settings, Supplier
from writeback.purchasing import orders
from writeback.purchasing.ali1688 import Ali1688Endpoint, OfferMapError, read_offers
from writeback.purchasing.document import Layout, document, document_path
from writeback.purchasing.document import documents_dir as _documents_dir
from writeback.purchasing.send import SendResult, SupplierEndpoint, send


@dataclass(frozen=True)
class PurchasingRun:
    made: list[orders.PurchaseOrder]
    sent: list[SendResult]
    documents: list[Path]
    received: list[orders.PurchaseOrder]
    refused: str | None = None
    """Why no order was made from this snapshot's drafts (its checks failed upstream of them), if so."""


def documents_dir(settings: Settings) -> Path:
    """Where the XLSX documents go (writeback/purchasing/document.py)."""
    return _documents_dir(settings.ops_path)


def send_purchase_orders(settings: Settings, by: str = "shopkeep po send") -> PurchasingRun:
    """Make an approved order of every draft with approved lines (published snapshot + ops store), write each
    approved or sent order's document, and send it to its supplier (writeback/purchasing/send.py: exactly once).
    First, the WMS's receipts against open orders move them to (partially) received.
    An order to a supplier without a [[suppliers]] entry is not sent; its result says which entry to add."""
    if not published_exists(settings.serving_locator):
        raise ConfigError(
            f"no published snapshot at {settings.serving_locator}: run `shopkeep materialize` first"
        )
    with open_published(settings.serving_locator) as con:
        drafts = con.execute("select * from marts.purchase_order_drafts").df()
    received = _receipts(settings)
    suppliers = {s.id: s for s in settings.suppliers}
    try:  # new orders only from drafts of a build whose checks passed; orders made before still go
        require_passing(settings.serving_locator, PURCHASING_READS, "making purchase orders from the drafts")
        refused = None
    except GateClosed as exc:
        refused, drafts = str(exc), drafts.iloc[0:0]
    made = orders.from_decisions(
        settings.ops_path, drafts, by, {s.id: s.warehouse for s in settings.suppliers if s.warehouse},
        settings.wms.warehouses[0] if settings.wms and settings.wms.warehouses else None,
    )  # fmt: skip
    folder = documents_dir(settings)
    sent, written = [], []
    for order in orders.orders(settings.ops_path, ("approved", "sent")):
        supplier = suppliers.get(order.supplier_id)
        if supplier is None:
            sent.append(SendResult(order.po_number, "failed", order.state,
                                   f"no [[suppliers]] entry with id = {order.supplier_id!r} in "
                                   f"{settings.config_path.name}: add its webhook_url and secret_env"))  # fmt: skip
            continue
        layout = (
            Layout(supplier.document_title, dict(supplier.document_columns))
            if supplier.document_columns
            else None
        )
        folder.mkdir(parents=True, exist_ok=True)
        path = document_path(settings.ops_path, order.po_number)
        path.write_bytes(document(order, layout, supplier.name or None))
        written.append(path)
        try:
            endpoint = supplier_endpoint(settings, supplier)
        except OfferMapError as exc:  # that supplier's orders wait for a readable map; the others still go
            sent.append(SendResult(order.po_number, "failed", order.state, str(exc)))
            continue
        sent.append(send(settings.ops_path, order.po_number, endpoint, by=by))
    return PurchasingRun(made, sent, written, received, refused)


def supplier_endpoint(settings: Settings, supplier: Supplier) -> SupplierEndpoint | Ali1688Endpoint:
    """Where and how a supplier's orders go, with its secrets from the environment."""
    if supplier.channel == "1688":
        assert supplier.offers_file is not None  # the config check requires it
        return Ali1688Endpoint(
            supplier.id, supplier.gateway_url, supplier.app_key,
            settings.secret(supplier.secret_env, f"1688 app secret of {supplier.id}"),
            settings.secret(supplier.token_env, f"1688 access token of {supplier.id}"),
            read_offers(supplier.offers_file), supplier.address_id, str(supplier.offers_file),
        )  # fmt: skip
    return SupplierEndpoint(
        supplier.id,
        supplier.webhook_url,
        settings.secret(supplier.secret_env, f"webhook secret of {supplier.id}"),
    )


def _receipts(settings: Settings) -> list[orders.PurchaseOrder]:
    """Apply the WMS's receipts since the oldest open order was made (none without a [wms])."""
    open_orders = orders.orders(settings.ops_path, ("sent", "confirmed", "partially_received"))
    if settings.wms is None or not open_orders:
        return []
    from datetime import datetime

    from connectors.wms.client import WmsClient

    since = min(datetime.fromisoformat(o.created_at) for o in open_orders)
    wms = settings.wms
    with WmsClient(wms.base_url, settings.secret(wms.token_env, "WMS API token"), wms.token_env) as client:
        receipts = [item for page in client.receipts(since) for item in page]
    return orders.apply_receipts(settings.ops_path, receipts)


def waiting_to_send(settings: Settings) -> int:
    """Orders approved or sent but not confirmed, plus drafts of the published snapshot with approved lines not
    made into an order yet: what a `purchase_orders_send` run would act on."""
    from writeback.ops_store import current_decisions

    count = len(orders.orders(settings.ops_path, ("approved", "sent")))
    gate_open = published_exists(settings.serving_locator) and not blocking_failures(
        settings.serving_locator, PURCHASING_READS
    )
    if gate_open and settings.ops_path.exists():  # drafts of a build that failed its checks wait for the next
        with open_published(settings.serving_locator) as con:
            drafts = {
                r[0]
                for r in con.execute("select distinct draft_id from marts.purchase_order_drafts").fetchall()
            }
        decided = current_decisions(settings.ops_path, sorted(drafts))
        approved = set(decided.loc[decided["status"] != "rejected", "draft_id"])
        made = {o.source_draft_id for o in orders.orders(settings.ops_path)}
        count += len(approved - made)
    return count


def purchase_order_job(settings: Settings):
    """`send_purchase_orders`: what `shopkeep po send` does, as a Dagster run."""

    @dg.op(name="send_purchase_orders_op")
    def send_op(context) -> None:
        run = send_purchase_orders(settings, by="dagster")
        if run.refused:
            context.log.error(run.refused)
        for result in run.sent:
            log = context.log.warning if result.outcome == "failed" else context.log.info
            log(f"{result.po_number}: {result.outcome} ({result.state}) {result.message}")

    @dg.job(
        name="send_purchase_orders",
        description="Send approved purchase orders to their suppliers, exactly once.",
    )
    def send_purchase_orders_job() -> None:
        send_op()

    return send_purchase_orders_job


def purchase_order_sensor(settings: Settings, job):
    """Every 30 s: a `send_purchase_orders` run when an order or an approved draft waits to be sent and no such
    run is on its way (running by default when [[suppliers]] are configured; `dagster-daemon` must run)."""
    from orchestration.writeback import ACTIVE

    @dg.sensor(name="purchase_orders_to_send", job=job, minimum_interval_seconds=30,
               default_status=dg.DefaultSensorStatus.RUNNING)  # fmt: skip
    def purchase_orders_to_send(context: dg.SensorEvaluationContext):
        waiting = waiting_to_send(settings)
        if not waiting:
            return dg.SkipReason("no approved purchase order waits to be sent")
        if context.instance.get_runs(dg.RunsFilter(job_name=job.name, statuses=ACTIVE), limit=1):
            return dg.SkipReason(f"{waiting} wait for the run on its way")
        return dg.RunRequest(tags={"shopkeep/purchase_orders": str(waiting)})

    return purchase_orders_to_send


def demo_purchase_orders(settings: Settings) -> str:
    """What `shopkeep demo` shows of purchase orders: every line of the replenishment drafts approved as suggested
    (as a manager would on the 补货 page), the orders made and sent to the supplier sandbox."""
    from writeback.ops_store import current_decisions, decide, record

    with open_published(settings.serving_locator) as con:
        drafts = con.execute("select * from marts.purchase_order_drafts order by draft_id, sku").df()
    decided = current_decisions(settings.ops_path, sorted(set(drafts["draft_id"])))
    done = set(zip(decided["draft_id"], decided["sku"], strict=True))
    for row in drafts.itertuples():
        if (row.draft_id, row.sku) not in done:
            record(settings.ops_path, decide(draft_id=row.draft_id, sku=row.sku, supplier_id=row.supplier_id,
                                             suggested_qty=int(row.quantity), quantity=int(row.quantity),
                                             note="approved by the demo"))  # fmt: skip
    run = send_purchase_orders(settings, by="demo")
    outcomes = [r.state for r in run.sent]
    return (
        f"{len(run.made)} purchase orders from {drafts['draft_id'].nunique()} approved drafts; "
        f"{outcomes.count('confirmed')} confirmed by their suppliers, "
        f"{sum(r.outcome == 'failed' for r in run.sent)} not sent"
    )
