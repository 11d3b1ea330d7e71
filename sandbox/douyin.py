"""A local Douyin (抖店) open-platform server over one shop's slice of the simulated world.

It speaks what a connector meets on the real gateway (see /work/shared/spec/channels.md, Douyin): the method is
the path (`order.searchList` -> `POST /order/searchList`), system parameters in the query (`method`, `app_key`,
`access_token`, `timestamp`, `v=2`, `sign_method`, `sign`), business parameters as the JSON body, the signature
over `param_json` (keys sorted recursively), amounts in fen, times as unix seconds, pages from 0, and the envelope
`{"code":10000,"msg":"success","sub_code":"","sub_msg":"","log_id":…,"data":{…}}`.

Error codes this sandbox answers with — 抖店's documented platform codes (平台基础错误码), where one code covers
several causes and the sub_code tells them apart (mirrored by connectors/douyin/client.py):

| code  | sub_code                          | when                                                            |
|-------|-----------------------------------|-----------------------------------------------------------------|
| 40001 | isv.app-id-missing                | app_key unknown ("认证失败，app_key不存在")                        |
| 40003 | isv.signature-invalid             | signature mismatch, bad v/sign_method                           |
| 40003 | isv.access-token-expired          | access_token expired (renew the token)                          |
| 40003 | isv.access-token-no-existed       | access_token unknown or wrong                                   |
| 40003 | isv.parameter-invalid:<name>      | bad parameter: size > 100, page < 0, window > 7 days, …         |
| 40003 | isv.time-out-of-range             | window starts before the last `history_days` days (sandbox's)   |
| 60000 | isv.traffic-limited               | throttled; the sandbox's sub_msg also says how many seconds     |

Endpoints: `order.searchList` (update_time window ≤ 7 days), `afterSale.List` (update_time window ≤ 7 days),
`order.getSettleBillDetailV3` (settle time window ≤ 7 days, "YYYY-MM-DD HH:MM:SS" Beijing time, cursor
`start_index`), `sku.list` (the shop's SKUs with listed stock; without product_id it lists every SKU) and
`sku.syncStock` (`idempotent_id`: a repeated id is ignored; `incremental`: add instead of set, refused when it
would leave less than 0).

Sandbox-only fields (where the real API spreads one settlement over columns, the sandbox sends one row per bill
line): settlement rows carry `request_no` (unique per row), `bill_id` (the bill line id — repeated when the
platform sent a line twice), `flow_type`, `settle_amount` (fen, signed). After-sales carry `stock_back` (the
returned goods went back to sellable stock).

The server has a clock (`now`, default the wall clock): an order is visible once created and shown as it stood at
the clock. Test endpoints: `/_sandbox/clock`, `/_sandbox/requests`, `/_sandbox/reset_log`, `/_sandbox/faults`,
`/_sandbox/expire_token`, `/_sandbox/stock`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from bisect import bisect_left
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

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
    fen,
    lines_by_order,
    listed_stock,
    records,
    text,
    utc_moment,
)
from sandbox.world import World

# The signer is a pure function shared with the connector only by spec; the sandbox keeps its own copy so that a
# connector bug cannot make both sides agree on a wrong signature.
SIGN_METHODS = ("md5", "hmac-sha256")
MAX_SIZE = 100
MAX_WINDOW_SECONDS = 7 * 86400
BEIJING = ZoneInfo("Asia/Shanghai")

SUCCESS = 10000
MISSING_PARAM = 40001
BAD_PARAM = 40003  # also a bad signature and an expired or unknown token: the sub_code says which
THROTTLED = 60000

STATUS_DESC = {1: "待支付", 2: "备货中", 3: "已发货", 4: "已关闭", 5: "已完成"}
AFTERSALE_STATUS = {"processing": 6, "success": 12, "closed": 28}
FLOW_TYPES = {
    "income": ("order_income", "订单收入"),
    "service_fee": ("platform_service_fee", "平台服务费"),
    "commission": ("commission", "佣金"),
    "affiliate_commission": ("affiliate_commission", "达人佣金"),
    "refund": ("refund", "售后退款"),
    "subsidy": ("platform_subsidy", "平台补贴"),
}


class ApiError(Exception):
    """A failure answered in Douyin's envelope (HTTP 200)."""

    def __init__(self, code: int, msg: str, sub_code: str, sub_msg: str) -> None:
        super().__init__(sub_msg)
        self.code, self.msg, self.sub_code, self.sub_msg = code, msg, sub_code, sub_msg


