"""dlt source for the warehouse system, landing in `raw_wms`: closing-stock snapshots (a series, one row per date,
warehouse and merchant code), stock movements (incremental on moved_at), purchase orders with their lines
(incremental on updated_at, lines in `purchase_orders__lines`) and goods receipts (incremental on received_at).
Every resource merges on its key, so a rerun or an overlapping window duplicates nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

import dlt
from dlt.common.pipeline import LoadInfo
from dlt.extract.incremental import Incremental
from dlt.pipeline.exceptions import PipelineStepFailed

from connectors.common.loading import MONEY, warehouse_pipeline
from connectors.wms.client import WmsClient, WmsError

SNAPSHOT_KEY = ("snapshot_date", "warehouse", "merchant_code")


def _snapshot_rows(body: dict, fetched_at: datetime) -> list[dict]:
    day = date.fromisoformat(body["date"])
    return [
        {
            "snapshot_date": day,
            "warehouse": item.get("warehouse") or body["warehouse"],
            "merchant_code": item["merchant_code"],
            "on_hand": int(item["on_hand"]),
            "fetched_at": fetched_at,
        }
        for item in body["items"]
    ]


def _closing_stock(
    client: WmsClient, warehouse: str, day: date, fetched_at: datetime
) -> Iterator[list[dict]]:
    for body in client.stock_pages(warehouse, day):
        if body["items"]:
            yield _snapshot_rows(body, fetched_at)


def _stock_snapshots(
    connect: Callable[[], WmsClient], warehouses: list[str], backfill_days: int
) -> Iterator[list[dict]]:
    """Today's snapshot of every warehouse, the closing stock of the days since the last run, and, the first
    time a warehouse is seen, `backfill_days` daily closing snapshots before today. Progress lives in the
    resource state (`warehouses.<id>.last_today` / `backfilled_through`), so a rerun does not refetch."""
    state = dlt.current.resource_state("stock_snapshots").setdefault("warehouses", {})
    fetched_at = datetime.now(UTC)
    with connect() as client:
        for warehouse in warehouses:
            yield from _warehouse_snapshots(
                client, warehouse, state.setdefault(warehouse, {}), backfill_days, fetched_at
            )


def _warehouse_snapshots(
    client: WmsClient, warehouse: str, progress: dict, backfill_days: int, fetched_at: datetime
) -> Iterator[list[dict]]:
    """One warehouse: today, the one-time backfill (resumable), then the days missed since the last run."""
    today: date | None = None
    for body in client.stock_pages(warehouse):
        today = date.fromisoformat(body["date"])
        if body["items"]:
            yield _snapshot_rows(body, fetched_at)
    if today is None:  # stock_pages always yields at least one page
        return
    if "backfill_from" not in progress:
        progress["backfill_from"] = (today - timedelta(days=backfill_days)).isoformat()
        progress["backfill_to"] = (today - timedelta(days=1)).isoformat()
    # the backfill, oldest first; `backfilled_through` marks the last date fetched
    start = date.fromisoformat(progress["backfill_from"])
    if done := progress.get("backfilled_through"):
        start = max(start, date.fromisoformat(done) + timedelta(days=1))
    end = date.fromisoformat(progress["backfill_to"])
    day = start
    while day <= end:
        yield from _closing_stock(client, warehouse, day, fetched_at)
        progress["backfilled_through"] = day.isoformat()
        day += timedelta(days=1)
    # days between the previous run's "today" and yesterday: their final closing stock
    if last := progress.get("last_today"):
        day = max(date.fromisoformat(last), end + timedelta(days=1))
        while day < today:
            yield from _closing_stock(client, warehouse, day, fetched_at)
            day += timedelta(days=1)
    progress["last_today"] = today.isoformat()


def _stock_movements(
    connect: Callable[[], WmsClient], moved_at: Incremental[datetime]
) -> Iterator[list[dict]]:
    """Movements since the last cursor minus the overlap (the lag), all of them on the first run."""
    with connect() as client:
        for items in client.movements(moved_at.start_value):
            yield [
                {
                    **item,
                    "moved_at": datetime.fromisoformat(item["moved_at"].replace("Z", "+00:00")),
                    "quantity": int(item["quantity"]),
                }
                for item in items
            ]


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _cost(value: object, where: str) -> Decimal:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise WmsError(f"{where}: unit_cost {value!r} is not a decimal number") from None


def _purchase_orders(
    connect: Callable[[], WmsClient], updated_at: Incremental[datetime]
) -> Iterator[list[dict]]:
    """Purchase orders updated since the last cursor minus the overlap (all of them on the first run); a PO's
    lines come with it (nested table `purchase_orders__lines`, replaced with their PO on merge)."""
    with connect() as client:
        for items in client.purchase_orders(updated_at.start_value):
            yield [
                {
                    **po,
                    "ordered_at": _instant(po["ordered_at"]),
                    "updated_at": _instant(po["updated_at"]),
                    "expected_date": date.fromisoformat(po["expected_date"]),
                    "lines": [
                        {
                            **line,
                            "quantity": int(line["quantity"]),
                            "received_quantity": int(line.get("received_quantity") or 0),
                            "unit_cost": _cost(line["unit_cost"], f"WMS purchase order {po['po_number']}"),
                        }
                        for line in po.get("lines") or []
                    ],
                }
                for po in items
            ]


def _receipts(connect: Callable[[], WmsClient], received_at: Incremental[datetime]) -> Iterator[list[dict]]:
    """Goods receipts since the last cursor minus the overlap, all of them on the first run."""
    with connect() as client:
        for items in client.receipts(received_at.start_value):
            yield [
                {
                    **item,
                    "received_at": _instant(item["received_at"]),
                    "quantity": int(item["quantity"]),
                    "unit_cost": _cost(item["unit_cost"], f"WMS receipt {item.get('id')}"),
                }
                for item in items
            ]


@dlt.source(name="wms")
def wms_source(
    base_url: str,
    token: str,
    warehouses: list[str],
    backfill_days: int = 90,
    token_env: str = "WMS_TOKEN",
    overlap_minutes: int = 10,
):
    """Stock snapshots and movements of `warehouses`, purchase orders and receipts from the WMS at `base_url`."""

    def connect() -> WmsClient:  # opened at extraction, closed when the resource is done
        return WmsClient(base_url, token, token_env=token_env)

    snapshots = dlt.resource(
        _stock_snapshots,
        name="stock_snapshots",
        write_disposition="merge",
        primary_key=SNAPSHOT_KEY,
        columns={
            "snapshot_date": {"data_type": "date", "nullable": False},
            "warehouse": {"data_type": "text", "nullable": False},
            "merchant_code": {"data_type": "text", "nullable": False},
            "on_hand": {"data_type": "bigint"},
            "fetched_at": {"data_type": "timestamp"},
        },
    )(connect, list(warehouses), backfill_days)
    movements = dlt.resource(
        _stock_movements,
        name="stock_movements",
        write_disposition="merge",
        primary_key="id",
        columns={
            "id": {"data_type": "text", "nullable": False},
            "moved_at": {"data_type": "timestamp"},
            "quantity": {"data_type": "bigint"},
        },
    )(connect, dlt.sources.incremental("moved_at", lag=overlap_minutes * 60))
    purchase_orders = dlt.resource(
        _purchase_orders,
        name="purchase_orders",
        write_disposition="merge",
        primary_key="po_number",
        columns={
            "po_number": {"data_type": "text", "nullable": False},
            "ordered_at": {"data_type": "timestamp"},
            "updated_at": {"data_type": "timestamp"},
            "expected_date": {"data_type": "date"},
        },
        nested_hints={
            "lines": {
                "columns": {
                    "quantity": {"name": "quantity", "data_type": "bigint"},
                    "received_quantity": {"name": "received_quantity", "data_type": "bigint"},
                    "unit_cost": {"name": "unit_cost", **MONEY},
                }
            }
        },
    )(connect, dlt.sources.incremental("updated_at", lag=overlap_minutes * 60))
    receipts = dlt.resource(
        _receipts,
        name="receipts",
        write_disposition="merge",
        primary_key="id",
        columns={
            "id": {"data_type": "text", "nullable": False},
            "received_at": {"data_type": "timestamp"},
            "quantity": {"data_type": "bigint"},
            "unit_cost": {"name": "unit_cost", **MONEY},
        },
    )(connect, dlt.sources.incremental("received_at", lag=overlap_minutes * 60))
    return snapshots, movements, purchase_orders, receipts


def wms_pipeline(warehouse_path: str | Path, pipelines_dir: str | Path) -> dlt.Pipeline:
    """The pipeline loading the WMS into `raw_wms` of the DuckDB file at `warehouse_path`."""
    return warehouse_pipeline(
        pipeline_name="wms",
        dataset_name="raw_wms",
        warehouse_path=warehouse_path,
        pipelines_dir=pipelines_dir,
    )


def load_wms(pipeline: dlt.Pipeline, **kwargs) -> LoadInfo:
    """Run `wms_source(**kwargs)` into `pipeline` and return dlt's load info. A refusal by the WMS (bad token,
    unknown warehouse, WMS down) raises WmsError saying what to fix, not dlt's wrapper."""
    try:
        return pipeline.run(wms_source(**kwargs))
    except PipelineStepFailed as exc:
        cause: BaseException | None = exc
        while cause is not None and not isinstance(cause, WmsError):
            cause = cause.__cause__ or cause.__context__
        if cause is None:
            raise
        raise cause from None
