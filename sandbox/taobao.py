"""A local Taobao Open Platform (TOP) gateway over the Tmall shop's slice of the simulated world.

It enforces what the real gateway enforces (see /work/shared/spec/channels.md, Taobao / Tmall — TOP):
- one endpoint `POST /router/rest`; system parameters in the query string, business parameters form-encoded in
  the body; the signature (md5, hmac or hmac-sha256) covers both; `timestamp` (`yyyy-MM-dd HH:mm:ss`, GMT+8)
  may be at most 10 minutes off the sandbox clock (`taobao.time.get` tells clients the gateway's time);
- envelopes `{"<method without taobao., dots -> underscores>_response": {...}}`, lists wrapped twice,
  errors as `{"error_response": {code, msg, sub_code, sub_msg, request_id}}`: 7 throttled ("This ban will last
  for N more seconds"), 15 remote service error (`isv.*` the caller's fault, `isp.*` the platform's), 25 invalid
  signature, 27 invalid session, 31 invalid timestamp, 40/41 missing/invalid arguments;
- windows of at most one day, page_size <= 100, only the last `history_days` days online.

Methods: `taobao.time.get`, `taobao.trades.sold.increment.get` (sorted by modified, newest first),
`taobao.refunds.receive.get`, `alipay.bill.lines.get` (this sandbox's model of the Alipay statement lines per
order: income, commission, service fee, refund, subsidy, by settle time), `taobao.items.onsale.get` (items with
their SKUs and listed quantity — the real call needs `taobao.item.seller.get` for SKUs; here one call does it),
`taobao.item.quantity.update` and `taobao.skus.quantity.update`.

The server has a clock: a trade is visible once created and shown as it stood at the clock. Test-only endpoints:
`GET|POST /_sandbox/clock`, `GET /_sandbox/requests`, `POST /_sandbox/reset_log`, `GET|POST /_sandbox/faults`,
`POST /_sandbox/expire_token`, `GET /_sandbox/stock`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl

import pandas as pd
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.buyers import buyer_routes
from sandbox.faults import FaultConfig, Faults
from sandbox.records import (
    Clocked,
    OrderIndex,
    Timeline,
    decimal_money,
    lines_by_order,
    listed_stock,
    money,
    records,
    text,
    utc_moment,
)
from sandbox.world import World

GMT8 = timezone(timedelta(hours=8))
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_PAGE_SIZE = 100
MAX_WINDOW = timedelta(days=1)
MAX_CLOCK_SKEW = timedelta(minutes=10)
MAX_BATCH_SKUS = 20
SIGN_METHODS = ("md5", "hmac", "hmac-sha256")

REFUND_STATUS = {"success": "SUCCESS", "closed": "CLOSED", "processing": "WAIT_SELLER_AGREE"}
BILL_TYPES = {
    "income": "交易收款",
    "commission": "天猫佣金",
    "service_fee": "技术服务费",
    "affiliate_commission": "淘宝客佣金",
    "refund": "交易退款",
    "subsidy": "平台补贴",
}
"""Bill line kinds as the statement names them (biz_type)."""


class TopError(Exception):
    """An error answered in TOP's `error_response` envelope."""

    def __init__(self, code: int, msg: str, sub_code: str | None = None, sub_msg: str | None = None) -> None:
        super().__init__(msg)
        self.code, self.msg, self.sub_code, self.sub_msg = code, msg, sub_code, sub_msg

    def body(self) -> dict:
        error: dict[str, Any] = {"code": self.code, "msg": self.msg}
        if self.sub_code:
            error["sub_code"] = self.sub_code
        if self.sub_msg:
            error["sub_msg"] = self.sub_msg
        error["request_id"] = uuid.uuid4().hex[:13]
        return {"error_response": error}


def invalid(name: str, message: str) -> TopError:
    return TopError(15, "Remote service error", f"isv.invalid-parameter:{name}", message)


# ---------------------------------------------------------------------------------------------------------- #
# conversions


def top_time(moment: datetime | None) -> str | None:
    """UTC datetime -> 'yyyy-MM-dd HH:mm:ss' in GMT+8."""
    return moment.astimezone(GMT8).strftime(TIME_FORMAT) if moment is not None else None


