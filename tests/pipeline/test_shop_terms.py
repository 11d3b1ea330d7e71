"""Any shop ids: a shop's fee rates, settlement lag, carrier and ship promise come from its channel's defaults
(seeds channel_fee_rates, channel_ship_promises) unless shopkeep.toml sets its own — nothing is keyed by the demo's
shop ids, so a seller's own ids get terms too."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb

from analytics.dbt_cli import run_dbt
from orchestration.ingest import config_assets
from orchestration.settings import load_settings

CONFIG = """
[warehouse]
build_path = "build.duckdb"

[[shops]]
id = "acme-jd"
channel = "jd"
name = "Acme JD"
base_url = "https://api.jd.com/routerjson"
app_key_env = "ACME_JD_APP_KEY"
app_secret_env = "ACME_JD_APP_SECRET"
token_env = "ACME_JD_TOKEN"
commission_rate = 0.065
carrier = "zto"
ship_promise_hours = 24

[[shops]]
id = "acme_tb"
channel = "taobao"
name = "Acme Taobao"
base_url = "https://eco.taobao.com/router/rest"
app_key_env = "ACME_TB_APP_KEY"
app_secret_env = "ACME_TB_APP_SECRET"
token_env = "ACME_TB_TOKEN"
"""


def _config_in_warehouse(tmp_path: Path):
    (tmp_path / "shopkeep.toml").write_text(CONFIG, encoding="utf-8")
    settings = load_settings(tmp_path / "shopkeep.toml")
    with dg.instance_for_test() as instance:
        assert dg.materialize(config_assets(settings), instance=instance).success
    return settings


def test_the_shops_own_terms_reach_the_warehouse_and_the_rest_stay_null(tmp_path):
    settings = _config_in_warehouse(tmp_path)
    with duckdb.connect(str(settings.build_path), read_only=True) as con:
        rows = con.execute(
            "select shop_id, commission_rate, service_fee_rate, carrier, ship_promise_hours, settlement_lag_days "
            "from raw_config.shops order by shop_id"
        ).fetchall()
    assert rows == [
        ("acme-jd", Decimal("0.0650"), None, "zto", 24, None),
        ("acme_tb", None, None, None, None, None),
    ]


def test_a_sellers_own_shop_ids_get_their_channels_terms_unless_they_set_their_own(tmp_path):
    settings = _config_in_warehouse(tmp_path)
    done = run_dbt(
        settings.build_path, tmp_path, "build", "--select", "+int_shop_terms_resolved", "courier_rates",
        "--exclude-resource-type", "unit_test", "--indirect-selection", "cautious",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
    with duckdb.connect(str(settings.build_path), read_only=True) as con:
        terms = con.execute(
            "select shop_id, commission_rate, service_fee_rate, settlement_lag_days, carrier, ship_promise_hours "
            "from intermediate.int_shop_terms_resolved order by shop_id"
        ).fetchall()
    assert terms == [
        (
            "acme-jd",
            Decimal("0.0650"),
            Decimal("0.0100"),
            15,
            "zto",
            24,
        ),  # its own commission, carrier, promise
        ("acme_tb", Decimal("0.0500"), Decimal("0.0060"), 10, "zto", 48),  # taobao's defaults
    ]
