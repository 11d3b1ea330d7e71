"""售后 Returns: return and size-return rates by SKU × shop, with the size-return hotspots on top.

Sources: marts.return_shop_comparison (the hotspot list and the SKU × shop heatmap, over the mart's own
window of matured orders) and marts.return_analysis (KPIs, reason mix and the SKU × shop table, over the
order months the date range overlaps). Rates across months or shops are ratios of sums of mart columns.
"""

from __future__ import annotations

import streamlit as st

from dashboards import filters, notices
from dashboards.figures.aftersales import reason_mix, size_return_heatmap
from dashboards.filters import category_label
from dashboards.format import integer, local_date, money, money_format
from dashboards.i18n import t
from dashboards.queries import returns
from dashboards.tables import data_table

PLOT_CONFIG = {"displayModeBar": False}
MAX_ALERTS = 5  # the largest gaps as alerts; every hotspot is in the table below them


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def reason_labels() -> dict[str, str]:
    return {r: t(f"returns_reason_{r}") for r in returns.RETURN_REASONS}


sel = filters.current()
SCOPE = filters.file_scope(sel)  # downloads' file names
filters.note_ignored(sel, warehouses=True)
st.title(t("returns"))

hot = returns.return_hotspots(sel.path, sel.version, sel.shop_ids, sel.categories)
cats = returns.return_categories(sel.path, sel.version, sel.shop_ids, sel.categories)
kpis = returns.returns_kpis(sel.path, sel.version, sel.start, sel.end, sel.shop_ids, sel.categories)
if notices.not_configured(sel, "returns", "product_master") and not kpis["units_sold"]:
    st.stop()

# 1. The hotspots first: one SKU returning far more for size in one shop than in the SKU's other shops.
window = (
    t(
        "returns_window_caption",
        start=local_date(cats["window_start"].min().date()),
        end=local_date(cats["window_end"].max().date()),
    )
    if not cats.empty
    else ""
)
st.subheader(t("returns_hotspots_title"))
if hot.empty:
    st.success(t("returns_no_hotspot"), icon=":material/check_circle:")
else:
    for row in hot.head(MAX_ALERTS).itertuples():  # a warning: an error box means the page itself failed
        st.warning(
            t(
                "returns_hotspot_alert",
                sku=row.sku,
                product=row.product_name,
                shop=row.shop_name,
                rate=pct(row.size_return_rate),
                others=pct(row.other_shops_size_return_rate),
                gap=f"{row.size_return_rate_gap * 100:.1f}",
            ),
            icon=":material/warning:",
        )
    if len(hot) > MAX_ALERTS:
        st.caption(t("returns_more_hotspots", n=f"{len(hot) - MAX_ALERTS:,}"))
    data_table(
        hot[
            [
                "sku",
                "product_name",
                "shop_name",
                "units_sold",
                "size_returned",
                "size_return_rate",
                "other_shops_size_return_rate",
                "size_return_rate_gap",
                "return_rate",
                "size_rank_in_category",
            ]
        ],
        key="returns_hotspots",
        filename="returns_hotspots",
        file_scope=SCOPE,
        column_config={
            "sku": st.column_config.TextColumn("SKU"),
            "product_name": st.column_config.TextColumn(t("returns_product")),
            "shop_name": st.column_config.TextColumn(t("shop")),
            "units_sold": st.column_config.NumberColumn(t("returns_units_sold"), format="%,d"),
            "size_returned": st.column_config.NumberColumn(t("returns_size_returned"), format="%,d"),
            "size_return_rate": st.column_config.NumberColumn(t("returns_size_rate"), format="percent"),
            "other_shops_size_return_rate": st.column_config.NumberColumn(
                t("returns_other_shops_size_rate"), format="percent"
            ),
            "size_return_rate_gap": st.column_config.NumberColumn(t("returns_gap_points"), format="percent"),
            "return_rate": st.column_config.NumberColumn(t("returns_return_rate"), format="percent"),
            "size_rank_in_category": st.column_config.NumberColumn(
                t("returns_rank_in_category"), format="%d"
            ),
        },
    )