def parse_top_time(value: str | None, name: str) -> datetime:
    if not value:
        raise TopError(
            40, "Missing Required Arguments", f"isv.missing-parameter:{name}", f"{name} is required"
        )
    try:
        return datetime.strptime(value.strip(), TIME_FORMAT).replace(tzinfo=GMT8).astimezone(UTC)
    except ValueError:
        raise invalid(name, f"{name} must be yyyy-MM-dd HH:mm:ss (GMT+8), got {value!r}") from None


def _int(params: dict[str, str], name: str, default: int, low: int, high: int | None = None) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(name, f"{name} must be a whole number, got {raw!r}") from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise invalid(name, f"{name} must be {bound}, got {value}")
    return value


def response_key(method: str) -> str:
    """'taobao.trades.sold.increment.get' -> 'trades_sold_increment_get_response'."""
    return method.removeprefix("taobao.").replace(".", "_") + "_response"


# ---------------------------------------------------------------------------------------------------------- #
# the shop's data


@dataclass(kw_only=True)
class _Trade(Timeline):
    """A trade and its refunds, any status: a refund modifies the trade (its `modified` is `updated_at`)."""

    tid: int
    refunds: list[dict]  # world refund rows, each with "_at" (UTC datetime)


def _load_trades(world: World, shop_id: str) -> list[_Trade]:
    lines = lines_by_order(world, shop_id)
    refunds: dict[str, list[dict]] = {}
    for refund in records(world, "refunds", shop_id):
        refund["_at"] = utc_moment(refund["created_at"])
        if refund["_at"] is not None:
            refunds.setdefault(str(refund["order_id"]), []).append(refund)
    trades = []
    for row in records(world, "orders", shop_id):
        order_id = str(row["order_id"])
        own = refunds.get(order_id, [])
        trades.append(
            _Trade.of(
                row,
                lines.get(order_id, []),
                changes=[r["_at"] for r in own],
                tid=int(order_id) if order_id.isdigit() else _stable_int(order_id),
                refunds=sorted(own, key=lambda r: (r["_at"], str(r["refund_id"]))),
            )
        )
    return trades


def _stable_int(text: str) -> int:
    return 10**15 + int.from_bytes(hashlib.blake2b(text.encode(), digest_size=6).digest()) % 10**15


def _numeric(value: Any) -> int:
    text = str(value)
    return int(text) if text.isdigit() else _stable_int(text)


