"""shopkeep.toml: the shipped demo config loads; mistakes are refused with a message that says how to fix them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orchestration.settings import ConfigError, load_settings

REPO = Path(__file__).resolve().parents[2]


def test_the_demo_config_lists_five_shops_and_resolves_paths_next_to_itself():
    settings = load_settings(REPO / "shopkeep.toml")
    assert [s.id for s in settings.shops] == [
        "shopify_global",
        "tmall_flagship",
        "jd_pop",
        "pdd_main",
        "douyin_live",
    ]
    assert settings.build_path == REPO / ".shopkeep" / "build.duckdb"
    assert settings.serve_path.parent == settings.build_path.parent


def test_an_unknown_channel_is_refused_naming_the_shop(tmp_path):
    config = tmp_path / "shopkeep.toml"
    config.write_text('[[shops]]\nid = "x1"\nchannel = "amazon"\nname = "X"\n')
    with pytest.raises(
        ConfigError, match=r"shops\[0\] \(id 'x1'\)\.channel: expected one of shopify, .*got \"amazon\""
    ):
        load_settings(config)


def test_a_missing_secret_names_the_variable_but_never_a_value(tmp_path, monkeypatch):
    config = tmp_path / "shopkeep.toml"
    config.write_text(
        '[[shops]]\nid = "s"\nchannel = "shopify"\nname = "S"\nbase_url = "https://s.myshopify.com"\n'
        'token_env = "MY_SHOP_TOKEN"\n'
    )
    monkeypatch.delenv("MY_SHOP_TOKEN", raising=False)
    settings = load_settings(config)
    with pytest.raises(ConfigError, match="MY_SHOP_TOKEN is not set"):
        settings.secret("MY_SHOP_TOKEN", "token of shop s")


def test_secrets_can_come_from_a_dotenv_file_next_to_the_config(tmp_path, monkeypatch):
    monkeypatch.delenv("MY_SHOP_TOKEN", raising=False)
    (tmp_path / "shopkeep.toml").write_text(
        '[[shops]]\nid = "s"\nchannel = "shopify"\nname = "S"\nbase_url = "https://s.myshopify.com"\n'
        'token_env = "MY_SHOP_TOKEN"\n'
    )
    (tmp_path / ".env").write_text("# local secrets\nMY_SHOP_TOKEN='shpat_abc'\n")
    settings = load_settings(tmp_path / "shopkeep.toml")
    assert settings.secret("MY_SHOP_TOKEN", "token") == "shpat_abc"
    os.environ.pop("MY_SHOP_TOKEN")  # set by load_dotenv, not by monkeypatch


# -- every mistake in the file is one line naming the key ------------------------------------------------------

DEMO = (REPO / "shopkeep.toml").read_text(encoding="utf-8")


def _refusal(tmp_path: Path, text: str) -> str:
    config = tmp_path / "shopkeep.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(config)
    message = str(info.value)
    assert "\n" not in message, "a configuration error is one line"
    assert message.startswith(f"{config}: ")
    return message.removeprefix(f"{config}: ")


def test_a_misspelt_warehouse_key_is_refused_instead_of_building_the_warehouse_elsewhere(tmp_path):
    message = _refusal(tmp_path, DEMO.replace("build_path =", "biuld_path ="))
    assert message.startswith(
        "warehouse.biuld_path: unknown key (did you mean build_path?); expected one of "
    )


def test_a_memory_limit_reaches_dbt_and_a_percentage_is_refused(tmp_path):
    assert load_settings(REPO / "shopkeep.toml").dbt_env["SHOPKEEP_DUCKDB_MEMORY_LIMIT"] == ""  # DuckDB's own
    config = tmp_path / "shopkeep.toml"
    config.write_text(DEMO.replace("[warehouse]\n", '[warehouse]\nmemory_limit = "6GB"\n', 1), encoding="utf-8")
    assert load_settings(config).dbt_env["SHOPKEEP_DUCKDB_MEMORY_LIMIT"] == "6GB"
    message = _refusal(tmp_path, DEMO.replace("[warehouse]\n", '[warehouse]\nmemory_limit = "80%"\n', 1))
    assert message.startswith('warehouse.memory_limit: expected an amount DuckDB reads, e.g. "6GB"'), message


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("[warehouse]", "[warehose]", "warehose: unknown section (did you mean warehouse?)"),
        ('token_env = "WMS_TOKEN"', 'token = "WMS_TOKEN"', "wms.token: unknown key"),
        ("directory = ", "dir = ", "files.dir: unknown key"),
        (
            'path = ".shopkeep/demo/product_master.xlsx"',
            'file = "pm.xlsx"',
            "product_master.file: unknown key",
        ),
        ("orders_per_day = 150", "order_per_day = 150", "demo.order_per_day: unknown key (did you mean"),
        ('currency = "USD"', 'curency = "USD"', "shops[0] (id 'shopify_global').curency: unknown key"),
    ],
)
def test_unknown_keys_are_refused_in_every_section(tmp_path, old, new, where):
    assert old in DEMO
    assert _refusal(tmp_path, DEMO.replace(old, new, 1)).startswith(where)


def test_a_history_days_in_words_names_the_shop_and_the_key(tmp_path):
    jd = DEMO.index('id = "jd_pop"')
    text = DEMO[:jd] + DEMO[jd:].replace("history_days = 90", 'history_days = "thirty"', 1)
    assert (
        _refusal(tmp_path, text) == "shops[2] (id 'jd_pop').history_days: expected an integer, got \"thirty\""
    )


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            'api_version = "2025-07"',
            'enabled = "yes"',
            "shops[0] (id 'shopify_global').enabled: expected true or false",
        ),
        ("backfill_days = 90", 'backfill_days = "90"', 'wms.backfill_days: expected an integer, got "90"'),
        ('warehouses = ["WH-SH", "WH-GZ"]', 'warehouses = "WH-SH"', "wms.warehouses: expected a list"),
        ("days = 540", "days = 540.5", "demo.days: expected an integer, got 540.5"),
        (
            'end_date = ""',
            'end_date = "30/06/2026"',
            'demo.end_date: expected a date YYYY-MM-DD, got "30/06/2026"',
        ),
        (
            'timezone = "Asia/Shanghai"',
            'timezone = "Beijing"',
            "shops[0] (id 'shopify_global').timezone: \"Beijing\"",
        ),
    ],
)
def test_values_of_the_wrong_type_are_refused_naming_the_key(tmp_path, old, new, problem):
    assert old in DEMO
    assert _refusal(tmp_path, DEMO.replace(old, new, 1)).startswith(problem)


def test_an_enabled_shop_without_base_url_names_the_key_and_the_fix(tmp_path):
    message = _refusal(tmp_path, DEMO.replace('base_url = "http://127.0.0.1:8714"\n', ""))
    assert message.startswith("shops[3] (id 'pdd_main').base_url: missing for an enabled shop")
    assert "enabled = false" in message


def test_a_disabled_shop_may_leave_its_address_and_credentials_out(tmp_path):
    config = tmp_path / "shopkeep.toml"
    config.write_text('[[shops]]\nid = "later"\nchannel = "jd"\nname = "Not yet"\nenabled = false\n')
    assert load_settings(config).enabled_shops == ()


def test_a_marketplace_shop_without_its_app_key_variable_names_the_key(tmp_path):
    message = _refusal(tmp_path, DEMO.replace('app_key_env = "PDD_MAIN_APP_KEY"\n', ""))
    assert message.startswith("shops[3] (id 'pdd_main').app_key_env: missing; name the environment variable")
    assert 'app_key_env = "PDD_MAIN_APP_KEY"' in message


def test_a_rate_given_as_a_percentage_is_refused(tmp_path):
    text = DEMO.replace('channel = "jd"', 'channel = "jd"\ncommission_rate = 8', 1)
    assert _refusal(tmp_path, text).startswith(
        "shops[2] (id 'jd_pop').commission_rate: expected a fraction from 0 to below 1 (0.05 = 5 %), got 8"
    )


def test_a_shop_id_that_would_break_export_file_names_is_refused(tmp_path):
    message = _refusal(tmp_path, DEMO.replace('id = "jd_pop"', 'id = "jd__pop"'))
    assert message.startswith("shops[2] (id 'jd__pop').id:")


def test_per_shop_terms_are_read_as_exact_decimals_and_default_to_the_channel(tmp_path):
    from decimal import Decimal

    config = tmp_path / "shopkeep.toml"
    config.write_text(
        DEMO.replace(
            'channel = "jd"',
            'channel = "jd"\ncommission_rate = 0.07\nsettlement_lag_days = 20\ncarrier = "sf"\nship_promise_hours = 24',
            1,
        )
    )
    shops = {s.id: s for s in load_settings(config).shops}
    assert shops["jd_pop"].commission_rate == Decimal("0.07")
    assert (shops["jd_pop"].settlement_lag_days, shops["jd_pop"].carrier) == (20, "sf")
    assert shops["jd_pop"].ship_promise_hours == 24
    assert shops["pdd_main"].commission_rate is None  # the channel's default (seed channel_fee_rates)


def test_a_missing_salt_names_the_variable_and_how_to_make_one(tmp_path, monkeypatch):
    monkeypatch.delenv("SHOPKEEP_PII_SALT", raising=False)
    config = tmp_path / "shopkeep.toml"
    config.write_text("[warehouse]\n")
    with pytest.raises(ConfigError) as info:
        load_settings(config).pii_salt()
    assert str(info.value).startswith("environment variable SHOPKEEP_PII_SALT is not set: it salts")
    assert "openssl rand -hex 32" in str(info.value)


def test_a_missing_product_master_file_names_the_key(tmp_path, monkeypatch):
    config = tmp_path / "shopkeep.toml"
    config.write_text('[product_master]\npath = "master.xlsx"\n')
    settings = load_settings(config)
    with pytest.raises(ConfigError) as info:
        settings.check_ready()
    assert f"product_master.path: {tmp_path / 'master.xlsx'} does not exist" in str(info.value)


@pytest.mark.parametrize(
    "old, new, problem",
    [
        ('percent = 90', 'persent = 90', "stock_sync.rules[0] (name 'live_stream'): unknown key 'persent'"),
        ('below_minimum = "delist"', 'below_minimum = "zero"', 'below_minimum must be "delist"'),
        ('subtract = ["reserved", "unpaid_orders"]', 'subtract = ["reserved", "unpaid"]',
         "subtract has 'unpaid'; the quantities are"),
        ('name = "marketplaces"', 'name = "live_stream"', "two rules are named 'live_stream'"),
        ('safety_buffer = 1', 'safety_buffer = -1', "stock_sync.safety_buffer"),
    ],
)  # fmt: skip
def test_a_wrong_stock_rule_is_refused_naming_the_rule_and_the_key(tmp_path, old, new, problem):
    assert old in DEMO
    assert problem in _refusal(tmp_path, DEMO.replace(old, new, 1))


def test_the_demo_stock_rules_are_read_with_their_defaults():
    from writeback.stock.rules import Rule

    rules = {rule.name: rule for rule in load_settings(REPO / "shopkeep.toml").stock_sync.rules}
    assert rules["live_stream"] == Rule("live_stream", priority=10, shops=("douyin_live",), percent=90, minimum=2)
    assert rules["marketplaces"].subtract == ("reserved", "unpaid_orders") and rules["marketplaces"].maximum == 500


@pytest.mark.parametrize(
    "old, new, problem",
    [
        ('address_id = "9001"', "", "suppliers[5] (id 'SUP-06').address_id: a supplier with channel '1688' needs address_id"),
        ('channel = "1688"', 'channel = "alibaba"', "suppliers[5] (id 'SUP-06').channel: expected 'webhook' or '1688'"),
        ('webhook_url = "http://127.0.0.1:8721/suppliers/SUP-01/purchase-orders"', "",
         "suppliers[0] (id 'SUP-01').webhook_url: a supplier with channel 'webhook' needs webhook_url"),
    ],
)  # fmt: skip
def test_a_supplier_missing_what_its_channel_needs_is_refused_naming_the_key(tmp_path, old, new, problem):
    assert old in DEMO
    assert problem in _refusal(tmp_path, DEMO.replace(old, new, 1))


def test_the_demo_orders_from_one_supplier_on_1688_with_its_offer_map_beside_the_demo_data():
    suppliers = {s.id: s for s in load_settings(REPO / "shopkeep.toml").suppliers}
    on_1688 = suppliers["SUP-06"]
    assert (on_1688.channel, on_1688.app_key, on_1688.token_env) == ("1688", "8211001", "SUP06_1688_TOKEN")
    assert on_1688.offers_file == REPO / ".shopkeep/demo/sup06_1688_offers.csv"
    assert {s.channel for s in suppliers.values() if s.id != "SUP-06"} == {"webhook"}


ALERTS = """
[alerts]
muted = ["late_supplier"]
owners = {oversold = "王仓管", reconciliation_mismatch = "李会计"}
reconciliation_threshold_cny = 50
stockout_days = 5

