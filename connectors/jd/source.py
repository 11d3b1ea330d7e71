"""dlt source for one JD POP shop: orders (with their item lines), refunds (after-sales), settlement bill lines
and listings (listed stock per JD skuId), into `raw_jd`.

Incremental reading, window by window: each resource keeps its own cursor in dlt resource state (`next_start`),
reads its windows oldest-first (JD: at most 30 days per window; pages from 1, at most 100 per page) and moves the
cursor only past windows read completely. A run can be capped at `max_windows` windows per resource (state is
committed when a load completes), so `load_shop` runs the source until every resource has caught up: a load that
is killed resumes from the last committed window, and re-reading a window duplicates nothing (merge keys).

The first load starts at max(start_date, now - history_days + 1 day): JD keeps only ~3 months online; older
history comes from exported files (connectors/files). Records land as JD returned them except: `shop_id` is
added, buyer data (pin, consignee name/phone/address) is hashed, money strings become DECIMAL(18,2). JD times
("yyyy-MM-dd HH:mm:ss", GMT+8) land as text; staging turns them into UTC.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import dlt
from dlt.common.pipeline import LoadInfo
from dlt.sources import DltResource

from connectors.common.loading import MONEY
from connectors.common.pii import hash_pii, require_salt
from connectors.common.progress import counted_windows
from connectors.jd.client import JdClient, JdResponseError

log = logging.getLogger(__name__)

GMT8 = ZoneInfo("Asia/Shanghai")
JD_TIME = "%Y-%m-%d %H:%M:%S"
MAX_WINDOW_DAYS = 30
MAX_PAGE_SIZE = 100
ORDER_SEARCH = "jingdong.pop.order.search"
REFUND_LIST = "jingdong.pop.afs.soa.refundapply.queryPageList"
BILL_DETAIL = "jingdong.pop.bill.queryBillDetail"
SKU_LIST = "jingdong.sku.read.searchSkuList"
ORDER_STATES = (
    "WAIT_PAY,WAIT_SELLER_STOCK_OUT,WAIT_GOODS_RECEIVE_CONFIRM,FINISHED_L,TRADE_CANCELED,LOCKED,PAUSE"
)

ORDER_MONEY = ("orderTotalPrice", "sellerDiscount", "orderSellerPrice", "freightPrice", "orderPayment")
ORDER_PII = (
    "pin", "open_id_buyer", "xid_buyer", "consigneeInfo", "invoiceInfo", "invoiceEasyInfo.invoiceTitle",
    "invoiceEasyInfo.invoiceConsigneeEmail", "invoiceEasyInfo.invoiceConsigneePhone", "vatInfo.userName",
    "vatInfo.userPhone", "vatInfo.userAddress", "vatInfo.addressRegIstered", "vatInfo.phoneRegIstered",
    "vatInfo.bankAccount",
)  # fmt: skip
"""Where JOS's order documents buyer data: the buyer's pin (and its encrypted forms), the consignee (fullname,
telephone, mobile, fullAddress and their `desen`/encrypted variants; province/city/county/town stay readable)
and the invoice's title and contacts."""
REFUND_PII = ("buyerId", "buyerName", "customerPin", "customerName", "customerMobilePhone", "customerTel")
"""An after-sale's buyer; connectors.common.pii.hash_pii also hashes any other field whose name says it is
personal, in orders, refunds and bill lines."""
ORDER_TIMES = (
    "order_start_time",
    "modified",
    "payment_confirm_time",
    "outbound_time",
    "order_end_time",
    "cancel_time",
)


def _columns(money: tuple[str, ...] = (), text: tuple[str, ...] = ()) -> dict[str, dict]:
    columns = {name: {"name": name, **MONEY} for name in money}
    columns.update({name: {"name": name, "data_type": "text", "nullable": True} for name in text})
    return columns


