"""A generic warehouse system (WMS) speaking a small bearer-token REST API over the world's stock tables.

- `GET /api/v1/stock?warehouse=WH-SH&page=1&page_size=500[&date=YYYY-MM-DD]`: closing stock of one warehouse on
  one local date (default: the latest snapshot on or before the sandbox clock's local date).
- `GET /api/v1/movements?since=ISO&until=ISO&page=1&page_size=500`: receipts, shipments, adjustments and returns
  with `since <= moved_at < until` (until defaults to, and is capped at, the clock), sorted by (moved_at, id).
- `GET /api/v1/purchase-orders?updated_since=ISO&page=1&page_size=500`: purchase orders placed by the clock, each
  with its lines and the units received on each so far, and its status as of the clock (`open` until every line
  is received in full, then `received`; `cancelled` stays so). `updated_at` is the later of the order time and its
  last receipt; only orders with `updated_at >= updated_since` are listed, sorted by (updated_at, po_number).
- `GET /api/v1/receipts?since=ISO&until=ISO&page=1&page_size=500`: goods received against purchase orders, with
  `since <= received_at < until` (capped at the clock like movements), sorted by (received_at, id). Unit costs
  are decimal strings in CNY.

Test-only endpoints (no auth): `POST /_sandbox/clock {"now": ISO}` moves the clock, `GET /_sandbox/requests` lists
the API requests served, `POST /_sandbox/fail {"path": "/api/v1/stock", "status": 503, "times": 2}` makes the next
`times` requests to `path` fail with `status`, `POST /_sandbox/movements {"warehouse": "WH-SH", "merchant_code": "AP-0001-M",
"type": "receipt", "quantity": 40}` records a movement happening now (the clock's time unless `moved_at` is given;
another type only with `"new_type": true`, as after a WMS upgrade);
`POST /_sandbox/receipts {"po_number": ..., "warehouse": ..., "merchant_code": ..., "quantity": n}` receives goods now
against a PO the WMS does not list (one shopkeep sent), as a receipt and its receipt movement.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pandas as pd
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.world import SCHEMA, World

MAX_PAGE_SIZE = 500
DEFAULT_TIMEZONE = "Asia/Shanghai"


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _utc(value: datetime | str | pd.Timestamp) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _iso(stamp: pd.Timestamp) -> str:
    return stamp.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def _default_clock(world: World, tz: ZoneInfo) -> pd.Timestamp:
    """The end of the world's last day (local), so every snapshot and movement is visible."""
    end = world.params.get("end_date")
    if end:
        last_day = date.fromisoformat(str(end)[:10])
    else:
        last_day = max(world.stock_snapshots["snapshot_date"])
    return _utc(datetime.combine(last_day, time(23, 59, 59), tzinfo=tz))