class TaobaoSandbox(Clocked):
    """State of one sandbox Tmall shop: data, clock, listed stock, token, faults and the request log."""

    def __init__(
        self,
        world: World,
        shop_id: str,
        app_key: str,
        app_secret: str,
        access_token: str,
        now: datetime | None,
        faults: Faults | None,
        history_days: int,
    ) -> None:
        self.shop_id = shop_id
        self.app_key, self.app_secret, self.access_token = app_key, app_secret, access_token
        self.token_expired = False
        self.now = utc_moment(now)
        self.faults = faults or Faults(FaultConfig(rate=0.0))
        self.history_days = history_days
        self.trades = _load_trades(world, shop_id)
        self.index = OrderIndex(self.trades, lambda t, now: (t.updated_at(now), t.tid))
        self.refunds = sorted(
            (r for t in self.trades for r in t.refunds), key=lambda r: (r["_at"], str(r["refund_id"]))
        )
        self.line_by_id = {str(line["line_id"]): line for t in self.trades for line in t.lines}
        self.bills = self._load_bills(world)
        self.items = self._load_items(world)
        self.stock = self._initial_stock(world)
        self.log: list[dict] = []

    # -- clock ---------------------------------------------------------------------------------------------- #

    def oldest_queryable(self) -> datetime:
        return self.clock() - timedelta(days=self.history_days)

    def visible(self) -> tuple[list[tuple], list[_Trade]]:
        """Trades created by the clock, sorted by (modified as of the clock, tid) ascending."""
        return self.index.at(self.clock())

    # -- loading -------------------------------------------------------------------------------------------- #

    def _load_bills(self, world: World) -> list[dict]:
        rows = records(world, "bill_lines", self.shop_id)
        rows.sort(key=lambda r: (r["settled_date"], str(r["bill_line_id"]), str(r["type"])))
        bills = []
        for n, row in enumerate(rows):
            settled = row["settled_date"]
            settled = settled if isinstance(settled, date) else pd.Timestamp(settled).date()
            at = datetime(settled.year, settled.month, settled.day, tzinfo=GMT8).astimezone(UTC)
            bills.append(
                {
                    "_at": at,
                    "account_log_id": str(88_000_000_000 + n),
                    "bill_no": str(row["bill_line_id"]),
                    "tid": _numeric(row["order_id"]),
                    "biz_type": BILL_TYPES.get(str(row["type"]), str(row["type"])),
                    "amount": money(row["amount"]),
                    "currency": "CNY",
                    "settle_time": top_time(at),
                }
            )
        return bills

    def _load_items(self, world: World) -> dict[int, dict]:
        items: dict[int, dict] = {}
        for listing in sorted(
            records(world, "listings", self.shop_id), key=lambda x: str(x["platform_sku_id"])
        ):
            num_iid = _numeric(listing["platform_product_id"])
            item = items.setdefault(
                num_iid,
                {
                    "num_iid": num_iid,
                    "title": text(listing.get("title")).rsplit(" ", 1)[0],
                    "price": money(listing.get("price")),
                    "approve_status": "onsale",
                    "skus": [],
                },
            )
            item["skus"].append(
                {
                    "sku_id": _numeric(listing["platform_sku_id"]),
                    "outer_id": text(listing.get("outer_id")),
                    "price": money(listing.get("price")),
                    "properties_name": text(listing.get("title")),
                    "_sku": str(listing.get("sku")),
                }
            )
        return dict(sorted(items.items()))

    def listed(self, sku_id: str) -> int | None:
        """Listed units of a platform SKU id (sandbox/buyers.py)."""
        return self.stock.get(int(sku_id)) if sku_id.isdigit() else None

    def set_listed(self, sku_id: str, quantity: int) -> None:
        self.stock[int(sku_id)] = quantity

    def _initial_stock(self, world: World) -> dict[int, int]:
        """Listed quantity per sku_id = on hand of its master SKU on the latest snapshot (kits: buildable)."""
        units = listed_stock(world)
        stock = {}
        for item in self.items.values():
            for sku in item["skus"]:
                stock[sku["sku_id"]] = units(sku.pop("_sku"))
        return stock

    # -- rendering ------------------------------------------------------------------------------------------ #

    def render_trade(self, trade: _Trade, now: datetime) -> dict:
        row = trade.row
        paid, cancelled = trade.at("paid_at", now), trade.at("cancelled_at", now)
        shipped, completed = trade.at("shipped_at", now), trade.at("completed_at", now)
        refunds = [r for r in trade.refunds if r["_at"] <= now]
        refunded_ok = [r for r in refunds if r["status"] == "success"]
        end_time = None
        if paid is None and cancelled is not None:
            status, end_time = "TRADE_CLOSED_BY_TAOBAO", cancelled
        elif paid is None:
            status = "WAIT_BUYER_PAY"
        elif (
            str(row.get("status")) == "refunded"
            and refunded_ok
            and len(refunded_ok) == len([r for r in trade.refunds if r["status"] == "success"])
        ):
            status, end_time = "TRADE_CLOSED", max(r["_at"] for r in refunded_ok)
        elif completed is not None:
            status, end_time = "TRADE_FINISHED", completed
        elif shipped is not None:
            status = "WAIT_BUYER_CONFIRM_GOODS"
        else:
            status = "WAIT_SELLER_SEND_GOODS"
        line_refund = {str(r["line_id"]): REFUND_STATUS.get(str(r["status"]), "SUCCESS") for r in refunds}
        orders = []
        for line in trade.lines:
            price, num = decimal_money(line["unit_list_price"]), int(line["quantity"])
            merchant = decimal_money(line["merchant_discount"])
            orders.append(
                {
                    "oid": _numeric(line["line_id"]),
                    "num_iid": _numeric(line["platform_product_id"]),
                    "sku_id": _numeric(line["platform_sku_id"]),
                    "outer_sku_id": text(line.get("outer_id")),
                    "title": text(line.get("title")),
                    "num": num,
                    "price": money(price),
                    "total_fee": money(price * num - merchant),
                    "discount_fee": money(merchant),
                    "payment": money(line["paid_amount"]),
                    "refund_status": line_refund.get(str(line["line_id"]), "NO_REFUND"),
                    "status": status,
                }
            )
        trade_json = {
            "tid": trade.tid,
            "status": status,
            "type": "fixed",
            "created": top_time(trade.created_at),
            "modified": top_time(trade.updated_at(now)),
            "pay_time": top_time(paid),
            "consign_time": top_time(shipped),
            "end_time": top_time(end_time),
            "payment": money(row.get("paid_amount")),
            "post_fee": money(row.get("shipping_fee")),
            "total_fee": money(row.get("list_amount")),
            "discount_fee": money(row.get("merchant_discount")),
            "coupon_fee": money(row.get("platform_discount")),
            "buyer_nick": text(row.get("buyer_name")),
            "buyer_open_uid": text(row.get("buyer_id")),
            "receiver_name": text(row.get("buyer_name")),
            "receiver_mobile": text(row.get("buyer_phone")),
            "receiver_state": text(row.get("province")),
            "receiver_city": text(row.get("city")),
            "receiver_district": text(row.get("district")),
            "receiver_address": text(row.get("address_detail")),
            "buyer_message": text(row.get("buyer_remark")),
            "seller_memo": text(row.get("seller_remark")),
            "orders": {"order": orders},
        }
        return {k: v for k, v in trade_json.items() if v is not None}  # TOP leaves out empty fields

    def render_refund(self, refund: dict) -> dict:
        line = self.line_by_id.get(str(refund["line_id"]), {})
        returned = bool(refund.get("goods_returned"))
        good_status = "BUYER_NOT_RECEIVED"
        if returned:
            good_status = "SELLER_RECEIVED" if bool(refund.get("restocked")) else "BUYER_RETURNED_GOODS"
        return {
            "refund_id": _numeric(refund["refund_id"]),
            "tid": _numeric(refund["order_id"]),
            "oid": _numeric(refund["line_id"]),
            "num_iid": _numeric(line.get("platform_product_id", 0)),
            "sku": text(line.get("outer_id")),
            "status": REFUND_STATUS.get(str(refund["status"]), "SUCCESS"),
            "refund_fee": money(refund["amount"]),
            "num": int(refund["quantity"]),
            "reason": text(refund.get("reason_text")),
            "desc": "",
            "created": top_time(refund["_at"]),
            "modified": top_time(refund["_at"]),
            "has_good_return": returned,
            "good_status": good_status,
        }