ORDER_COLUMNS = _columns(
    ("order_total_price", "seller_discount", "order_seller_price", "freight_price", "order_payment"),
    (
        *ORDER_TIMES,
        "order_remark",
        "vender_remark",
        "pin",
        "consignee_info__fullname",
        "consignee_info__mobile",
        "consignee_info__full_address",
    ),
)
ORDER_COLUMNS["consignee_info__has_address_detail"] = {
    "name": "consignee_info__has_address_detail",
    "data_type": "bool",
    "nullable": True,
}
ITEM_COLUMNS = _columns(("jd_price",), ("outer_sku_id", "item_total"))
REFUND_COLUMNS = _columns(("apply_refund_sum",), ("apply_time", "sku_id", "reason", "status"))
BILL_COLUMNS = _columns(("amount",), ("settle_date", "fee_type"))
LISTING_COLUMNS = _columns(("jd_price",), ("outer_id",))


def to_decimal(value: Any, where: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise JdResponseError(f"{where}: money value {value!r} is not a decimal number") from None


def has_street_address(consignee: dict) -> bool:
    """Whether JD's fullAddress (province + city + county + street, in the clear until hashed) has a street
    part: the order review queue flags orders without one, and after hashing it can no longer be told."""
    rest = str(consignee.get("fullAddress") or "").strip()
    for part in ("province", "city", "county"):
        prefix = str(consignee.get(part) or "").strip()
        if prefix and rest.startswith(prefix):
            rest = rest[len(prefix) :].strip()
    return bool(rest)


def prepare_order(order: dict, shop_id: str, salt: str) -> dict:
    where = f"JD shop {shop_id} order {order.get('orderId')}"
    order["shop_id"] = shop_id
    order["orderId"] = str(order.get("orderId"))
    order["pin"] = order.get("pin")  # the column exists even when JD leaves the buyer out
    consignee = order.get("consigneeInfo")
    if isinstance(consignee, dict):
        consignee["hasAddressDetail"] = has_street_address(consignee)
    hash_pii(order, salt, ORDER_PII)
    for name in ORDER_MONEY:
        if name in order:
            order[name] = to_decimal(order[name], f"{where}.{name}")
    for item in order.get("itemInfoList") or []:
        item["jdPrice"] = to_decimal(item.get("jdPrice"), f"{where} item {item.get('skuId')}.jdPrice")
    return order


def prepare_refund(row: dict, shop_id: str, salt: str) -> dict:
    """shop_id, hashed buyer data, ids as text, Decimal applyRefundSum."""
    row["shop_id"] = shop_id
    hash_pii(row, salt, REFUND_PII)
    row["id"], row["orderId"] = str(row.get("id")), str(row.get("orderId"))
    row["applyRefundSum"] = to_decimal(row.get("applyRefundSum"), f"JD shop {shop_id} refund {row['id']}")
    return row


def jd_time(moment: datetime) -> str:
    return moment.astimezone(GMT8).strftime(JD_TIME)


def start_moment(start_date: str | date | datetime) -> datetime:
    """'2024-01-01' -> midnight GMT+8 of that day, as an aware datetime."""
    if isinstance(start_date, datetime):
        return start_date if start_date.tzinfo else start_date.replace(tzinfo=GMT8)
    day = start_date if isinstance(start_date, date) else date.fromisoformat(str(start_date))
    return datetime(day.year, day.month, day.day, tzinfo=GMT8)


def first_start(shop_id: str, start_date: str, now: datetime, history_days: int) -> datetime:
    """max(start_date, now - history_days + 1 day), with a log line when the online history is shorter."""
    online = now - timedelta(days=history_days - 1)
    wanted = start_moment(start_date)
    if wanted < online:
        log.info(
            "JD shop %s: JD keeps %d days online, so the API load starts at %s, not %s; load older history "
            "from JD's order exports with the file importer.",
            shop_id, history_days, jd_time(online), jd_time(wanted),
        )  # fmt: skip
        return online
    return wanted


def windows(start: datetime, now: datetime, size: timedelta) -> Iterator[tuple[datetime, datetime]]:
    """[start, end] windows of at most `size`, oldest first, the last ending at `now`."""
    while start < now:
        end = min(start + size, now)
        yield start, end
        start = end


def read_pages(
    fetch: Callable[[int], tuple[list[dict], int]], page_size: int, key: Callable[[dict], Any] | None
) -> list[dict]:
    """Every record of one window: pages from 1 until `total` is covered. A page that carries more records than
    its share of `total` repeats records of the previous page (data moved while paging): the extras at its head
    are dropped, and with `key` duplicates within the window are dropped too."""
    records: list[dict] = []
    page, total = 1, None
    while True:
        rows, total = fetch(page)
        expected = max(0, min(page_size, total - (page - 1) * page_size))
        records.extend(rows[len(rows) - expected :] if len(rows) > expected else rows)
        if page >= math.ceil(total / page_size) or not rows:
            break
        page += 1
    if key is None:
        return records
    seen: dict[Any, dict] = {}
    for record in records:
        seen[key(record)] = record
    return list(seen.values())


@dlt.source(name="jd")
def jd_source(
    shop_id: str,
    base_url: str,
    app_key: str,
    app_secret: str,
    access_token: str,
    pii_salt: str | None = None,
    start_date: str = "2024-01-01",
    token_env: str = "JD_POP_TOKEN",
    history_days: int = 90,
    overlap_minutes: int = 10,
    page_size: int = 100,
    window_days: int = MAX_WINDOW_DAYS,
    max_windows: int | None = None,
    now: datetime | None = None,
    timeout: float = 10.0,
    pii_salt_env: str = "SHOPKEEP_PII_SALT",
) -> list[DltResource]:
    """Orders, refunds, settlements and listings of one JD shop (see the module docstring)."""
    salt = require_salt(pii_salt, pii_salt_env)
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    window = timedelta(days=max(1, min(window_days, MAX_WINDOW_DAYS)))
    overlap = timedelta(minutes=overlap_minutes)

    def clock() -> datetime:
        return (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)

    def client() -> JdClient:
        return JdClient(
            shop_id, base_url, app_key, app_secret, access_token, token_env=token_env, timeout=timeout
        )

    def windowed(
        name: str, read: Callable[[JdClient, datetime, datetime], list[dict]], step: timedelta
    ) -> Iterator[list[dict]]:
        state = dlt.current.resource_state(name)
        moment = clock()
        oldest = first_start(shop_id, start_date, moment, history_days)
        start = (
            max(datetime.fromisoformat(state["next_start"]), oldest) if state.get("next_start") else oldest
        )
        state["caught_up"] = False
        with client() as jd:
            for n, (begin, end) in enumerate(counted_windows(name, windows(start, moment, step))):
                if max_windows is not None and n >= max_windows:
                    return
                rows = read(jd, begin, end)
                if rows:
                    yield rows
                # the cursor passes a window only once it was read completely; the newest stays open by `overlap`
                state["next_start"] = (end if end < moment else max(begin, end - overlap)).isoformat()
        state["caught_up"] = True

    def read_orders(jd: JdClient, begin: datetime, end: datetime) -> list[dict]:
        def fetch(page: int) -> tuple[list[dict], int]:
            params = {
                "start_date": jd_time(begin), "end_date": jd_time(end), "dateType": "0", "order_state": ORDER_STATES,
                "page": str(page), "page_size": str(page_size), "sortType": "0",
            }  # fmt: skip
            result = _result(jd.call(ORDER_SEARCH, params), "searchorderinfo_result", shop_id, ORDER_SEARCH)
            api = result.get("apiResult") or {}
            if api.get("success") is False:
                raise JdResponseError(
                    f"JD shop {shop_id}: {ORDER_SEARCH} failed: {api.get('englishErrCode') or api.get('chineseErrCode')}"
                )
            return list(result.get("orderInfoList") or []), int(result.get("orderTotal") or 0)

        rows = read_pages(fetch, page_size, key=lambda r: str(r.get("orderId")))
        return [prepare_order(r, shop_id, salt) for r in rows]

    def read_refunds(jd: JdClient, begin: datetime, end: datetime) -> list[dict]:
        def fetch(page: int) -> tuple[list[dict], int]:
            params = {
                "applyTimeStart": jd_time(begin), "applyTimeEnd": jd_time(end),
                "pageIndex": str(page), "pageSize": str(page_size),
            }  # fmt: skip
            result = _result(jd.call(REFUND_LIST, params), "queryResult", shop_id, REFUND_LIST)
            return list(result.get("result") or []), int(result.get("totalCount") or 0)

        rows = read_pages(fetch, page_size, key=lambda r: str(r.get("id")))
        return [prepare_refund(row, shop_id, salt) for row in rows]

    def read_bills(jd: JdClient, begin: datetime, end: datetime) -> list[dict]:
        first_day, last_day = begin.astimezone(GMT8).date(), end.astimezone(GMT8).date()

        def fetch(page: int) -> tuple[list[dict], int]:
            params = {
                "startDate": first_day.isoformat(), "endDate": last_day.isoformat(),
                "pageNo": str(page), "pageSize": str(page_size),
            }  # fmt: skip
            result = _result(jd.call(BILL_DETAIL, params), "billResult", shop_id, BILL_DETAIL)
            return list(result.get("billList") or []), int(result.get("totalCount") or 0)

        # no key: a duplicated bill line is real data; positions (overlap trimmed) tell repeats apart
        rows = read_pages(fetch, page_size, key=None)
        occurrences: dict[str, int] = {}
        for row in rows:
            line = str(row.get("billLineId"))
            occurrences[line] = occurrences.get(line, 0) + 1
            row.update(shop_id=shop_id, billLineId=line, occurrence=occurrences[line])
            hash_pii(row, salt)
            row["amount"] = to_decimal(row.get("amount"), f"JD shop {shop_id} bill line {line}")
        return rows

    @dlt.resource(
        name="orders",
        write_disposition="merge",
        primary_key=("shop_id", "order_id"),
        columns=ORDER_COLUMNS,
        nested_hints={"itemInfoList": {"columns": ITEM_COLUMNS}},
    )
    def orders() -> Iterator[list[dict]]:
        yield from windowed("orders", read_orders, window)

    @dlt.resource(
        name="refunds", write_disposition="merge", primary_key=("shop_id", "id"), columns=REFUND_COLUMNS
    )
    def refunds() -> Iterator[list[dict]]:
        yield from windowed("refunds", read_refunds, window)

    @dlt.resource(
        name="settlements",
        write_disposition="merge",
        primary_key=("shop_id", "bill_line_id", "occurrence"),
        columns=BILL_COLUMNS,
    )
    def settlements() -> Iterator[list[dict]]:
        # bill dates are whole local days: windows of days, the newest day re-read on the next run
        yield from windowed("settlements", read_bills, window - timedelta(days=1))

    @dlt.resource(
        name="listings", write_disposition="merge", primary_key=("shop_id", "sku_id"), columns=LISTING_COLUMNS
    )
    def listings() -> Iterator[list[dict]]:
        with client() as jd:

            def fetch(page: int) -> tuple[list[dict], int]:
                params = {"page": str(page), "pageSize": str(page_size)}
                result = _result(jd.call(SKU_LIST, params), "page", shop_id, SKU_LIST)
                return list(result.get("data") or []), int(result.get("totalItem") or 0)

            rows = read_pages(fetch, page_size, key=lambda r: str(r.get("skuId")))
        for row in rows:
            row.update(shop_id=shop_id, skuId=str(row.get("skuId")), wareId=str(row.get("wareId")))
            row["jdPrice"] = to_decimal(row.get("jdPrice"), f"JD shop {shop_id} sku {row['skuId']}")
        if rows:
            yield rows

    return [orders, refunds, settlements, listings]


def _result(answer: dict, key: str, shop_id: str, method: str) -> dict:
    result = answer.get(key)
    if not isinstance(result, dict):
        raise JdResponseError(f"JD shop {shop_id}: {method} answered without {key!r}.")
    if result.get("success") is False:
        raise JdResponseError(f"JD shop {shop_id}: {method} reported failure: {result}")
    return result


def caught_up(pipeline: dlt.Pipeline) -> bool:
    """Whether every windowed resource of the JD source read up to the clock in the last completed load."""
    resources = pipeline.state.get("sources", {}).get("jd", {}).get("resources", {})
    return all(resources.get(name, {}).get("caught_up") for name in ("orders", "refunds", "settlements"))


def load_shop(pipeline: dlt.Pipeline, max_runs: int = 1000, **source_kwargs: Any) -> list[LoadInfo]:
    """Run one JD shop's source through `pipeline` (built with warehouse_pipeline(..., "raw_jd")) until every
    resource has caught up (with `max_windows` set, each run commits a few windows)."""
    infos = []
    for _ in range(max_runs):
        info = pipeline.run(jd_source(**source_kwargs))
        info.raise_on_failed_jobs()
        infos.append(info)
        if caught_up(pipeline):
            break
    return infos
