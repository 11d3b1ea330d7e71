"""Codes the marts hold, shown in the session's language: channels (`taobao` -> 天猫 / 淘宝), forecast models
(`croston_optimized`), demand classes (`intermittent`), warehouse sources (`raw_jd`) and the tables a source
loads (`inventory_levels`). A code without a translation is shown as it is, so a new one is never hidden."""

from __future__ import annotations

from dashboards.i18n import STRINGS, t


def _label(prefix: str, code: object) -> str:
    if code is None or code != code:  # None or NaN
        return "—"
    key = f"{prefix}{code}"
    return t(key) if key in STRINGS else str(code)


def channel(code: object) -> str:
    """A shop's channel (marts.shops.channel): 'jd' -> '京东' / 'JD'."""
    return _label("label_channel_", code)


def model(code: object) -> str:
    """A forecast model (demand_forecast_summary.model_name): 'moving_average_28' -> '28 天均值'."""
    return _label("label_model_", code)


def demand_class(code: object) -> str:
    """A demand class (demand_forecast_summary.demand_class): 'intermittent' -> '间歇性'."""
    return _label("label_demand_class_", code)


def source(code: object) -> str:
    """A warehouse source (source_freshness.source_name, the raw schema): 'raw_jd' -> '京东', 'raw_wms' -> 'WMS'."""
    name = str(code).removeprefix("raw_") if isinstance(code, str) else code
    if f"label_channel_{name}" in STRINGS:
        return channel(name)
    return _label("label_source_", name)


def entity(code: object) -> str:
    """What a source table holds (source_freshness.table_name): 'inventory_levels' -> '库存水平'."""
    return _label("label_entity_", code)
