"""SKU 详情 SKU drill-down (hidden page, reached from any table or with `?sku=<sku>` in the URL): one master
SKU across the marts — master data (skus), stock (inventory_health, by warehouse), demand history and
forecast (daily_sku_sales, demand_forecasts), the replenishment suggestion, margin by shop × month
(sku_margins) and returns against its other shops (return_shop_comparison)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
import streamlit as st

from dashboards import filters, labels, notices
from dashboards.figures.common import shop_colors
from dashboards.figures.sales import margin_by_shop_month
from dashboards.figures.stock import demand_history_forecast
from dashboards.filters import category_label, status_label
from dashboards.format import integer, local_date, money, money_format, percent
from dashboards.i18n import t
from dashboards.queries import core, finance, sales, sku_detail
from dashboards.tables import SKU_KEY, data_table

PICKER_KEY = "sku_picker"
HISTORY_DAYS = 90
MONEY = money_format()


def _first(frame: pd.DataFrame) -> pd.Series | None:
    return None if frame.empty else frame.iloc[0]


def _num(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and value != value) or value is pd.NA else value


def _days(value: Any) -> str:
    value = _num(value)
    return "—" if value is None else t("sku_days", n=f"{float(value):,.1f}")


sel = filters.current()
choices = core.sku_choices(sel.path, sel.version)


def _picked() -> None:
    """The picker changed: that SKU is the page's now, and the URL says so (a link to share)."""
    value = st.session_state[PICKER_KEY]
    st.session_state[SKU_KEY] = value
    if value:
        st.query_params["sku"] = value
    elif "sku" in st.query_params:
        del st.query_params["sku"]


# The SKU: ?sku= in the URL (a drill-down or a shared link), else the last one shown, else the picker's.
from_url = st.query_params.get("sku")
if from_url:
    st.session_state[SKU_KEY] = from_url
sku = st.session_state.get(SKU_KEY)

options = choices
if sel.categories:
    options = choices[choices["category"].isin(sel.categories) | (choices["sku"] == sku)]
names = dict(zip(options["sku"], options["product_name"], strict=True))
if sku is not None and sku not in names:
    names = {sku: "", **names}
st.session_state[PICKER_KEY] = sku

st.title(t("sku_detail"))
if notices.not_configured(sel, "products", "product_master"):  # master SKUs are the product master's
    st.stop()
st.selectbox(
    t("sku_pick"),
    options=list(names),
    key=PICKER_KEY,
    format_func=lambda s: f"{s} · {names[s]}" if names.get(s) else s,
    placeholder=t("sku_pick_hint"),
    on_change=_picked,
)
if sku is None:
    st.info(t("sku_none_chosen"))
    st.stop()
if st.query_params.get("sku") != sku:
    st.query_params["sku"] = sku

master = _first(sku_detail.sku_rows(sel.path, sel.version, "skus", sku))
if master is None:
    st.warning(t("sku_unknown", sku=sku))
    st.stop()

st.subheader(f"{master['product_name']} · {sku}")
facts = [
    (t("sku_category"), category_label(str(master["category"]))),
    (t("sku_supplier"), master["supplier_name"] or "—"),
    (t("sku_list_price"), money(_num(master["list_price"]))),
    (t("sku_unit_cost"), money(_num(master["unit_cost"]))),
    (t("sku_pack_moq"), f"{integer(_num(master['pack_size']))} / {integer(_num(master['moq']))}"),
    (t("sku_lead_time"), t("sku_days", n=integer(_num(master["lead_time_days"])))),
]
st.caption(" · ".join(f"{label}: {value}" for label, value in facts))
if bool(master["is_kit"]):
    st.info(t("sku_is_kit", n=int(master["kit_component_count"])))

# -- stock ---------------------------------------------------------------------------------------------------
health = _first(sku_detail.sku_rows(sel.path, sel.version, "inventory_health", sku))
st.subheader(t("sku_stock_title"))
if notices.not_configured(sel, "stock", "wms"):
    pass
elif health is None:
    st.caption(t("sku_no_stock"))
