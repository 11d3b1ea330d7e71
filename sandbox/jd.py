"""A local JD open-platform (JOS) server over the `jd` shop of the simulated world.

Protocol (see /work/shared/spec/channels.md, JD): one gateway `POST /routerjson`, form-encoded; system parameters
`method, app_key, access_token, timestamp (yyyy-MM-dd HH:mm:ss, GMT+8), v=2.0, format=json, sign_method=md5, sign`
and every business parameter inside ONE JSON string `360buy_param_json`. The signature is
`upper(hex(md5(secret + concat(sorted name+value, sign excluded, empty values skipped) + secret)))`.
Success: `{"<method with dots -> underscores>_responce": {"code": "0", <result key>: {...}}}` (JD's spelling).

Errors use JD's envelope `{"error_response": {"code": "<n>", "zh_desc": "...", "en_desc": "..."}}` with JD's
documented gateway codes: 2 App Call Limited (the throttle; "retry after N seconds" in en_desc) · 8 invalid
timestamp · 12 invalid signature · 15 invalid method · 19 invalid access_token · 21 invalid app_key · 24 cannot
use this API; and, the sandbox's own choice for business parameters: 100 bad business parameter · 101 window
wider than 30 days · 102 page size over 100 · 103 window older than the online history.

Methods (results are shown as they stood at the sandbox clock; times GMT+8 strings, money yuan strings):
- `jingdong.pop.order.search` {start_date, end_date, dateType (0 = modification time, 1 = creation), page (from
  1), page_size (<= 100), order_state?} -> `searchorderinfo_result {apiResult, orderTotal, orderInfoList}` sorted
  by (time, orderId) ascending. Order states: WAIT_PAY (sandbox name for unpaid), WAIT_SELLER_STOCK_OUT,
  WAIT_GOODS_RECEIVE_CONFIRM, FINISHED_L, TRADE_CANCELED (unpaid and cancelled, or closed after a full refund).
  Besides JD's fields an order carries the optional time fields `outboundTime` (shipped), `orderEndTime`
  (completed), `cancelTime` (cancelled before payment).
- `jingdong.pop.afs.soa.refundapply.queryPageList` {applyTimeStart, applyTimeEnd, pageIndex (from 1),
  pageSize (<= 100)} -> `queryResult {success, totalCount, result: [{id, orderId, skuId, applyTime,
  applyRefundSum, num, status (0 pending review, 1 approved, 2 rejected), reason, goodsReturned, restocked}]}`.
- `jingdong.pop.bill.queryBillDetail` {startDate, endDate (yyyy-MM-dd settlement dates), pageNo, pageSize}
  -> `billResult {success, totalCount, billList: [{billLineId, orderId, feeType, amount, settleDate}]}` sorted by
  (settleDate, billLineId); a duplicated bill line appears twice. Bills of a date show once the clock reaches it.
- `jingdong.sku.read.searchSkuList` {page, pageSize} -> `page {data: [{skuId, wareId, outerId, skuName, jdPrice,
  stockNum}], totalItem}`; `jingdong.stock.read.findSkuStock` {skuId} -> `skuStockResult {skuId, stockNum}`;
  `jingdong.stock.write.updateSkuStock` {skuId, stockNum} -> `{success: true}`.
The window is at most 30 days and must not start before clock - history_days.

Test endpoints: `/_sandbox/clock` (GET/POST {"now": iso}), `/_sandbox/requests` (GET; POST clears),
`/_sandbox/faults` (GET counts; POST {"rate","seed","kinds"}), `/_sandbox/expire_token` (POST),
`/_sandbox/stock` (GET listed quantities by skuId).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.buyers import buyer_routes
from sandbox.faults import FaultConfig, Faults
from sandbox.records import (
    Clocked,
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

GMT8 = ZoneInfo("Asia/Shanghai")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_PAGE_SIZE = 100
MAX_WINDOW = timedelta(days=30)

ERRORS: dict[str, tuple[str, str]] = {
    # JOS gateway codes as JD documents them
    "2": ("限制时间内调用失败次数", "App Call Limited, retry after {seconds} seconds"),
    "8": ("非法的时间戳参数", "Invalid Timestamp"),
    "12": ("无效签名", "Invalid Signature"),
    "15": ("不存在的方法名", "Invalid Method"),
    "19": ("无效access_token", "Invalid access_token"),
    "21": ("无效app_key", "Invalid app_key"),
    "24": ("无权调用API", "cannot use this API"),
    # business-parameter codes: the sandbox's own (real JOS answers per-API codes)
    "100": ("业务参数错误", "Invalid business parameter"),
    "101": ("查询时间范围不能超过30天", "Query window must not exceed 30 days"),
    "102": ("每页条数不能超过100", "page size must not exceed 100"),
    "103": ("只能查询最近{days}天的数据", "Only the last {days} days can be queried"),
}
REFUND_STATUS = {"processing": "0", "success": "1", "closed": "2"}
FEE_TYPE = {
    "income": "货款",
    "commission": "佣金",
    "service_fee": "技术服务费",
    "affiliate_commission": "京挑客佣金",
    "refund": "退款",
    "subsidy": "平台补贴",
}


class JdApiError(Exception):
    def __init__(self, code: str, **fmt: Any) -> None:
        super().__init__(code)
        zh, en = ERRORS[code]
        self.body = {
            "error_response": {"code": code, "zh_desc": zh.format(**fmt), "en_desc": en.format(**fmt)}
        }


def sign(params: dict[str, str], secret: str) -> str:
    """JD md5 signature (the sandbox's own copy; product code has connectors.jd.signing)."""
    text = "".join(f"{k}{v}" for k, v in sorted(params.items()) if k != "sign" and v not in (None, ""))
    return hashlib.md5(f"{secret}{text}{secret}".encode()).hexdigest().upper()


def jd_time(moment: datetime | None) -> str | None:
    return moment.astimezone(GMT8).strftime(TIME_FORMAT) if moment is not None else None


def parse_jd_time(value: Any, name: str) -> datetime:
    try:
        return datetime.strptime(str(value), TIME_FORMAT).replace(tzinfo=GMT8).astimezone(UTC)
    except ValueError:
        raise JdApiError("100") from None


@dataclass(kw_only=True)
class _Order(Timeline):
    """An order and when its successful refunds were made: a refund modifies the order."""

    refund_times: list[datetime]  # sorted

    def state(self, now: datetime) -> str:
        if self.at("cancelled_at", now):
            return "TRADE_CANCELED"
        if self.row["status"] == "refunded" and self.refund_times and self.refund_times[-1] <= now:
            return "TRADE_CANCELED"
        if self.at("completed_at", now):
            return "FINISHED_L"
        if self.at("shipped_at", now):
            return "WAIT_GOODS_RECEIVE_CONFIRM"
        if self.at("paid_at", now):
            return "WAIT_SELLER_STOCK_OUT"
        return "WAIT_PAY"


class JdSandbox(Clocked):
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
        self.shop_id, self.app_key, self.app_secret, self.access_token = (
            shop_id,
            app_key,
            app_secret,
            access_token,
        )
        self.now = utc_moment(now)
        self.faults = faults or Faults(FaultConfig())
        self.history_days = history_days
        self.token_expired = False
        self.log: list[dict] = []
        refunds = records(world, "refunds", shop_id)
        lines = lines_by_order(world, shop_id)
        refund_times: dict[str, list[datetime]] = {}
        for refund in refunds:
            if refund.get("status") == "success" and utc_moment(refund["created_at"]):
                refund_times.setdefault(str(refund["order_id"]), []).append(utc_moment(refund["created_at"]))
        self.orders: list[_Order] = []
        for row in records(world, "orders", shop_id):
            oid = str(row["order_id"])
            times = sorted(refund_times.get(oid, []))
            self.orders.append(_Order.of(row, lines.get(oid, []), changes=times, refund_times=times))
        self.refunds = sorted(
            (r for r in refunds if utc_moment(r["created_at"]) is not None),
            key=lambda r: (utc_moment(r["created_at"]), str(r["refund_id"])),
        )
        self.bills = sorted(
            records(world, "bill_lines", shop_id), key=lambda r: (r["settled_date"], str(r["bill_line_id"]))
        )
        self.listings = sorted(records(world, "listings", shop_id), key=lambda r: str(r["platform_sku_id"]))
        self.stock: dict[str, int] = self._initial_stock(world)
        self.bought_since_read: dict[str, int] = {}
        self.overwritten: dict[str, int] = {}
        """Units buyers took between a caller's stock read of a SKU and its absolute set, which the set listed
        again: the window JD's API (a level, no change or compare-and-set call) leaves open. Test-only."""

    def listed(self, sku_id: str) -> int | None:
        """Listed units of a platform SKU id (sandbox/buyers.py)."""
        return self.stock.get(sku_id)

    def set_listed(self, sku_id: str, quantity: int) -> None:
        """A buyer's order or cancellation (sandbox/buyers.py)."""
        taken = self.stock.get(sku_id, 0) - quantity
        self.bought_since_read[sku_id] = self.bought_since_read.get(sku_id, 0) + taken
        self.stock[sku_id] = quantity

    def _initial_stock(self, world: World) -> dict[str, int]:
        units = listed_stock(world)
        return {str(listing["platform_sku_id"]): units(str(listing["sku"])) for listing in self.listings}

    # -- validation ---------------------------------------------------------------------------------------- #

    def window(self, start: datetime, end: datetime) -> None:
        if end < start:
            raise JdApiError("100")
        if end - start > MAX_WINDOW:
            raise JdApiError("101")
        if start < self.clock() - timedelta(days=self.history_days):
            raise JdApiError("103", days=self.history_days)

    @staticmethod
    def paging(params: dict, page_name: str, size_name: str) -> tuple[int, int]:
        try:
            page, size = int(params.get(page_name, 1)), int(params.get(size_name, 20))
        except (TypeError, ValueError):
            raise JdApiError("100") from None
        if size > MAX_PAGE_SIZE:
            raise JdApiError("102")
        if page < 1 or size < 1:
            raise JdApiError("100")
        return page, size

    # -- rendering ----------------------------------------------------------------------------------------- #

    def render_order(self, order: _Order, now: datetime) -> dict:
        row = order.row
        refunded = order.state(now) == "TRADE_CANCELED" and order.at("paid_at", now) is not None
        total, seller = decimal_money(row["list_amount"]), decimal_money(row["merchant_discount"])
        return {
            "orderId": str(row["order_id"]),
            "venderId": "10086",
            "orderState": order.state(now),
            "orderStartTime": jd_time(order.created_at),
            "modified": jd_time(order.updated_at(now)),
            "paymentConfirmTime": jd_time(order.at("paid_at", now)),
            "outboundTime": jd_time(order.at("shipped_at", now)),
            "orderEndTime": jd_time(order.at("completed_at", now)),
            "cancelTime": None if refunded else jd_time(order.at("cancelled_at", now)),
            "orderTotalPrice": money(total),
            "sellerDiscount": money(seller),
            "orderSellerPrice": money(total - seller),
            "freightPrice": money(row["shipping_fee"]),
            "orderPayment": money(row["paid_amount"]),
            "pin": text(row.get("buyer_id")),
            "consigneeInfo": {
                "fullname": text(row.get("buyer_name")),
                "mobile": text(row.get("buyer_phone")),
                "fullAddress": text(row.get("province"))
                + text(row.get("city"))
                + text(row.get("district"))
                + text(row.get("address_detail")),
                "province": text(row.get("province")),
                "city": text(row.get("city")),
                "county": text(row.get("district")),
            },
            "orderRemark": text(row.get("buyer_remark")),
            "venderRemark": text(row.get("seller_remark")),
            "itemInfoList": [
                {
                    "skuId": str(line["platform_sku_id"]),
                    "outerSkuId": text(line.get("outer_id")),
                    "skuName": text(line.get("title")),
                    "itemTotal": str(int(line["quantity"])),
                    "jdPrice": money(line["unit_list_price"]),
                    "wareId": str(line["platform_product_id"]),
                }
                for line in order.lines
            ],
        }

    def render_refund(self, refund: dict) -> dict:
        line_id = str(refund.get("line_id") or "")
        line_sku = next(
            (
                str(line["platform_sku_id"])
                for order in self._order_index().get(str(refund["order_id"]), [])
                for line in order.lines
                if str(line["line_id"]) == line_id
            ),
            None,
        )
        return {
            "id": str(refund["refund_id"]),
            "orderId": str(refund["order_id"]),
            "skuId": line_sku,
            "applyTime": jd_time(utc_moment(refund["created_at"])),
            "applyRefundSum": money(refund["amount"]),
            "num": int(refund["quantity"]),
            "status": REFUND_STATUS.get(str(refund["status"]), "0"),
            "reason": text(refund.get("reason_text")),
            "goodsReturned": bool(refund.get("goods_returned")),
            "restocked": bool(refund.get("restocked")),
        }

    def _order_index(self) -> dict[str, list[_Order]]:
        if not hasattr(self, "_by_id"):
            self._by_id = {str(o.row["order_id"]): [o] for o in self.orders}
        return self._by_id

    # -- methods ------------------------------------------------------------------------------------------- #

    def order_search(self, params: dict, overlap: bool) -> dict:
        start = parse_jd_time(params.get("start_date"), "start_date")
        end = parse_jd_time(params.get("end_date"), "end_date")
        self.window(start, end)
        page, size = self.paging(params, "page", "page_size")
        now = self.clock()
        by_creation = str(params.get("dateType", "0")) == "1"
        states = {s.strip() for s in str(params.get("order_state") or "").split(",") if s.strip()}
        rows = []
        for order in self.orders:
            if order.created_at > now:
                continue
            moment = order.created_at if by_creation else order.updated_at(now)
            if start <= moment <= end and (not states or order.state(now) in states):
                rows.append(((moment, str(order.row["order_id"])), order))
        rows.sort(key=lambda r: r[0])
        chosen = _page([o for _, o in rows], page, size, overlap)
        return {
            "code": "0",
            "searchorderinfo_result": {
                "apiResult": {"success": True, "englishErrCode": "", "chineseErrCode": ""},
                "orderTotal": len(rows),
                "orderInfoList": [self.render_order(o, now) for o in chosen],
            },
        }

    def refund_list(self, params: dict, overlap: bool) -> dict:
        start = parse_jd_time(params.get("applyTimeStart"), "applyTimeStart")
        end = parse_jd_time(params.get("applyTimeEnd"), "applyTimeEnd")
        self.window(start, end)
        page, size = self.paging(params, "pageIndex", "pageSize")
        now = self.clock()
        rows = [r for r in self.refunds if start <= utc_moment(r["created_at"]) <= min(end, now)]
        chosen = _page(rows, page, size, overlap)
        return {
            "code": "0",
            "queryResult": {
                "success": True,
                "totalCount": len(rows),
                "result": [self.render_refund(r) for r in chosen],
            },
        }

    def bill_detail(self, params: dict, overlap: bool) -> dict:
        try:
            start = date.fromisoformat(str(params.get("startDate")))
            end = date.fromisoformat(str(params.get("endDate")))
        except ValueError:
            raise JdApiError("100") from None
        as_utc = datetime(start.year, start.month, start.day, tzinfo=GMT8).astimezone(UTC)
        self.window(as_utc, as_utc + (end - start))
        page, size = self.paging(params, "pageNo", "pageSize")
        today = self.clock().astimezone(GMT8).date()
        rows = [b for b in self.bills if start <= b["settled_date"] <= min(end, today)]
        chosen = _page(rows, page, size, overlap)
        return {
            "code": "0",
            "billResult": {
                "success": True,
                "totalCount": len(rows),
                "billList": [
                    {
                        "billLineId": str(b["bill_line_id"]),
                        "orderId": str(b["order_id"]),
                        "feeType": FEE_TYPE.get(str(b["type"]), str(b["type"])),
                        "amount": money(b["amount"]),
                        "settleDate": b["settled_date"].isoformat(),
                    }
                    for b in chosen
                ],
            },
        }

    def sku_list(self, params: dict, overlap: bool) -> dict:
        page, size = self.paging(params, "page", "pageSize")
        chosen = _page(self.listings, page, size, overlap)
        return {
            "code": "0",
            "page": {
                "totalItem": len(self.listings),
                "data": [
                    {
                        "skuId": str(item["platform_sku_id"]),
                        "wareId": str(item["platform_product_id"]),
                        "outerId": text(item.get("outer_id")),
                        "skuName": text(item.get("title")),
                        "jdPrice": money(item.get("price")),
                        "stockNum": self.stock.get(str(item["platform_sku_id"]), 0),
                    }
                    for item in chosen
                ],
            },
        }

    def find_stock(self, params: dict, overlap: bool) -> dict:
        sku = str(params.get("skuId", ""))
        if sku not in self.stock:
            raise JdApiError("100")
        self.bought_since_read[sku] = 0
        return {"code": "0", "skuStockResult": {"skuId": sku, "stockNum": self.stock[sku]}}

    def update_stock(self, params: dict, overlap: bool) -> dict:
        sku = str(params.get("skuId", ""))
        quantity = params.get("stockNum")
        if sku not in self.stock or isinstance(quantity, bool) or not str(quantity).isdigit():
            raise JdApiError("100")
        self.stock[sku] = int(quantity)
        self.overwritten[sku] = self.overwritten.get(sku, 0) + max(0, self.bought_since_read.pop(sku, 0))
        return {"code": "0", "success": True}


def _page(rows: list, page: int, size: int, overlap: bool) -> list:
    start = (page - 1) * size
    chosen = rows[start : start + size]
    if overlap and start > 0:
        chosen = rows[max(0, start - 3) : start] + chosen  # data moved while paging: a few repeat
    return chosen


METHODS = {
    "jingdong.pop.order.search": JdSandbox.order_search,
    "jingdong.pop.afs.soa.refundapply.queryPageList": JdSandbox.refund_list,
    "jingdong.pop.bill.queryBillDetail": JdSandbox.bill_detail,
    "jingdong.sku.read.searchSkuList": JdSandbox.sku_list,
    "jingdong.stock.read.findSkuStock": JdSandbox.find_stock,
    "jingdong.stock.write.updateSkuStock": JdSandbox.update_stock,
}
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def response_key(method: str) -> str:
    return method.replace(".", "_") + "_responce"


def create_app(
    world: World,
    *,
    shop_id: str = "jd_pop",
    app_key: str = "jd_sandbox_app",
    app_secret: str = "jd_sandbox_secret",
    access_token: str = "jd_sandbox_token",
    now: datetime | None = None,
    faults: Faults | None = None,
    history_days: int = 90,
) -> Starlette:
    """A Starlette app serving `world`'s `shop_id` slice as JD's JOS gateway; `app.state.sandbox` is the state."""
    sandbox = JdSandbox(world, shop_id, app_key, app_secret, access_token, now, faults, history_days)

    async def router(request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        method = form.get("method", "")
        entry: dict[str, Any] = {"method": method, "params": None, "status": 200, "error": None}
        sandbox.log.append(entry)
        try:
            params = _check(sandbox, form)
            entry["params"] = params
            fault = sandbox.faults.draw()
            entry["fault"] = fault
            if fault == "throttle":
                raise JdApiError("2", seconds=sandbox.faults.config.throttle_seconds)
            if fault == "server_error":
                entry["status"] = 503
                return Response("Service Temporarily Unavailable", status_code=503)
            if fault == "timeout":
                await asyncio.sleep(sandbox.faults.config.timeout_seconds)
            result = METHODS[method](sandbox, params, fault == "overlap")
            body = json.dumps({response_key(method): result}, ensure_ascii=False).encode()
            if fault == "truncated":
                body = Faults.truncate(body)
            return Response(body, media_type="application/json;charset=utf-8")
        except JdApiError as error:
            entry["error"] = error.body["error_response"]["code"]
            return JSONResponse(error.body)

    async def clock(request: Request) -> JSONResponse:
        if request.method == "POST":
            body = json.loads(await request.body() or b"{}")
            sandbox.now = utc_moment(body["now"]) if body.get("now") else None
        return JSONResponse({"now": sandbox.clock().isoformat()})

    async def requests(request: Request) -> JSONResponse:
        if request.method == "POST":
            sandbox.log.clear()
        return JSONResponse({"requests": sandbox.log})

    async def faults_endpoint(request: Request) -> JSONResponse:
        if request.method == "POST":
            body = json.loads(await request.body() or b"{}")
            current = sandbox.faults.config
            sandbox.faults.configure(
                FaultConfig(
                    rate=float(body.get("rate", 0.0)),
                    seed=int(body.get("seed", 0)),
                    kinds=tuple(body.get("kinds") or current.kinds),
                    timeout_seconds=float(body.get("timeout_seconds", current.timeout_seconds)),
                    throttle_seconds=int(body.get("throttle_seconds", current.throttle_seconds)),
                )
            )
        return JSONResponse({"rate": sandbox.faults.config.rate, "counts": dict(sandbox.faults.counts)})

    async def expire_token(request: Request) -> JSONResponse:
        sandbox.token_expired = True
        return JSONResponse({"expired": True})

    async def stock(request: Request) -> JSONResponse:
        return JSONResponse({"stock": sandbox.stock})

    app = Starlette(
        routes=[
            Route("/routerjson", router, methods=["POST"]),
            Route("/_sandbox/clock", clock, methods=["GET", "POST"]),
            Route("/_sandbox/requests", requests, methods=["GET", "POST"]),
            Route("/_sandbox/faults", faults_endpoint, methods=["GET", "POST"]),
            Route("/_sandbox/expire_token", expire_token, methods=["POST"]),
            Route("/_sandbox/stock", stock, methods=["GET"]),
            *buyer_routes(sandbox),
        ]
    )
    app.state.sandbox = sandbox
    return app


def _check(sandbox: JdSandbox, form: dict[str, str]) -> dict:
    """System parameters, signature, token and method; the decoded business parameters."""
    if form.get("app_key") != sandbox.app_key:
        raise JdApiError("21")
    if form.get("sign", "") != sign(form, sandbox.app_secret):
        raise JdApiError("12")
    if not _TIMESTAMP.match(form.get("timestamp", "")) or form.get("v") != "2.0":
        raise JdApiError("8")
    if sandbox.token_expired or form.get("access_token") != sandbox.access_token:
        raise JdApiError("19")
    if form.get("method") not in METHODS:
        raise JdApiError("15")
    try:
        params = json.loads(form.get("360buy_param_json") or "{}")
    except ValueError:
        raise JdApiError("100") from None
    if not isinstance(params, dict):
        raise JdApiError("100")
    return params