class WmsState:
    """The world's stock tables indexed for serving, plus the clock, request log and injected faults."""

    def __init__(self, world: World, token: str, now: datetime | str | None, tz: ZoneInfo) -> None:
        self.token = token
        self.tz = tz
        self.lock = threading.Lock()
        self.now = _utc(now) if now is not None else _default_clock(world, tz)
        self.requests: list[dict] = []
        self.faults: dict[str, list[int]] = {}
        self.warehouses = set(world.warehouses["warehouse_id"]) if "warehouses" in world.tables else set()
        snapshots = world.stock_snapshots.sort_values(["warehouse_id", "snapshot_date", "sku"])
        self.warehouses |= set(snapshots["warehouse_id"])
        self.snapshots: dict[tuple[str, date], list[dict]] = {}
        for (warehouse, day), frame in snapshots.groupby(["warehouse_id", "snapshot_date"], sort=False):
            self.snapshots[(warehouse, day)] = [
                {"merchant_code": sku, "on_hand": int(on_hand), "warehouse": warehouse}
                for sku, on_hand in zip(frame["sku"], frame["on_hand"], strict=True)
            ]
        self.snapshot_dates = sorted({day for _, day in self.snapshots})
        movements = world.stock_movements.copy()
        movements["moved_at"] = pd.to_datetime(movements["moved_at"], utc=True)
        self.movements = movements.sort_values(["moved_at", "movement_id"]).reset_index(drop=True)
        self.purchase_orders, self.purchase_order_lines, self.receipts = _purchasing_tables(world)

    def local_today(self) -> date:
        return self.now.tz_convert(self.tz).date()

    def add_movement(
        self, warehouse: str, sku: str, kind: str, quantity: int, moved_at: datetime | str | None = None,
        reference: str = "",
        new_type: bool = False,
    ) -> dict:  # fmt: skip
        """A movement happening in the warehouse now (or at `moved_at`): a receipt, shipment, adjustment or return
        that the next closing stock will count. Returns it as the API lists it. `new_type`: any other type is
        taken too (a WMS upgrade that adds e.g. transfers, which shopkeep's checks do not know)."""
        if not new_type and kind not in ("receipt", "shipment", "adjustment", "return"):
            raise BadRequest(400, f"type {kind!r} is not receipt, shipment, adjustment or return")
        if warehouse not in self.warehouses:
            raise BadRequest(404, f"unknown warehouse {warehouse!r}")
        with self.lock:
            at = _utc(moved_at) if moved_at is not None else self.now
            movement_id = f"MV-SANDBOX-{len(self.movements) + 1:08d}"
            row = pd.DataFrame([{
                "movement_id": movement_id, "moved_at": at, "warehouse_id": warehouse, "sku": sku, "type": kind,
                "quantity": int(quantity), "reference": reference,
            }])  # fmt: skip
            self.movements = (
                pd.concat([self.movements, row], ignore_index=True)
                .sort_values(["moved_at", "movement_id"])
                .reset_index(drop=True)
            )
        return {"id": movement_id, "moved_at": _iso(at), "warehouse": warehouse, "merchant_code": sku,
                "type": kind, "quantity": int(quantity), "reference": reference}  # fmt: skip

    def receive(self, po_number: str, warehouse: str, sku: str, quantity: int, unit_cost: str = "0") -> dict:
        """Goods arriving now against a purchase order the WMS was not given (one shopkeep sent a supplier): a
        receipt listed by /api/v1/receipts and the receipt movement the next closing stock counts."""
        if int(quantity) <= 0:
            raise BadRequest(400, f"a receipt of {quantity} units")
        movement = self.add_movement(warehouse, sku, "receipt", int(quantity), None, po_number)
        with self.lock:
            row = pd.DataFrame([{
                "receipt_id": f"RC-SANDBOX-{len(self.receipts) + 1:08d}", "received_at": self.now,
                "po_number": po_number, "sku": sku, "quantity": int(quantity), "unit_cost": Decimal(unit_cost),
                "warehouse_id": warehouse,
            }])  # fmt: skip
            self.receipts = pd.concat([self.receipts, row], ignore_index=True)
        return {"id": row["receipt_id"].iloc[0], "movement": movement["id"]}


def _page_args(request: Request) -> tuple[int, int]:
    try:
        page = int(request.query_params.get("page", "1"))
        page_size = int(request.query_params.get("page_size", str(MAX_PAGE_SIZE)))
    except ValueError as exc:
        raise BadRequest(400, "page and page_size must be whole numbers") from exc
    if page < 1 or page_size < 1:
        raise BadRequest(400, "page and page_size must be at least 1")
    if page_size > MAX_PAGE_SIZE:
        raise BadRequest(400, f"page_size {page_size} is above the maximum of {MAX_PAGE_SIZE}")
    return page, page_size


def _stock(state: WmsState, request: Request) -> dict:
    warehouse = request.query_params.get("warehouse")
    if not warehouse:
        raise BadRequest(400, "the warehouse parameter is required, e.g. warehouse=WH-SH")
    if warehouse not in state.warehouses:
        raise BadRequest(
            404, f"unknown warehouse {warehouse!r}; known: {', '.join(sorted(state.warehouses))}"
        )
    page, page_size = _page_args(request)
    today = state.local_today()
    if "date" in request.query_params:
        try:
            day = date.fromisoformat(request.query_params["date"])
        except ValueError as exc:
            raise BadRequest(400, f"date {request.query_params['date']!r} is not YYYY-MM-DD") from exc
        if day > today:
            raise BadRequest(400, f"date {day} is in the future (the warehouse's today is {today})")
    else:
        past = [d for d in state.snapshot_dates if d <= today]
        day = past[-1] if past else today
    items = state.snapshots.get((warehouse, day), [])
    start = (page - 1) * page_size
    return {
        "warehouse": warehouse,
        "date": day.isoformat(),
        "page": page,
        "page_size": page_size,
        "total": len(items),
        "items": items[start : start + page_size],
    }