else:
    status = str(health["health_status"])
    tiles = [
        (t("sku_health_status"), status_label(status)),
        (t("sku_on_hand"), integer(_num(health["on_hand"]))),
        (t("sku_available"), integer(_num(health["available"]))),
        (t("sku_on_order"), integer(_num(health["on_order"]))),
        (t("sku_days_of_cover"), _days(health["days_of_cover"])),
        (t("sku_stock_value"), money(_num(health["stock_value_cny"]))),
        (t("sku_units_sold_30d"), integer(_num(health["units_sold_30d"]))),
        (t("sku_gmroi"), "—" if _num(health["gmroi_90d"]) is None else f"{float(health['gmroi_90d']):.2f}"),
    ]
    for row in (tiles[:4], tiles[4:]):
        for column, (label, value) in zip(st.columns(4), row, strict=True):
            column.metric(label, value, border=True)
    if bool(health["ghost_listing"]):
        st.warning(t("sku_ghost", listed=integer(_num(health["listed_quantity"]))))
    if (_num(health["overdue_quantity"]) or 0) > 0:
        st.warning(
            t(
                "sku_overdue",
                units=integer(_num(health["overdue_quantity"])),
                lines=integer(_num(health["overdue_po_lines"])),
                since=local_date(health["oldest_overdue_expected_date"]),
            ),
            icon=":material/schedule:",
        )
    st.caption(t("sku_stock_caption", date=local_date(health["stock_date"])))

    by_warehouse = sku_detail.sku_rows(sel.path, sel.version, "inventory_health_by_warehouse", sku)
    if sel.warehouse_ids:
        by_warehouse = by_warehouse[by_warehouse["warehouse_id"].isin(sel.warehouse_ids)]
    by_warehouse = by_warehouse.assign(health_status=by_warehouse["health_status"].map(status_label))
    data_table(
        by_warehouse[
            [
                "warehouse_id",
                "health_status",
                "on_hand",
                "reserved",
                "available",
                "on_order",
                "next_expected_date",
                "daily_demand",
                "days_of_cover",
                "stock_value_cny",
            ]
        ],
        key="sku_by_warehouse",
        filename=f"sku_{sku}_warehouses",
        sku_column=None,
        column_config={
            "warehouse_id": st.column_config.TextColumn(t("filters_warehouses")),
            "health_status": st.column_config.TextColumn(t("sku_health_status")),
            "on_hand": st.column_config.NumberColumn(t("sku_on_hand"), format="%,d"),
            "reserved": st.column_config.NumberColumn(t("sku_reserved"), format="%,d"),
            "available": st.column_config.NumberColumn(t("sku_available"), format="%,d"),
            "on_order": st.column_config.NumberColumn(t("sku_on_order"), format="%,d"),
            "next_expected_date": st.column_config.DateColumn(t("sku_next_expected"), format="YYYY-MM-DD"),
            "daily_demand": st.column_config.NumberColumn(t("sku_daily_demand"), format="%.2f"),
            "days_of_cover": st.column_config.NumberColumn(t("sku_days_of_cover"), format="%.1f"),
            "stock_value_cny": st.column_config.NumberColumn(t("sku_stock_value"), format=MONEY),
        },
    )

# -- demand and replenishment ---------------------------------------------------------------------------------
forecast = sku_detail.sku_rows(sel.path, sel.version, "demand_forecasts", sku)
suggestion = _first(sku_detail.sku_rows(sel.path, sel.version, "replenishment_suggestions", sku))
st.subheader(t("sku_demand_title"))
history_start = (
    pd.Timestamp(forecast["forecast_date"].min()).date() - timedelta(days=HISTORY_DAYS)
    if not forecast.empty
    else sel.last_date - timedelta(days=HISTORY_DAYS - 1)
)
history = sales.sku_daily_units(sel.path, sel.version, sku, history_start)
if history.empty and forecast.empty:
    st.caption(t("sku_no_demand"))
else:
    st.plotly_chart(
        demand_history_forecast(
            history,
            forecast,
            title=t("sku_demand_chart"),
            labels={
                "history": t("sku_units_sold"),
                "forecast": t("sku_forecast"),
                "baseline": t("sku_baseline"),
            },
        ),
        config={"displayModeBar": False},
    )
    if not forecast.empty:
        model = forecast.iloc[0]
        st.caption(
            t(
                "sku_model_caption",
                model=labels.model(model["model_name"]),
                demand_class=labels.demand_class(model["demand_class"]),
                wape=percent(_num(model["wape"])),
                bias=percent(_num(model["bias"])),
            )
        )
    summary = _first(sku_detail.sku_rows(sel.path, sel.version, "demand_forecast_summary", sku))
    if summary is not None and not bool(summary["is_reliable"]):
        wape = _num(summary["wape"])
        st.warning(
            t("sku_forecast_no_backtest")
            if wape is None
            else t(
                "sku_forecast_unreliable",
                wape=percent(wape),
                limit=percent(_num(summary["reliable_max_wape"]), 0),
            ),
            icon=":material/help:",
        )
if suggestion is not None:
    tiles = [
        (t("sku_suggested_qty"), integer(_num(suggestion["suggested_qty"]))),
        (t("sku_suggested_value"), money(_num(suggestion["suggested_value_cny"]))),
        (t("sku_position"), integer(_num(suggestion["position"]))),
        (t("sku_reorder_point"), integer(_num(suggestion["reorder_point"]))),
        (t("sku_safety_stock"), integer(_num(suggestion["safety_stock"]))),
        (
            t("sku_stockout_date"),
            "—" if _num(suggestion["stockout_date"]) is None else local_date(suggestion["stockout_date"]),
        ),
    ]
    for column, (label, value) in zip(st.columns(len(tiles)), tiles, strict=True):
        column.metric(label, value, border=True)
    decision = str(suggestion["decision"])
    (st.warning if decision == "order" else st.caption)(t(f"sku_decision_{decision}"))

# -- margin by shop and month ----------------------------------------------------------------------------------
st.subheader(t("sku_margin_title"))
margins = sku_detail.sku_rows(sel.path, sel.version, "sku_margins", sku)
if sel.shop_ids:
    margins = margins[margins["shop_id"].isin(sel.shop_ids)]