# ---------------------------------------------------------------------------------------------------------- #
# API methods


@dataclass
class Call:
    sandbox: TaobaoSandbox
    params: dict[str, str]
    overlap: bool = False


def _window(call: Call, start_name: str, end_name: str) -> tuple[datetime, datetime]:
    start = parse_top_time(call.params.get(start_name), start_name)
    end = parse_top_time(call.params.get(end_name), end_name)
    if end < start:
        raise invalid(end_name, f"{end_name} must not be earlier than {start_name}")
    if end - start > MAX_WINDOW:
        raise invalid(end_name, f"{start_name} and {end_name} may be at most one day apart")
    if start < call.sandbox.oldest_queryable():
        raise TopError(
            15,
            "Remote service error",
            f"isv.invalid-parameter:{start_name}",
            f"only the last {call.sandbox.history_days} days can be queried; {start_name} "
            f"{call.params[start_name]} is older (查询时间超出范围)",
        )
    return start, end


def _page(call: Call, items: list, default_size: int = 40) -> tuple[list, int, int]:
    """(page items, page_no, page_size); with an overlap fault, the page repeats records of its neighbour."""
    page_no = _int(call.params, "page_no", 1, 1)
    size = _int(call.params, "page_size", default_size, 1, MAX_PAGE_SIZE)
    start = (page_no - 1) * size
    page = list(items[start : start + size])
    if call.overlap and page:
        neighbour = items[max(0, start - 2) : start] if start > 0 else items[start + size : start + size + 2]
        page = list(neighbour) + page
    return page, page_no, size


