"""Global filters (date range, shops, categories, warehouses) drawn in the sidebar by the router and kept in
`st.session_state`, so every page sees the same selection and it carries across pages.

Pages read `current()`. Which filters a page honours is up to the page: shop-level marts (daily_shop_sales,
channel_daily_performance) cannot be cut by category or warehouse, so those pages say so (`shop_level_note`);
SKU-level pages filter by `categories`, stock pages by `warehouse_ids`. An empty tuple means "all".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import streamlit as st

from dashboards.i18n import STRINGS, t
from dashboards.queries import core, inventory, sales
from dashboards.queries.serving import ShopIds, Version

DATES_KEY = "filter_dates"
SHOPS_KEY = "filter_shops"
CATEGORIES_KEY = "filter_categories"
WAREHOUSES_KEY = "filter_warehouses"
FILTER_KEYS = (DATES_KEY, SHOPS_KEY, CATEGORIES_KEY, WAREHOUSES_KEY)
SELECTION_KEY = "selection"
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Selection:
    """What the pages query: the serving file's snapshot plus the user's filters."""

    path: str
    version: Version
    start: date
    end: date
    shop_ids: ShopIds  # empty = all shops
    first_date: date
    last_date: date
    categories: tuple[str, ...] = ()  # empty = all categories (marts.skus.category)
    warehouse_ids: tuple[str, ...] = ()  # empty = all warehouses (inventory_health_by_warehouse.warehouse_id)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def prior(self) -> tuple[date, date]:
        """The period of equal length just before the selected one."""
        prior_end = self.start - timedelta(days=1)
        return prior_end - timedelta(days=self.days - 1), prior_end


LAST_YEAR_DAYS = 364  # "last year" = the same weekdays 52 weeks back, as channel_daily_performance and dates
PERIODS = ("range", "today", "7d", "30d")  # the overview's period switch; today/7d/30d end on the range's end


@dataclass(frozen=True)
class Comparison:
    """A period with the two it is compared with: the equal-length period just before, and last year."""

    now: tuple[date, date]
    prior: tuple[date, date]
    last_year: tuple[date, date]

    @property
    def days(self) -> int:
        return (self.now[1] - self.now[0]).days + 1


def comparison(start: date, end: date) -> Comparison:
    """`start`..`end` with its prior period (same length, just before) and last year (364 days back)."""
    days = (end - start).days + 1
    back = timedelta(days=LAST_YEAR_DAYS)
    prior_end = start - timedelta(days=1)
    return Comparison(
        now=(start, end),
        prior=(prior_end - timedelta(days=days - 1), prior_end),
        last_year=(start - back, end - back),
    )


def period_comparison(selection: Selection, period: str) -> Comparison:
    """The overview's periods: "range" = the sidebar's date range; "today", "7d", "30d" = the last 1, 7 or
    30 days ending on the range's end (the latest day with data unless the user moved it)."""
    if period == "range":
        return comparison(selection.start, selection.end)
    days = {"today": 1, "7d": 7, "30d": 30}[period]
    return comparison(selection.end - timedelta(days=days - 1), selection.end)


def category_label(category: str) -> str:
    """A category code ('apparel') in the session's language ('服装'); unknown codes as they are."""
    key = f"filters_category_{category}"
    return t(key) if key in STRINGS else category


def status_label(status: str) -> str:
    """An inventory health status ('at_risk') in the session's language ('缺货风险')."""
    key = f"sku_status_{status}"
    return t(key) if key in STRINGS else status


def keep_filters() -> None:
    """Keep the filter values on a run that draws no filter widgets (the wall screen): Streamlit forgets a
    widget's value at the end of a run that did not draw it, so re-store them as plain session values."""
    for key in FILTER_KEYS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def default_range(first: date, last: date, days: int = DEFAULT_DAYS) -> tuple[date, date]:
    """The last `days` days ending on the latest date in the data (clipped to the first date)."""
    return max(first, last - timedelta(days=days - 1)), last


def _valid_range(value: object, first: date, last: date) -> bool:
    return (
        isinstance(value, tuple)
        and len(value) in (1, 2)
        and all(isinstance(d, date) and first <= d <= last for d in value)
    )


