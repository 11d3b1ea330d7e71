"""Sellers unlike the demo: `shopkeep materialize` builds and publishes for any subset of sources, the seller's own
shop ids and the shapes the platforms' docs allow (sandbox/strict.py: optional fields missing, a new shop with no
refunds, bills or listings, a SKU twice in one order), and the published orders and money per shop equal the
simulated shop's own data.

Each setup is a small world (ending yesterday on the tests' clock, so the sandboxes serve all of it) materialised
end to end the way `shopkeep materialize` does it. The full demo setup is tests/pipeline/test_end_to_end.py.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tests.conftest import MARKETPLACES, Setup, in_memory_instance, yesterday_local

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
TINY_SHOP = {"seed": 5, "days": 45, "orders_per_day": 25}
OWN_IDS = (
    ("shopify_global", "acme-store"),
    ("tmall_flagship", "acme_tmall"),
    ("jd_pop", "acme-jd"),
    ("pdd_main", "acme_pdd"),
    ("douyin_live", "acme-live"),
)

SETUPS = {
    # one channel only, a new shop (no refunds, payouts or listings yet), no WMS, no product master, own id
    "shopify_alone_new_shop": Setup(
        api_shops=("shopify_global",), wms=False, product_master=False, rename=OWN_IDS[:1], strict=True,
        empty_for=("shopify_global",),
    ),
    # one marketplace only, its exports for older history, a WMS but no product master (its SKUs are checked
    # against nothing), own id
    "pinduoduo_alone": Setup(
        api_shops=("pdd_main",), product_master=False, rename=OWN_IDS[3:4], strict=True,
    ),
    # the other three marketplaces together, each with its own id, strict shapes, no WMS (product master kept);
    # every channel's absence is covered by the setups above and below (one build instead of three alone)
    "tmall_jd_douyin_without_wms": Setup(
        api_shops=("tmall_flagship", "jd_pop", "douyin_live"), wms=False, rename=(OWN_IDS[1], OWN_IDS[2], OWN_IDS[4]),
        strict=True,
    ),
    # files only: every marketplace's whole history from back-office exports, no API shop, no WMS
    "files_only": Setup(api_shops=(), export_shops=tuple(MARKETPLACES), wms=False, rename=OWN_IDS[1:]),
    # all five channels without WMS and product master, strict shapes, own ids, one new shop; a listing title a
    # spreadsheet would run and an export of bad rows full of buyer data
    "all_five_without_wms_or_product_master": Setup(
        wms=False, product_master=False, rename=OWN_IDS, strict=True, empty_for=("douyin_live",), hostile=True
    ),
}  # fmt: skip


@pytest.fixture(scope="module")
def tiny_world():
    from sandbox.shop.generate import generate

    return generate(**TINY_SHOP, end_date=yesterday_local())


@pytest.mark.parametrize("name", list(SETUPS))
def test_a_seller_setup_unlike_the_demo_materialises_publishes_and_equals_its_own_data(
    name, tiny_world, tmp_path, start_stack, truth_for_shop, serve_totals, capfd, monkeypatch
):
    from orchestration.cli import run_materialize

    setup = SETUPS[name]
    stack = start_stack(tiny_world, tmp_path, setup=setup)
    try:
        settings = stack.settings()
        with ExitStack() as opened:
            if (
                setup.hostile
            ):  # the ops store as `shopkeep materialize` keeps it, on disk, so the scan reads it
                monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
                run_materialize(settings)
                instance = opened.enter_context(dg.DagsterInstance.get())
            else:
                instance = opened.enter_context(in_memory_instance())
                run_materialize(settings, instance=instance)
            runs = [run.run_id for run in instance.get_runs()]
            run_logs = "\n".join(str(r) for run in runs for r in instance.all_logs(run))
    finally:
        for server in stack.servers.values():
            server.stop()
    assert settings.serve_path.exists(), "nothing was published"
    shops = {setup.shop_id(s) for s in (*setup.api_shops, *setup.exported)}
    with duckdb.connect(str(settings.serve_path), read_only=True) as con:
        published = {r[0] for r in con.execute("select shop_id from marts.shops").fetchall()}
        checks = con.execute("select * from meta.check_results").df()
    assert shops <= published
    for shop_id in shops:
        truth = truth_for_shop(stack.world, shop_id)
        assert truth["orders"] > 20, shop_id
        assert serve_totals(settings.serve_path, shop_id) == truth, shop_id
    failed = checks[(checks["passed"] == False) & (checks["severity"] == "ERROR")]  # noqa: E712
    assert failed.empty, json.dumps(failed.to_dict("records"), default=str, ensure_ascii=False)[:3000]
    if not setup.product_master:
        assert_unmapped_skus_reach_the_marts_flagged(
            settings.serve_path, shops, stack.world.refunds, setup.shop_id("shopify_global")
        )
    if setup.hostile:
        printed = capfd.readouterr()
        assert_no_buyer_datum_in_the_clear_and_no_live_formula(
            tmp_path, settings, run_logs + printed.out + printed.err, runs
        )


def assert_no_buyer_datum_in_the_clear_and_no_live_formula(directory, settings, printed, runs):
    """After a run with bad files full of buyer data and a title a spreadsheet would run: no planted buyer datum
    in the build or serving file, any other file the run wrote (ops store, dlt state), dbt's logs of the run,
    Dagster's run logs or what it printed, and no download of any mart holds one or a live formula; nor does any
    of them hold a sandbox secret (a token, an app secret, the PII salt)."""
    from tests.pipeline import hostile_inputs as hostile

    with duckdb.connect(str(settings.build_path), read_only=True) as con:
        quarantined = con.execute(
            "select count(*) from raw_files.quarantine where source_file like '%orders_bad%'"
        ).fetchone()[0]
    assert quarantined >= 3, "the planted bad rows did not reach the quarantine"
    leaks = hostile.leaks_in_duckdb(settings.build_path) + hostile.leaks_in_duckdb(settings.serve_path)
    leaks += hostile.leaks_in_files(directory, skip={directory / "exports"})
    # the dbt target folders of the run's builds (orchestration/transform.py names them by the Dagster run)
    dbt_runs = [
        d
        for d in (REPO / "dbt_project" / "target").glob("dbt_models-*")
        if d.name.split("-")[1] in {r[:8] for r in runs}
    ]
    assert dbt_runs, "no dbt target folder of the run was found: the scan of dbt's files would prove nothing"
    for run in dbt_runs:
        leaks += hostile.leaks_in_files(run, skip=set())
    leaks += hostile.leaks_in_text("the run's logs and output", printed)
    problems, raw_formulas = hostile.download_problems(settings.serve_path)
    assert raw_formulas > 0, "the hostile title reached no mart: the download check would prove nothing"
    assert leaks + problems == [], "\n".join(leaks + problems)[:3000]


def assert_unmapped_skus_reach_the_marts_flagged(serve_path, shops, world_refunds, shopify_shop):
    """Without a product master every channel code is unmapped: the sales, customers and returns marts still hold
    every paid unit and every returned one (cases not closed; in Shopify only refunds whose money went back, as
    Shopify records no pending one), as `unmapped:<code>` rows flagged is_mapped = false, with costs marked
    estimated."""
    shown = (world_refunds["status"] == "success") | (
        (world_refunds["status"] == "processing") & (world_refunds["shop_id"] != shopify_shop)
    )
    counted = world_refunds[shown].groupby("shop_id")["quantity"].sum()
    with duckdb.connect(str(serve_path), read_only=True) as con:
        for shop_id in shops:
            q = {"shop": shop_id}
            sold = con.execute(
                "select sum(units), bool_or(is_mapped) from marts.daily_sku_sales where shop_id = $shop", q
            ).fetchone()
            assert sold[0] > 0 and sold[1] is False, (shop_id, sold)
            returns = con.execute(
                "select sum(units_sold), bool_or(is_mapped), bool_and(sku like 'unmapped:%'), sum(units_returned)"
                " from marts.return_analysis"
                " where shop_id = $shop",
                q,
            ).fetchone()
            assert returns[:3] == (sold[0], False, True), (shop_id, returns)
            assert returns[3] == counted.get(shop_id, 0), (shop_id, returns, "returned units")
            margins = con.execute(
                "select sum(units), bool_or(is_mapped), bool_or(costs_estimated) from marts.sku_margins where shop_id = $shop",
                q,
            ).fetchone()
            assert margins[1] is False and margins[2] is True, (shop_id, margins)
            customers = con.execute(
                "select count(*), bool_and(has_unmapped_sku) from marts.customer_orders where shop_id = $shop",
                q,
            ).fetchone()
            assert customers[0] > 0 and customers[1] is True, (shop_id, customers)


def test_a_strict_world_keeps_every_shops_truth_while_it_splits_lines_and_renames_shops(tiny_world):
    from sandbox.strict import Strictness, strict_world

    strict = strict_world(tiny_world, Strictness(seed=11), rename=dict(OWN_IDS), empty_for={"acme_pdd"})
    lines, before = strict.order_lines, tiny_world.order_lines
    assert len(lines) > len(before)  # some lines were split into two lines of the same SKU
    assert (lines.groupby(["order_id", "sku"]).size() > 1).any()
    assert lines["paid_amount"].sum() == before["paid_amount"].sum()
    assert lines["quantity"].sum() == before["quantity"].sum()
    assert set(strict.orders["shop_id"]) == {new for _, new in OWN_IDS}
    assert strict.refunds[strict.refunds["shop_id"] == "acme_pdd"].empty
    assert isinstance(strict.orders["created_at"].iloc[0].date(), date)
