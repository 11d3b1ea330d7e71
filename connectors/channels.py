"""The sales channels shopkeep speaks, in one place for Python: name -> kind ("store": the seller's own web shop,
"marketplace": a platform that bills the seller). dbt's one list is var `channels` in dbt_project.yml;
tests/connectors/test_channel_registry.py keeps the two equal.

Adding a channel touches: its connector package `connectors/<name>/` (a protocol client, and `source.py` with
`<name>_source` and `load_shop`), its sandbox server `sandbox/<name>.py`, its staging folder
`dbt_project/models/staging/<name>/`, and the two registries."""

from __future__ import annotations

CHANNELS: dict[str, str] = {
    "shopify": "store",
    "taobao": "marketplace",
    "jd": "marketplace",
    "pinduoduo": "marketplace",
    "douyin": "marketplace",
}

MARKETPLACES: tuple[str, ...] = tuple(name for name, kind in CHANNELS.items() if kind == "marketplace")