def bad_param(name: str, sub_msg: str) -> ApiError:
    return ApiError(BAD_PARAM, "非法的参数", f"isv.parameter-invalid:{name}", sub_msg)


# ---------------------------------------------------------------------------------------------------------- #
# conversions


def _unix(moment: datetime | None) -> int:
    return int(moment.timestamp()) if moment is not None else 0


def _cipher(value: Any) -> str:
    """Douyin sends receiver data encrypted; the sandbox renders an opaque, stable stand-in."""
    plain = text(value)
    return "#" + hashlib.sha256(plain.encode()).hexdigest()[:24] + "#" if plain else ""


def beijing_time(text: str, name: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING).astimezone(UTC)
    except (TypeError, ValueError):
        raise bad_param(name, f"{name} 格式应为 yyyy-MM-dd HH:mm:ss") from None


# ---------------------------------------------------------------------------------------------------------- #
# the shop's data


def _load_orders(world: World, shop_id: str) -> list[Timeline]:
    """The shop's orders; a refund is an after-sale of its own and does not update the order."""
    lines = lines_by_order(world, shop_id)
    return [
        Timeline.of(row, lines.get(str(row["order_id"]), [])) for row in records(world, "orders", shop_id)
    ]


def _settle_moment(bill: dict) -> datetime:
    """A bill line's settlement moment: its local settled date plus a stable time of day (08:00-20:00)."""
    day = pd.Timestamp(bill["settled_date"]).date()
    seconds = 8 * 3600 + int(hashlib.md5(str(bill["bill_line_id"]).encode()).hexdigest(), 16) % (12 * 3600)
    local = datetime(day.year, day.month, day.day, tzinfo=BEIJING) + timedelta(seconds=seconds)
    return local.astimezone(UTC)


