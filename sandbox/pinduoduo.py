"""A local Pinduoduo open platform (POP) server over one shop's slice of the simulated world.

Protocol (see /work/shared/spec/channels.md, Pinduoduo): `POST /api/router` with a form or JSON body carrying
`type` (the API name), `client_id`, `access_token`, `timestamp` (unix seconds), `data_type=JSON`, `version=V1`
and `sign = upper(md5(client_secret + sorted name+value pairs + client_secret))`. Every answer is HTTP 200 with
either `{"<api>_response": {..., "request_id"}}` or `{"error_response": {error_code, error_msg, sub_code,
sub_msg, request_id}}`. All amounts are integers in fen; times are GMT+8 strings `yyyy-MM-dd HH:mm:ss`.

Error codes this sandbox uses, POP's documented ones (the connector maps them):
- 20004 signature failed, 10016 unknown client_id — configuration problems, never retried;
- 10000 bad parameter (missing/odd parameter, page_size > 100, page < 1, unknown type);
- 10019 access_token invalid or expired — the seller must re-authorise;
- 50001 business error: a window wider than the API allows, a window older than the history kept online
  (`history_days`, about 3 months), a stock update that would go below zero, an unknown goods/sku;
- 70031 throttled ("调用过于频繁，请调整调用频率"); `sub_msg` says how many seconds to wait. The client retries
  after that wait.

APIs:
- `pdd.order.number.list.increment.get` -> `order_sn_increment_get_response`: orders whose `updated_at` (as of
  the clock) is in [start_updated_at, end_updated_at) (unix s, span ≤ 30 minutes), sorted (updated_at,
  order_sn), `page` from 1, `page_size` ≤ 100, `use_has_next`. `order_status`: 1 to ship, 2 shipped, 3 received
  — and, a sandbox extension so the warehouse can equal the world, 0 awaiting payment and 4 cancelled.
  `refund_status`: 1 none/closed, 2 in progress, 4 refunded (the world's refunded orders).
- `pdd.refund.list.increment.get` -> `refund_increment_get_response`: after-sales records whose `updated_time`
  is in [start_updated_at, end_updated_at) (span ≤ 30 minutes, like orders), page rules as orders.
  `after_sales_status` 10 success, 11 closed (buyer withdrew), 2 processing; `after_sales_type` 3 return +
  refund, 2 refund only; `return_stock_status` 1 when the returned goods went back to stock.
- `pdd.bill.list.get` -> `bill_list_get_response`: settlement bill lines whose `bill_time` (the local midnight
  of the settlement date) is in [start_time, end_time) (span ≤ 1 day). `id` is the ledger entry (unique);
  `bill_line_id` is the bill line (a duplicated line repeats it). `amount` signed fen; `finance_type` Chinese.
- `pdd.goods.list.get` -> `goods_list_get_response`: goods with `sku_list` and listed `sku_quantity`.
- `pdd.goods.quantity.update` -> `goods_quantity_update_response`: `goods_id`, `sku_id` or `outer_id`,
  `quantity`, `update_type` 1 set / 2 add (result must stay ≥ 0).

Test endpoints: `GET/POST /_sandbox/clock`, `GET /_sandbox/requests`, `POST /_sandbox/reset_log`,
`POST /_sandbox/expire_token`, `GET/POST /_sandbox/faults`, `GET /_sandbox/stock`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.buyers import buyer_routes
from sandbox.faults import KINDS, FaultConfig, Faults
from sandbox.records import (
    Clocked,
    OrderIndex,
    Timeline,
    fen,
    lines_by_order,
    records,
    stock_on_hand,
    text,
    utc_moment,
)
from sandbox.world import World

DEFAULT_CLIENT_ID = "pdd_sandbox_client_id"
DEFAULT_CLIENT_SECRET = "pdd_sandbox_client_secret"
DEFAULT_ACCESS_TOKEN = "pdd_sandbox_access_token_0123456789"

MAX_PAGE_SIZE = 100
ORDER_WINDOW_SECONDS = 30 * 60
REFUND_WINDOW_SECONDS = 30 * 60
BILL_WINDOW_SECONDS = 24 * 3600
THROTTLE_CODE = 70031
INVALID_TOKEN_CODE = 10019
GMT8 = ZoneInfo("Asia/Shanghai")
REQUIRED = ("type", "client_id", "access_token", "timestamp", "data_type", "sign")

FINANCE_TYPES = {
    "income": "交易收入",
    "commission": "技术服务费",
    "service_fee": "支付服务费",
    "affiliate_commission": "多多进宝佣金",
    "refund": "退款",
    "subsidy": "平台补贴",
}
AFTER_SALES_STATUS = {"success": 10, "closed": 11, "processing": 2}


def sign(params: dict[str, Any], client_secret: str) -> str:
    """POP signature: upper(md5(secret + name1value1name2value2… (sorted by name, `sign` left out) + secret))."""
    text = "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign" and params[k] is not None)
    return hashlib.md5(f"{client_secret}{text}{client_secret}".encode()).hexdigest().upper()


class PopError(Exception):
    """An answer in POP's `error_response` envelope."""

    def __init__(self, code: int, msg: str, sub_code: str = "", sub_msg: str = "") -> None:
        super().__init__(code)
        self.code, self.msg, self.sub_code, self.sub_msg = code, msg, sub_code, sub_msg