def render_sidebar(path: str, version: Version) -> Selection | None:
    """Draw the global filters in the sidebar; None when the published marts hold no sales yet."""
    bounds = sales.date_bounds(path, version)
    if bounds is None:
        return None
    first, last = bounds
    shops = core.shops(path, version)
    names = dict(zip(shops["shop_id"], shops["shop_name"], strict=True))
    categories = core.categories(path, version)
    warehouses = inventory.warehouses(path, version)

    # Seed or repair the stored values before the widgets are created (a new publish can move the bounds).
    if not _valid_range(st.session_state.get(DATES_KEY), first, last):
        st.session_state[DATES_KEY] = default_range(first, last)
    for key, options in ((SHOPS_KEY, names), (CATEGORIES_KEY, categories), (WAREHOUSES_KEY, warehouses)):
        st.session_state[key] = [v for v in st.session_state.get(key, []) if v in options]

    with st.sidebar:
        st.subheader(t("filters"))
        picked = st.date_input(
            t("date_range"),
            key=DATES_KEY,
            min_value=first,
            max_value=last,
            format="YYYY-MM-DD",
            persist_state="session",  # a drill-down (st.switch_page) would forget them otherwise
        )
        st.multiselect(
            t("shops"),
            options=list(names),
            key=SHOPS_KEY,
            format_func=lambda shop_id: names.get(shop_id, shop_id),
            placeholder=t("all_shops_hint"),
            persist_state="session",
        )
        st.multiselect(
            t("filters_categories"),
            options=categories,
            key=CATEGORIES_KEY,
            format_func=category_label,
            placeholder=t("filters_all_categories_hint"),
            persist_state="session",
        )
        st.multiselect(
            t("filters_warehouses"),
            options=warehouses,
            key=WAREHOUSES_KEY,
            placeholder=t("filters_all_warehouses_hint"),
            persist_state="session",
        )
    start, end = (picked[0], picked[-1]) if isinstance(picked, tuple) and picked else (last, last)
    selection = Selection(
        path=path,
        version=version,
        start=start,
        end=end,
        shop_ids=tuple(st.session_state[SHOPS_KEY]),
        first_date=first,
        last_date=last,
        categories=tuple(st.session_state[CATEGORIES_KEY]),
        warehouse_ids=tuple(st.session_state[WAREHOUSES_KEY]),
    )
    st.session_state[SELECTION_KEY] = selection
    return selection


def note_ignored(selection: Selection, *, categories: bool = False, warehouses: bool = False) -> None:
    """On a page whose marts cannot be cut by category (or warehouse), say so when such a filter is set."""
    if categories and selection.categories:
        st.caption(t("filters_categories_ignored"))
    if warehouses and selection.warehouse_ids:
        st.caption(t("filters_warehouses_ignored"))


def file_scope(sel: Selection, dated: bool = True) -> str:
    """What a download's file name says of the selection that made the table: `_<start>_<end>` (a dated table)
    then `_<shop ids>` (up to three, `+n` more) or `_all-shops`."""
    shops = list(sel.shop_ids)
    named = "+".join(shops[:3]) + (f"+{len(shops) - 3}" if len(shops) > 3 else "") if shops else "all-shops"
    return (f"_{sel.start.isoformat()}_{sel.end.isoformat()}" if dated else "") + f"_{named}"


def current() -> Selection:
    """The selection the router computed for this run (pages call this)."""
    selection = st.session_state.get(SELECTION_KEY)
    if selection is None:
        raise RuntimeError("No filter selection: run pages through dashboards/app.py (the router)")
    return selection


def pick_trend_metric(metrics: dict[str, tuple[str, str]], default: str, key: str) -> tuple[str, str, str]:
    """A page's trend selector over `metrics` (column -> (i18n key, figure kind)): the chosen column, its i18n
    key and its figure kind."""
    metric = st.segmented_control(
        t("overview_trend_metric"),
        options=list(metrics),
        format_func=lambda c: t(metrics[c][0]),
        default=default,
        key=key,
        required=True,
    )
    metric = metric or default
    return metric, *metrics[metric]
