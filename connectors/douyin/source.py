"""dlt source for one Douyin (抖店) shop: orders, refunds (after-sales), settlement bill lines, listed stock.

Records land as the API returned them (amounts in fen, times as unix seconds or Beijing-time strings; staging
converts), with three changes made here at the edge: each record gets `shop_id`, buyer data (the buyer's ids and
the receiver's name/phone/address in the clear, encrypted or masked: ORDER_PII) is replaced by keyed hashes, and an
after-sale's `aftersale_info` and `order_info` are lifted into one flat row.

Windows: the platform serves about `history_days` days and at most 7 days per query, so each time-based resource
walks fixed windows oldest-first from its cursor to `now`. The cursor (per shop, in the resource's dlt state)
advances only past windows read completely, and every record is merged on the platform's key with shop_id: a run
that dies loses nothing and a rerun duplicates nothing. `load_shop` commits every `windows_per_run` windows, so an
interrupted backfill resumes where it stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import dlt
from dlt.common.pipeline import LoadInfo
from dlt.sources import DltResource

from connectors.common.pii import hash_pii, require_salt
from connectors.common.progress import counted_windows
from connectors.douyin.client import DouyinClient, DouyinError, sku_pages

log = logging.getLogger(__name__)

BEIJING = ZoneInfo("Asia/Shanghai")
MAX_WINDOW_SECONDS = 7 * 86400
"""The platform's widest time window per query."""
MAX_PAGE_SIZE = 100
RESOURCES = ("orders", "refunds", "settlements", "listings")
WINDOWED = ("orders", "refunds", "settlements")

_RECEIVER = (
    "post_receiver", "post_tel", "encrypt_post_receiver", "encrypt_post_tel", "mask_post_receiver",
    "mask_post_tel", "post_addr.detail", "post_addr.encrypt_detail", "mask_post_addr.detail",
)  # fmt: skip
ORDER_PII = (
    "doudian_open_id", "open_id", "user_id", "user_nick_name", *_RECEIVER,
    *(f"sku_order_list.{path}" for path in _RECEIVER), "user_id_info",
)  # fmt: skip
"""Where the shop order documents buyer data: the buyer's ids, the receiver in the clear, encrypted and masked
(on the shop order and on each sku order), the real-name info of cross-border orders. post_addr's
province/city/town/street stay readable."""
AFTERSALE_PII = (
    "doudian_open_id", "open_id", "user_id", *_RECEIVER, "post_address", "return_address",
)  # fmt: skip
"""An after-sale's buyer and addresses; connectors.common.pii.hash_pii also hashes any other field whose name
says it is personal, in orders, after-sales and bill lines."""


def prepare_order(order: dict, shop_id: str, salt: str) -> dict:
    """shop_id added (the platform's numeric shop_id kept as platform_shop_id), buyer data hashed."""
    order["platform_shop_id"] = order.pop("shop_id", None)
    order["shop_id"] = shop_id
    return hash_pii(order, salt, ORDER_PII)


def prepare_aftersale(item: dict, shop_id: str, salt: str) -> dict:
    """One flat row: the after-sale's fields plus the order it belongs to, buyer data hashed."""
    row = dict(item.get("aftersale_info") or {})
    row.update(item.get("order_info") or {})
    row["shop_id"] = shop_id
    return hash_pii(row, salt, AFTERSALE_PII)


def prepare_settlement(row: dict, shop_id: str, salt: str) -> dict:
    """A bill line: shop_id added, anything personal-looking hashed."""
    return hash_pii(dict(row, shop_id=shop_id), salt)


def first_moment(start_date: str | date | datetime, now: datetime, history_days: int) -> datetime:
    """Where a first load starts: start_date, but never before the platform's online history (now − history_days
    + 1 day, the margin keeps the first window inside what the platform serves)."""
    if isinstance(start_date, datetime):
        start = start_date
    else:
        day = start_date if isinstance(start_date, date) else date.fromisoformat(str(start_date))
        start = datetime(day.year, day.month, day.day, tzinfo=BEIJING)
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    return max(start.astimezone(UTC), now - timedelta(days=history_days - 1))