def bad_param(sub_msg: str) -> PopError:
    return PopError(10000, "参数错误", "isv.invalid-parameter", sub_msg)


def business(sub_msg: str) -> PopError:
    return PopError(50001, "业务服务错误", "isv.business-error", sub_msg)


# ---------------------------------------------------------------------------------------------------------- #
# conversions


def gmt8(moment: datetime | None) -> str | None:
    return moment.astimezone(GMT8).strftime("%Y-%m-%d %H:%M:%S") if moment is not None else None


# ---------------------------------------------------------------------------------------------------------- #
# the shop's data


ORDER_CHANGES = ("paid_at", "shipped_at", "completed_at", "cancelled_at")
"""An order's `updated_at` is its latest of these or of its refunds (not the world's own updated_at)."""


@dataclass(kw_only=True)
class _Order(Timeline):
    """An order and its refunds, any status: a refund updates the order."""

    refunds: list[dict]

    @property
    def sn(self) -> str:
        return str(self.row["order_id"])


def _load_orders(world: World, shop_id: str) -> list[_Order]:
    lines = lines_by_order(world, shop_id)
    refunds: dict[str, list[dict]] = {}
    for refund in records(world, "refunds", shop_id):
        if utc_moment(refund["created_at"]) is not None:
            refunds.setdefault(str(refund["order_id"]), []).append(refund)
    orders = []
    for row in records(world, "orders", shop_id):
        own_refunds = refunds.get(str(row["order_id"]), [])
        orders.append(
            _Order.of(
                row,
                lines.get(str(row["order_id"]), []),
                columns=ORDER_CHANGES,
                changes=[utc_moment(r["created_at"]) for r in own_refunds],
                refunds=own_refunds,
            )
        )
    return orders