def _fields(call: Call) -> list[str]:
    fields = [f.strip() for f in call.params.get("fields", "").split(",") if f.strip()]
    if not fields:
        raise TopError(40, "Missing Required Arguments", "isv.missing-parameter:fields", "fields is required")
    return fields


def trades_sold_increment_get(call: Call) -> dict:
    fields = {f.split(".")[0] for f in _fields(call)}
    start, end = _window(call, "start_modified", "end_modified")
    now = call.sandbox.clock()
    keys, trades = call.sandbox.visible()
    # start <= modified < end, newest first
    selected = trades[bisect_left(keys, (start,)) : bisect_left(keys, (end,))][::-1]
    status = call.params.get("status")
    rendered = [call.sandbox.render_trade(t, now) for t in selected]
    if status:
        rendered = [t for t in rendered if t["status"] == status]
    page, page_no, size = _page(call, rendered)
    body: dict[str, Any] = {"has_next": page_no * size < len(rendered)}
    if call.params.get("use_has_next", "false").lower() != "true":
        body["total_results"] = len(rendered)
    if page:
        body["trades"] = {"trade": [{k: v for k, v in t.items() if k in fields} for t in page]}
    return body


def refunds_receive_get(call: Call) -> dict:
    _fields(call)
    start, end = _window(call, "start_modified", "end_modified")
    now = call.sandbox.clock()
    chosen = [r for r in call.sandbox.refunds if start <= r["_at"] < end and r["_at"] <= now]
    chosen.sort(key=lambda r: (r["_at"], str(r["refund_id"])), reverse=True)
    page, page_no, size = _page(call, [call.sandbox.render_refund(r) for r in chosen])
    body: dict[str, Any] = {"total_results": len(chosen), "has_next": page_no * size < len(chosen)}
    if page:
        body["refunds"] = {"refund": page}
    return body


def bill_lines_get(call: Call) -> dict:
    start, end = _window(call, "start_time", "end_time")
    now = call.sandbox.clock()
    chosen = [b for b in call.sandbox.bills if start <= b["_at"] < end and b["_at"] <= now]
    page, page_no, size = _page(call, [{k: v for k, v in b.items() if k != "_at"} for b in chosen])
    body: dict[str, Any] = {"total_results": len(chosen), "has_next": page_no * size < len(chosen)}
    if page:
        body["bill_lines"] = {"bill_line": page}
    return body


def items_onsale_get(call: Call) -> dict:
    _fields(call)
    sandbox = call.sandbox
    items = []
    for item in sandbox.items.values():
        skus = [dict(s, quantity=sandbox.stock[s["sku_id"]]) for s in item["skus"]]
        items.append(dict(item, num=sum(s["quantity"] for s in skus), skus={"sku": skus}))
    page, page_no, size = _page(call, items)
    body: dict[str, Any] = {"total_results": len(items), "has_next": page_no * size < len(items)}
    if page:
        body["items"] = {"item": page}
    return body


def _item(call: Call) -> dict:
    raw = call.params.get("num_iid", "")
    if not raw:
        raise TopError(
            40, "Missing Required Arguments", "isv.missing-parameter:num_iid", "num_iid is required"
        )
    item = call.sandbox.items.get(int(raw)) if raw.isdigit() else None
    if item is None:
        raise TopError(
            15, "Remote service error", "isv.item-not-exist:invalid-numIid", f"item {raw} does not exist"
        )
    return item


def _check_change(call: Call, sku_id: int, quantity: int, kind: str) -> None:
    """A change (type 2) that would leave less than 0 is refused (the docs are silent; Pinduoduo's own add
    refuses the same way): the buyers took more since the caller read the stock."""
    if kind == "2" and call.sandbox.stock[sku_id] + quantity < 0:
        raise TopError(15, "Remote service error", "isv.item-quantity-update-failed:stock-negative",
                       f"sku {sku_id}: stock {call.sandbox.stock[sku_id]} + {quantity} would be below 0")  # fmt: skip


