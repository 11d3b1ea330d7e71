"""对账 Reconciliation: status mix, the mismatches to chase, and what each platform still owes per shop.

Sources: marts.settlement_reconciliation_monthly (KPIs, status mix, amounts per shop) and
marts.settlement_reconciliation (the orders to chase), over the order months the date range overlaps — or
every month with the page's "all months" switch, since an old missing settlement is still owed. Totals,
the chart and the per-shop table are in CNY (the marts' *_cny columns: each order at its month's rate), so a
Shopify store in USD adds up with the marketplaces; the columns marked "shop currency" (with the currency
beside them) are in each shop's own. Shops without bills (no marketplace API, bill exports or Shopify
Payments) are named as not reconciled.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from connectors.channels import MARKETPLACES
from dashboards import filters, notices
from dashboards.figures.aftersales import outstanding_by_shop, status_mix
from dashboards.format import integer, money, money_format
from dashboards.i18n import t
from dashboards.queries import core, finance
from dashboards.ratios import period_ratios, pooled
from dashboards.tables import data_table

PLOT_CONFIG = {"displayModeBar": False}
ALL_MONTHS_KEY = "recon_all_months"
STATUSES_KEY = "recon_statuses"


def status_labels() -> dict[str, str]:
    return {s: t(f"reconciliation_status_{s}") for s in finance.RECON_STATUSES}


sel = filters.current()
SCOPE = filters.file_scope(sel)  # downloads' file names
filters.note_ignored(sel, categories=True, warehouses=True)
st.title(t("reconciliation"))

reconciled = finance.reconciled_shop_ids(sel.path, sel.version)
shops = core.shops(sel.path, sel.version)
picked_shops = shops[shops["shop_id"].isin(sel.shop_ids)] if sel.shop_ids else shops
unreconciled = picked_shops[~picked_shops["shop_id"].isin(reconciled)]
channels = notices.configured_channels(sel.path, sel.version)
if (
    not reconciled
    and channels is not None
    and not channels & set(MARKETPLACES)
    and notices.absent(sel.path, sel.version, "files")
):  # no marketplace shop, no bill exports, and no Shopify Payments ledger: nothing can be reconciled
    st.info(t("not_configured_bills"), icon=":material/link_off:")
    st.stop()

all_months = st.toggle(
    t("reconciliation_all_months"), key=ALL_MONTHS_KEY, help=t("reconciliation_all_months_help")
)
st.caption(
    t("reconciliation_scope_all")
    if all_months
    else t("reconciliation_scope_months", first=f"{sel.start:%Y-%m}", last=f"{sel.end:%Y-%m}")
)

by_shop = finance.reconciliation_by_shop(sel.path, sel.version, sel.start, sel.end, sel.shop_ids, all_months)
if not unreconciled.empty:
    st.caption(t("reconciliation_unreconciled", shops=", ".join(unreconciled["shop_name"])))
st.caption(t("reconciliation_currency_note"))
if by_shop.empty:
    st.info(t("reconciliation_no_rows"))
    st.stop()

# KPIs: the match rate pooled over shops and months as marts.period_ratios declares it; money in CNY.
totals = by_shop.drop(columns=["shop_id", "shop_name", "currency", "match_rate"]).sum()
match_rate = pooled(by_shop, period_ratios(sel.path, sel.version)["match_rate"])
to_chase = sum(int(totals[f"{s}_orders"]) for s in finance.RECON_TO_CHASE)
tiles = [
    (t("reconciliation_match_rate"), f"{match_rate:.2%}" if match_rate is not None else "—", None),
    (t("reconciliation_to_chase_count"), integer(to_chase), t("reconciliation_to_chase_help")),
    (
        t("reconciliation_outstanding"),
        money(totals["outstanding_amount_cny"]),
        t("reconciliation_outstanding_help"),
    ),
    (t("reconciliation_overdue"), money(totals["overdue_amount_cny"]), t("reconciliation_overdue_help")),
    (
        t("reconciliation_discrepancy"),
        money(totals["discrepancy_amount_cny"]),
        t("reconciliation_discrepancy_help"),
    ),
    (t("reconciliation_orphan"), money(totals["orphan_amount_cny"]), t("reconciliation_orphan_help")),
]
for row in (tiles[:3], tiles[3:]):
    for column, (label, value, help_text) in zip(st.columns(len(row)), row, strict=True):
        column.metric(label, value, help=help_text, border=True)

left, right = st.columns(2)
mix = pd.DataFrame(
    {
        "status": list(finance.RECON_STATUSES),
        "orders": [int(totals[f"{s}_orders"]) for s in finance.RECON_STATUSES],
    }
)
left.plotly_chart(
    status_mix(mix, status_labels(), title=t("reconciliation_status_mix_title")), config=PLOT_CONFIG
)
right.plotly_chart(
    outstanding_by_shop(
        by_shop.assign(  # in CNY: one axis for every shop
            outstanding_amount=by_shop["outstanding_amount_cny"],
            overdue_amount=by_shop["overdue_amount_cny"],
            discrepancy_amount=by_shop["discrepancy_amount_cny"],
        ),
        {
            "outstanding_amount": t("reconciliation_outstanding"),
            "overdue_amount": t("reconciliation_overdue"),
            "discrepancy_amount": t("reconciliation_discrepancy"),
        },
        title=t("reconciliation_by_shop_title"),
    ),
    config=PLOT_CONFIG,
)

# The orders to chase.
st.subheader(t("reconciliation_chase_title"))
if STATUSES_KEY not in st.session_state:
    st.session_state[STATUSES_KEY] = list(finance.RECON_TO_CHASE)
picked = st.multiselect(
    t("reconciliation_status_filter"),
    options=list(finance.RECON_STATUSES),
    key=STATUSES_KEY,
    format_func=status_labels().__getitem__,
    placeholder=t("reconciliation_status_filter_hint"),
)
chase = finance.reconciliation_to_chase(
    sel.path,
    sel.version,
    sel.start,
    sel.end,
    sel.shop_ids,
    tuple(picked) or finance.RECON_TO_CHASE,
    all_months,
)
chase = chase.assign(status=chase["status"].map(status_labels()).fillna(chase["status"]))
data_table(
    chase[
        [
            "status",
            "shop_name",
            "platform_order_id",
            "order_date",
            "due_date",
            "days_overdue",
            "difference_cny",
            "currency",
            "expected_settlement",
            "settled_amount",
            "difference",
            "bill_lines",
            "duplicated_bill_lines",
            "last_settled_date",
            "order_id",
        ]
    ],
    key="recon_chase",
    filename="reconciliation_to_chase",
    file_scope=SCOPE,
    sku_column=None,
    column_config={
        "status": st.column_config.TextColumn(t("reconciliation_status")),
        "shop_name": st.column_config.TextColumn(t("shop")),
        "platform_order_id": st.column_config.TextColumn(t("reconciliation_platform_order_id")),
        "order_date": st.column_config.DateColumn(t("reconciliation_order_date"), format="YYYY-MM-DD"),
        "due_date": st.column_config.DateColumn(t("reconciliation_due_date"), format="YYYY-MM-DD"),
        "days_overdue": st.column_config.NumberColumn(t("reconciliation_days_overdue"), format="%d"),
        "difference_cny": st.column_config.NumberColumn(
            t("reconciliation_difference"), format=money_format()
        ),
        "currency": st.column_config.TextColumn(t("reconciliation_currency")),
        "expected_settlement": st.column_config.NumberColumn(
            t("reconciliation_in_shop_currency", what=t("reconciliation_expected")), format="%,.2f"
        ),
        "settled_amount": st.column_config.NumberColumn(
            t("reconciliation_in_shop_currency", what=t("reconciliation_settled")), format="%,.2f"
        ),
        "difference": st.column_config.NumberColumn(
            t("reconciliation_in_shop_currency", what=t("reconciliation_difference")), format="%,.2f"
        ),
        "bill_lines": st.column_config.NumberColumn(t("reconciliation_bill_lines"), format="%d"),
        "duplicated_bill_lines": st.column_config.NumberColumn(
            t("reconciliation_duplicated_lines"), format="%d"
        ),
        "last_settled_date": st.column_config.DateColumn(
            t("reconciliation_last_settled"), format="YYYY-MM-DD"
        ),
        "order_id": st.column_config.TextColumn(t("reconciliation_order_id")),
    },
)

# Per shop.
st.subheader(t("reconciliation_shop_table_title"))
data_table(
    by_shop[
        [
            "shop_name",
            "orders",
            "match_rate",
            "matched_orders",
            "pending_orders",
            "amount_mismatch_orders",
            "missing_settlement_orders",
            "duplicate_bill_orders",
            "orphan_bill_orders",
            "expected_amount_cny",
            "settled_amount_cny",
            "outstanding_amount_cny",
            "overdue_amount_cny",
            "discrepancy_amount_cny",
            "orphan_amount_cny",
            "currency",
            "outstanding_amount",
        ]
    ],
    key="recon_by_shop",
    filename="reconciliation_by_shop",
    file_scope=SCOPE,
    sku_column=None,
    column_config={
        "shop_name": st.column_config.TextColumn(t("shop")),
        "orders": st.column_config.NumberColumn(t("orders"), format="%,d"),
        "match_rate": st.column_config.NumberColumn(t("reconciliation_match_rate"), format="percent"),
        **{
            f"{s}_orders": st.column_config.NumberColumn(t(f"reconciliation_status_{s}"), format="%,d")
            for s in finance.RECON_STATUSES
        },
        **{
            f"{a}_amount_cny": st.column_config.NumberColumn(
                t(f"reconciliation_{label}"), format=money_format()
            )
            for a, label in (
                ("expected", "expected"),
                ("settled", "settled"),
                ("outstanding", "outstanding"),
                ("overdue", "overdue"),
                ("discrepancy", "discrepancy"),
                ("orphan", "orphan"),
            )
        },
        "currency": st.column_config.TextColumn(t("reconciliation_currency")),
        "outstanding_amount": st.column_config.NumberColumn(
            t("reconciliation_in_shop_currency", what=t("reconciliation_outstanding")), format="%,.2f"
        ),
    },
)