class PddSandbox(Clocked):
    """State of one sandbox shop: data, clock, listed stock, token, faults, request log."""

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
        self.now = utc_moment(now)
        self.faults = faults or Faults(FaultConfig())
        self.history_days = history_days
        self.token_expired = False
        self.log: list[dict] = []
        self.orders = _load_orders(world, shop_id)
        self.index = OrderIndex(self.orders, lambda o, now: (int(o.updated_at(now).timestamp()), o.sn))
        self._rendered: dict[tuple[str, datetime], dict] = {}
        self.refunds = self._load_refunds(world)
        self.bills = self._load_bills(world)
        self.goods = self._load_goods(world)

    # -- loading ------------------------------------------------------------------------------------------ #

    def _load_refunds(self, world: World) -> list[tuple[int, str, dict]]:
        rows = []
        lines = {str(x["line_id"]): x for o in self.orders for x in o.lines}
        for r in records(world, "refunds", self.shop_id):
            created = utc_moment(r["created_at"])
            if created is None:
                continue
            line = lines.get(str(r["line_id"]), {})
            record = {
                "id": int(r["refund_id"]) if str(r["refund_id"]).isdigit() else str(r["refund_id"]),
                "order_sn": str(r["order_id"]),
                "goods_id": int(line["platform_product_id"]) if line else None,
                "sku_id": int(line["platform_sku_id"]) if line else None,
                "outer_id": text(line.get("outer_id")) if line else "",
                "goods_number": int(r["quantity"]),
                "refund_amount": fen(r["amount"]),
                "after_sales_type": 3 if bool(r["goods_returned"]) else 2,
                "after_sales_status": AFTER_SALES_STATUS.get(str(r["status"]), 2),
                "after_sales_reason": text(r["reason_text"]),
                "return_stock_status": 1 if bool(r["restocked"]) else 0,
                "created_time": gmt8(created),
                "updated_time": gmt8(created),
            }
            rows.append((int(created.timestamp()), str(r["refund_id"]), record))
        rows.sort(key=lambda x: (x[0], x[1]))
        return rows

    def _load_bills(self, world: World) -> list[tuple[int, str, dict]]:
        rows = []
        ordered = sorted(
            records(world, "bill_lines", self.shop_id),
            key=lambda r: (str(r["settled_date"]), str(r["bill_line_id"])),
        )
        for n, r in enumerate(ordered):
            settled = r["settled_date"]
            settled = settled if isinstance(settled, date) else pd.Timestamp(settled).date()
            moment = datetime.combine(settled, time(0), GMT8).astimezone(UTC)
            record = {
                "id": int(f"{settled:%Y%m%d}{n:07d}"),
                "bill_line_id": str(r["bill_line_id"]),
                "order_sn": text(r["order_id"]),
                "finance_type": FINANCE_TYPES.get(str(r["type"]), str(r["type"])),
                "amount": fen(r["amount"]),
                "bill_date": f"{settled:%Y-%m-%d}",
                "bill_time": gmt8(moment),
            }
            rows.append((int(moment.timestamp()), record["id"], record))
        rows.sort(key=lambda x: (x[0], x[1]))
        return rows

    def _sku(self, sku_id: str) -> dict | None:
        return next((s for g in self.goods.values() for s in g["sku_list"] if str(s["sku_id"]) == sku_id), None)

    def listed(self, sku_id: str) -> int | None:
        """Listed units of a platform SKU id (sandbox/buyers.py)."""
        sku = self._sku(sku_id)
        return None if sku is None else sku["sku_quantity"]

    def set_listed(self, sku_id: str, quantity: int) -> None:
        self._sku(sku_id)["sku_quantity"] = quantity

    def _load_goods(self, world: World) -> dict[int, dict]:
        on_hand = stock_on_hand(world)  # a kit (no stock of its own) is listed with none
        goods: dict[int, dict] = {}
        for row in sorted(
            records(world, "listings", self.shop_id),
            key=lambda r: (str(r["platform_product_id"]), str(r["platform_sku_id"])),
        ):
            goods_id = int(row["platform_product_id"])
            title = text(row["title"])
            item = goods.setdefault(
                goods_id, {"goods_id": goods_id, "goods_name": title, "is_onsale": 1, "sku_list": []}
            )
            item["sku_list"].append(
                {
                    "sku_id": int(row["platform_sku_id"]),
                    "outer_id": text(row["outer_id"]),
                    "spec": title.rsplit(" ", 1)[-1] if " " in title else "",
                    "sku_price": fen(row["price"]),
                    "sku_quantity": on_hand.get(str(row["sku"]), 0),
                    "is_sku_onsale": 1,
                }
            )
        return goods

    # -- orders -------------------------------------------------------------------------------------------- #

    def visible_orders(self) -> tuple[list[tuple], list[_Order]]:
        """Orders created by the clock, sorted by (updated_at as of the clock in unix seconds, order_sn)."""
        return self.index.at(self.clock())

    def render_order(self, order: _Order, now: datetime) -> dict:
        key = (order.sn, order.updated_at(now))
        if key not in self._rendered:
            self._rendered[key] = self._render_order(order, now)
        return self._rendered[key]

    def _render_order(self, order: _Order, now: datetime) -> dict:
        row = order.row
        paid, shipped = order.at("paid_at", now), order.at("shipped_at", now)
        completed, cancelled = order.at("completed_at", now), order.at("cancelled_at", now)
        if cancelled is not None:
            status = 4
        elif paid is None:
            status = 0
        elif completed is not None:
            status = 3
        elif shipped is not None:
            status = 2
        else:
            status = 1
        refunds = [r for r in order.refunds if utc_moment(r["created_at"]) <= now]
        if str(row["status"]) == "refunded" and all(
            utc_moment(r["created_at"]) <= now for r in order.refunds
        ):
            refund_status = 4
        elif any(str(r["status"]) == "processing" for r in refunds):
            refund_status = 2
        else:
            refund_status = 1
        merchant, platform = fen(row["merchant_discount"]), fen(row["platform_discount"])
        return {
            "order_sn": order.sn,
            "order_status": status,
            "refund_status": refund_status,
            "created_time": gmt8(order.created_at),
            "confirm_time": gmt8(paid),
            "shipping_time": gmt8(shipped),
            "receive_time": gmt8(completed),
            "cancel_time": gmt8(cancelled),
            "updated_at": gmt8(order.updated_at(now)),
            "goods_amount": fen(row["list_amount"]),
            "discount_amount": merchant + platform,
            "seller_discount": merchant,
            "platform_discount": platform,
            "postage": fen(row["shipping_fee"]),
            "pay_amount": fen(row["paid_amount"]),
            "buyer_id": text(row["buyer_id"]),
            "receiver_name": text(row["buyer_name"]),
            "receiver_phone": text(row["buyer_phone"]),
            "province": text(row["province"]),
            "city": text(row["city"]),
            "town": text(row["district"]),
            "address": text(row["address_detail"]),
            "buyer_memo": text(row["buyer_remark"]),
            "remark": text(row["seller_remark"]),
            "item_list": [
                {
                    "goods_id": int(x["platform_product_id"]),
                    "sku_id": int(x["platform_sku_id"]),
                    "outer_id": text(x["outer_id"]),
                    "goods_name": text(x["title"]),
                    "goods_price": fen(x["unit_list_price"]),
                    "goods_count": int(x["quantity"]),
                }
                for x in order.lines
            ],
        }


