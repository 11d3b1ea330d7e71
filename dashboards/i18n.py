"""A tiny dict-based translation helper: `t("gmv")` -> "GMV 成交额" (zh, default) or "GMV" (en).

The current language lives in `st.session_state["lang"]` (set by the sidebar switch in app.py); pass
`lang=` explicitly where there is no Streamlit session (tests, figure builders).
"""

from __future__ import annotations

from typing import Literal

Lang = Literal["zh", "en"]
DEFAULT_LANG: Lang = "zh"
LANG_KEY = "lang"
LANG_NAMES: dict[Lang, str] = {"zh": "中文", "en": "English"}

STRINGS: dict[str, dict[Lang, str]] = {
    "app_title": {"zh": "shopkeep 经营分析", "en": "shopkeep analytics"},
    "section_business": {"zh": "经营", "en": "Business"},
    "overview": {"zh": "经营概览", "en": "Overview"},
    "section_supply": {"zh": "供应链", "en": "Supply"},
    "section_after_sales": {"zh": "售后与财务", "en": "After-sales & finance"},
    "section_operations": {"zh": "运营", "en": "Operations"},
    "channels": {"zh": "渠道", "en": "Channels"},
    "sku_margin": {"zh": "SKU 利润", "en": "SKU margin"},
    "promotions": {"zh": "促销", "en": "Promotions"},
    "customers": {"zh": "客户", "en": "Customers"},
    "inventory": {"zh": "库存健康", "en": "Inventory health"},
    "replenishment": {"zh": "补货", "en": "Replenishment"},
    "returns": {"zh": "售后", "en": "Returns"},
    "reconciliation": {"zh": "对账", "en": "Reconciliation"},
    "exceptions": {"zh": "异常订单", "en": "Order exceptions"},
    "data_status": {"zh": "数据状态", "en": "Data status"},
    "wall": {"zh": "大屏", "en": "Wall screen"},
    "sku_detail": {"zh": "SKU 详情", "en": "SKU detail"},
    "under_construction": {"zh": "此页面正在建设中。", "en": "This page is being built."},
    "filters": {"zh": "筛选", "en": "Filters"},
    "language": {"zh": "语言", "en": "Language"},
    "date_range": {"zh": "日期范围", "en": "Date range"},
    "shops": {"zh": "店铺", "en": "Shops"},
    "all_shops_hint": {"zh": "不选 = 全部店铺", "en": "None selected = all shops"},
    "gmv": {"zh": "GMV 成交额", "en": "GMV"},
    "net_revenue": {"zh": "净收入", "en": "Net revenue"},
    "net_sales": {"zh": "净销售额", "en": "Net sales"},
    "refunds": {"zh": "退款", "en": "Refunds"},
    "orders": {"zh": "订单数", "en": "Orders"},
    "units": {"zh": "件数", "en": "Units"},
    "aov": {"zh": "客单价", "en": "AOV"},
    "shop": {"zh": "店铺", "en": "Shop"},
    "channel": {"zh": "渠道", "en": "Channel"},
    "date": {"zh": "日期", "en": "Date"},
    "share": {"zh": "占比", "en": "Share"},
    "vs_prior": {"zh": "较前 {days} 天", "en": "vs prior {days} days"},
    "prior_help": {"zh": "上期：{start} 至 {end}", "en": "Prior period: {start} to {end}"},
    "no_prior": {"zh": "上期无数据", "en": "no data in prior period"},
    "trend_title": {"zh": "每日净收入（按店铺）", "en": "Daily net revenue by shop"},
    "split_title": {"zh": "净收入店铺占比", "en": "Net revenue by shop"},
    "table_title": {"zh": "分店铺汇总", "en": "By shop"},
    "range_caption": {"zh": "{start} 至 {end}，共 {days} 天", "en": "{start} to {end}, {days} days"},
    "published_at": {"zh": "数据更新于 {ts}", "en": "Data published {ts}"},
    "no_rows": {"zh": "所选范围内没有订单。", "en": "No orders in the selected range."},
    "pick_end_date": {"zh": "请选择结束日期。", "en": "Pick an end date."},
    # -- page strings: each page adds its keys below its own marker (prefix keys with the page name) --
    # -- frame (filters, tables, drill-down, wall) --
    "filters_categories": {"zh": "类目", "en": "Categories"},
    "filters_all_categories_hint": {"zh": "不选 = 全部类目", "en": "None selected = all categories"},
    "filters_warehouses": {"zh": "仓库", "en": "Warehouses"},
    "filters_all_warehouses_hint": {"zh": "不选 = 全部仓库", "en": "None selected = all warehouses"},
    "filters_category_apparel": {"zh": "服装", "en": "Apparel"},
    "filters_category_home": {"zh": "家居", "en": "Home"},
    "filters_category_snacks": {"zh": "零食", "en": "Snacks"},
    "filters_category_unmapped": {"zh": "未映射", "en": "Unmapped"},
    "filters_categories_ignored": {
        "zh": "本页按店铺汇总，类目筛选不适用。",
        "en": "This page adds up whole shops: the category filter does not apply.",
    },
    "filters_warehouses_ignored": {
        "zh": "本页与仓库无关，仓库筛选不适用。",
        "en": "This page is not per warehouse: the warehouse filter does not apply.",
    },
    "tables_download_csv": {"zh": "下载 CSV", "en": "Download CSV"},
    "tables_download_xlsx": {"zh": "下载 Excel", "en": "Download Excel"},
    "tables_rows": {"zh": "共 {n} 行", "en": "{n} rows"},
    "tables_drill_hint": {"zh": "点选一行查看该 SKU 详情", "en": "Select a row to open the SKU's detail"},
    # -- inventory, sku_margin, promotions, replenishment, data_status --
    # -- returns, reconciliation, customers, exceptions --
    "not_published": {
        "zh": "尚未发布数据仓库：{path} 不存在 —— 请运行 `make demo` 或 `shopkeep materialize`。",
        "en": "No published warehouse at {path} — run `make demo` or `shopkeep materialize`.",
    },
}


def current_lang() -> Lang:
    """The session's language, or the default outside a Streamlit session."""
    try:
        import streamlit as st

        lang = st.session_state.get(LANG_KEY, DEFAULT_LANG)
    except Exception:  # no script run context (plain Python, unit tests)
        return DEFAULT_LANG
    return lang if lang in LANG_NAMES else DEFAULT_LANG


def t(key: str, lang: Lang | None = None, **params: object) -> str:
    """The text for `key` in `lang` (default: the session's), with `{params}` filled in."""
    entry = STRINGS.get(key)
    if entry is None:
        raise KeyError(f"No translation for {key!r}: add it to STRINGS in dashboards/i18n.py")
    text = entry[lang or current_lang()]
    return text.format(**params) if params else text
