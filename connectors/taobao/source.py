"""dlt source for one Tmall/Taobao shop: orders (trades with their lines), refunds, settlements (Alipay bill
lines) and listings (listed stock per SKU), loaded into `raw_taobao`.

Incremental by window: each windowed resource walks windows of at most one day, oldest first, from its cursor
(`done_until` in the resource's dlt state, minus `overlap_minutes`) up to the gateway's time, and moves the cursor
only past windows read completely. The first load starts at max(start_date, now − history_days + 1 day): TOP
keeps about three months online, older history comes from exported files. Merging on the platform's keys means
a rerun (or an overlap between windows or pages) never duplicates a row.

At the edge: every record gets `shop_id`, buyer personal data becomes keyed hashes, money strings become
DECIMAL(18,2), TOP's double-wrapped lists are unwrapped (trade.orders.order -> trade.orders).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import dlt
from dlt.common.pipeline import LoadInfo
from dlt.sources import DltResource

from connectors.common.loading import MONEY
from connectors.common.pii import hash_pii, require_salt
from connectors.common.progress import counted_windows
from connectors.taobao.client import TaobaoClient, TaobaoResponseError, onsale_skus, unwrap

log = logging.getLogger(__name__)

TRADE_FIELDS = (
    "tid,status,type,created,modified,pay_time,consign_time,end_time,payment,post_fee,total_fee,discount_fee,"
    "coupon_fee,buyer_nick,buyer_open_uid,receiver_name,receiver_mobile,receiver_state,receiver_city,"
    "receiver_district,receiver_address,buyer_message,seller_memo,orders"
)
REFUND_FIELDS = "refund_id,tid,oid,num_iid,sku,status,refund_fee,num,reason,desc,created,modified,has_good_return,good_status"

TRADE_MONEY = ("payment", "post_fee", "total_fee", "discount_fee", "coupon_fee")
LINE_MONEY = ("price", "total_fee", "discount_fee", "payment")
TRADE_PII = (
    "buyer_nick", "buyer_open_uid", "buyer_email", "buyer_alipay_no", "buyer_ip", "alipay_id", "oaid",
    "receiver_name", "receiver_mobile", "receiver_phone", "receiver_address", "receiver_zip",
    "orders.buyer_nick", "invoice_name",
)  # fmt: skip
"""Where TOP's Trade documents buyer data (the masked `*` values and the `oaid` of privacy-protected orders
alike); receiver_state/city/district/town/country stay readable for regional analysis."""
REFUND_PII = ("buyer_nick", "buyer_open_uid", "address", "receiver_name", "receiver_mobile", "receiver_phone")
"""A refund's buyer and its return address; connectors.common.pii.hash_pii also hashes any other field whose
name says it is personal, in trades, refunds and bill lines."""

TEXT = {"data_type": "text", "nullable": True}
TRADE_TIMES = ("created", "modified", "pay_time", "consign_time", "end_time")


def _columns(money: tuple[str, ...], text: tuple[str, ...] = ()) -> dict[str, dict]:
    columns = {name: {"name": name, **MONEY} for name in money}
    columns.update({name: {"name": name, **TEXT} for name in text})
    return columns


def to_decimal(value: Any, where: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise TaobaoResponseError(f"{where}: money value {value!r} is not a decimal number") from None


def _money(record: dict, names: tuple[str, ...], where: str) -> None:
    for name in names:
        if name in record:
            record[name] = to_decimal(record[name], f"{where}.{name}")


def prepare_trade(trade: dict, shop_id: str, salt: str) -> dict:
    """shop_id, hashed buyer data, Decimal money, lines unwrapped to `orders` (-> table orders__orders)."""
    where = f"Taobao shop {shop_id} trade {trade.get('tid')}"
    trade["shop_id"] = shop_id
    _money(trade, TRADE_MONEY, where)
    lines = unwrap(trade, "orders", "order") if isinstance(trade.get("orders"), dict) else []
    for line in lines:
        _money(line, LINE_MONEY, f"{where} oid {line.get('oid')}")
    trade["orders"] = lines
    return hash_pii(trade, salt, TRADE_PII)


def prepare_refund(refund: dict, shop_id: str, salt: str) -> dict:
    """shop_id, hashed buyer data and return address, Decimal refund_fee."""
    refund["shop_id"] = shop_id
    hash_pii(refund, salt, REFUND_PII)
    _money(refund, ("refund_fee",), f"Taobao shop {shop_id} refund {refund.get('refund_id')}")
    return refund


def prepare_bill_line(line: dict, shop_id: str, salt: str) -> dict:
    """shop_id, anything personal-looking hashed (a counterparty's account), Decimal amount."""
    line["shop_id"] = shop_id
    hash_pii(line, salt)
    _money(line, ("amount",), f"Taobao shop {shop_id} bill line {line.get('bill_no')}")
    return line


def start_moment(start_date: str | datetime) -> datetime:
    moment = start_date if isinstance(start_date, datetime) else datetime.fromisoformat(str(start_date))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def first_start(now: datetime, start_date: str | datetime, history_days: int) -> datetime:
    """Where a first load begins: start_date, but never before the oldest day the platform keeps online."""
    return max(start_moment(start_date), now - timedelta(days=history_days) + timedelta(days=1))


def windows(start: datetime, end: datetime, width: timedelta) -> Iterator[tuple[datetime, datetime]]:
    """[start, end) cut into consecutive windows of at most `width`, oldest first."""
    while start < end:
        stop = min(start + width, end)
        yield start, stop
        start = stop


@dlt.source(name="taobao")
def taobao_source(
    shop_id: str,
    base_url: str,
    app_key: str,
    app_secret: str,
    access_token: str,
    pii_salt: str | None = None,
    start_date: str = "2024-01-01",
    token_env: str = "TMALL_FLAGSHIP_SESSION",
    history_days: int = 90,
    overlap_minutes: int = 10,
    page_size: int = 100,
    window_hours: int = 24,
    sign_method: str = "md5",
    timeout_seconds: float = 10.0,
    windows_per_run: int | None = None,
    pii_salt_env: str = "SHOPKEEP_PII_SALT",
    now: datetime | None = None,
) -> list[DltResource]:
    """One Tmall/Taobao shop through the TOP gateway: resources orders, refunds, settlements, listings.

    `windows_per_run` bounds how many windows each windowed resource reads in one run (load_shop then runs
    again until caught up), so a long first load commits its progress week by week. `now` ends the last window
    earlier than the gateway's time (a history backfill of past days); default: the gateway's time."""
    salt = require_salt(pii_salt, pii_salt_env)
    width = timedelta(hours=min(window_hours, 24))

    def client() -> TaobaoClient:
        return TaobaoClient(
            shop_id, base_url, app_key, app_secret, access_token, token_env=token_env,
            sign_method=sign_method, timeout=timeout_seconds,
        )  # fmt: skip

    def windowed(name: str, read: Callable[[TaobaoClient, datetime, datetime], Iterator[list[dict]]]):
        def walk() -> Iterator[list[dict]]:
            state = dlt.current.resource_state()
            with client() as top:
                end = top.server_now() if now is None else min(top.server_now(), now)
                floor = first_start(end, start_date, history_days)
                done = state.get("done_until")
                if done is None:
                    start = floor
                    log.info(
                        "Taobao shop %s %s: first load from %s (the platform keeps %d days online; older history "
                        "comes from exported files)", shop_id, name, start.isoformat(), history_days,
                    )  # fmt: skip
                else:
                    start = datetime.fromisoformat(done) - timedelta(minutes=overlap_minutes)
                    if start < floor:
                        log.warning(
                            "Taobao shop %s %s: last loaded up to %s, older than the %d days online; the gap "
                            "before %s must come from exported files", shop_id, name, done, history_days,
                            floor.isoformat(),
                        )  # fmt: skip
                        start = floor
                state["caught_up"] = False
                for n, (a, b) in enumerate(counted_windows(name, windows(start, end, width))):
                    if windows_per_run is not None and n >= windows_per_run:
                        return
                    batch: dict[Any, dict] = {}
                    for page in read(top, a, b):
                        for record in page:
                            batch[record["_key"]] = record
                    if batch:
                        yield [{k: v for k, v in r.items() if k != "_key"} for r in batch.values()]
                    state["done_until"] = b.isoformat()
                state["caught_up"] = True

        return walk

    def read_trades(top: TaobaoClient, a: datetime, b: datetime) -> Iterator[list[dict]]:
        params = {"fields": TRADE_FIELDS, "start_modified": _t(a), "end_modified": _t(b)}
        for page in top.pages_backwards(
            "taobao.trades.sold.increment.get", params, "trades", "trade", page_size
        ):
            yield [dict(prepare_trade(t, shop_id, salt), _key=t["tid"]) for t in page]

    def read_refunds(top: TaobaoClient, a: datetime, b: datetime) -> Iterator[list[dict]]:
        params = {"fields": REFUND_FIELDS, "start_modified": _t(a), "end_modified": _t(b)}
        for page in top.pages("taobao.refunds.receive.get", params, "refunds", "refund", page_size):
            yield [dict(prepare_refund(r, shop_id, salt), _key=r["refund_id"]) for r in page]

    def read_bills(top: TaobaoClient, a: datetime, b: datetime) -> Iterator[list[dict]]:
        params = {"start_time": _t(a), "end_time": _t(b)}
        for page in top.pages("alipay.bill.lines.get", params, "bill_lines", "bill_line", page_size):
            yield [dict(prepare_bill_line(line, shop_id, salt), _key=line["account_log_id"]) for line in page]

    orders = dlt.resource(
        windowed("orders", read_trades),
        name="orders",
        write_disposition="merge",
        primary_key=("shop_id", "tid"),
        columns=_columns(TRADE_MONEY, TRADE_TIMES + ("buyer_message", "seller_memo")),
        nested_hints={("orders",): {"columns": _columns(LINE_MONEY, ("outer_sku_id",))}},
    )
    refunds = dlt.resource(
        windowed("refunds", read_refunds),
        name="refunds",
        write_disposition="merge",
        primary_key=("shop_id", "refund_id"),
        columns=_columns(("refund_fee",), ("created", "modified", "reason", "desc")),
    )
    settlements = dlt.resource(
        windowed("settlements", read_bills),
        name="settlements",
        write_disposition="merge",
        primary_key=("shop_id", "account_log_id"),
        columns=_columns(("amount",), ("settle_time", "bill_no", "account_log_id")),
    )

    @dlt.resource(
        name="listings",
        write_disposition="merge",
        primary_key=("shop_id", "sku_id"),
        columns=_columns(("price", "item_price"), ("outer_id",)),
    )
    def listings() -> Iterator[list[dict]]:
        seen: dict[Any, dict] = {}
        with client() as top:
            read_at = top.server_now().isoformat()
            for item, sku in onsale_skus(top, page_size):
                seen[sku["sku_id"]] = {
                    "shop_id": shop_id,
                    "num_iid": item["num_iid"],
                    "item_title": item.get("title"),
                    "item_price": to_decimal(item.get("price"), f"Taobao shop {shop_id} item"),
                    "approve_status": item.get("approve_status"),
                    "sku_id": sku["sku_id"],
                    "outer_id": sku.get("outer_id"),
                    "properties_name": sku.get("properties_name"),
                    "price": to_decimal(sku.get("price"), f"Taobao shop {shop_id} sku {sku['sku_id']}"),
                    "quantity": int(sku.get("quantity") or 0),
                    "read_at": read_at,
                }
        yield list(seen.values())

    return [orders, refunds, settlements, listings]


def _t(moment: datetime) -> str:
    from connectors.taobao.client import top_time

    return top_time(moment)


def caught_up(pipeline: dlt.Pipeline) -> bool:
    """Whether every windowed resource of the last run reached the gateway's time."""
    resources = pipeline.state.get("sources", {}).get("taobao", {}).get("resources", {})
    return all(resources.get(name, {}).get("caught_up") for name in ("orders", "refunds", "settlements"))


def load_shop(pipeline: dlt.Pipeline, max_runs: int = 1000, **source_kwargs: Any) -> list[LoadInfo]:
    """Run one shop's source through `pipeline` (warehouse_pipeline(..., "raw_taobao")); with
    `windows_per_run`, run again until every resource is caught up (each run commits its windows)."""
    infos = []
    for _ in range(max_runs):
        info = pipeline.run(taobao_source(**source_kwargs))
        info.raise_on_failed_jobs()
        infos.append(info)
        if source_kwargs.get("windows_per_run") is None or caught_up(pipeline):
            break
    return infos