# ---------------------------------------------------------------------------------------------------------- #
# request handling


def _int(params: dict[str, Any], name: str, default: int | None = None) -> int:
    value = params.get(name)
    if value is None or value == "":
        if default is None:
            raise bad_param(f"{name} 不能为空 (missing parameter {name})")
        return default
    try:
        return int(str(value))
    except ValueError:
        raise bad_param(f"{name} 必须是整数 (parameter {name} must be an integer)") from None


def _page(params: dict[str, Any]) -> tuple[int, int]:
    page, size = _int(params, "page", 1), _int(params, "page_size", MAX_PAGE_SIZE)
    if size > MAX_PAGE_SIZE or size < 1:
        raise bad_param(f"page_size 必须在 1-{MAX_PAGE_SIZE} 之间 (page_size must be 1..{MAX_PAGE_SIZE})")
    if page < 1:
        raise bad_param("page 从 1 开始 (page starts at 1)")
    return page, size


def _window(
    sandbox: PddSandbox, params: dict[str, Any], start_name: str, end_name: str, limit: int
) -> tuple[int, int]:
    start, end = _int(params, start_name), _int(params, end_name)
    if end <= start:
        raise bad_param(f"{end_name} 必须大于 {start_name}")
    if end - start > limit:
        raise business(f"时间跨度不能超过{limit // 60}分钟 (window over {limit // 60} minutes)")
    oldest = sandbox.clock() - timedelta(days=sandbox.history_days)
    if start < int(oldest.timestamp()):
        raise business(
            f"只能查询最近{sandbox.history_days}天的数据 (start before the {sandbox.history_days} days kept online)"
        )
    return start, end


def _slice(
    keys: list, items: list, start: int, end: int, page: int, size: int, overlap: bool
) -> tuple[list, int]:
    lo, hi = bisect_left(keys, (start,)), bisect_left(keys, (end,))
    selected = items[lo:hi]
    first = (page - 1) * size
    chunk = selected[first : first + size]
    if overlap and first > 0:
        chunk = selected[max(0, first - 3) : first] + chunk
    return chunk, len(selected)


def _orders(sandbox: PddSandbox, params: dict[str, Any], overlap: bool) -> dict:
    start, end = _window(sandbox, params, "start_updated_at", "end_updated_at", ORDER_WINDOW_SECONDS)
    page, size = _page(params)
    keys, orders = sandbox.visible_orders()
    chunk, total = _slice(keys, orders, start, end, page, size, overlap)
    now = sandbox.clock()
    body: dict[str, Any] = {
        "total_count": total,
        "order_sn_list": [sandbox.render_order(o, now) for o in chunk],
    }
    if str(params.get("use_has_next", "")).lower() == "true":
        body["has_next"] = page * size < total
    return {"order_sn_increment_get_response": body}


def _refunds(sandbox: PddSandbox, params: dict[str, Any], overlap: bool) -> dict:
    start, end = _window(sandbox, params, "start_updated_at", "end_updated_at", REFUND_WINDOW_SECONDS)
    page, size = _page(params)
    cutoff = int(sandbox.clock().timestamp())
    rows = [r for r in sandbox.refunds if r[0] <= cutoff]
    chunk, total = _slice([r[:2] for r in rows], [r[2] for r in rows], start, end, page, size, overlap)
    return {"refund_increment_get_response": {"total_count": total, "refund_list": chunk}}


