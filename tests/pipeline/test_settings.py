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
    with pytest.raises(ConfigError, match=r"shop 'x1' has channel 'amazon'; expected one of shopify"):
        load_settings(config)


def test_a_missing_secret_names_the_variable_but_never_a_value(tmp_path, monkeypatch):
    config = tmp_path / "shopkeep.toml"
    config.write_text('[[shops]]\nid = "s"\nchannel = "shopify"\nname = "S"\ntoken_env = "MY_SHOP_TOKEN"\n')
    monkeypatch.delenv("MY_SHOP_TOKEN", raising=False)
    settings = load_settings(config)
    with pytest.raises(ConfigError, match="MY_SHOP_TOKEN is not set"):
        settings.secret("MY_SHOP_TOKEN", "token of shop s")


def test_secrets_can_come_from_a_dotenv_file_next_to_the_config(tmp_path, monkeypatch):
    monkeypatch.delenv("MY_SHOP_TOKEN", raising=False)
    (tmp_path / "shopkeep.toml").write_text('[[shops]]\nid = "s"\nchannel = "shopify"\nname = "S"\n')
    (tmp_path / ".env").write_text("# local secrets\nMY_SHOP_TOKEN='shpat_abc'\n")
    settings = load_settings(tmp_path / "shopkeep.toml")
    assert settings.secret("MY_SHOP_TOKEN", "token") == "shpat_abc"
    os.environ.pop("MY_SHOP_TOKEN")  # set by load_dotenv, not by monkeypatch