def _apply(call: Call, item: dict, sku_id: int, quantity: int, kind: str) -> None:
    _check_change(call, sku_id, quantity, kind)
    stock = call.sandbox.stock
    stock[sku_id] = quantity if kind == "1" else stock[sku_id] + quantity


def _item_answer(call: Call, item: dict) -> dict:
    stamp = top_time(call.sandbox.clock())
    skus = [
        {"sku_id": s["sku_id"], "quantity": call.sandbox.stock[s["sku_id"]], "modified": stamp}
        for s in item["skus"]
    ]
    num = sum(s["quantity"] for s in skus)
    return {"item": {"num_iid": item["num_iid"], "num": num, "modified": stamp, "skus": {"sku": skus}}}


def _find_sku(call: Call, item: dict, sku_id: str | None, outer_id: str | None) -> int:
    for sku in item["skus"]:
        if (sku_id and str(sku["sku_id"]) == sku_id) or (
            not sku_id and outer_id and sku["outer_id"] == outer_id
        ):
            return sku["sku_id"]
    name, value = ("sku_id", sku_id) if sku_id else ("outer_id", outer_id)
    raise TopError(15, "Remote service error", f"isv.invalid-parameter:{name}",
                   f"item {item['num_iid']} has no SKU with {name} {value}")  # fmt: skip


def _type(call: Call) -> str:
    kind = call.params.get("type", "1") or "1"
    if kind not in ("1", "2"):
        raise invalid("type", "type must be 1 (set) or 2 (add)")
    return kind


def item_quantity_update(call: Call) -> dict:
    item, kind = _item(call), _type(call)
    quantity = _int(call.params, "quantity", -1, -(10**9))
    if "quantity" not in call.params:
        raise TopError(
            40, "Missing Required Arguments", "isv.missing-parameter:quantity", "quantity is required"
        )
    if kind == "1" and quantity < 0:
        raise invalid("quantity", "quantity must be >= 0 when type is 1 (set)")
    sku_id, outer_id = call.params.get("sku_id"), call.params.get("outer_id")
    if not sku_id and not outer_id:
        raise invalid("sku_id", f"item {item['num_iid']} has SKUs: give sku_id or outer_id")
    _apply(call, item, _find_sku(call, item, sku_id, outer_id), quantity, kind)
    return _item_answer(call, item)


def skus_quantity_update(call: Call) -> dict:
    item, kind = _item(call), _type(call)
    pairs_text = call.params.get("skuid_quantities") or call.params.get("outerid_quantities") or ""
    by_outer = not call.params.get("skuid_quantities")
    pairs = [p for p in pairs_text.split(";") if p.strip()]
    if not pairs:
        raise TopError(40, "Missing Required Arguments", "isv.missing-parameter:skuid_quantities",
                       "skuid_quantities or outerid_quantities is required")  # fmt: skip
    if len(pairs) > MAX_BATCH_SKUS:
        raise invalid("skuid_quantities", f"at most {MAX_BATCH_SKUS} SKUs per call, got {len(pairs)}")
    updates = []
    for pair in pairs:
        key, _, qty = pair.partition(":")
        try:
            quantity = int(qty)
        except ValueError:
            raise invalid("skuid_quantities", f"{pair!r} is not sku:quantity") from None
        if kind == "1" and quantity < 0:
            raise invalid("skuid_quantities", f"{pair!r}: quantity must be >= 0 when type is 1 (set)")
        sku = _find_sku(call, item, None if by_outer else key, key if by_outer else None)
        updates.append((sku, quantity))
    for sku, quantity in updates:  # all or nothing
        _check_change(call, sku, quantity, kind)
    for sku, quantity in updates:
        _apply(call, item, sku, quantity, kind)
    return _item_answer(call, item)


def time_get(call: Call) -> dict:
    return {"time": top_time(call.sandbox.clock())}


METHODS = {
    "taobao.time.get": time_get,
    "taobao.trades.sold.increment.get": trades_sold_increment_get,
    "taobao.refunds.receive.get": refunds_receive_get,
    "alipay.bill.lines.get": bill_lines_get,
    "taobao.items.onsale.get": items_onsale_get,
    "taobao.item.quantity.update": item_quantity_update,
    "taobao.skus.quantity.update": skus_quantity_update,
}
NO_SESSION = {"taobao.time.get"}
"""Calls that need no seller session and may carry any timestamp (clients use it to learn the gateway's time)."""