class DouyinSandbox(Clocked):
    """State of one sandbox shop: data, clock, listed stock, faults, request log."""

    def __init__(self, world: World, shop_id: str, app_key: str, app_secret: str, access_token: str,
                 now: datetime | None, faults: Faults, history_days: int) -> None:  # fmt: skip
        self.shop_id = shop_id
        self.app_key = app_key
        self.app_secret = app_secret
        self.access_token = access_token
        self.token_expired = False
        self.now = utc_moment(now)
        self.faults = faults
        self.history_days = history_days
        self.orders = _load_orders(world, shop_id)
        self.index = OrderIndex(
            self.orders, lambda o, now: (_unix(o.updated_at(now)), str(o.row["order_id"]))
        )
        self.refunds = sorted(
            (r for r in records(world, "refunds", shop_id) if utc_moment(r["created_at"]) is not None),
            key=lambda r: (utc_moment(r["created_at"]), str(r["refund_id"])),
        )
        self.bills = self._load_bills(world)
        self.skus = self._load_skus(world)
        self.seen_idempotent_ids: set[str] = set()
        self.log: list[dict] = []

    # -- orders -------------------------------------------------------------------------------------------- #

    def visible_orders(self) -> tuple[list[tuple], list[Timeline]]:
        """Orders created by the clock, sorted by (update_time at the clock, order id)."""
        return self.index.at(self.clock())

    def render_order(self, order: Timeline, now: datetime) -> dict:
        row = order.row
        paid, shipped = order.at("paid_at", now), order.at("shipped_at", now)
        finished, cancelled = order.at("completed_at", now), order.at("cancelled_at", now)
        refunded = row.get("status") == "refunded" and order.at("updated_at", now) is not None
        if cancelled is not None or refunded:
            status = 4
        elif finished is not None:
            status = 5
        elif shipped is not None:
            status = 3
        elif paid is not None:
            status = 2
        else:
            status = 1
        merchant, platform = fen(row.get("merchant_discount")), fen(row.get("platform_discount"))
        return {
            "order_id": str(row["order_id"]),
            "shop_id": 0,
            "order_status": status,
            "order_status_desc": STATUS_DESC[status],
            "create_time": _unix(order.created_at),
            "update_time": _unix(order.updated_at(now)),
            "pay_time": _unix(paid),
            "ship_time": _unix(shipped),
            "finish_time": _unix(finished),
            "order_amount": fen(row.get("list_amount")),
            "pay_amount": fen(row.get("paid_amount")),
            "post_amount": fen(row.get("shipping_fee")),
            "promotion_amount": merchant + platform,
            "promotion_shop_amount": merchant,
            "promotion_platform_amount": platform,
            "doudian_open_id": text(row.get("buyer_id")),
            "encrypt_post_receiver": _cipher(row.get("buyer_name")),
            "encrypt_post_tel": _cipher(row.get("buyer_phone")),
            "post_addr": {
                "province": {"name": text(row.get("province"))},
                "city": {"name": text(row.get("city"))},
                "town": {"name": text(row.get("district"))},
                "encrypt_detail": _cipher(row.get("address_detail")),
            },
            "buyer_words": text(row.get("buyer_remark")),
            "seller_words": text(row.get("seller_remark")),
            "sku_order_list": [
                {
                    "order_id": str(line["line_id"]),
                    "parent_order_id": str(row["order_id"]),
                    "product_id": text(line.get("platform_product_id")),
                    "sku_id": text(line.get("platform_sku_id")),
                    "out_sku_id": text(line.get("outer_id")),
                    "code": text(line.get("outer_id")),
                    "product_name": text(line.get("title")),
                    "item_num": int(line["quantity"]),
                    "goods_price": fen(line.get("unit_list_price")),
                    "origin_amount": fen(line.get("unit_list_price")) * int(line["quantity"]),
                    "promotion_shop_amount": fen(line.get("merchant_discount")),
                    "promotion_platform_amount": fen(line.get("platform_discount")),
                    "pay_amount": fen(line.get("paid_amount")),
                }
                for line in order.lines
            ],
        }

    # -- after-sales --------------------------------------------------------------------------------------- #

    def render_aftersale(self, refund: dict) -> dict:
        applied = _unix(utc_moment(refund["created_at"]))
        returned = bool(refund.get("goods_returned"))
        return {
            "aftersale_info": {
                "aftersale_id": str(refund["refund_id"]),
                "aftersale_type": 0 if returned else 1,
                "aftersale_status": AFTERSALE_STATUS.get(str(refund.get("status")), 6),
                "apply_time": applied,
                "update_time": applied,
                "refund_amount": fen(refund.get("amount")),
                "aftersale_num": int(refund.get("quantity") or 0),
                "reason": text(refund.get("reason_text")),
                "stock_back": bool(refund.get("restocked")),
            },
            "order_info": {
                "shop_order_id": str(refund["order_id"]),
                "sku_order_id": text(refund.get("line_id")),
            },
        }

    # -- bills --------------------------------------------------------------------------------------------- #

    def _load_bills(self, world: World) -> list[tuple[datetime, dict]]:
        rows = records(world, "bill_lines", self.shop_id)
        seen: dict[str, int] = {}
        bills = []
        for bill in rows:
            bill_id = str(bill["bill_line_id"])
            seen[bill_id] = seen.get(bill_id, 0) + 1
            flow_type, desc = FLOW_TYPES.get(str(bill["type"]), (str(bill["type"]), str(bill["type"])))
            moment = _settle_moment(bill)
            bills.append(
                (
                    moment,
                    {
                        "request_no": f"{bill_id}-{seen[bill_id]}",
                        "bill_id": bill_id,
                        "shop_order_id": str(bill["order_id"]),
                        "settle_time": moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
                        "flow_type": flow_type,
                        "flow_type_desc": desc,
                        "settle_amount": fen(bill["amount"]),
                    },
                )
            )
        bills.sort(key=lambda b: (b[0], b[1]["request_no"]))
        return bills

    # -- listed stock -------------------------------------------------------------------------------------- #

    def listed(self, sku_id: str) -> int | None:
        """Listed units of a platform SKU id (sandbox/buyers.py)."""
        return self.skus[sku_id]["stock_num"] if sku_id in self.skus else None

    def set_listed(self, sku_id: str, quantity: int) -> None:
        self.skus[sku_id]["stock_num"] = quantity

    def _load_skus(self, world: World) -> dict[str, dict]:
        units = listed_stock(world)
        skus = {}
        for listing in records(world, "listings", self.shop_id):
            sku_id = str(listing["platform_sku_id"])
            skus[sku_id] = {
                "id": sku_id,
                "product_id": str(listing["platform_product_id"]),
                "out_sku_id": text(listing.get("outer_id")),
                "code": text(listing.get("outer_id")),
                "spec_detail_name1": text(listing.get("title")),
                "price": fen(listing.get("price")),
                "stock_num": units(str(listing["sku"])),
            }
        return dict(sorted(skus.items()))


