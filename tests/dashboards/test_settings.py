"""The dashboards find serve.duckdb from the environment or the config file."""

from __future__ import annotations

import pytest

from dashboards.settings import SettingsError, serve_path


def test_the_environment_variable_wins_over_the_config_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOPKEEP_SERVE_PATH", str(tmp_path / "elsewhere.duckdb"))

    assert serve_path() == tmp_path / "elsewhere.duckdb"


def test_a_relative_serve_path_in_the_config_is_relative_to_the_config_file(tmp_path, monkeypatch):
    config = tmp_path / "conf" / "shop.toml"
    config.parent.mkdir()
    config.write_text('[warehouse]\nserve_path = "data/serve.duckdb"\n', encoding="utf-8")
    monkeypatch.delenv("SHOPKEEP_SERVE_PATH", raising=False)
    monkeypatch.setenv("SHOPKEEP_CONFIG", str(config))
    monkeypatch.chdir(tmp_path)

    assert serve_path() == tmp_path / "conf" / "data" / "serve.duckdb"


def test_the_demo_config_in_the_working_directory_is_used_by_default(tmp_path, monkeypatch):
    (tmp_path / "shopkeep.toml").write_text(
        '[warehouse]\nserve_path = ".shopkeep/serve.duckdb"\n', encoding="utf-8"
    )
    monkeypatch.delenv("SHOPKEEP_SERVE_PATH", raising=False)
    monkeypatch.delenv("SHOPKEEP_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)

    assert serve_path() == tmp_path / ".shopkeep" / "serve.duckdb"


def test_a_missing_config_file_names_the_settings_to_fix(tmp_path, monkeypatch):
    monkeypatch.delenv("SHOPKEEP_SERVE_PATH", raising=False)
    monkeypatch.setenv("SHOPKEEP_CONFIG", str(tmp_path / "nope.toml"))

    with pytest.raises(SettingsError, match="SHOPKEEP_CONFIG.*SHOPKEEP_SERVE_PATH") as info:
        serve_path()
    assert "nope.toml" in str(info.value)