# ---------------------------------------------------------------------------------------------------------- #
# the gateway


def verify_signature(params: dict[str, str], secret: str) -> bool:
    """The sandbox's own check of a TOP signature (independent of the connector's signer)."""
    import hmac as _hmac

    method = params.get("sign_method", "md5") or "md5"
    s = "".join(
        f"{k}{params[k]}" for k in sorted(params, key=lambda k: k.encode()) if k != "sign" and params[k] != ""
    )
    key, data = secret.encode(), s.encode()
    if method == "md5":
        expected = hashlib.md5(key + data + key).hexdigest()
    elif method == "hmac":
        expected = _hmac.new(key, data, hashlib.md5).hexdigest()
    elif method == "hmac-sha256":
        expected = _hmac.new(key, data, hashlib.sha256).hexdigest()
    else:
        return False
    return _hmac.compare_digest(expected.upper(), (params.get("sign") or "").upper())


def check_request(sandbox: TaobaoSandbox, params: dict[str, str]) -> str:
    """System parameters, signature, timestamp and session, in the gateway's order; returns the method."""
    method = params.get("method")
    if not method:
        raise TopError(21, "Missing Method")
    if not params.get("app_key"):
        raise TopError(28, "Missing App Key")
    if params["app_key"] != sandbox.app_key:
        raise TopError(29, "Invalid App Key")
    if params.get("v", "2.0") != "2.0":
        raise TopError(34, "Unsupported Version")
    if params.get("format", "json") != "json":
        raise TopError(23, "Invalid Format", sub_msg="this sandbox answers format=json only")
    if not params.get("sign"):
        raise TopError(24, "Missing Signature")
    if params.get("sign_method", "md5") not in SIGN_METHODS:
        raise TopError(25, "Invalid Signature", "isv.invalid-signature", "unsupported sign_method")
    if not verify_signature(params, sandbox.app_secret):
        raise TopError(
            25, "Invalid Signature", "isv.invalid-signature", "the sign does not match the parameters"
        )
    if not params.get("timestamp"):
        raise TopError(30, "Missing Timestamp")
    try:
        stamp = datetime.strptime(params["timestamp"], TIME_FORMAT).replace(tzinfo=GMT8)
    except ValueError:
        raise TopError(
            31, "Invalid Timestamp", sub_msg="timestamp must be yyyy-MM-dd HH:mm:ss (GMT+8)"
        ) from None
    if method not in METHODS:
        raise TopError(22, "Invalid Method")
    if method in NO_SESSION:
        return method
    if abs(stamp - sandbox.clock()) > MAX_CLOCK_SKEW:
        raise TopError(
            31, "Invalid Timestamp", sub_msg="timestamp is more than 10 minutes off the server time"
        )
    if not params.get("session"):
        raise TopError(26, "Missing Session")
    if params["session"] != sandbox.access_token or sandbox.token_expired:
        raise TopError(
            27, "Invalid session", "invalid-sessionkey", "SessionKey非法 (session expired or invalid)"
        )
    return method


async def _gateway(sandbox: TaobaoSandbox, request: Request) -> Response:
    params = dict(request.query_params)
    body = (await request.body()).decode("utf-8", errors="replace")
    for key, value in parse_qsl(body, keep_blank_values=True):
        params[key] = value
    entry: dict[str, Any] = {
        "method": params.get("method"),
        "params": {k: v for k, v in params.items() if k not in ("session", "sign")},
        "sign_method": params.get("sign_method", "md5"),
    }
    fault = None
    try:
        method = check_request(sandbox, params)
        if method not in NO_SESSION:
            fault = sandbox.faults.draw()
        entry["fault"] = fault
        if fault == "throttle":
            seconds = sandbox.faults.config.throttle_seconds
            raise TopError(7, "App Call Limited", "accesscontrol.limited-by-app-access-count",
                           f"This ban will last for {seconds} more seconds")  # fmt: skip
        if fault == "server_error":
            kind = sandbox.faults.counts.get("server_error", 0) % 3
            if kind == 0:
                raise TopError(15, "Remote service error", "isp.remote-service-timeout", "连接远程服务超时")
            status = 502 if kind == 1 else 503
            entry.update(status=status, code=None)
            sandbox.log.append(entry)
            return Response("Bad Gateway" if status == 502 else "Service Unavailable", status_code=status)
        if fault == "timeout":
            await asyncio.sleep(sandbox.faults.config.timeout_seconds)
        result = METHODS[method](Call(sandbox, params, overlap=fault == "overlap"))
        result["request_id"] = uuid.uuid4().hex[:13]
        payload = {response_key(method): result}
        entry.update(status=200, code=None)
    except TopError as error:
        payload = error.body()
        entry.update(status=200, code=error.code, sub_code=error.sub_code)
    sandbox.log.append(entry)
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if fault == "truncated":
        raw = Faults.truncate(raw)
    return Response(raw, media_type="application/json;charset=UTF-8")