# ---------------------------------------------------------------------------------------------------------- #
# request handling


def _int(params: dict, name: str, default: int | None = None) -> int:
    value = params.get(name, default)
    if value is None:
        raise bad_param(name, f"缺少必选参数 {name}")
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise bad_param(name, f"{name} 应为整数")
    try:
        return int(value)
    except ValueError:
        raise bad_param(name, f"{name} 应为整数") from None


def _page_size(params: dict, page_name: str = "page") -> tuple[int, int]:
    page, size = _int(params, page_name, 0), _int(params, "size", 10)
    if page < 0:
        raise bad_param(page_name, f"{page_name} 从 0 开始")
    if size < 1 or size > MAX_SIZE:
        raise bad_param("size", f"size 取值范围 1-{MAX_SIZE}")
    return page, size


def _window(sandbox: DouyinSandbox, start: datetime, end: datetime, name: str) -> None:
    if end < start:
        raise bad_param(name, "结束时间不能早于开始时间")
    if (end - start).total_seconds() > MAX_WINDOW_SECONDS:
        raise bad_param(name, "查询时间跨度不能超过7天")
    oldest = sandbox.clock() - timedelta(days=sandbox.history_days)
    if start < oldest:
        raise ApiError(
            BAD_PARAM, "非法的参数", "isv.time-out-of-range", f"只能查询最近{sandbox.history_days}天的数据"
        )


def _unix_window(sandbox: DouyinSandbox, params: dict, start_name: str, end_name: str) -> tuple[int, int]:
    start, end = _int(params, start_name), _int(params, end_name)
    _window(sandbox, datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC), start_name)
    return start, end


def _with_overlap(items: list, start: int, size: int, fault: str | None) -> list:
    """One page of `items` from `start`; an `overlap` fault also repeats the last records of the previous page."""
    page = items[start : start + size]
    if fault == "overlap" and start > 0:
        page = items[max(0, start - 3) : start] + page
    return page


def search_orders(sandbox: DouyinSandbox, params: dict, fault: str | None) -> dict:
    start, end = _unix_window(sandbox, params, "update_time_start", "update_time_end")
    page, size = _page_size(params)
    if params.get("order_by", "update_time") not in ("update_time", "create_time"):
        raise bad_param("order_by", "order_by 仅支持 update_time, create_time")
    now = sandbox.clock()
    keys, orders = sandbox.visible_orders()
    selected = orders[bisect_left(keys, (start,)) : bisect_left(keys, (end + 1,))]  # start <= update <= end
    if params.get("order_by") == "create_time":
        selected = sorted(selected, key=lambda o: o.created_at)
    if params.get("order_asc") in (False, "false", 0, "0"):
        selected = selected[::-1]
    chunk = _with_overlap(selected, page * size, size, fault)
    return {
        "total": len(selected),
        "page": page,
        "size": size,
        "shop_order_list": [sandbox.render_order(o, now) for o in chunk],
    }