def _parse_instant(request: Request, name: str) -> pd.Timestamp | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return _utc(raw.replace(" ", "+") if "T" in raw and " " in raw else raw)
    except (ValueError, TypeError) as exc:
        raise BadRequest(400, f"{name} {raw!r} is not an ISO-8601 timestamp") from exc


def _movements(state: WmsState, request: Request) -> dict:
    page, page_size = _page_args(request)
    since = _parse_instant(request, "since")
    until = _parse_instant(request, "until")
    until = state.now if until is None or until > state.now else until
    frame = state.movements
    mask = frame["moved_at"] <= until if until == state.now else frame["moved_at"] < until
    if since is not None:
        mask &= frame["moved_at"] >= since
    selected = frame[mask]
    start = (page - 1) * page_size
    chunk = selected.iloc[start : start + page_size]
    items = [
        {
            "id": str(row.movement_id),
            "moved_at": _iso(row.moved_at),
            "warehouse": row.warehouse_id,
            "merchant_code": row.sku,
            "type": row.type,
            "quantity": int(row.quantity),
            "reference": row.reference or "",
        }
        for row in chunk.itertuples(index=False)
    ]
    return {
        "items": items,
        "page": page,
        "page_size": page_size,
        "total": int(len(selected)),
        "has_next": start + page_size < len(selected),
    }