first_month, last_month = finance.margin_months(sel.start, sel.end)
months = pd.to_datetime(margins["month"]).dt.date
margins = margins[(months >= first_month) & (months <= last_month)]
st.caption(t("sku_margin_window", first=first_month.strftime("%Y-%m"), last=last_month.strftime("%Y-%m")))
if margins.empty:
    st.caption(t("sku_no_margins"))
else:
    shops = core.shops(sel.path, sel.version)
    margins = margins.merge(shops[["shop_id", "shop_name"]], on="shop_id", how="left")
    st.plotly_chart(
        margin_by_shop_month(
            margins,
            title=t("sku_margin_chart"),
            colors=shop_colors(shops["shop_id"]),
        ),
        config={"displayModeBar": False},
    )
    data_table(
        margins[
            [
                "month",
                "shop_name",
                "orders",
                "units",
                "net_sales_cny",
                "net_revenue_cny",
                "cogs_cny",
                "platform_fees_cny",
                "fulfilment_cost_cny",
                "return_cost_cny",
                "contribution_margin_cny",
                "margin_pct",
                "return_rate",
            ]
        ],
        key="sku_margins",
        filename=f"sku_{sku}_margins",
        sku_column=None,
        column_config={
            "month": st.column_config.DateColumn(t("sku_month"), format="YYYY-MM"),
            "shop_name": st.column_config.TextColumn(t("shop")),
            "orders": st.column_config.NumberColumn(t("orders"), format="%,d"),
            "units": st.column_config.NumberColumn(t("units"), format="%,d"),
            "net_sales_cny": st.column_config.NumberColumn(t("net_sales"), format=MONEY),
            "net_revenue_cny": st.column_config.NumberColumn(t("net_revenue"), format=MONEY),
            "cogs_cny": st.column_config.NumberColumn(t("sku_cogs"), format=MONEY),
            "platform_fees_cny": st.column_config.NumberColumn(t("sku_platform_fees"), format=MONEY),
            "fulfilment_cost_cny": st.column_config.NumberColumn(t("sku_fulfilment"), format=MONEY),
            "return_cost_cny": st.column_config.NumberColumn(t("sku_return_cost"), format=MONEY),
            "contribution_margin_cny": st.column_config.NumberColumn(
                t("overview_contribution_margin"), format=MONEY
            ),
            "margin_pct": st.column_config.NumberColumn(t("overview_margin_pct"), format="percent"),
            "return_rate": st.column_config.NumberColumn(t("sku_return_rate"), format="percent"),
        },
    )

# -- returns against the SKU's other shops ----------------------------------------------------------------------
st.subheader(t("sku_returns_title"))
returns = sku_detail.sku_rows(sel.path, sel.version, "return_shop_comparison", sku)
if sel.shop_ids:
    returns = returns[returns["shop_id"].isin(sel.shop_ids)]
if returns.empty:
    st.caption(t("sku_no_returns"))
else:
    returns = returns.merge(core.shops(sel.path, sel.version)[["shop_id", "shop_name"]], on="shop_id")
    if returns["is_return_hotspot"].fillna(False).any():
        hot = ", ".join(returns.loc[returns["is_return_hotspot"].fillna(False), "shop_name"].astype(str))
        # a warning, not st.error: an error box means the page itself failed (the browser test looks for them)
        st.warning(t("sku_hotspot", shops=hot), icon=":material/straighten:")
    first = returns.iloc[0]
    st.caption(
        t("sku_returns_caption", start=local_date(first["window_start"]), end=local_date(first["window_end"]))
    )
    data_table(
        returns[
            [
                "shop_name",
                "units_sold",
                "units_returned",
                "return_rate",
                "size_return_rate",
                "other_shops_return_rate",
                "other_shops_size_return_rate",
                "size_return_rate_gap",
                "size_rank_in_category",
                "is_return_hotspot",
            ]
        ],
        key="sku_returns",
        filename=f"sku_{sku}_returns",
        sku_column=None,
        column_config={
            "shop_name": st.column_config.TextColumn(t("shop")),
            "units_sold": st.column_config.NumberColumn(t("units"), format="%,d"),
            "units_returned": st.column_config.NumberColumn(t("sku_units_returned"), format="%,d"),
            "return_rate": st.column_config.NumberColumn(t("sku_return_rate"), format="percent"),
            "size_return_rate": st.column_config.NumberColumn(t("sku_size_return_rate"), format="percent"),
            "other_shops_return_rate": st.column_config.NumberColumn(
                t("sku_other_shops_return_rate"), format="percent"
            ),
            "other_shops_size_return_rate": st.column_config.NumberColumn(
                t("sku_other_shops_size_return_rate"), format="percent"
            ),
            "size_return_rate_gap": st.column_config.NumberColumn(t("sku_size_gap"), format="percent"),
            "size_rank_in_category": st.column_config.NumberColumn(t("sku_size_rank"), format="%d"),
            "is_return_hotspot": st.column_config.CheckboxColumn(t("sku_hotspot_flag")),
        },
    )