def list_aftersales(sandbox: DouyinSandbox, params: dict, fault: str | None) -> dict:
    start, end = _unix_window(sandbox, params, "update_start_time", "update_end_time")
    page, size = _page_size(params)
    now = sandbox.clock()
    selected = [
        r
        for r in sandbox.refunds
        if start <= _unix(utc_moment(r["created_at"])) <= end and utc_moment(r["created_at"]) <= now
    ]
    chunk = _with_overlap(selected, page * size, size, fault)
    return {
        "total": len(selected),
        "page": page,
        "size": size,
        "has_more": (page + 1) * size < len(selected),
        "items": [sandbox.render_aftersale(r) for r in chunk],
    }


def settle_bills(sandbox: DouyinSandbox, params: dict, fault: str | None) -> dict:
    start = beijing_time(str(params.get("start_time", "")), "start_time")
    end = beijing_time(str(params.get("end_time", "")), "end_time")
    _window(sandbox, start, end, "start_time")
    if str(params.get("time_type", "0")) != "0":
        raise bad_param("time_type", "time_type 仅支持 0（结算时间）")
    size = _int(params, "size", 10)
    if size < 1 or size > MAX_SIZE:
        raise bad_param("size", f"size 取值范围 1-{MAX_SIZE}")
    offset = _int(params, "start_index", 0) if str(params.get("start_index", "")).strip() else 0
    if offset < 0:
        raise bad_param("start_index", "start_index 无效")
    now = sandbox.clock()
    selected = [bill for moment, bill in sandbox.bills if start <= moment <= end and moment <= now]
    chunk = _with_overlap(selected, offset, size, fault)
    next_index = offset + size
    return {
        "data": chunk,
        "next_start_index": str(next_index) if next_index < len(selected) else "",
        "is_end": next_index >= len(selected),
        "size": size,
    }


def list_skus(sandbox: DouyinSandbox, params: dict, fault: str | None) -> dict:
    page, size = _page_size(params)
    skus = list(sandbox.skus.values())
    if params.get("product_id"):
        skus = [s for s in skus if s["product_id"] == str(params["product_id"])]
    chunk = _with_overlap(skus, page * size, size, fault)
    return {"total": len(skus), "page": page, "size": size, "sku_list": [dict(s) for s in chunk]}


def sync_stock(sandbox: DouyinSandbox, params: dict, fault: str | None) -> dict:
    idempotent_id = str(params.get("idempotent_id") or "")
    if not idempotent_id:
        raise bad_param("idempotent_id", "缺少必选参数 idempotent_id")
    stock_num = _int(params, "stock_num")
    if stock_num < 0 and not params.get("incremental"):
        raise bad_param("stock_num", "stock_num 不能小于 0")
    sku_id = str(params.get("sku_id") or "")
    if not sku_id and params.get("out_sku_id"):
        sku_id = next(
            (k for k, s in sandbox.skus.items() if s["out_sku_id"] == str(params["out_sku_id"])), ""
        )
    sku = sandbox.skus.get(sku_id)
    if sku is None or (params.get("product_id") and str(params["product_id"]) != sku["product_id"]):
        raise ApiError(BAD_PARAM, "非法的参数", "isv.parameter-invalid:sku_id", "商品规格不存在")
    if idempotent_id in sandbox.seen_idempotent_ids:
        return {}
    sandbox.seen_idempotent_ids.add(idempotent_id)
    if params.get("incremental") in (True, "true", 1, "1"):
        if sku["stock_num"] + stock_num < 0:  # the docs are silent; refused as Pinduoduo refuses its own add
            sandbox.seen_idempotent_ids.discard(idempotent_id)
            raise bad_param("stock_num", f"库存不足: {sku['stock_num']} + {stock_num} 小于 0")
        sku["stock_num"] = sku["stock_num"] + stock_num
    else:
        sku["stock_num"] = stock_num
    return {}


