"""What every figure builder shares: the palette and font, a stable colour per shop, the base layout, the wall
screen's colours, and the small label/money helpers.
"""

from __future__ import annotations

from collections.abc import Iterable

import plotly.graph_objects as go

from dashboards.format import symbol

PALETTE = ["#2563eb", "#f97316", "#16a34a", "#dc2626", "#9333ea", "#0891b2", "#ca8a04", "#db2777"]
FONT = "Source Sans Pro, PingFang SC, Microsoft YaHei, Noto Sans CJK SC, WenQuanYi Micro Hei, sans-serif"


def shop_colors(shop_ids: Iterable[str]) -> dict[str, str]:
    """A stable colour per shop id (sorted ids take the palette in order)."""
    return {shop: PALETTE[i % len(PALETTE)] for i, shop in enumerate(sorted(set(shop_ids)))}


def _base_layout(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 16}},
        template="plotly_white",
        font={"family": FONT, "size": 13},
        height=height,
        margin={"l": 8, "r": 8, "t": 48, "b": 8},
        hoverlabel={"font": {"family": FONT}},
    )
    return fig


WALL_BACKGROUND = "#0b1220"
WALL_TEXT = "#e5e7eb"


def _yuan(value: float) -> str:
    """The reporting currency without decimals, the minus after the sign as everywhere: -2.5 -> '¥-2'."""
    return f"{symbol()}{value:,.0f}"


def _label(labels: dict[str, str] | None, key: str) -> str:
    return (labels or {}).get(key, key)
