"""A full load of every shop with 20 % faults at all five channels (Shopify and the four marketplaces), killed twice
at random points with SIGKILL and rerun, ends with exactly the simulated shop's orders, lines, refunds and bills —
nothing lost, nothing twice.

This is the suite's one test on the live clock (tests/clock.py): its world ends yesterday in Shanghai, the
sandboxes and the `shopkeep materialize` processes run on the machine's real time."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from sandbox.faults import FaultConfig, Faults
from tests.clock import live_clock
from tests.conftest import yesterday_local

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
HISTORY_DAYS = 5  # Pinduoduo reads 30-minute windows: a short API history keeps the test quick
# every ingest asset, the dbt models behind what the test compares (daily_shop_sales and the unified facts; the
# forecasting and the other marts add minutes and nothing to a test of loading), and the publish
SELECT = (
    "key:raw_*/* or +key:marts/daily_shop_sales or +key:intermediate/int_order_lines_unified "
    "or +key:intermediate/int_refunds_unified or +key:intermediate/int_settlements_unified or key:serve/*"
)


SEEDS = {"shopify_global": 1, "tmall_flagship": 14, "jd_pop": 18, "pdd_main": 28, "douyin_live": 57}
"""Each channel's own fault seed, picked so that its first request already meets a fault: every channel surely
meets faults, however few calls it makes before and after the kills."""


def _materialize(config: Path, home: Path) -> subprocess.Popen:
    env = {**os.environ, "SHOPKEEP_CONFIG": str(config), "DAGSTER_HOME": str(home)}
    return subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", "materialize", "--select", SELECT],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: the kill takes dbt and every child with it
    )


@pytest.fixture
def real_clock():
    with live_clock():
        yield


def test_a_load_killed_twice_under_20_percent_faults_still_equals_the_world(
    real_clock, tmp_path, truth_for_shop, serve_totals, start_stack
):
    from sandbox.shop.generate import generate

    world = generate(seed=11, days=25, orders_per_day=30, end_date=yesterday_local())
    assert set(SEEDS) == set(world.shops["shop_id"])  # all five channels
    faults = {
        shop: Faults(FaultConfig(rate=0.2, seed=seed, timeout_seconds=0.3)) for shop, seed in SEEDS.items()
    }
    stack = start_stack(world, tmp_path, history_days=HISTORY_DAYS, faults=faults)
    home = tmp_path / "dagster_home"
    home.mkdir()
    rng = random.Random(20261123)
    try:
        for _ in range(2):  # two loads killed at random points
            proc = _materialize(stack.config_path, home)
            time.sleep(rng.uniform(3, 20))
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc = _materialize(stack.config_path, home)
        output, _ = proc.communicate(timeout=900)
        assert proc.returncode == 0, output[-4000:]
    finally:
        for server in stack.servers.values():
            server.stop()

    assert all(f.counts for f in faults.values()), {shop: f.counts for shop, f in faults.items()}
    injected = Counter()
    for channel_faults in faults.values():
        injected.update(channel_faults.counts)
    assert set(injected) == {"throttle", "server_error", "timeout", "truncated", "overlap"}
    settings = stack.settings()
    for shop_id in world.shops["shop_id"]:
        assert serve_totals(settings.serve_path, shop_id) == truth_for_shop(world, shop_id), shop_id
    with duckdb.connect(str(settings.build_path), read_only=True) as con:
        for table, key in (
            ("int_orders_unified", "order_id"),
            ("int_order_lines_unified", "order_line_id"),
            ("int_refunds_unified", "refund_id"),
            ("int_settlements_unified", "settlement_line_id"),
        ):
            total, distinct = con.execute(
                f"select count(*), count(distinct {key}) from intermediate.{table}"
            ).fetchone()
            assert total == distinct, f"{table} holds a row twice"
        orphans = con.execute(
            "select count(*) from intermediate.int_refunds_unified where order_line_id not in "
            "(select order_line_id from intermediate.int_order_lines_unified)"
        ).fetchone()[0]
        assert orphans == 0, "refunds whose order line is not in the warehouse"
        refunds = dict(
            con.execute(
                "select orders.shop_id, count(*) from intermediate.int_refunds_unified as refunds "
                "join intermediate.int_orders_unified as orders using (order_id) group by 1"
            ).fetchall()
        )
        settled = con.execute(
            "select shop_id, count(*), sum(amount) from intermediate.int_settlements_unified group by 1"
        ).fetchall()
    marketplaces = world.shops[world.shops["channel"] != "shopify"]["shop_id"]
    for shop_id in marketplaces:
        assert refunds.get(shop_id, 0) == len(world.shop(shop_id, "refunds")), f"refunds of {shop_id}"
    # every marketplace bill line: the online window from the API, older ones from the bill exports; the
    # Shopify store's from its Shopify Payments ledger (a charge = its income line + its fee line, as in the world)
    bills = world.bill_lines
    expected = {shop: (len(rows), sum(rows["amount"])) for shop, rows in bills.groupby("shop_id")}
    assert {shop: (n, amount) for shop, n, amount in settled} == expected