def _purchasing_tables(world: World) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Purchase orders, their lines and receipts (empty frames when the world has none), receipts carrying the
    warehouse of their purchase order."""

    def table(name: str) -> pd.DataFrame:
        frame = world.tables.get(name)
        if frame is None or frame.empty:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in SCHEMA[name]})
        return frame.copy()

    orders = table("purchase_orders")
    orders["ordered_at"] = pd.to_datetime(orders["ordered_at"], utc=True)
    lines = table("purchase_order_lines")
    receipts = table("receipts")
    receipts["received_at"] = pd.to_datetime(receipts["received_at"], utc=True)
    receipts = receipts.merge(orders[["po_number", "warehouse_id"]], on="po_number", how="left")
    receipts = receipts.sort_values(["received_at", "receipt_id"]).reset_index(drop=True)
    return orders.sort_values("po_number").reset_index(drop=True), lines, receipts


def _money(value) -> str:
    return f"{Decimal(str(value)).quantize(Decimal('0.01'))}"


def _purchase_orders(state: WmsState, request: Request) -> dict:
    """Purchase orders as the warehouse sees them at the clock: placed by then, receipts up to then."""
    page, page_size = _page_args(request)
    since = _parse_instant(request, "updated_since")
    orders = state.purchase_orders[state.purchase_orders["ordered_at"] <= state.now]
    receipts = state.receipts[state.receipts["received_at"] <= state.now]
    received = receipts.groupby(["po_number", "sku"])["quantity"].sum()
    last_receipt = receipts.groupby("po_number")["received_at"].max()
    lines = state.purchase_order_lines[state.purchase_order_lines["po_number"].isin(orders["po_number"])]
    lines_by_po: dict[str, list[dict]] = {}
    for row in lines.itertuples(index=False):
        lines_by_po.setdefault(row.po_number, []).append(
            {
                "merchant_code": row.sku,
                "quantity": int(row.quantity),
                "received_quantity": int(received.get((row.po_number, row.sku), 0)),
                "unit_cost": _money(row.unit_cost),
            }
        )
    views = []
    for row in orders.itertuples(index=False):
        po_lines = lines_by_po.get(row.po_number, [])
        updated = max(row.ordered_at, last_receipt.get(row.po_number, row.ordered_at))
        if since is not None and updated < since:
            continue
        if row.status == "cancelled":
            status = "cancelled"
        elif po_lines and all(line["received_quantity"] >= line["quantity"] for line in po_lines):
            status = "received"
        else:
            status = "open"
        views.append(
            {
                "po_number": row.po_number,
                "supplier_id": row.supplier_id,
                "warehouse": row.warehouse_id,
                "ordered_at": _iso(row.ordered_at),
                "expected_date": pd.Timestamp(row.expected_date).date().isoformat(),
                "status": status,
                "updated_at": _iso(updated),
                "lines": po_lines,
            }
        )
    views.sort(key=lambda view: (view["updated_at"], view["po_number"]))
    start = (page - 1) * page_size
    return {
        "items": views[start : start + page_size],
        "page": page,
        "page_size": page_size,
        "total": len(views),
        "has_next": start + page_size < len(views),
    }


def _receipts(state: WmsState, request: Request) -> dict:
    page, page_size = _page_args(request)
    since = _parse_instant(request, "since")
    until = _parse_instant(request, "until")
    until = state.now if until is None or until > state.now else until
    frame = state.receipts
    mask = frame["received_at"] <= until if until == state.now else frame["received_at"] < until
    if since is not None:
        mask &= frame["received_at"] >= since
    selected = frame[mask]
    start = (page - 1) * page_size
    chunk = selected.iloc[start : start + page_size]
    items = [
        {
            "id": str(row.receipt_id),
            "received_at": _iso(row.received_at),
            "po_number": row.po_number,
            "warehouse": row.warehouse_id,
            "merchant_code": row.sku,
            "quantity": int(row.quantity),
            "unit_cost": _money(row.unit_cost),
        }
        for row in chunk.itertuples(index=False)
    ]
    return {
        "items": items,
        "page": page,
        "page_size": page_size,
        "total": int(len(selected)),
        "has_next": start + page_size < len(selected),
    }


def create_app(
    world: World,
    token: str = "wms-sandbox-token",
    now: datetime | str | None = None,
    timezone: str = DEFAULT_TIMEZONE,
) -> Starlette:
    """The WMS sandbox serving `world`'s stock, movements, purchase orders and receipts to holders of `token`."""
    state = WmsState(world, token, now, ZoneInfo(timezone))

    def api(handler):
        async def endpoint(request: Request) -> JSONResponse:
            entry = {"method": request.method, "path": request.url.path, "query": dict(request.query_params)}
            with state.lock:
                state.requests.append(entry)
                pending = state.faults.get(request.url.path)
                fault = pending.pop(0) if pending else None
            if request.headers.get("authorization") != f"Bearer {state.token}":
                entry["status"] = 401
                return JSONResponse({"error": "unauthorized"}, status_code=401)
            if fault is not None:
                entry["status"] = fault
                return JSONResponse({"error": "injected failure"}, status_code=fault)
            try:
                body = handler(state, request)
            except BadRequest as exc:
                entry["status"] = exc.status
                return JSONResponse({"error": exc.message}, status_code=exc.status)
            entry["status"] = 200
            return JSONResponse(body)

        return endpoint

    async def set_clock(request: Request) -> JSONResponse:
        payload = await request.json()
        with state.lock:
            state.now = _utc(payload["now"])
        return JSONResponse({"now": _iso(state.now), "local_date": state.local_today().isoformat()})

    async def list_requests(request: Request) -> JSONResponse:
        with state.lock:
            return JSONResponse({"requests": list(state.requests)})

    async def inject_failure(request: Request) -> JSONResponse:
        payload = await request.json()
        with state.lock:
            state.faults[payload["path"]] = [int(payload.get("status", 503))] * int(payload.get("times", 1))
        return JSONResponse({"ok": True})

    async def add_receipt(request: Request) -> JSONResponse:
        payload = await request.json()
        try:
            receipt = state.receive(payload["po_number"], payload["warehouse"], payload["merchant_code"],
                                    int(payload["quantity"]), str(payload.get("unit_cost", "0")))  # fmt: skip
        except BadRequest as exc:
            return JSONResponse({"error": exc.message}, status_code=exc.status)
        return JSONResponse(receipt)

    async def add_movement(request: Request) -> JSONResponse:
        payload = await request.json()
        try:
            movement = state.add_movement(
                payload["warehouse"], payload["merchant_code"], payload.get("type", "receipt"),
                int(payload["quantity"]), payload.get("moved_at"), payload.get("reference", ""),
                bool(payload.get("new_type", False)),
            )  # fmt: skip
        except BadRequest as exc:
            return JSONResponse({"error": exc.message}, status_code=exc.status)
        return JSONResponse(movement)

    app = Starlette(
        routes=[
            Route("/api/v1/stock", api(_stock), methods=["GET"]),
            Route("/api/v1/movements", api(_movements), methods=["GET"]),
            Route("/api/v1/purchase-orders", api(_purchase_orders), methods=["GET"]),
            Route("/api/v1/receipts", api(_receipts), methods=["GET"]),
            Route("/_sandbox/clock", set_clock, methods=["POST"]),
            Route("/_sandbox/requests", list_requests, methods=["GET"]),
            Route("/_sandbox/fail", inject_failure, methods=["POST"]),
            Route("/_sandbox/movements", add_movement, methods=["POST"]),
            Route("/_sandbox/receipts", add_receipt, methods=["POST"]),
        ]
    )
    app.state.sandbox = state
    return app
