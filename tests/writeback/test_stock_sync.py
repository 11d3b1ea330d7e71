"""Stock sync end to end: plan from the published demo warehouse, push to all five channel sandboxes through the
connectors' StockWriters, read back what each platform lists, audit every push; a second run pushes nothing;
a killed run is marked interrupted and re-planned; a lock for a live stream holds its units for one shop."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.writeback import run_stock_sync
from tests.conftest import start_stack
from writeback.stock import store
from writeback.stock.rules import Rule

pytestmark = pytest.mark.slow

BELOW_ZERO = re.compile(r"below 0|小于 ?0")
"""How the platforms refuse a change that would leave less than 0 units."""


def _listed(servers) -> dict[tuple[str, str], int]:
    """What each sandbox platform lists now, by (shop_id, platform SKU id), read from its live state."""
    out = {}
    for name, server in servers.items():
        if name == "wms":
            continue
        state = server.server.config.app.state.sandbox
        shop = state.shop_id if hasattr(state, "shop_id") else name
        if name == "jd_pop":
            out |= {(shop, str(k)): v for k, v in state.stock.items()}
        elif name == "tmall_flagship":
            out |= {(shop, str(k)): v for k, v in state.stock.items()}
        elif name == "pdd_main":
            goods = state.goods.values() if isinstance(state.goods, dict) else state.goods
            out |= {(shop, str(s["sku_id"])): s["sku_quantity"] for g in goods for s in g["sku_list"]}
        elif name == "douyin_live":
            out |= {(shop, str(k)): s["stock_num"] for k, s in state.skus.items()}
        elif name == "shopify_global":
            out |= {(shop, str(item)): level["available"] for (item, _), level in state.levels.items()}
    return out


def _restore(servers, listed: dict[tuple[str, str], int]) -> None:
    """Put every listing of every sandbox back at `listed` (what `_listed` read)."""
    for name, server in servers.items():
        if name == "wms":
            continue
        state = server.server.config.app.state.sandbox
        shop = state.shop_id if hasattr(state, "shop_id") else name
        for (listed_shop, sku_id), units in listed.items():
            if listed_shop == shop:
                state.set_listed(sku_id, units)


@pytest.fixture(scope="module")
def _shop_stack(built_warehouse, pipeline_world, tmp_path_factory):
    """The demo's five channel sandboxes serving the same world again (the Shopify store on Shopify Plus's call
    limits: a standard store takes 80 s for 200 pushes), started once for the module."""
    stack = start_stack(pipeline_world, tmp_path_factory.mktemp("live_shop"), shopify_plus=True)
    try:
        yield stack, _listed(stack.servers)
    finally:
        for server in stack.servers.values():
            server.stop()


@pytest.fixture
def live_shop(_shop_stack, built_warehouse):
    """The published demo warehouse (copied again for each test) with the sandboxes, every listing back at what
    they started with, and a new ops store."""
    stack, started = _shop_stack
    settings = stack.settings()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{settings.ops_path}{suffix}").unlink(missing_ok=True)
    shutil.copy(built_warehouse.serve_path, settings.serve_path)
    _restore(stack.servers, started)
    assert _listed(stack.servers) == started
    return stack, settings


def test_a_push_reaches_all_five_channels_is_audited_and_a_second_run_pushes_nothing(live_shop):
    stack, settings = live_shop
    now = datetime.now(UTC)
    # a rule that makes the plan differ from what the platforms list: 80 % of stock, at most 50 units
    settings = replace(settings, stock_sync=replace(settings.stock_sync, rules=(
        Rule("eighty", percent=80, maximum=50),), safety_buffer=1))  # fmt: skip
    dry = run_stock_sync(settings, now=now)
    plan = dry.frame()
    assert set(plan["shop_id"]) == set(stack.world.shops["shop_id"])  # all five shops have listings
    assert (plan["action"] == "push").sum() > 50
    assert store.pushes(settings.ops_path).empty  # a dry run sends and records nothing
    before = _listed(stack.servers)

    pushed = run_stock_sync(settings, now=now, dry_run=False)
    assert pushed.pushed and all(p["ok"] for p in pushed.pushed), [p for p in pushed.pushed if not p["ok"]][
        :3
    ]
    assert {p["shop_id"] for p in pushed.pushed} == set(stack.world.shops["shop_id"])
    after = _listed(stack.servers)
    with duckdb.connect(str(settings.serve_path), read_only=True) as con:
        ids = con.execute(
            "select listing_id, shop_id, coalesce(platform_stock_item_id, platform_sku_id) from marts.channel_listings"
        ).fetchall()
    key = {listing: (shop, platform) for listing, shop, platform in ids}
    for p in pushed.pushed:  # read back: every platform lists what was planned
        assert after[key[p["listing_id"]]] == p["planned"], p
    untouched = set(after) - {key[p["listing_id"]] for p in pushed.pushed}
    assert all(after[k] == before[k] for k in untouched)

    audit = store.pushes(settings.ops_path, limit=10_000)
    assert len(audit) == len(pushed.pushed) and set(audit["result"]) == {"ok"}
    assert audit["rule"].eq("eighty").all() and audit["mode"].eq("manual").all()
    assert audit["planned_qty"].le(50).all()

    again = run_stock_sync(settings, now=now, dry_run=False)
    assert again.pushed == [], (
        len(again.pushed),
        again.pushed[:3],
        [i for i in again.listings if i.action == "push"][:2],
    )  # what was pushed is what the channels list: nothing to change
    # never more than there is: per SKU, the planned units of all shops fit the sellable stock
    lines = pd.DataFrame([vars(line) for line in again.lines])
    over = lines.groupby("sku")[["allocated", "locked"]].sum().sum(axis=1)
    with duckdb.connect(str(settings.serve_path), read_only=True) as con:
        sellable = dict(con.execute(
            "select sku, sum(greatest(on_hand - reserved - 1, 0)) from marts.inventory_health_by_warehouse group by sku"
        ).fetchall())  # fmt: skip
    assert all(units <= sellable.get(sku, 0) for sku, units in over.items() if sku in sellable)


def test_a_lock_for_a_live_stream_holds_units_for_one_shop_and_a_killed_push_is_replanned(live_shop):
    stack, settings = live_shop
    now = datetime.now(UTC)
    plan = run_stock_sync(settings, now=now).frame()
    shared = plan.groupby("sku")["shop_id"].nunique()
    sku = shared[shared >= 3].index[0]
    wanted = plan[(plan.sku == sku)]
    store.save_lock(settings.ops_path, "live-1", sku, "douyin_live", 5, now + timedelta(hours=3), "manager", 0,
                    note="live stream tonight")  # fmt: skip
    locked = run_stock_sync(settings, now=now).frame()
    douyin = locked[(locked.sku == sku) & (locked.shop_id == "douyin_live")].iloc[0]
    assert douyin["locked"] == 5 and "5 locked for this shop" in douyin["reason"]
    others = locked[(locked.sku == sku) & (locked.shop_id != "douyin_live")]
    assert (others["stock"] <= wanted[wanted.shop_id != "douyin_live"]["stock"].max() - 5).all()
    after = run_stock_sync(settings, now=now + timedelta(hours=4)).frame()  # the lock ended by itself
    assert after[(after.sku == sku) & (after.shop_id == "douyin_live")].iloc[0]["locked"] == 0

    # a run killed between recording a push and the platform's answer: the next run marks it and plans again
    store.start_push(settings.ops_path, {
        "push_id": "killed-1", "run_id": "killed", "mode": "automatic", "shop_id": "jd_pop", "sku": sku,
        "listing_id": str(locked[locked.shop_id == "jd_pop"].iloc[0]["listing_id"]), "rule": "default",
        "rule_version": 0, "before_qty": None, "planned_qty": 1,
    })  # fmt: skip
    rerun = run_stock_sync(settings, now=now, dry_run=False)
    assert rerun.interrupted == 1
    audit = store.pushes(settings.ops_path, limit=10_000)
    assert audit.loc[audit.push_id == "killed-1", "result"].item() == "interrupted"
    assert set(audit.loc[audit.push_id != "killed-1", "result"]) == {"ok"}
    assert run_stock_sync(settings, now=now, dry_run=False).pushed == []


def test_the_demo_locks_stock_for_the_live_stream_and_pushes_to_every_channel(live_shop):
    from orchestration.writeback import demo_stock_sync

    stack, settings = live_shop
    note, result = demo_stock_sync(settings)
    (lock,) = store.current_locks(settings.ops_path)
    assert lock.shop_id == "douyin_live" and lock.quantity == 5 and lock.sku in note
    assert {p["shop_id"] for p in result.pushed} == set(stack.world.shops["shop_id"])
    assert all(p["ok"] for p in result.pushed)
    live = [i for i in result.listings if i.line.sku == lock.sku and i.line.shop_id == "douyin_live"]
    assert live and live[0].line.locked == 5
    note, again = demo_stock_sync(
        settings
    )  # a second demo run moves the lock to a new version, pushes nothing new
    assert store.current_locks(settings.ops_path)[0].version == 2 and again.pushed == []


def test_the_dagster_asset_plans_after_each_build_and_pushes_only_when_configured(live_shop):
    import dagster as dg

    from orchestration.settings import ConfigError
    from orchestration.writeback import stock_sync_assets

    stack, settings = live_shop

    def materialize(settings):
        with dg.DagsterInstance.ephemeral() as instance:
            result = dg.materialize(stock_sync_assets(settings), instance=instance)
            (event,) = result.get_asset_materialization_events()
            return {k: v.value for k, v in event.materialization.metadata.items()}

    planned = materialize(settings)  # the shipped default: push = "manual"
    assert planned["mode"].startswith("plan only") and planned["pushed"] == 0
    assert store.pushes(settings.ops_path).empty
    automatic = replace(settings, stock_sync=replace(settings.stock_sync, push="after_build",
                                                     rules=(Rule("half", percent=50),)))  # fmt: skip
    pushed = materialize(automatic)
    assert (
        pushed["mode"] == "pushed" and pushed["pushed"] == pushed["to change"] > 0 and pushed["failed"] == 0
    )
    audit = store.pushes(settings.ops_path, limit=10_000)
    assert len(audit) == pushed["pushed"] and set(audit["mode"]) == {"automatic"}

    without_wms = replace(settings, wms=None)
    assert stock_sync_assets(without_wms) == []
    with pytest.raises(ConfigError, match=r"stock sync needs warehouse stock: configure \[wms\]"):
        run_stock_sync(without_wms)


def test_the_plan_command_prints_the_changes_writes_every_line_to_csv_and_sends_nothing(live_shop, tmp_path,
                                                                                        monkeypatch):  # fmt: skip
    from typer.testing import CliRunner

    from orchestration.cli import app

    stack, settings = live_shop
    monkeypatch.setenv("SHOPKEEP_CONFIG", str(stack.config_path))
    monkeypatch.setenv("COLUMNS", "200")
    csv = tmp_path / "plan.csv"
    done = CliRunner().invoke(app, ["stock", "plan", "--csv", str(csv), "--shop", "jd_pop"])
    assert done.exit_code == 0, done.output
    assert "dry run: nothing was sent" in done.output and "stock plan" in done.output
    plan = pd.read_csv(csv)
    assert len(plan) > 100 and set(plan["shop_id"]) == {"jd_pop"}
    assert store.pushes(settings.ops_path).empty
    refused = CliRunner().invoke(app, ["stock", "push", "--shop", "no_such_shop"])
    assert refused.exit_code == 2 and "shop 'no_such_shop' is not an enabled shop" in refused.output


def test_a_push_asked_for_on_the_page_is_carried_out_once_by_the_sensors_run_and_refused_when_stale(
    live_shop,
):
    import dagster as dg

    from orchestration.writeback import stock_push_job, stock_push_sensor
    from writeback.stock.sync import read_inputs

    stack, settings = live_shop
    settings = replace(settings, stock_sync=replace(settings.stock_sync, rules=(Rule("sixty", percent=60),)))
    published = read_inputs(settings.serve_path).published_at
    job = stock_push_job(settings)
    sensor = stock_push_sensor(settings, job)
    with dg.DagsterInstance.ephemeral() as instance:
        context = dg.build_sensor_context(instance=instance)
        assert isinstance(sensor(context), dg.SkipReason)  # nothing asked for

        fresh = store.request_push(settings.ops_path, "ming", published, ["jd_pop", "douyin_live"])
        assert (
            store.request_push(settings.ops_path, "li", published, ["douyin_live", "jd_pop"]) == fresh
        )  # same
        stale = store.request_push(settings.ops_path, "ming", "2026-01-01T00:00:00+00:00")
        requests = sensor(context)
        assert [r.run_key for r in requests] == [f"stock-push-{fresh}", f"stock-push-{stale}"]
        for request in requests:
            assert job.execute_in_process(run_config=request.run_config, instance=instance).success

        done = store.push_requests(settings.ops_path).set_index("request_id")
        assert done.loc[fresh, "status"] == "done" and done.loc[stale, "status"] == "refused"
        assert "a newer one" in done.loc[stale, "message"] and "pushed" in done.loc[fresh, "message"]
        audit = store.pushes(settings.ops_path, limit=10_000)
        assert len(audit) > 0 and set(audit["shop_id"]) == {"jd_pop", "douyin_live"}
        assert set(audit["result"]) == {"ok"} and set(audit["mode"]) == {"manual"}

        # a run started again for a request already carried out does nothing
        assert job.execute_in_process(run_config=requests[0].run_config, instance=instance).success
        assert len(store.pushes(settings.ops_path, limit=10_000)) == len(audit)
        assert isinstance(sensor(context), dg.SkipReason)


def test_buyers_on_all_five_channels_while_stock_sync_pushes_never_buy_a_unit_the_seller_did_not_have(
    live_shop,
):
    """Buyers keep ordering the scarcest SKUs on all five sandboxes (each platform takes the units off its listing
    and refuses an order for more than it lists) while the manager locks stock for a live stream and releases it,
    and stock sync re-plans and pushes each time from the same snapshot, which knows none of these orders. Each
    run reads every listing back, reserves what the channels sold since the pull, lowers listings before it
    raises others (cutting the raises by what sold meanwhile beyond the new plan) and sends changes, not levels,
    where the platform takes them: no buyer gets a unit the seller did not have (`sandbox.buyers.Market`, started
    from the snapshot's on hand less reserved). Before these rules the same run sold 17, then 8 units too many.

    The buyers may take a quarter more of each SKU's units in each phase (before the lock, with it, after it), so
    however slow the machine, every run has stock left to plan; once the last run is over, every listing of these
    SKUs is bought out: what the channels list then must be what the seller still has."""
    import random
    import threading

    import httpx

    from sandbox.buyers import Market

    stack, settings = live_shop
    now = datetime.now(UTC)
    first = run_stock_sync(settings, now=now, dry_run=False)  # every channel lists the plan
    assert first.pushed and all(p["ok"] for p in first.pushed)
    with duckdb.connect(str(settings.serve_path), read_only=True) as con:
        sellable = dict(con.execute(
            "select sku, sum(greatest(on_hand - reserved, 0))::int from marts.inventory_health_by_warehouse "
            "group by sku"
        ).fetchall())  # fmt: skip
        listings = con.execute(
            "select shop_id, sku, coalesce(platform_stock_item_id, platform_sku_id) from marts.channel_listings "
            "where is_mapped and not is_kit"
        ).fetchall()
    plan = first.frame()
    shops_per_sku = plan[plan["planned"] > 0].groupby("sku")["shop_id"].nunique()
    hot = sorted(
        (sku for sku, n in shops_per_sku.items() if n >= 4 and 60 <= sellable.get(sku, 0) <= 400),
        key=lambda sku: sellable[sku],
    )[:6]
    assert len(hot) >= 3, "the demo has too few SKUs listed in four shops with little stock"
    market = Market({sku: sellable[sku] for sku in hot})
    targets: dict[str, list[tuple[str, str]]] = {}
    for shop_id, sku, platform_id in listings:
        if sku in hot:
            targets.setdefault(shop_id, []).append((sku, str(platform_id)))
    assert len(targets) == 5
    stop = threading.Event()
    accepted = Counter()
    budget, taken, guard = Counter(), Counter(), threading.Lock()  # units of each SKU buyers may take by now

    def open_phase(quarters: int) -> None:
        with guard:
            for sku in hot:
                budget[sku] = sellable[sku] * quarters // 4

    def buy(client: httpx.Client, shop_id: str, sku: str, platform_id: str, quantity: int) -> dict:
        answer = client.post("/_sandbox/buy", json={"sku_id": platform_id, "quantity": quantity}).json()
        if answer.get("accepted"):
            market.sell(sku, quantity)
            accepted[shop_id] += quantity
        return answer

    def buyer(shop_id: str, seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=stack.servers[shop_id].url, timeout=10) as client:
            while not stop.is_set():
                sku, platform_id = rng.choice(targets[shop_id])
                quantity = rng.randint(1, 3)
                with guard:
                    allowed = taken[sku] + quantity <= budget[sku]
                    taken[sku] += quantity if allowed else 0
                if allowed and not buy(client, shop_id, sku, platform_id, quantity).get("accepted"):
                    with guard:
                        taken[sku] -= quantity
                stop.wait(0.02)

    open_phase(1)
    buyers = [threading.Thread(target=buyer, args=(shop, n)) for n, shop in enumerate(sorted(targets))]
    for thread in buyers:
        thread.start()
    pushed = []
    try:
        stop.wait(1.0)
        open_phase(2)
        for n, sku in enumerate(hot):  # a live stream tonight: units held for Douyin, every shop re-planned
            store.save_lock(settings.ops_path, f"live-{n}", sku, "douyin_live", 3, now + timedelta(hours=3),
                            "manager", 0)  # fmt: skip
        pushed += run_stock_sync(settings, now=now, dry_run=False).pushed
        stop.wait(1.0)
        open_phase(3)
        for n, sku in enumerate(hot):  # the stream is over: the units go back to every shop
            store.save_lock(settings.ops_path, f"live-{n}", sku, "douyin_live", 0, now + timedelta(hours=3),
                            "manager", 1)  # fmt: skip
        pushed += run_stock_sync(settings, now=now, dry_run=False).pushed
        stop.wait(1.0)
    finally:
        stop.set()
        for thread in buyers:
            thread.join()
    for shop_id, listed_here in sorted(targets.items()):  # the last buyers take every unit still listed
        with httpx.Client(base_url=stack.servers[shop_id].url, timeout=10) as client:
            for sku, platform_id in listed_here:
                units = client.post("/_sandbox/buy", json={"sku_id": platform_id, "quantity": 10**6}).json()
                if units["listed"] > 0:
                    assert buy(client, shop_id, sku, platform_id, units["listed"])["accepted"]
    hot_pushes = [p for p in pushed if p["sku"] in hot]
    refused = [p for p in hot_pushes if not p["ok"]]  # a change refused: buyers took more since the read
    assert len(refused) < len(hot_pushes) and all(BELOW_ZERO.search(p["message"]) for p in refused), refused[
        :3
    ]
    assert sum(p["sold"] for p in hot_pushes) > 0, "no push met a sale: the test would prove nothing"
    assert set(accepted) == set(targets) and sum(market.sold.values()) > 0
    # JD takes only a level: what buyers took between its writer's last read and its set is listed again (the
    # sandbox counts those units); nothing else may be sold twice
    jd = stack.servers["jd_pop"].server.config.app.state.sandbox
    reopened = Counter({sku: jd.overwritten.get(platform_id, 0) for sku, platform_id in targets["jd_pop"]})
    assert all(market.oversold[sku] <= reopened[sku] for sku in hot), (dict(market.oversold), dict(reopened))
    audit = store.pushes(settings.ops_path, limit=100_000)
    assert set(audit["push_id"]) >= {p["push_id"] for p in pushed}
    assert audit["sold_since_pull"].notna().all()


def test_each_channel_reads_its_listing_back_and_a_change_still_counts_a_sale_made_after_the_read(live_shop):
    """Every channel's StockWriter reads what a listing holds now and writes relative to that read: an order
    placed between the read and the write still counts (the listing ends at the intended level less that order,
    and the writer reports the units where the platform confirms a level or is read again: Taobao, Shopify, JD).
    When buyers took more than a decrease leaves, the writer reads again and empties the listing, reporting
    every unit sold since the first read."""
    import httpx

    from orchestration.writeback import stock_writers
    from writeback.stock.sync import listing_address

    stack, settings = live_shop
    writers = stock_writers(settings)
    with duckdb.connect(str(settings.serve_path), read_only=True) as con:
        listings = con.execute(
            "select * from marts.channel_listings where is_mapped and not is_kit and listed_quantity >= 8 "
            "qualify row_number() over (partition by shop_id order by listing_id) = 1"
        ).df()
    assert set(listings["shop_id"]) == set(stack.world.shops["shop_id"])
    confirms = {"tmall_flagship", "shopify_global", "jd_pop"}
    for _, row in listings.iterrows():
        shop = row["shop_id"]
        address, writer = listing_address(row), writers[shop]
        buyer_id = str(row["platform_stock_item_id"] if shop == "shopify_global" else row["platform_sku_id"])
        with httpx.Client(base_url=stack.servers[shop].url, timeout=10) as buyer:

            def buy(units: int, sku_id: str = buyer_id) -> None:
                assert buyer.post("/_sandbox/buy", json={"sku_id": sku_id, "quantity": units}).json()[
                    "accepted"
                ]

            (read,) = writer.read_many([address])
            assert read == _listed(stack.servers)[(shop, buyer_id)], shop
            buy(2)  # between the read and the write
            answer = writer.set_stock(address, read - 1, f"t-{shop}-1", read)
            assert answer.ok and answer.in_flight == (2 if shop in confirms else 0), (shop, answer)
            assert writer.read_many([address]) == [read - 3], shop

            (read,) = writer.read_many([address])
            buy(read - 1)  # buyers take all but one unit, then a decrease of 3 arrives
            answer = writer.set_stock(address, read - 3, f"t-{shop}-2", read)
            assert answer.ok and answer.in_flight == read - 1, (shop, answer)
            assert writer.read_many([address])[0] <= 0, shop  # Shopify lets available go below 0


def test_the_lean_path_pushes_a_receipt_and_a_sale_to_all_five_channels_without_a_build(live_shop):
    """push = "continuous": the `stock_changes` sensor looks at the WMS's movements and every channel's listings;
    a receipt after the snapshot's stock count, then an order on JD, each put their SKU in the change queue and
    the `stock_lean_sync` run it asks for pushes that SKU (and nothing else) to all five channels, from the
    published positions plus the movements: no build in between. Every unit listed is there."""
    import dagster as dg
    import httpx

    from orchestration.definitions import build_definitions
    from orchestration.writeback import LEAN_JOB, stock_changes_sensor, stock_lean_job

    stack, settings = live_shop
    settings = replace(settings, stock_sync=replace(settings.stock_sync, push="continuous",
                                                    rules=(Rule("all"),), safety_buffer=0))  # fmt: skip
    assert {"stock_push_requests", "stock_changes"} <= {s.name for s in build_definitions(settings).sensors}
    manual = replace(settings, stock_sync=replace(settings.stock_sync, push="manual"))
    assert LEAN_JOB not in {j.name for j in build_definitions(manual).jobs}

    now = datetime.now(UTC)
    first = run_stock_sync(settings, now=now, dry_run=False)  # every channel lists the plan
    assert first.pushed and all(p["ok"] for p in first.pushed)
    plan = first.frame()
    one_each = plan.groupby("sku").filter(lambda g: len(g) == 5 and g["shop_id"].nunique() == 5)
    with duckdb.connect(str(settings.serve_path), read_only=True) as con:
        stocked = con.execute(
            "select sku, min(warehouse_id), max(stock_counted_until) from marts.inventory_health_by_warehouse "
            "where on_hand - reserved between 5 and 100 group by sku having count(*) = 1"
        ).fetchall()
    sku, warehouse, counted_until = next(row for row in stocked if row[0] in set(one_each["sku"]))
    total = int(plan.loc[plan["sku"] == sku, "planned"].sum())
    ids = {
        item.address.shop_id: str(item.address.stock_item_id or item.address.platform_sku_id)
        for item in first.listings if item.line.sku == sku
    }  # fmt: skip

    def listed() -> dict[str, int]:
        now_listed = _listed(stack.servers)
        return {shop: now_listed[(shop, platform_id)] for shop, platform_id in ids.items()}

    job = stock_lean_job(settings)
    sensor = stock_changes_sensor(settings, job)
    wms = stack.servers["wms"]
    clock = wms.server.config.app.state.sandbox.now
    try:
        with dg.DagsterInstance.ephemeral() as instance, httpx.Client(base_url=wms.url, timeout=10) as http:
            context = dg.build_sensor_context(instance=instance)
            assert isinstance(sensor(context), dg.SkipReason)  # the push's own changes are no change

            # the warehouse receives 40 units an hour after the snapshot's stock count
            http.post("/_sandbox/clock", json={"now": (counted_until + timedelta(hours=1)).isoformat()})
            http.post(
                "/_sandbox/movements", json={"warehouse": warehouse, "merchant_code": sku, "quantity": 40}
            )
            request = sensor(context)
            assert isinstance(request, dg.RunRequest), request
            assert store.dirty_skus(settings.ops_path) == {sku: 1}
            before = listed()
            assert job.execute_in_process(instance=instance).success
            after = listed()
            assert all(after[shop] > before[shop] for shop in ids), (before, after)
            assert sum(after.values()) == total + 40
            audit = store.pushes(settings.ops_path, limit=100_000)
            lean = audit[audit["run_id"] != first.run_id]
            assert (
                set(lean["sku"]) == {sku}
                and set(lean["shop_id"]) == set(ids)
                and set(lean["mode"]) == {"automatic"}
            )
            assert store.dirty_skus(settings.ops_path) == {}
            assert isinstance(sensor(context), dg.SkipReason)  # seen once, counted once

            # a buyer takes 4 units on JD: the SKU is planned again, JD's share of the 4 fewer units is given
            # back to it out of the other shops' (the rule splits the stock between the shops)
            buy = httpx.post(f"{stack.servers['jd_pop'].url}/_sandbox/buy",
                             json={"sku_id": ids["jd_pop"], "quantity": 4}, timeout=10).json()  # fmt: skip
            assert buy["accepted"]
            assert isinstance(sensor(context), dg.RunRequest)
            assert store.dirty_skus(settings.ops_path) == {sku: 2}
            assert job.execute_in_process(instance=instance).success
            again = listed()
            assert again["jd_pop"] > after["jd_pop"] - 4 and sum(again.values()) == total + 40 - 4, (
                after,
                again,
            )
            assert sum(again[shop] < after[shop] for shop in ids) >= 3
            assert store.dirty_skus(settings.ops_path) == {}
    finally:
        httpx.post(f"{wms.url}/_sandbox/clock", json={"now": clock.isoformat()}, timeout=10)