HANDLERS = {
    "order.searchList": search_orders,
    "afterSale.List": list_aftersales,
    "order.getSettleBillDetailV3": settle_bills,
    "sku.list": list_skus,
    "sku.syncStock": sync_stock,
}


def expected_sign(secret: str, query: dict, param_json_text: str) -> str:
    text = (
        f"{secret}app_key{query.get('app_key', '')}method{query.get('method', '')}param_json{param_json_text}"
        f"timestamp{query.get('timestamp', '')}v{query.get('v', '')}{secret}"
    ).encode()
    if query.get("sign_method", "md5") == "hmac-sha256":
        return hmac_sha256(secret, text)
    return hashlib.md5(text).hexdigest()


def hmac_sha256(secret: str, text: bytes) -> str:
    import hmac

    return hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()


def _sorted_deep(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted_deep(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted_deep(v) for v in value]
    return value


def _envelope(code: int, msg: str, sub_code: str = "", sub_msg: str = "", data: Any = None) -> dict:
    return {
        "code": code,
        "msg": msg,
        "sub_code": sub_code,
        "sub_msg": sub_msg,
        "log_id": uuid.uuid4().hex[:24],
        "data": data if data is not None else {},
    }


def _check_system_params(sandbox: DouyinSandbox, method: str, query: dict, body: bytes) -> dict:
    if query.get("method") != method:
        raise ApiError(BAD_PARAM, "非法的参数", "isv.parameter-invalid:method", "method 与请求路径不一致")
    try:
        params = json.loads(body or b"{}")
    except ValueError:
        raise bad_param("param_json", "param_json 不是合法的 JSON") from None
    if not isinstance(params, dict):
        raise bad_param("param_json", "param_json 应为 JSON 对象")
    if query.get("app_key") != sandbox.app_key:
        raise ApiError(
            MISSING_PARAM, "缺少必选参数（平台校验）", "isv.app-id-missing", "认证失败，app_key不存在"
        )
    if query.get("v") != "2" or query.get("sign_method", "md5") not in SIGN_METHODS:
        raise ApiError(
            BAD_PARAM,
            "非法的参数（平台校验）",
            "isv.signature-invalid",
            "v 应为 2，sign_method 应为 md5 或 hmac-sha256",
        )
    canonical = json.dumps(_sorted_deep(params), ensure_ascii=False, separators=(",", ":"))
    if query.get("sign") != expected_sign(sandbox.app_secret, query, canonical):
        raise ApiError(BAD_PARAM, "非法的参数（平台校验）", "isv.signature-invalid", "签名校验失败")
    if sandbox.token_expired:
        raise ApiError(BAD_PARAM, "非法的参数（平台校验）", "isv.access-token-expired", "access_token已过期")
    if query.get("access_token") != sandbox.access_token:
        raise ApiError(
            BAD_PARAM, "非法的参数（平台校验）", "isv.access-token-no-existed",
            "access_token不存在，请使用最新的access_token访问",
        )  # fmt: skip
    return params


def _api(sandbox: DouyinSandbox, method: str):
    handler = HANDLERS[method]

    async def endpoint(request: Request) -> Response:
        query = dict(request.query_params)
        body = await request.body()
        entry: dict[str, Any] = {"method": method, "query": {k: v for k, v in query.items() if k not in
                                                             ("sign", "access_token")}}  # fmt: skip
        fault = None
        try:
            params = _check_system_params(sandbox, method, query, body)
            entry["params"] = params
            fault = sandbox.faults.draw()
            entry["fault"] = fault
            if fault == "throttle":
                wait = sandbox.faults.config.throttle_seconds
                raise ApiError(
                    THROTTLED, "超过限流限制", "isv.traffic-limited", f"请求太频繁，请{wait}秒后重试"
                )
            if fault == "server_error":
                entry["code"], entry["status"] = None, 503
                sandbox.log.append(entry)
                return Response("<html><body>503 Service Temporarily Unavailable</body></html>", 503,
                                media_type="text/html")  # fmt: skip
            if fault == "timeout":
                await asyncio.sleep(sandbox.faults.config.timeout_seconds)
            envelope = _envelope(SUCCESS, "success", data=handler(sandbox, params, fault))
        except ApiError as error:
            envelope = _envelope(error.code, error.msg, error.sub_code, error.sub_msg)
        entry["code"], entry["status"] = envelope["code"], 200
        sandbox.log.append(entry)
        payload = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
        if fault == "truncated":
            payload = Faults.truncate(payload)
        return Response(payload, 200, media_type="application/json")

    return endpoint


def create_app(
    world: World,
    *,
    shop_id: str,
    app_key: str,
    app_secret: str,
    access_token: str,
    now: datetime | None = None,
    faults: Faults | None = None,
    history_days: int = 90,
) -> Starlette:
    """A Starlette app serving `world`'s slice for `shop_id` as the Douyin open platform.

    `now` fixes the sandbox clock (default: the wall clock); `app.state.sandbox` holds the live state."""
    sandbox = DouyinSandbox(
        world, shop_id, app_key, app_secret, access_token, now, faults or Faults(), history_days
    )

    async def set_clock(request: Request) -> JSONResponse:
        body = json.loads(await request.body() or b"{}")
        sandbox.now = utc_moment(body["now"]) if body.get("now") else None
        return JSONResponse({"now": sandbox.clock().isoformat()})

    async def get_clock(request: Request) -> JSONResponse:
        return JSONResponse({"now": sandbox.clock().isoformat()})

    async def requests(request: Request) -> JSONResponse:
        return JSONResponse({"requests": sandbox.log})

    async def reset_log(request: Request) -> JSONResponse:
        sandbox.log.clear()
        return JSONResponse({"requests": []})

    async def set_faults(request: Request) -> JSONResponse:
        body = json.loads(await request.body() or b"{}")
        current = sandbox.faults.config
        try:
            sandbox.faults.configure(
                FaultConfig(
                    rate=float(body.get("rate", current.rate)),
                    kinds=tuple(body.get("kinds") or current.kinds),
                    seed=int(body.get("seed", current.seed)),
                    timeout_seconds=float(body.get("timeout_seconds", current.timeout_seconds)),
                    throttle_seconds=int(body.get("throttle_seconds", current.throttle_seconds)),
                )
            )
        except ValueError as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        return await get_faults(request)

    async def get_faults(request: Request) -> JSONResponse:
        config = sandbox.faults.config
        return JSONResponse(
            {
                "rate": config.rate,
                "kinds": list(config.kinds),
                "seed": config.seed,
                "counts": sandbox.faults.counts,
            }
        )

    async def expire_token(request: Request) -> JSONResponse:
        sandbox.token_expired = True
        return JSONResponse({"expired": True})

    async def stock(request: Request) -> JSONResponse:
        return JSONResponse({"stock": {k: s["stock_num"] for k, s in sandbox.skus.items()}})

    routes = [
        Route(f"/{method.replace('.', '/')}", _api(sandbox, method), methods=["POST"]) for method in HANDLERS
    ]
    routes += [
        Route("/_sandbox/clock", set_clock, methods=["POST"]),
        Route("/_sandbox/clock", get_clock, methods=["GET"]),
        Route("/_sandbox/requests", requests, methods=["GET"]),
        Route("/_sandbox/reset_log", reset_log, methods=["POST"]),
        Route("/_sandbox/faults", set_faults, methods=["POST"]),
        Route("/_sandbox/faults", get_faults, methods=["GET"]),
        Route("/_sandbox/expire_token", expire_token, methods=["POST"]),
        Route("/_sandbox/stock", stock, methods=["GET"]),
        *buyer_routes(sandbox),
    ]
    app = Starlette(routes=routes)
    app.state.sandbox = sandbox
    return app