def _bills(sandbox: PddSandbox, params: dict[str, Any], overlap: bool) -> dict:
    start, end = _window(sandbox, params, "start_time", "end_time", BILL_WINDOW_SECONDS)
    page, size = _page(params)
    cutoff = int(sandbox.clock().timestamp())
    rows = [r for r in sandbox.bills if r[0] <= cutoff]
    chunk, total = _slice([r[:2] for r in rows], [r[2] for r in rows], start, end, page, size, overlap)
    return {"bill_list_get_response": {"total_count": total, "bill_list": chunk}}


def _goods(sandbox: PddSandbox, params: dict[str, Any], overlap: bool) -> dict:
    page, size = _page(params)
    goods = [sandbox.goods[k] for k in sorted(sandbox.goods)]
    first = (page - 1) * size
    chunk = goods[first : first + size]
    if overlap and first > 0:
        chunk = goods[max(0, first - 2) : first] + chunk
    return {
        "goods_list_get_response": {"total_count": len(goods), "goods_list": json.loads(json.dumps(chunk))}
    }


def _find_sku(sandbox: PddSandbox, params: dict[str, Any]) -> dict:
    goods = sandbox.goods.get(_int(params, "goods_id"))
    if goods is None:
        raise business(f"商品不存在 (goods_id {params.get('goods_id')} not found)")
    sku_id, outer_id = params.get("sku_id"), params.get("outer_id")
    if sku_id in (None, "") and outer_id in (None, ""):
        raise bad_param("sku_id 和 outer_id 不能同时为空 (give sku_id or outer_id)")
    for sku in goods["sku_list"]:
        if (sku_id not in (None, "") and str(sku["sku_id"]) == str(sku_id)) or (
            sku_id in (None, "") and sku["outer_id"] == str(outer_id)
        ):
            return sku
    raise business(f"SKU不存在 (sku {sku_id or outer_id} not in goods {goods['goods_id']})")


def _quantity_update(sandbox: PddSandbox, params: dict[str, Any], overlap: bool) -> dict:
    sku = _find_sku(sandbox, params)
    quantity, update_type = _int(params, "quantity"), _int(params, "update_type", 1)
    if update_type not in (1, 2):
        raise bad_param("update_type 只能是 1(全量) 或 2(增量)")
    result = quantity if update_type == 1 else sku["sku_quantity"] + quantity
    if result < 0:
        raise business(f"库存不能小于0 (stock would be {result})")
    sku["sku_quantity"] = result
    return {"goods_quantity_update_response": {"is_success": True}}


HANDLERS: dict[str, Callable[[PddSandbox, dict[str, Any], bool], dict]] = {
    "pdd.order.number.list.increment.get": _orders,
    "pdd.refund.list.increment.get": _refunds,
    "pdd.bill.list.get": _bills,
    "pdd.goods.list.get": _goods,
    "pdd.goods.quantity.update": _quantity_update,
}


