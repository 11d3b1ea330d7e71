"""The WMS connector lands a closing-stock series and every movement in raw_wms, against the real sandbox."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import httpx
import numpy as np
import pandas as pd
import pytest

from connectors.wms import WmsAuthError, WmsClient, WmsError, load_wms, wms_pipeline
from connectors.wms.client import WmsPermissionError, WmsUnknownStatusError
from sandbox.runner import start
from sandbox.wms import create_app
from sandbox.world import World

TOKEN = "wms-connector-test-token"
END = date(2026, 6, 30)
CLOCK = "2026-06-20T04:00:00Z"  # noon in Shanghai
TODAY = date(2026, 6, 20)
BACKFILL = 14
SKUS = 7


def tiny_world(days: int = 40, skus: int = SKUS, end: date = END) -> World:
    """Two warehouses, a few SKUs, daily movements and the closing stock they add up to."""
    rng = np.random.default_rng(11)
    start_day = end - timedelta(days=days - 1)
    snapshots, movements = [], []
    for warehouse in ("WH-SH", "WH-GZ"):
        for s in range(skus):
            sku = f"HM-{s:04d}"
            on_hand = int(rng.integers(20, 200))
            for d in range(days):
                day = start_day + timedelta(days=d)
                for k in range(int(rng.integers(1, 4))):
                    qty = max(int(rng.integers(-8, 12)), -on_hand)
                    if qty == 0:
                        continue
                    on_hand += qty
                    moved = pd.Timestamp(f"{day}T{int(rng.integers(0, 16)):02d}:{k * 7:02d}:00", tz="UTC")
                    movements.append(
                        {
                            "movement_id": f"MV-{len(movements) + 1:07d}",
                            "moved_at": moved,
                            "warehouse_id": warehouse,
                            "sku": sku,
                            "type": "receipt" if qty > 0 else "shipment",
                            "quantity": qty,
                            "reference": "",
                        }
                    )
                snapshots.append(
                    {"snapshot_date": day, "warehouse_id": warehouse, "sku": sku, "on_hand": on_hand}
                )
    tables = {
        "warehouses": pd.DataFrame(
            {"warehouse_id": ["WH-SH", "WH-GZ"], "name": ["上海仓", "广州仓"], "city": ["上海", "广州"]}
        ),
        "stock_snapshots": pd.DataFrame(snapshots),
        "stock_movements": pd.DataFrame(movements),
    }
    return World(params={"end_date": end.isoformat()}, tables=tables)


@pytest.fixture(scope="module")
def world() -> World:
    return tiny_world()


@pytest.fixture()
def wms(world):
    running = start(create_app(world, token=TOKEN, now=CLOCK), "wms-connector")
    yield running
    running.stop()


@pytest.fixture()
def warehouse(tmp_path) -> Path:
    return tmp_path / "build.duckdb"


@pytest.fixture()
def run(wms, warehouse, tmp_path):
    """Run the WMS load once (same pipeline folder every time, like the scheduled job)."""

    def _run(**overrides):
        kwargs = {
            "base_url": wms.url,
            "token": TOKEN,
            "warehouses": ["WH-SH", "WH-GZ"],
            "backfill_days": BACKFILL,
            **overrides,
        }
        return load_wms(wms_pipeline(warehouse, tmp_path / "dlt"), **kwargs)

    return _run


def _query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def _snapshots(db: Path) -> set[tuple]:
    return set(
        _query(db, "select snapshot_date, warehouse, merchant_code, on_hand from raw_wms.stock_snapshots")
    )


def _world_snapshots(world: World, first: date, last: date) -> set[tuple]:
    s = world.stock_snapshots
    s = s[(s.snapshot_date >= first) & (s.snapshot_date <= last)]
    return set(zip(s.snapshot_date, s.warehouse_id, s.sku, s.on_hand.astype(int), strict=True))


def _log(wms) -> list[dict]:
    return httpx.get(f"{wms.url}/_sandbox/requests").json()["requests"]


def _set_clock(wms, now: str) -> None:
    httpx.post(f"{wms.url}/_sandbox/clock", json={"now": now}).raise_for_status()


def test_the_first_load_backfills_closing_stock_equal_to_the_warehouse_for_every_date(run, world, warehouse):
    run()
    first = TODAY - timedelta(days=BACKFILL)
    assert _query(warehouse, "select count(distinct snapshot_date), count(*) from raw_wms.stock_snapshots")[
        0
    ] == (BACKFILL + 1, (BACKFILL + 1) * 2 * SKUS)
    assert _snapshots(warehouse) == _world_snapshots(world, first, TODAY)
    assert _query(warehouse, "select count(*) from raw_wms.stock_snapshots where fetched_at is null") == [
        (0,)
    ]


def test_a_rerun_on_the_same_day_duplicates_nothing_and_does_not_refetch_the_backfill(run, wms, warehouse):
    run()
    before, requests_before = _snapshots(warehouse), len(_log(wms))
    run()
    again = [r for r in _log(wms)[requests_before:] if r["path"] == "/api/v1/stock"]
    assert [r["query"].get("date") for r in again] == [None, None]  # today's snapshot of each warehouse only
    assert _snapshots(warehouse) == before
    assert _query(warehouse, "select count(*) from raw_wms.stock_snapshots")[0][0] == len(before)


def test_the_next_day_adds_one_new_date_and_keeps_every_earlier_one(run, wms, world, warehouse):
    run()
    _set_clock(wms, "2026-06-21T04:00:00Z")
    run()
    dates = [
        d
        for (d,) in _query(warehouse, "select distinct snapshot_date from raw_wms.stock_snapshots order by 1")
    ]
    assert dates == [TODAY - timedelta(days=BACKFILL) + timedelta(days=i) for i in range(BACKFILL + 2)]
    assert _snapshots(warehouse) == _world_snapshots(world, dates[0], dates[-1])


def test_movements_land_incrementally_without_duplicates_and_add_up_to_the_warehouses(
    run, wms, world, warehouse
):
    run()
    _set_clock(wms, "2026-06-23T04:00:00Z")
    log_before = len(_log(wms))
    run()
    second = [r for r in _log(wms)[log_before:] if r["path"] == "/api/v1/movements"]
    moves = world.stock_movements
    cursor = moves.moved_at[moves.moved_at <= pd.Timestamp(CLOCK)].max()
    assert second and {pd.Timestamp(r["query"]["since"]) for r in second} == {
        cursor - pd.Timedelta(minutes=10)
    }
    moves = moves[moves.moved_at <= pd.Timestamp("2026-06-23T04:00:00Z")]
    loaded = _query(warehouse, "select count(*), count(distinct id) from raw_wms.stock_movements")[0]
    assert loaded == (len(moves), len(moves))
    sums = dict(
        _query(
            warehouse,
            "select merchant_code || '@' || warehouse, sum(quantity) "
            "from raw_wms.stock_movements group by all",
        )
    )
    expected = moves.groupby(moves.sku + "@" + moves.warehouse_id).quantity.sum()
    assert sums == {key: int(value) for key, value in expected.items()}


def test_a_wrong_token_fails_naming_the_env_var_and_never_the_token(run):
    secret = "wrong-secret-token-value"
    with pytest.raises(WmsAuthError) as failure:
        run(token=secret, token_env="WMS_TOKEN")
    assert "WMS_TOKEN" in str(failure.value)
    assert secret not in str(failure.value) and TOKEN not in str(failure.value)


def test_the_token_is_stored_nowhere_in_the_warehouse_or_the_pipeline_state(run, tmp_path):
    run()
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".duckdb" for p in files)
    assert [p for p in files if TOKEN.encode() in p.read_bytes()] == []


def test_a_warehouse_the_wms_does_not_know_fails_naming_it_and_the_setting(run):
    with pytest.raises(WmsError) as failure:
        run(warehouses=["WH-SH", "WH-BJ"])
    assert "WH-BJ" in str(failure.value) and "[wms].warehouses" in str(failure.value)


def test_server_errors_are_retried_and_the_load_completes(run, wms, world, warehouse):
    httpx.post(f"{wms.url}/_sandbox/fail", json={"path": "/api/v1/stock", "status": 503, "times": 2})
    run()
    statuses = [r["status"] for r in _log(wms) if r["path"] == "/api/v1/stock"]
    assert statuses[:3] == [503, 503, 200]
    assert _snapshots(warehouse) == _world_snapshots(world, TODAY - timedelta(days=BACKFILL), TODAY)


def test_the_simulated_shop_lands_with_stock_and_movements_equal_to_its_warehouses(small_world, tmp_path):
    running = start(
        create_app(small_world, token=TOKEN), "wms-small-shop"
    )  # clock: end of the world's last day
    try:
        load_wms(
            wms_pipeline(tmp_path / "build.duckdb", tmp_path / "dlt"),
            base_url=running.url,
            token=TOKEN,
            warehouses=["WH-SH", "WH-GZ"],
            backfill_days=BACKFILL,
        )
    finally:
        running.stop()
    db = tmp_path / "build.duckdb"
    assert _snapshots(db) == _world_snapshots(small_world, END - timedelta(days=BACKFILL), END)
    moves = small_world.stock_movements
    sums = dict(_query(db, "select merchant_code, sum(quantity) from raw_wms.stock_movements group by all"))
    assert sums == {sku: int(q) for sku, q in moves.groupby("sku").quantity.sum().items()}
    assert _query(db, "select count(distinct id) from raw_wms.stock_movements")[0][0] == len(moves)


def test_a_timeout_is_retried_and_the_page_is_read():
    calls = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.params.get("page"))
        if len(calls) == 1:
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(
            200,
            json={
                "warehouse": "WH-SH",
                "date": "2026-06-20",
                "page": 1,
                "page_size": 500,
                "total": 1,
                "items": [{"merchant_code": "A", "on_hand": 3}],
            },
        )

    with WmsClient("http://wms.invalid", TOKEN, transport=httpx.MockTransport(answer)) as client:
        pages = list(client.stock_pages("WH-SH"))
    assert [p["items"] for p in pages] == [[{"merchant_code": "A", "on_hand": 3}]]
    assert calls == ["1", "1"]


# -- purchase orders and receipts ------------------------------------------------------------------------------


def _world_purchasing_at(world: World, clock: str) -> tuple[set[tuple], set[tuple], set[str]]:
    """The world's purchase orders as the WMS shows them at `clock`: (po, status), (po, sku, ordered, received)
    and the receipt ids."""
    now = pd.Timestamp(clock)
    orders = world.purchase_orders[world.purchase_orders.ordered_at <= now]
    receipts = world.receipts[world.receipts.received_at <= now]
    received = receipts.groupby(["po_number", "sku"]).quantity.sum()
    lines = world.purchase_order_lines[world.purchase_order_lines.po_number.isin(orders.po_number)]
    line_rows = {
        (r.po_number, r.sku, int(r.quantity), int(received.get((r.po_number, r.sku), 0)))
        for r in lines.itertuples()
    }
    complete = {po: all(rec >= qty for p, _, qty, rec in line_rows if p == po) for po in orders.po_number}
    statuses = {(po, "received" if done else "open") for po, done in complete.items()}
    return statuses, line_rows, set(receipts.receipt_id)


def _loaded_purchasing(db: Path) -> tuple[set[tuple], set[tuple], set[str], int]:
    statuses = set(_query(db, "select po_number, status from raw_wms.purchase_orders"))
    lines = _query(
        db,
        "select po.po_number, l.merchant_code, l.quantity, l.received_quantity from raw_wms.purchase_orders__lines l "
        "join raw_wms.purchase_orders po on l._dlt_parent_id = po._dlt_id",
    )
    all_lines = _query(db, "select count(*) from raw_wms.purchase_orders__lines")[0][0]
    assert len(lines) == all_lines, "purchase order lines without their order"
    receipts = [r[0] for r in _query(db, "select id from raw_wms.receipts")]
    assert len(receipts) == len(set(receipts))
    return statuses, set(lines), set(receipts), len(lines)


def test_purchase_orders_and_receipts_land_as_of_the_clock_and_a_later_run_updates_them_in_place(
    small_world, tmp_path
):
    mid, end = "2026-06-01T04:00:00Z", "2026-06-30T15:59:59Z"
    running = start(create_app(small_world, token=TOKEN, now=mid), "wms-purchasing")
    db = tmp_path / "build.duckdb"

    def load() -> None:
        load_wms(
            wms_pipeline(db, tmp_path / "dlt"),
            base_url=running.url,
            token=TOKEN,
            warehouses=["WH-SH", "WH-GZ"],
            backfill_days=1,
        )

    try:
        load()
        statuses, lines, receipts = _world_purchasing_at(small_world, mid)
        loaded = _loaded_purchasing(db)
        assert loaded[:3] == (statuses, lines, receipts)
        assert ("open" in {s for _, s in statuses}) and ("received" in {s for _, s in statuses})
        cursor = _query(db, "select max(updated_at) from raw_wms.purchase_orders")[0][0]
        _set_clock(running, end)
        log_before = len(_log(running))
        load()
        load()  # a rerun at the same clock changes nothing
        asked = [r["query"] for r in _log(running)[log_before:] if r["path"] == "/api/v1/purchase-orders"]
    finally:
        running.stop()
    assert pd.Timestamp(asked[0]["updated_since"]) == pd.Timestamp(cursor) - pd.Timedelta(minutes=10)
    statuses, lines, receipts = _world_purchasing_at(small_world, end)
    loaded = _loaded_purchasing(db)
    assert loaded == (statuses, lines, receipts, len(lines))
    world_status = dict(
        zip(small_world.purchase_orders.po_number, small_world.purchase_orders.status, strict=True)
    )
    assert dict(statuses) == world_status  # at the end of the history, the world's own final statuses
    costs = _query(db, "select sum(quantity * unit_cost) from raw_wms.receipts")[0][0]
    assert costs == sum(small_world.receipts.quantity * small_world.receipts.unit_cost)


# every kind of WMS answer gets its own exception and one clear message; throttles and busy answers are retried

PAGE = {"warehouse": "WH-SH", "date": "2026-06-20", "page": 1, "page_size": 500, "total": 1,
        "items": [{"merchant_code": "A", "on_hand": 3}]}  # fmt: skip


def _mock_client(answers: list[httpx.Response], sleeps: list[float]) -> WmsClient:
    queue = list(answers)
    return WmsClient("http://wms.test", TOKEN, sleep=sleeps.append,
                     transport=httpx.MockTransport(lambda request: queue.pop(0)))  # fmt: skip


def test_a_429_waits_its_retry_after_and_5xx_backs_off_then_the_page_is_read():
    sleeps: list[float] = []
    answers = [
        httpx.Response(429, headers={"Retry-After": "4"}, json={"error": "rate limited"}),
        httpx.Response(503, json={"error": "busy"}),
        httpx.Response(200, content=b'{"warehouse": "WH-', headers={"content-type": "application/json"}),
        httpx.Response(200, json=PAGE),
    ]
    pages = list(_mock_client(answers, sleeps).stock_pages("WH-SH"))
    assert [p["items"] for p in pages] == [PAGE["items"]]
    assert sleeps[0] == 4.0 and len(sleeps) == 3


@pytest.mark.parametrize(
    ("status", "expected", "says"),
    [(401, WmsAuthError, "valid WMS API token"), (403, WmsPermissionError, "read access"),
     (418, WmsUnknownStatusError, "does not know")],
)  # fmt: skip
def test_each_kind_of_refusal_gives_its_own_exception_naming_the_status_the_wms_words_and_the_variable(
    status, expected, says
):
    sleeps: list[float] = []
    with pytest.raises(WmsError) as caught:
        list(
            _mock_client([httpx.Response(status, json={"error": "the WMS's own words"})], sleeps).stock_pages(
                "WH-SH"
            )
        )
    message = str(caught.value)
    assert type(caught.value) is expected and caught.value.status == status
    assert f"HTTP {status}: the WMS's own words" in message and says in message
    assert TOKEN not in message and sleeps == []
