"""促销 Promotions: per promotion its lift with the 95 % interval, incremental profit and ROI, loss-makers
highlighted; promotion units against the baseline.

Rows are promotion_results' promotions overlapping the selected dates in the selected shops. Totals are sums of
the mart's columns; the combined ROI is Σ incremental profit / Σ promotion cost (ratio of sums). Promotions
cover several SKUs and no warehouse: the category and warehouse filters do not apply.
"""

from __future__ import annotations

import streamlit as st

from dashboards import filters, notices
from dashboards.figures.sales import promo_vs_baseline, promotion_lift
from dashboards.format import integer, local_date, local_timestamp, money, money_format, percent
from dashboards.i18n import t
from dashboards.queries import promotions, serving
from dashboards.ratios import period_ratios, pooled
from dashboards.tables import data_table

sel = filters.current()
SCOPE = filters.file_scope(sel)  # downloads' file names
promos = promotions.promotions(sel.path, sel.version, sel.start, sel.end, sel.shop_ids)

st.title(t("promotions"))
if notices.not_configured(sel, "promotions", "product_master"):
    st.stop()
st.caption(t("promotions_caption", start=local_date(sel.start), end=local_date(sel.end)))
if sel.categories:
    st.caption(t("filters_categories_ignored"))
filters.note_ignored(sel, warehouses=True)
if promos.empty:
    st.info(t("promotions_none"))
    st.stop()

loss_makers = promos[promos["loss_making"].fillna(False).astype(bool)]
profit = promos["incremental_profit_cny"].dropna().sum()
cost = promos["promo_cost_cny"].dropna().sum()
roi = pooled(promos, period_ratios(sel.path, sel.version)["promotion_roi"])
tiles = [
    (t("promotions_count"), integer(len(promos)), None),
    (t("promotions_loss_makers"), integer(len(loss_makers)), None),
    (t("promotions_incremental_profit"), money(profit), None),
    (t("promotions_promo_cost"), money(cost), None),
    (t("promotions_roi"), percent(roi), t("promotions_roi_help")),
]
for column, (label, value, help_text) in zip(st.columns([0.8, 0.8, 1.4, 1.4, 0.9]), tiles, strict=True):
    column.metric(label, value, help=help_text, border=True)
if not loss_makers.empty:  # a warning, not st.error: an error box means the page itself failed
    st.warning(
        t(
            "promotions_loss_alert",
            n=len(loss_makers),
            amount=money(loss_makers["incremental_profit_cny"].sum()),
            ids=", ".join(loss_makers["promo_id"]),
        ),
        icon=":material/trending_down:",
    )

charted = promos[promos["baseline_units"].notna()]
left, right = st.columns(2)
left.plotly_chart(
    promo_vs_baseline(
        charted,
        labels={"baseline": t("promotions_baseline"), "promo": t("promotions_promo")},
        title=t("promotions_vs_baseline_title"),
    ),
    config={"displayModeBar": False},
)
right.plotly_chart(
    promotion_lift(charted, title=t("promotions_lift_title")), config={"displayModeBar": False}
)
right.caption(t("promotions_lift_caption"))

st.subheader(t("promotions_table_title"))
statuses = {s: t(f"promotions_status_{s}") for s in ("scheduled", "running", "finished")}
view = promos.assign(
    status_label=promos["status"].map(statuses).fillna(promos["status"]),
    loss_making=promos["loss_making"].fillna(False).astype(bool),
)
money_col = lambda key: st.column_config.NumberColumn(t(key), format=money_format())  # noqa: E731
columns = {
    "promo_id": st.column_config.TextColumn(t("promotions_promo_id")),
    "promo_name": st.column_config.TextColumn(t("promotions_name")),
    "shop_name": st.column_config.TextColumn(t("promotions_shop")),
    "start_date": st.column_config.DateColumn(t("promotions_start"), format="YYYY-MM-DD"),
    "end_date": st.column_config.DateColumn(t("promotions_end"), format="YYYY-MM-DD"),
    "status_label": st.column_config.TextColumn(t("promotions_status")),
    "loss_making": st.column_config.CheckboxColumn(t("promotions_loss_making")),
    "incremental_profit_cny": money_col("promotions_incremental_profit"),
    "roi": st.column_config.NumberColumn(t("promotions_roi"), format="percent"),
    "lift_pct": st.column_config.NumberColumn(t("promotions_lift"), format="percent"),
    "lift_pct_low": st.column_config.NumberColumn(t("promotions_lift_low"), format="percent"),
    "lift_pct_high": st.column_config.NumberColumn(t("promotions_lift_high"), format="percent"),
    "promo_units": st.column_config.NumberColumn(t("promotions_promo_units"), format="%,d"),
    "baseline_units": st.column_config.NumberColumn(t("promotions_baseline_units"), format="%,.1f"),
    "spend_cny": money_col("promotions_spend"),
    "discount_given_cny": money_col("promotions_discount_given"),
    "promo_cost_cny": money_col("promotions_promo_cost"),
    "margin_negative_skus": st.column_config.ListColumn(t("promotions_margin_negative_skus")),
    "has_full_baseline": st.column_config.CheckboxColumn(t("promotions_full_baseline")),
}

data_table(
    view[list(columns)],
    key="promotions_all",
    filename="promotions",
    file_scope=SCOPE,
    sku_column=None,
    column_config=columns,
)

stamp = serving.published_at(sel.path, sel.version)
if stamp is not None:
    st.caption(t("published_at", ts=local_timestamp(stamp)))