if window:
    st.caption(window)

# 2. KPIs over the order months the date range overlaps.
if kpis["first_month"] is not None:
    st.caption(
        t(
            "returns_months_caption",
            first=f"{kpis['first_month']:%Y-%m}",
            last=f"{kpis['last_month']:%Y-%m}",
        )
    )
tiles = [
    (t("returns_units_sold"), integer(kpis["units_sold"])),
    (t("returns_units_returned"), integer(kpis["units_returned"])),
    (t("returns_return_rate"), pct(kpis["return_rate"])),
    (t("returns_size_rate"), pct(kpis["size_return_rate"])),
    (t("returns_refunds"), money(kpis["refund_amount_cny"])),
]
for column, (label, value) in zip(st.columns(len(tiles)), tiles, strict=True):
    column.metric(label, value, border=True)

# 3. SKU × shop heatmap of the size-return rate within one category (hotspot categories first).
options = list(cats["category"])
if options:
    if st.session_state.get("returns_category") not in options:
        st.session_state["returns_category"] = options[0]
    category = st.selectbox(
        t("returns_category_pick"), options=options, key="returns_category", format_func=category_label
    )
    cells = returns.return_heatmap(sel.path, sel.version, category, sel.shop_ids)
    if cells.empty:
        st.info(t("returns_heatmap_empty"))
    else:
        st.plotly_chart(
            size_return_heatmap(
                cells,
                title=t("returns_heatmap_title", category=category_label(category)),
                rate_label=t("returns_size_rate"),
                low_volume_label=t("returns_low_volume"),
            ),
            config=PLOT_CONFIG,
        )
        st.caption(t("returns_heatmap_caption"))

# 4. Why they come back, per shop.
mix = returns.returns_reason_mix(sel.path, sel.version, sel.start, sel.end, sel.shop_ids, sel.categories)
if not mix.empty:
    st.plotly_chart(
        reason_mix(
            mix,
            reason_labels(),
            title=t("returns_reason_mix_title"),
            units_label=t("returns_units"),
        ),
        config=PLOT_CONFIG,
    )

# 5. Every SKU × shop.
st.subheader(t("returns_table_title"))
table = returns.returns_by_sku_shop(sel.path, sel.version, sel.start, sel.end, sel.shop_ids, sel.categories)
if not table.empty and int(table["pairs_total"].iloc[0]) > len(table):
    st.caption(
        t("returns_table_limited", shown=f"{len(table):,}", total=f"{int(table['pairs_total'].iloc[0]):,}")
    )
table = table.assign(
    top_reason=table["top_reason"].map(reason_labels()).fillna(table["top_reason"]),
    category=table["category"].map(category_label, na_action="ignore"),
)
data_table(
    table[
        [
            "sku",
            "product_name",
            "category",
            "shop_name",
            "units_sold",
            "units_returned",
            "return_rate",
            "returned_size",
            "size_return_rate",
            "top_reason",
            "refund_amount_cny",
        ]
    ],
    key="returns_by_sku_shop",
    filename="returns_by_sku_shop",
    file_scope=SCOPE,
    column_config={
        "sku": st.column_config.TextColumn("SKU"),
        "product_name": st.column_config.TextColumn(t("returns_product")),
        "category": st.column_config.TextColumn(t("filters_categories")),
        "shop_name": st.column_config.TextColumn(t("shop")),
        "units_sold": st.column_config.NumberColumn(t("returns_units_sold"), format="%,d"),
        "units_returned": st.column_config.NumberColumn(t("returns_units_returned"), format="%,d"),
        "return_rate": st.column_config.ProgressColumn(
            t("returns_return_rate"), format="percent", min_value=0.0, max_value=1.0
        ),
        "returned_size": st.column_config.NumberColumn(t("returns_size_returned"), format="%,d"),
        "size_return_rate": st.column_config.NumberColumn(t("returns_size_rate"), format="percent"),
        "top_reason": st.column_config.TextColumn(t("returns_top_reason")),
        "refund_amount_cny": st.column_config.NumberColumn(t("returns_refunds"), format=money_format()),
    },
)