[[alerts.robots]]
name = "ops"
kind = "dingtalk"
url_env = "OPS_DINGTALK_URL"
secret_env = "OPS_DINGTALK_SECRET"
keyword = "店铺告警"

[[alerts.robots]]
name = "finance"
kind = "wecom"
url_env = "FINANCE_WECOM_URL"
kinds = ["reconciliation_mismatch"]
"""


def test_alerts_are_optional_and_read_with_their_robots_mutes_and_owners(tmp_path):
    from decimal import Decimal

    assert load_settings(REPO / "shopkeep.toml").alerts is None  # the demo sends no alerts: logged only
    config = tmp_path / "shopkeep.toml"
    config.write_text(ALERTS)
    alerts = load_settings(config).alerts
    assert [(r.name, r.kind, r.url_env, r.secret_env, r.keyword, r.kinds) for r in alerts.robots] == [
        ("ops", "dingtalk", "OPS_DINGTALK_URL", "OPS_DINGTALK_SECRET", "店铺告警", None),
        ("finance", "wecom", "FINANCE_WECOM_URL", "", "", ("reconciliation_mismatch",)),
    ]
    assert alerts.muted == {"late_supplier"} and dict(alerts.owners)["oversold"] == "王仓管"
    assert alerts.reconciliation_threshold_cny == Decimal("50") and alerts.stockout_days == 5


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ('muted = ["late_supplier"]', 'muted = ["late_suppliers"]',
         r"alerts\.muted\[0\]: expected 'run_failed', .*got \"late_suppliers\""),
        ('oversold = "王仓管"', 'over_sold = "王仓管"', r"alerts\.owners\.over_sold: expected 'run_failed', .*"),
        ('kinds = ["reconciliation_mismatch"]', 'kinds = ["reconciliation"]',
         r"alerts\.robots\[1\] \(name 'finance'\)\.kinds\[0\]: expected 'run_failed', .*got \"reconciliation\""),
        ('kind = "wecom"', 'kind = "feishu"', r"alerts\.robots\[1\] \(name 'finance'\)\.kind: expected 'dingtalk' or 'wecom'"),
        ('url_env = "FINANCE_WECOM_URL"', 'url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"',
         r"alerts\.robots\[1\] \(name 'finance'\)\.url: unknown key"),
        ('name = "finance"', 'name = "ops"', r"alerts\.robots\[1\] \(name 'ops'\)\.name: robot 'ops' appears twice"),
        ('kinds = ["reconciliation_mismatch"]', 'keyword = "x"',
         r"alerts\.robots\[1\] \(name 'finance'\)\.keyword: a WeCom robot has no keyword"),
        ("stockout_days = 5", "stockout_days = 0", r"alerts\.stockout_days: expected a number > 0"),
        ("[alerts]", "[alerts]\nmute = []", r"alerts\.mute: unknown key \(did you mean muted\?\)"),
    ],
)  # fmt: skip
def test_a_wrong_alerts_setting_is_refused_naming_the_key(tmp_path, old, new, problem):
    config = tmp_path / "shopkeep.toml"
    assert old in ALERTS
    config.write_text(ALERTS.replace(old, new, 1))
    with pytest.raises(ConfigError, match=problem):
        load_settings(config)
