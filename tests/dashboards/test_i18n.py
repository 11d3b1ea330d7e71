"""The dashboards' texts live in one TOML file per page or shared area (dashboards/strings/), loaded once; a key
may live in one file only."""

from __future__ import annotations

import pytest

from dashboards.i18n import STRINGS, STRINGS_DIR, StringsError, load_strings, t


def test_a_key_defined_in_two_files_stops_the_load_naming_both_files(tmp_path):
    (tmp_path / "overview.toml").write_text('[gmv]\nzh = "GMV 成交额"\nen = "GMV"\n', encoding="utf-8")
    (tmp_path / "channels.toml").write_text('[gmv]\nzh = "成交额"\nen = "Sales"\n', encoding="utf-8")

    with pytest.raises(
        StringsError, match=r"'gmv' is defined twice: in channels\.toml and in overview\.toml"
    ):
        load_strings(tmp_path)


def test_a_text_without_its_english_stops_the_load_naming_the_file_and_the_key(tmp_path):
    (tmp_path / "pnl.toml").write_text('[pnl]\nzh = "经营月报"\n', encoding="utf-8")

    with pytest.raises(StringsError, match=r"pnl\.toml: \[pnl\] needs exactly a zh and an en text"):
        load_strings(tmp_path)


def test_the_shipped_files_give_every_key_both_languages_and_t_reads_the_one_asked_for():
    assert {"app.toml", "common.toml", "overview.toml"} <= {p.name for p in STRINGS_DIR.glob("*.toml")}
    assert all(set(entry) == {"zh", "en"} for entry in STRINGS.values())
    assert t("app_title", lang="zh") == "shopkeep 经营分析"
    assert t("not_published", lang="en", path="/x/serve.duckdb").startswith("No published warehouse at /x/")
