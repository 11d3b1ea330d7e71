"""dlt source for one Pinduoduo shop: orders (with item_list), refunds, settlements (bill lines), listings.

Records land as the API returned them (amounts in integer fen, times as GMT+8 strings) with three edge changes:
every record gets `shop_id`; buyer personal data (buyer_id, receiver name/phone/address) is replaced by keyed
hashes; duplicates inside one window (pages that overlap as data moves) are dropped before loading.

Incremental reading: each resource walks time windows oldest first — 30 minutes for orders and refunds (the
platform's limit), one day for bill lines — and keeps `end` a few minutes behind the clock (late updates).
Its cursor in the dlt resource state (`cursor`, unix seconds) only moves to the end of a window read completely,
so an interrupted load resumes at the first window it did not finish; the next run starts `overlap_minutes`
before the cursor and merge keys make the overlap harmless. The first load starts at
max(start_date, now − history_days + 1 day): the platform keeps ~3 months online, older history comes from
exported files (connectors/files).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import dlt
from dlt.common.pipeline import LoadInfo
from dlt.sources import DltResource

from connectors.common.pii import hash_pii, require_salt
from connectors.common.progress import counted_windows
from connectors.pinduoduo.client import PddClient, goods_skus

log = logging.getLogger(__name__)

ORDER_WINDOW = timedelta(minutes=30)
REFUND_WINDOW = timedelta(minutes=30)
BILL_WINDOW = timedelta(days=1)
MAX_PAGE_SIZE = 100
ORDER_PII = (
    "buyer_id", "receiver_name", "receiver_phone", "receiver_address", "address", "receiver_name_mask",
    "receiver_phone_mask", "receiver_address_mask", "address_mask", "open_address_id", "id_card_name",
    "id_card_num", "card_info_list.card_no", "card_info_list.mask_password",
)  # fmt: skip
"""Where POP's order documents buyer data (plain, and the `*_mask` variants of orders past shipping; a virtual
card's number and code); country/province/city/town stay readable. connectors.common.pii.hash_pii also hashes
any other field whose name says it is personal, in orders, refunds and bill lines."""

ORDERS = ("pdd.order.number.list.increment.get", "order_sn_increment_get_response", "order_sn_list")
REFUNDS = ("pdd.refund.list.increment.get", "refund_increment_get_response", "refund_list")
BILLS = ("pdd.bill.list.get", "bill_list_get_response", "bill_list")


def _columns(data_type: str, names: tuple[str, ...]) -> dict[str, dict]:
    return {n: {"name": n, "data_type": data_type, "nullable": True} for n in names}


ORDER_COLUMNS = {
    **_columns(
        "text",
        (
            "created_time",
            "confirm_time",
            "shipping_time",
            "receive_time",
            "cancel_time",
            "updated_at",
            "buyer_memo",
            "remark",
        ),
    ),
    **_columns("text", ("buyer_id", "receiver_name", "receiver_phone", "address", "town")),
    **_columns(
        "bigint",
        ("goods_amount", "discount_amount", "seller_discount", "platform_discount", "postage", "pay_amount"),
    ),
}
"""Declared so a column exists even when no order of a load has a value for it (amounts: integer fen)."""
REFUND_COLUMNS = {
    **_columns("bigint", ("goods_id", "sku_id", "refund_amount", "goods_number", "return_stock_status")),
    **_columns("text", ("outer_id", "after_sales_reason", "created_time", "updated_time")),
}
BILL_COLUMNS = {
    **_columns("bigint", ("amount",)),
    **_columns("text", ("order_sn", "bill_line_id", "bill_date", "bill_time")),
}
"""Times stay the GMT+8 strings the platform sent (dlt would otherwise read them as UTC); staging converts."""

Clock = Callable[[], datetime]


def _clock(now: datetime | Clock | None) -> Clock:
    if now is None:
        return lambda: datetime.now(UTC)
    if callable(now):
        return now
    return lambda: now


def _start_moment(start_date: str | datetime) -> datetime:
    moment = start_date if isinstance(start_date, datetime) else datetime.fromisoformat(str(start_date))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def plan_windows(
    cursor: int | None,
    now: datetime,
    width: timedelta,
    start_date: str | datetime,
    history_days: int,
    overlap_minutes: int,
    behind_minutes: int,
) -> list[tuple[int, int]]:
    """[(start, end)] unix-second windows, oldest first, none wider than `width`, ending `behind_minutes`
    before `now`, starting at the cursor minus the overlap (first load: the oldest day still online)."""
    floor = max(_start_moment(start_date), now - timedelta(days=history_days) + timedelta(days=1))
    lo = int(floor.timestamp())
    start = lo if cursor is None else max(lo, int(cursor) - overlap_minutes * 60)
    end = int((now - timedelta(minutes=behind_minutes)).timestamp())
    step = int(width.total_seconds())
    return [(s, min(s + step, end)) for s in range(start, end, step)]


def prepare_order(order: dict, shop_id: str, salt: str) -> dict:
    """shop_id added, buyer data hashed."""
    order["shop_id"] = shop_id
    return hash_pii(order, salt, ORDER_PII)


def prepare_record(record: dict, shop_id: str, salt: str) -> dict:
    """A refund or bill line: shop_id added, anything personal-looking hashed."""
    record["shop_id"] = shop_id
    return hash_pii(record, salt)


@dlt.source(name="pinduoduo")
def pinduoduo_source(
    shop_id: str,
    base_url: str,
    app_key: str,
    app_secret: str,
    access_token: str,
    pii_salt: str | None,
    start_date: str = "2024-01-01",
    token_env: str = "PDD_MAIN_TOKEN",
    history_days: int = 90,
    overlap_minutes: int = 10,
    page_size: int = 100,
    behind_minutes: int = 5,
    request_timeout: float = 10.0,
    now: datetime | Clock | None = None,
    max_windows: int | None = None,
    progress: dict[str, bool] | None = None,
    pii_salt_env: str = "SHOPKEEP_PII_SALT",
) -> list[DltResource]:
    """Orders, refunds, settlements and listings of one Pinduoduo shop (dataset raw_pinduoduo).

    `now` fixes the clock (tests); `max_windows` caps the windows each resource reads in this run (load_shop
    uses it to commit the first load in chunks); `progress[name]` is set True once a resource caught up."""
    salt = require_salt(pii_salt, pii_salt_env)
    size = max(1, min(int(page_size), MAX_PAGE_SIZE))
    clock = _clock(now)
    done = progress if progress is not None else {}

    def client() -> PddClient:
        return PddClient(
            shop_id, base_url, app_key, app_secret, access_token, token_env=token_env, timeout=request_timeout
        )

    def read_window(pdd: PddClient, api: tuple[str, str, str], params: dict, key: str) -> list[dict]:
        """Every record of one window (all pages), de-duplicated on `key` (overlapping pages)."""
        api_type, response_key, list_key = api
        seen: dict[Any, dict] = {}
        page = 1
        while True:
            body = pdd.call(
                api_type, {**params, "page": page, "page_size": size, "use_has_next": True}, response_key
            )
            records = body.get(list_key) or []
            for record in records:
                seen[record.get(key)] = record
            total = int(body.get("total_count") or 0)
            has_next = body.get("has_next")
            if not records or (has_next is False) or (has_next is None and page * size >= total):
                return list(seen.values())
            page += 1

    def windowed(
        name: str, width: timedelta, api: tuple[str, str, str], names: tuple[str, str], key: str
    ) -> Iterator[list[dict]]:
        state = dlt.current.resource_state(name)
        cursor = state.get("cursor")
        windows = plan_windows(
            cursor, clock(), width, start_date, history_days, overlap_minutes, behind_minutes
        )
        if cursor is None and windows:
            log.info(
                "Pinduoduo shop %s: first load of %s starts at %s (the platform keeps %d days online; older "
                "history comes from exported files)",
                shop_id, name, datetime.fromtimestamp(windows[0][0], UTC).isoformat(), history_days,
            )  # fmt: skip
        todo = windows if max_windows is None else windows[:max_windows]
        with client() as pdd:
            for start, end in counted_windows(name, todo, total=len(windows)):
                records = read_window(pdd, api, {names[0]: start, names[1]: end}, key)
                if records:
                    yield (
                        [prepare(record) for record in records]
                        if (prepare := _PREPARE.get(name))
                        else records
                    )
                state["cursor"] = end
        done[name] = len(todo) == len(windows)

    def _orders_prepare(record: dict) -> dict:
        return prepare_order(record, shop_id, salt)

    def _tag(record: dict) -> dict:
        return prepare_record(record, shop_id, salt)

    _PREPARE = {"orders": _orders_prepare, "refunds": _tag, "settlements": _tag}

    @dlt.resource(
        name="orders", write_disposition="merge", primary_key=("shop_id", "order_sn"), columns=ORDER_COLUMNS
    )
    def orders() -> Iterator[list[dict]]:
        yield from windowed(
            "orders", ORDER_WINDOW, ORDERS, ("start_updated_at", "end_updated_at"), "order_sn"
        )

    @dlt.resource(
        name="refunds", write_disposition="merge", primary_key=("shop_id", "id"), columns=REFUND_COLUMNS
    )
    def refunds() -> Iterator[list[dict]]:
        yield from windowed("refunds", REFUND_WINDOW, REFUNDS, ("start_updated_at", "end_updated_at"), "id")

    @dlt.resource(
        name="settlements", write_disposition="merge", primary_key=("shop_id", "id"), columns=BILL_COLUMNS
    )
    def settlements() -> Iterator[list[dict]]:
        yield from windowed("settlements", BILL_WINDOW, BILLS, ("start_time", "end_time"), "id")

    @dlt.resource(name="listings", write_disposition="merge", primary_key=("shop_id", "sku_id"))
    def listings() -> Iterator[list[dict]]:
        rows: dict[int, dict] = {}
        with client() as pdd:
            for item, sku in goods_skus(pdd, size):
                rows[sku["sku_id"]] = {
                    "shop_id": shop_id,
                    "goods_id": item.get("goods_id"),
                    "goods_name": item.get("goods_name"),
                    "is_onsale": item.get("is_onsale"),
                    **sku,
                }
        done["listings"] = True
        yield list(rows.values())

    return [orders, refunds, settlements, listings]


def load_shop(
    pipeline: dlt.Pipeline, chunk_windows: int | None = 480, **source_kwargs: Any
) -> list[LoadInfo]:
    """Load one shop through `pipeline` (built with warehouse_pipeline(..., "raw_pinduoduo")).

    With `chunk_windows`, each pipeline run reads at most that many windows per resource and commits (data and
    cursors) before the next: a first load of 90 days × 48 windows is saved chunk by chunk, so a killed load
    loses at most one chunk. Returns the LoadInfo of each run."""
    infos = []
    while True:
        progress: dict[str, bool] = {}
        source = pinduoduo_source(**source_kwargs, max_windows=chunk_windows, progress=progress)
        info = pipeline.run(source)
        info.raise_on_failed_jobs()
        infos.append(info)
        if chunk_windows is None or all(progress.get(n, False) for n in ("orders", "refunds", "settlements")):
            return infos
        source_kwargs = {k: v for k, v in source_kwargs.items() if k != "progress"}