async def _params(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            raise bad_param("请求体不是合法的JSON (body is not JSON)") from None
        if not isinstance(body, dict):
            raise bad_param("请求体必须是对象 (body must be an object)")
        return {
            k: v if isinstance(v, str) else json.dumps(v) if isinstance(v, dict | list) else v
            for k, v in body.items()
        }
    form = await request.form()
    return {k: str(v) for k, v in form.items()}


def _check(sandbox: PddSandbox, params: dict[str, Any]) -> None:
    missing = [name for name in REQUIRED if params.get(name) in (None, "")]
    if missing:
        raise bad_param(f"缺少参数 {', '.join(missing)} (missing {', '.join(missing)})")
    if str(params["client_id"]) != sandbox.app_key:
        raise PopError(10016, "client下线或者clientId不正确", "10016", "client_id 不存在 (unknown client_id)")
    if str(params["sign"]).upper() != sign(params, sandbox.app_secret):
        raise PopError(20004, "签名sign校验失败", "20004", "签名校验失败 (signature mismatch)")
    if str(params["access_token"]) != sandbox.access_token or sandbox.token_expired:
        raise PopError(
            INVALID_TOKEN_CODE,
            "access_token已过期",
            "isv.access-token-expired",
            "请重新授权 (re-authorise the shop)",
        )
    if params["type"] not in HANDLERS:
        raise bad_param(f"type {params['type']} 不存在 (unknown API)")


def create_app(
    world: World,
    *,
    shop_id: str = "pdd_main",
    app_key: str = DEFAULT_CLIENT_ID,
    app_secret: str = DEFAULT_CLIENT_SECRET,
    access_token: str = DEFAULT_ACCESS_TOKEN,
    now: datetime | None = None,
    faults: Faults | None = None,
    history_days: int = 90,
) -> Starlette:
    """A Starlette app serving `world`'s slice for `shop_id` as Pinduoduo's POP gateway."""
    sandbox = PddSandbox(world, shop_id, app_key, app_secret, access_token, now, faults, history_days)

    async def router(request: Request) -> Response:
        request_id = uuid.uuid4().hex
        params: dict[str, Any] = {}
        kind = None
        try:
            params = await _params(request)
            _check(sandbox, params)
            kind = sandbox.faults.draw()
            if kind == "throttle":
                wait = sandbox.faults.config.throttle_seconds
                raise PopError(
                    THROTTLE_CODE,
                    "调用过于频繁，请调整调用频率",
                    "70031",
                    f"接口调用超限，请{wait}秒后重试 (retry after {wait} seconds)",
                )
            if kind == "server_error":
                response: Response = Response(
                    "<html>502 Bad Gateway</html>", status_code=502, media_type="text/html"
                )
            else:
                if kind == "timeout":
                    await asyncio.sleep(sandbox.faults.config.timeout_seconds)
                body = HANDLERS[params["type"]](sandbox, params, kind == "overlap")
                next(iter(body.values()))["request_id"] = request_id
                raw = json.dumps(body, ensure_ascii=False).encode()
                if kind == "truncated":
                    raw = Faults.truncate(raw)
                response = Response(raw, media_type="application/json")
        except PopError as error:
            envelope = {
                "error_code": error.code,
                "error_msg": error.msg,
                "sub_code": error.sub_code,
                "sub_msg": error.sub_msg,
                "request_id": request_id,
            }
            response = JSONResponse({"error_response": envelope})
        query = {k: v for k, v in params.items() if k not in ("access_token", "sign")}
        sandbox.log.append(
            {"type": params.get("type"), "params": query, "status": response.status_code, "fault": kind}
        )
        return response

    async def clock(request: Request) -> JSONResponse:
        if request.method == "POST":
            body = json.loads(await request.body() or b"{}")
            value = body.get("now")
            sandbox.now = utc_moment(datetime.fromisoformat(value.replace("Z", "+00:00"))) if value else None
        return JSONResponse({"now": sandbox.clock().isoformat()})

    async def requests(request: Request) -> JSONResponse:
        return JSONResponse({"requests": sandbox.log})

    async def reset_log(request: Request) -> JSONResponse:
        sandbox.log.clear()
        return JSONResponse({"requests": []})

    async def expire_token(request: Request) -> JSONResponse:
        sandbox.token_expired = True
        return JSONResponse({"expired": True})

    async def faults_endpoint(request: Request) -> JSONResponse:
        if request.method == "POST":
            body = json.loads(await request.body() or b"{}")
            current = sandbox.faults.config
            sandbox.faults.configure(
                FaultConfig(
                    rate=float(body.get("rate", current.rate)),
                    kinds=tuple(body.get("kinds") or KINDS),
                    seed=int(body.get("seed", current.seed)),
                    timeout_seconds=float(body.get("timeout_seconds", current.timeout_seconds)),
                    throttle_seconds=int(body.get("throttle_seconds", current.throttle_seconds)),
                )
            )
        config = sandbox.faults.config
        return JSONResponse(
            {
                "rate": config.rate,
                "kinds": list(config.kinds),
                "seed": config.seed,
                "counts": dict(sandbox.faults.counts),
            }
        )

    async def stock(request: Request) -> JSONResponse:
        rows = [
            {
                "goods_id": g["goods_id"],
                "sku_id": s["sku_id"],
                "outer_id": s["outer_id"],
                "quantity": s["sku_quantity"],
            }
            for g in sandbox.goods.values()
            for s in g["sku_list"]
        ]
        return JSONResponse({"stock": rows})

    routes = [
        Route("/api/router", router, methods=["POST"]),
        Route("/_sandbox/clock", clock, methods=["GET", "POST"]),
        Route("/_sandbox/requests", requests, methods=["GET"]),
        Route("/_sandbox/reset_log", reset_log, methods=["POST"]),
        Route("/_sandbox/expire_token", expire_token, methods=["POST"]),
        Route("/_sandbox/faults", faults_endpoint, methods=["GET", "POST"]),
        Route("/_sandbox/stock", stock, methods=["GET"]),
        *buyer_routes(sandbox),
    ]
    app = Starlette(routes=routes)
    app.state.sandbox = sandbox
    return app
