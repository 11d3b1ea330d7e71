"""Figure builders of the Returns and Reconciliation pages (pure functions, no Streamlit)."""

from __future__ import annotations

import pandas as pd

from dashboards.figures.aftersales import (
    HOTSPOT_COLOR,
    REASON_COLORS,
    STATUS_COLORS,
    outstanding_by_shop,
    reason_mix,
    size_return_heatmap,
    status_mix,
)


def comparison() -> pd.DataFrame:
    rows = [  # sku, product, shop, sold, size returned, enough volume, hotspot
        ("AP-1-M", "裤 M", "pdd_main", 280, 96, True, True),
        ("AP-1-M", "裤 M", "jd_pop", 300, 9, True, False),
        ("AP-1-M", "裤 M", "tmall_flagship", 400, 12, True, False),
        ("AP-2-S", "衫 S", "jd_pop", 100, 10, True, False),
        ("AP-2-S", "衫 S", "pdd_main", 5, 4, False, False),
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "sku",
            "product_name",
            "shop_id",
            "units_sold",
            "size_returned",
            "has_enough_volume",
            "is_return_hotspot",
        ],
    )
    frame["shop_name"] = frame["shop_id"]
    frame["size_return_rate"] = frame["size_returned"] / frame["units_sold"]
    return frame


def test_the_heatmap_puts_the_worst_sku_on_top_and_boxes_the_hotspot_cell():
    fig = size_return_heatmap(comparison(), title="t", rate_label="尺码退货率", low_volume_label="太少")

    heat = fig.data[0]
    assert list(heat.y) == ["AP-1-M 裤 M", "AP-2-S 衫 S"]
    assert list(heat.x) == ["jd_pop", "pdd_main", "tmall_flagship"]
    assert heat.z[0][1] == 96 / 280 and heat.text[0][1] == "⚠ 34%"
    assert heat.text[0][0] == "3%" and heat.z[1][2] is None  # no sales there
    assert heat.z[1][1] is None and "太少" in heat.customdata[1][1]  # too few units: blank, hover says why
    (box,) = fig.layout.shapes
    assert (box.x0, box.x1, box.y0, box.y1) == (0.5, 1.5, -0.5, 0.5)
    assert box.line.color == HOTSPOT_COLOR


def test_the_heatmap_keeps_only_the_worst_rows():
    fig = size_return_heatmap(comparison(), max_rows=1)

    assert list(fig.data[0].y) == ["AP-1-M 裤 M"]


def test_the_reason_mix_is_a_100_percent_bar_per_shop_with_size_first():
    mix = pd.DataFrame(
        [("a", "size", 30), ("a", "quality", 10), ("b", "quality", 5)], columns=["shop_id", "reason", "units"]
    )

    fig = reason_mix(mix, {"size": "尺码", "quality": "质量"}, units_label="件")

    assert [tr.name for tr in fig.data] == ["尺码", "质量"]
    size, quality = fig.data
    shares = dict(zip(size.y, size.x, strict=True))
    assert shares == {"b": 0.0, "a": 0.75}
    assert dict(zip(quality.y, quality.x, strict=True)) == {"b": 1.0, "a": 0.25}
    assert size.marker.color == REASON_COLORS["size"]
    assert fig.layout.barmode == "stack"


def test_status_mix_labels_each_status_with_its_share_and_leaves_out_empty_ones():
    by_status = pd.DataFrame({"status": ["matched", "pending", "orphan_bill"], "orders": [98, 0, 2]})

    fig = status_mix(by_status, {"matched": "已匹配", "orphan_bill": "无对应订单"})

    bar = fig.data[0]
    assert list(bar.y) == ["无对应订单", "已匹配"]
    assert list(bar.text) == ["2 · 2.0%", "98 · 98.0%"]
    assert list(bar.marker.color) == [STATUS_COLORS["orphan_bill"], STATUS_COLORS["matched"]]


def test_outstanding_by_shop_has_a_bar_group_per_shop_in_yuan():
    by_shop = pd.DataFrame(
        {
            "shop_id": ["a", "b"],
            "shop_name": ["店A", "店B"],
            "outstanding_amount": [100.0, 50.5],
            "overdue_amount": [0.0, 20.0],
            "discrepancy_amount": [-2.4, 0.0],
        }
    )

    fig = outstanding_by_shop(by_shop, {"outstanding_amount": "待结算"})

    assert [tr.meta["column"] for tr in fig.data] == [
        "outstanding_amount",
        "overdue_amount",
        "discrepancy_amount",
    ]
    assert fig.data[0].name == "待结算" and list(fig.data[0].y) == ["店B", "店A"]
    assert list(fig.data[0].text) == ["¥50", "¥100"] and list(fig.data[1].text) == ["¥20", ""]
    assert list(fig.data[2].text) == ["", "¥-2"]  # a negative discrepancy: the minus after the ¥, as in tables
    assert fig.layout.xaxis.range[0] < -2.4 and fig.layout.xaxis.range[1] > 100  # labels fit
    assert fig.layout.xaxis.tickprefix == "¥"


def test_figures_accept_empty_frames_without_raising():
    empty = comparison().iloc[0:0]
    assert len(size_return_heatmap(empty).data[0].y) == 0
    assert len(status_mix(pd.DataFrame({"status": [], "orders": []})).data[0].x) == 0