def create_app(
    world: World,
    *,
    shop_id: str = "tmall_flagship",
    app_key: str = "12345678",
    app_secret: str = "sandbox_taobao_secret",
    access_token: str = "6100sandboxsession",
    now: datetime | None = None,
    faults: Faults | None = None,
    history_days: int = 90,
) -> Starlette:
    """A Starlette app serving `world`'s slice for `shop_id` as the TOP gateway. `now` pins the clock (default:
    the wall clock); `app.state.sandbox` holds the live state."""
    sandbox = TaobaoSandbox(world, shop_id, app_key, app_secret, access_token, now, faults, history_days)

    async def gateway(request: Request) -> Response:
        return await _gateway(sandbox, request)

    async def set_clock(request: Request) -> JSONResponse:
        body = json.loads(await request.body() or b"{}")
        sandbox.now = utc_moment(pd.Timestamp(body["now"])) if body.get("now") else None
        return JSONResponse({"now": sandbox.clock().isoformat()})

    async def get_clock(request: Request) -> JSONResponse:
        return JSONResponse({"now": sandbox.clock().isoformat()})

    async def requests(request: Request) -> JSONResponse:
        return JSONResponse({"requests": sandbox.log})

    async def reset_log(request: Request) -> JSONResponse:
        sandbox.log.clear()
        return JSONResponse({"requests": []})

    async def get_faults(request: Request) -> JSONResponse:
        config = sandbox.faults.config
        return JSONResponse(
            {"rate": config.rate, "kinds": list(config.kinds), "counts": sandbox.faults.counts}
        )

    async def set_faults(request: Request) -> JSONResponse:
        body = json.loads(await request.body() or b"{}")
        old = sandbox.faults.config
        config = FaultConfig(
            rate=float(body.get("rate", old.rate)),
            kinds=tuple(body.get("kinds") or old.kinds),
            seed=int(body.get("seed", old.seed)),
            timeout_seconds=float(body.get("timeout_seconds", old.timeout_seconds)),
            throttle_seconds=int(body.get("throttle_seconds", old.throttle_seconds)),
        )
        sandbox.faults = Faults(config)
        return await get_faults(request)

    async def expire_token(request: Request) -> JSONResponse:
        sandbox.token_expired = True
        return JSONResponse({"expired": True})

    async def stock(request: Request) -> JSONResponse:
        return JSONResponse({"stock": {str(k): v for k, v in sandbox.stock.items()}})

    routes = [
        Route("/router/rest", gateway, methods=["POST"]),
        Route("/_sandbox/clock", set_clock, methods=["POST"]),
        Route("/_sandbox/clock", get_clock, methods=["GET"]),
        Route("/_sandbox/requests", requests, methods=["GET"]),
        Route("/_sandbox/reset_log", reset_log, methods=["POST"]),
        Route("/_sandbox/faults", get_faults, methods=["GET"]),
        Route("/_sandbox/faults", set_faults, methods=["POST"]),
        Route("/_sandbox/expire_token", expire_token, methods=["POST"]),
        Route("/_sandbox/stock", stock, methods=["GET"]),
        *buyer_routes(sandbox),
    ]
    app = Starlette(routes=routes)
    app.state.sandbox = sandbox
    return app
