"""One channel registry for Python (connectors/channels.py) and one for dbt (var `channels`): they list the same
channels with the same kinds, and every listed channel has the four parts a channel needs."""

from __future__ import annotations

import importlib
from pathlib import Path

import yaml

from connectors.channels import CHANNELS, MARKETPLACES

REPO = Path(__file__).resolve().parents[2]


def test_python_and_dbt_list_the_same_channels_in_the_same_order_with_the_same_kinds():
    project = yaml.safe_load((REPO / "dbt_project" / "dbt_project.yml").read_text(encoding="utf-8"))
    assert list(project["vars"]["channels"].items()) == list(CHANNELS.items())
    assert set(CHANNELS.values()) == {"store", "marketplace"}
    assert MARKETPLACES == tuple(c for c in CHANNELS if CHANNELS[c] == "marketplace")


def test_every_channel_has_a_connector_a_sandbox_server_and_a_staging_folder():
    for channel in CHANNELS:
        source = importlib.import_module(f"connectors.{channel}.source")
        assert callable(getattr(source, f"{channel}_source")) and callable(source.load_shop), channel
        assert callable(importlib.import_module(f"sandbox.{channel}").create_app), channel
        staging = REPO / "dbt_project" / "models" / "staging" / channel
        assert {p.stem for p in staging.glob("stg_*.sql")} >= {f"stg_{channel}__orders", f"stg_{channel}__listings"}


def test_no_other_module_spells_out_the_channel_list():
    spelled = ('"taobao", "jd", "pinduoduo", "douyin"', "'taobao', 'jd', 'pinduoduo', 'douyin'",
               "taobao, jd, pinduoduo, douyin]")  # fmt: skip
    found = []
    for folder in ("connectors", "orchestration", "dashboards", "analytics", "writeback", "dbt_project/models",
                   "dbt_project/macros", "dbt_project/seeds"):  # fmt: skip
        for path in (REPO / folder).rglob("*"):
            if path.suffix in {".py", ".sql", ".yml"} and "target" not in path.parts:
                text = path.read_text(encoding="utf-8")
                found += [str(path.relative_to(REPO)) for s in spelled if s in text]
    assert found == [], "list channels through connectors/channels.py (Python) or var `channels` (dbt)"