def windows(start: int, end: int, width: int) -> list[tuple[int, int]]:
    """Inclusive second windows [a, b] covering start..end, each at most `width` seconds long."""
    result = []
    a = start
    while a <= end:
        b = min(a + width - 1, end)
        result.append((a, b))
        a = b + 1
    return result


def beijing(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


@dlt.source(name="douyin")
def douyin_source(
    shop_id: str,
    base_url: str,
    app_key: str,
    app_secret: str,
    access_token: str,
    pii_salt: str | None,
    start_date: str = "2024-01-01",
    token_env: str = "DOUYIN_LIVE_TOKEN",
    history_days: int = 90,
    overlap_minutes: int = 10,
    page_size: int = 100,
    window_hours: int = 24,
    windows_per_run: int | None = None,
    now: datetime | None = None,
    sign_method: str = "md5",
    request_timeout: float = 30.0,
    app_secret_env: str | None = None,
    pii_salt_env: str = "SHOPKEEP_PII_SALT",
) -> list[DltResource]:
    """Orders (with sku_order_list), refunds, settlements and listings of one Douyin shop, into `raw_douyin`.

    `now` is the end of the last window (default: the wall clock when the source is built); `windows_per_run`
    stops each windowed resource after that many windows (the rest is read by the next run)."""
    salt = require_salt(pii_salt, pii_salt_env)
    size = max(1, min(int(page_size), MAX_PAGE_SIZE))
    width = max(60, min(int(window_hours) * 3600, MAX_WINDOW_SECONDS))
    end_moment = (now or datetime.now(UTC)).astimezone(UTC)
    end = int(end_moment.timestamp())
    secret_env = app_secret_env or f"{token_env.removesuffix('_TOKEN')}_APP_SECRET"

    def client() -> DouyinClient:
        return DouyinClient(
            shop_id, base_url, app_key, app_secret, access_token, token_env=token_env,
            secret_env=secret_env, sign_method=sign_method, timeout=request_timeout,
        )  # fmt: skip

    def walk(
        name: str, read: Callable[[DouyinClient, int, int], Iterator[list[dict]]]
    ) -> Iterator[list[dict]]:
        state = dlt.current.resource_state(name).setdefault("shops", {}).setdefault(shop_id, {})
        first = int(first_moment(start_date, end_moment, history_days).timestamp())
        cursor = state.get("cursor")
        if cursor is None:
            begin = first
            log.info(
                "Douyin shop %s: first load of %s starts at %s (the platform serves %d days; older history "
                "comes from exported files)", shop_id, name, beijing(first), history_days,
            )  # fmt: skip
        else:
            begin = int(cursor) - overlap_minutes * 60
            if begin < first:
                log.warning(
                    "Douyin shop %s: %s was last read up to %s, beyond the platform's %d days; changes before %s "
                    "must come from exported files", shop_id, name, beijing(int(cursor)), history_days,
                    beijing(first),
                )  # fmt: skip
                begin = first
        todo = windows(begin, end, width)
        limit = len(todo) if windows_per_run is None else max(1, windows_per_run)
        state["pending"] = len(todo) > limit
        with client() as api:
            for a, b in counted_windows(name, todo[:limit], total=len(todo)):
                for batch in read(api, a, b):
                    if batch:
                        yield batch
                state["cursor"] = b + 1  # this window is read completely

    def read_orders(api: DouyinClient, a: int, b: int) -> Iterator[list[dict]]:
        seen: set[str] = set()
        page = 0
        while True:
            data = api.call(
                "order.searchList",
                {"update_time_start": a, "update_time_end": b, "page": page, "size": size,
                 "order_by": "update_time", "order_asc": True},
            )  # fmt: skip
            orders = data.get("shop_order_list") or []
            fresh = [o for o in orders if str(o.get("order_id")) not in seen]
            seen.update(str(o.get("order_id")) for o in fresh)
            yield [prepare_order(o, shop_id, salt) for o in fresh]
            page += 1
            if page * size >= int(data.get("total") or 0) or not orders:
                return

    def read_refunds(api: DouyinClient, a: int, b: int) -> Iterator[list[dict]]:
        seen: set[str] = set()
        page = 0
        while True:
            data = api.call(
                "afterSale.List",
                {"update_start_time": a, "update_end_time": b, "page": page, "size": size},
            )
            rows = [prepare_aftersale(item, shop_id, salt) for item in data.get("items") or []]
            fresh = [r for r in rows if str(r.get("aftersale_id")) not in seen]
            seen.update(str(r.get("aftersale_id")) for r in fresh)
            yield fresh
            page += 1
            if page * size >= int(data.get("total") or 0) or not rows:
                return

    def read_settlements(api: DouyinClient, a: int, b: int) -> Iterator[list[dict]]:
        seen: set[str] = set()
        start_index = ""
        while True:
            data = api.call(
                "order.getSettleBillDetailV3",
                {"start_time": beijing(a), "end_time": beijing(b), "time_type": "0", "size": size,
                 "start_index": start_index},
            )  # fmt: skip
            rows = data.get("data") or []
            fresh = [
                prepare_settlement(r, shop_id, salt) for r in rows if str(r.get("request_no")) not in seen
            ]
            seen.update(str(r.get("request_no")) for r in fresh)
            yield fresh
            start_index = str(data.get("next_start_index") or "")
            if data.get("is_end") or not start_index or not rows:
                return

    @dlt.resource(name="orders", write_disposition="merge", primary_key=("shop_id", "order_id"))
    def orders() -> Iterator[list[dict]]:
        yield from walk("orders", read_orders)

    @dlt.resource(name="refunds", write_disposition="merge", primary_key=("shop_id", "aftersale_id"))
    def refunds() -> Iterator[list[dict]]:
        yield from walk("refunds", read_refunds)

    @dlt.resource(
        name="settlements",
        write_disposition="merge",
        primary_key=("shop_id", "request_no"),
        columns={"settle_time": {"data_type": "text"}},  # Beijing wall time as sent; staging adds the zone
    )
    def settlements() -> Iterator[list[dict]]:
        yield from walk("settlements", read_settlements)

    @dlt.resource(name="listings", write_disposition="merge", primary_key=("shop_id", "id"))
    def listings() -> Iterator[list[dict]]:
        with client() as api:
            for page in sku_pages(api, size):
                yield [dict(s, shop_id=shop_id) for s in page]

    return [orders, refunds, settlements, listings]


def pending_resources(pipeline: dlt.Pipeline, shop_id: str) -> list[str]:
    """The windowed resources whose last run stopped before reaching `now` for this shop."""
    resources = pipeline.state.get("sources", {}).get("douyin", {}).get("resources", {})
    return [
        name
        for name in WINDOWED
        if resources.get(name, {}).get("shops", {}).get(shop_id, {}).get("pending", False)
    ]


def load_shop(
    pipeline: dlt.Pipeline, *, windows_per_run: int = 15, max_runs: int = 1000, **source_kwargs: Any
) -> list[LoadInfo]:
    """Load one Douyin shop through `pipeline` (built with warehouse_pipeline(..., "raw_douyin")), committing
    every `windows_per_run` windows until every resource has reached the same `now`."""
    source_kwargs.setdefault("now", datetime.now(UTC))
    shop_id = source_kwargs["shop_id"]
    infos = []
    source = douyin_source(windows_per_run=windows_per_run, **source_kwargs)
    for _ in range(max_runs):
        try:
            info = pipeline.run(source)
        except Exception as error:  # dlt wraps what the resource raised; surface the connector's own message
            cause = _douyin_cause(error)
            if cause is None:
                raise
            raise cause from None
        info.raise_on_failed_jobs()
        infos.append(info)
        pending = pending_resources(pipeline, shop_id)
        if not pending:
            return infos
        source = douyin_source(windows_per_run=windows_per_run, **source_kwargs).with_resources(*pending)
    raise DouyinError(
        f"Douyin shop {shop_id}: still behind after {max_runs} runs of {windows_per_run} windows"
    )


def _douyin_cause(error: BaseException) -> DouyinError | None:
    seen = 0
    current: BaseException | None = error
    while current is not None and seen < 20:
        if isinstance(current, DouyinError):
            return current
        current = current.__cause__ or current.__context__
        seen += 1
    return None
