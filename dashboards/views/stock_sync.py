"""库存同步 Stock sync: what stock each shop should list (the plan), what was pushed and what failed, and the rules
and locks behind the plan, edited here.

The plan is computed on every page load from the published snapshot and the ops store (writeback/stock/sync.py,
a dry run: nothing is sent from this page). "Push" records a request in the ops store with the snapshot the plan
came from; Dagster's sensor `stock_push_requests` carries it out within a minute and refuses it if a newer
snapshot was published meanwhile (the dashboards hold no channel credentials). Rules and locks saved here are
versioned in the ops store: a save made from a version someone else has since replaced is refused, naming who
changed it. Filters: shops (the plan's and the pushes' rows); dates, categories and warehouses do not apply (the
plan is of today's stock; a rule names its own warehouses and categories).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from dashboards import access, filters, notices, writes
from dashboards.format import integer, local_timestamp
from dashboards.i18n import t
from dashboards.queries import inventory, serving
from dashboards.settings import DISPLAY_TIMEZONE, SettingsError, ops_path, stock_sync_section
from dashboards.tables import data_table
from writeback.ops_store import OpsStoreError
from writeback.stock import store
from writeback.stock.rules import ALL, QUANTITIES, Lock, Rule, RuleError, rules_from_config
from writeback.stock.sync import sync

FLASH_KEY = "stock_sync_flash"  # (kind, message) of the last action, shown once after its rerun
BY_KEY = "stock_sync_by"
NEW = "\u0000new"  # the "new rule" / "new lock" option of the editors' pickers

sel = filters.current()
filters.note_ignored(sel, categories=True, warehouses=True)
st.title(t("stock_sync"))
if notices.not_configured(sel, "stock", "wms"):
    st.stop()
try:
    store_path = ops_path()
    section = stock_sync_section()
    config_rules = rules_from_config(section.get("rules", []))
    safety_buffer = int(section.get("safety_buffer", 0))
    shops = inventory.listing_shops(sel.path, sel.version)
    result = sync(
        Path(sel.path), store_path, {}, config_rules, safety_buffer=safety_buffer, pushable=set(shops)
    )
    stored_rules = store.current_rules(store_path)
    locks = store.current_locks(store_path)
except (SettingsError, RuleError, OpsStoreError, ValueError, TypeError) as exc:
    st.error(t("stock_sync_cannot_plan", error=exc))
    st.stop()

snapshot = serving.snapshot_id(sel.path, sel.version)
stamp = serving.published_at(sel.path, sel.version)
st.caption(t("stock_sync_caption", published=local_timestamp(stamp) if stamp else "—", buffer=safety_buffer))

flash = st.session_state.pop(FLASH_KEY, None)
if flash:
    (st.success if flash[0] == "ok" else st.error)(flash[1])

plan = result.frame()
if sel.shop_ids:
    plan = plan[plan["shop_id"].isin(sel.shop_ids)]
to_push = int((plan["action"] == "push").sum())
tiles = [
    (t("stock_sync_listings"), integer(len(plan)), t("stock_sync_listings_help")),
    (t("stock_sync_to_push"), integer(to_push), t("stock_sync_to_push_help")),
    (
        t("stock_sync_failing"),
        integer(int((plan["failures_in_a_row"] > 0).sum())),
        t("stock_sync_failing_help"),
    ),
    (t("stock_sync_over"), integer(int(plan["over_allocated"].sum())), t("stock_sync_over_help")),
    (t("stock_sync_locked"), integer(int(plan["locked"].sum())), t("stock_sync_locked_help")),
]
for column, (label, value, help_text) in zip(st.columns(len(tiles)), tiles, strict=True):
    column.metric(label, value, help=help_text, border=True)


def _why(row: pd.Series) -> str:
    text = t(f"stock_sync_why_{row['why']}", wanted=row["wanted"], allocated=row["allocated"],
             planned=row["planned"], over=row["over_allocated"])  # fmt: skip
    return text + (t("stock_sync_why_locked", locked=row["locked"]) if row["locked"] else "")


WHO = access.current()  # with [access], who acts is the logged-in user; open dashboards ask for a name
MAY_PUSH, MAY_EDIT = WHO.can(access.PUSH_STOCK), WHO.can(access.EDIT_STOCK)


def _by() -> str:
    return WHO.user or str(st.session_state.get(BY_KEY) or "").strip()


# ------------------------------------------------------------------------------------------------- the plan
st.subheader(t("stock_sync_plan_title"))
if plan.empty:
    st.info(t("stock_sync_no_listings"))
else:
    shown = plan.assign(
        action=plan["action"].map(lambda a: t(f"stock_sync_action_{a.replace(' ', '_')}")),
        why=plan.apply(_why, axis=1),
        _order=(plan["action"] != "push").astype(int),
    ).sort_values(["_order", "shop_id", "sku", "listing_id"])
    data_table(
        shown[
            [
                "shop_id",
                "sku",
                "rule",
                "stock",
                "wanted",
                "allocated",
                "locked",
                "planned",
                "listed",
                "change",
                "action",
                "why",
                "failures_in_a_row",
            ]
        ],  # fmt: skip
        key="stock_sync_plan",
        filename="stock_plan",
        column_config={
            "shop_id": st.column_config.TextColumn(t("stock_sync_shop")),
            "sku": st.column_config.TextColumn(t("stock_sync_sku")),
            "rule": st.column_config.TextColumn(t("stock_sync_rule")),
            "stock": st.column_config.NumberColumn(t("stock_sync_stock"), help=t("stock_sync_stock_help")),
            "wanted": st.column_config.NumberColumn(t("stock_sync_wanted"), help=t("stock_sync_wanted_help")),
            "allocated": st.column_config.NumberColumn(t("stock_sync_allocated")),
            "locked": st.column_config.NumberColumn(t("stock_sync_locked")),
            "planned": st.column_config.NumberColumn(t("stock_sync_planned")),
            "listed": st.column_config.NumberColumn(t("stock_sync_listed"), help=t("stock_sync_listed_help")),
            "change": st.column_config.NumberColumn(t("stock_sync_change"), format="%+d"),
            "action": st.column_config.TextColumn(t("stock_sync_action")),
            "why": st.column_config.TextColumn(t("stock_sync_why"), width="large"),
            "failures_in_a_row": st.column_config.NumberColumn(t("stock_sync_failures")),
        },
    )


def _request_push() -> None:
    """Button callback: ask Dagster to push the plan of this snapshot (to the selected shops, or every shop)."""
    try:
        request_id = writes.request_push(store_path, _by(), snapshot, sorted(sel.shop_ids) or None)
        st.session_state[FLASH_KEY] = ("ok", t("stock_sync_requested", request_id=request_id))
    except access.AccessDenied as exc:
        st.session_state[FLASH_KEY] = ("error", t("access_refused", error=exc))
    except OpsStoreError as exc:
        st.session_state[FLASH_KEY] = ("error", str(exc))


if MAY_PUSH or (MAY_EDIT and not WHO.user):
    left, right = st.columns([1, 2], vertical_alignment="bottom")
    if WHO.user:
        left.caption(t("access_acting_as", user=WHO.user))
    else:
        left.text_input(t("stock_sync_by"), key=BY_KEY, help=t("stock_sync_by_help"), max_chars=40)
    if MAY_PUSH:
        right.button(
            t("stock_sync_push", n=integer(to_push)),
            key="stock_sync_push",
            type="primary",
            disabled=to_push == 0 or not _by(),
            on_click=_request_push,
            help=t("stock_sync_push_help"),
        )

requests = store.push_requests(store_path, limit=10)
if not requests.empty:
    st.caption(t("stock_sync_requests_title"))
    data_table(
        requests.assign(
            requested_at=requests["requested_at"].map(lambda v: local_timestamp(datetime.fromisoformat(v))),
            shops=requests["shops"].fillna(t("stock_sync_all_shops")),
            status=requests["status"].map(lambda s: t(f"stock_sync_request_{s}")),
            message=requests["message"].fillna("—"),
        )[["request_id", "requested_at", "requested_by", "shops", "status", "message"]],
        key="stock_sync_requests",
        filename="stock_push_requests",
        sku_column=None,
        column_config={
            "request_id": st.column_config.NumberColumn(t("stock_sync_request_id"), format="%d"),
            "requested_at": st.column_config.TextColumn(t("stock_sync_requested_at")),
            "requested_by": st.column_config.TextColumn(t("stock_sync_requested_by")),
            "shops": st.column_config.TextColumn(t("stock_sync_shop")),
            "status": st.column_config.TextColumn(t("stock_sync_request_status")),
            "message": st.column_config.TextColumn(t("stock_sync_request_message"), width="large"),
        },
    )

# ----------------------------------------------------------------------------------------------- the pushes
st.subheader(t("stock_sync_pushes_title"))
pushes = store.pushes(store_path, limit=300)
if sel.shop_ids:
    pushes = pushes[pushes["shop_id"].isin(sel.shop_ids)]
if pushes.empty:
    st.info(t("stock_sync_no_pushes"))
else:
    # failures first, each group newest first
    pushes = pushes.sort_values("started_at", ascending=False, kind="stable")
    pushes = pushes.sort_values("result", key=lambda result: result != "failed", kind="stable")
    data_table(
        pushes.assign(
            started_at=pushes["started_at"].map(lambda v: local_timestamp(datetime.fromisoformat(v))),
            mode=pushes["mode"].map(lambda m: t(f"stock_sync_mode_{m}")),
            result=pushes["result"].map(lambda r: t(f"stock_sync_result_{r}")),
            message=pushes["message"].fillna("—"),
        )[
            [
                "started_at",
                "mode",
                "shop_id",
                "sku",
                "rule",
                "rule_version",
                "before_qty",
                "sold_since_pull",
                "planned_qty",
                "pushed_qty",
                "result",
                "message",
            ]
        ],  # fmt: skip
        key="stock_sync_pushes",
        filename="stock_pushes",
        column_config={
            "started_at": st.column_config.TextColumn(t("stock_sync_pushed_at")),
            "mode": st.column_config.TextColumn(t("stock_sync_mode")),
            "shop_id": st.column_config.TextColumn(t("stock_sync_shop")),
            "sku": st.column_config.TextColumn(t("stock_sync_sku")),
            "rule": st.column_config.TextColumn(t("stock_sync_rule")),
            "rule_version": st.column_config.NumberColumn(t("stock_sync_rule_version"), format="%d"),
            "before_qty": st.column_config.NumberColumn(t("stock_sync_before")),
            "sold_since_pull": st.column_config.NumberColumn(
                t("stock_sync_sold_since_pull"), help=t("stock_sync_sold_since_pull_help")
            ),
            "planned_qty": st.column_config.NumberColumn(t("stock_sync_planned")),
            "pushed_qty": st.column_config.NumberColumn(t("stock_sync_pushed")),
            "result": st.column_config.TextColumn(t("stock_sync_result")),
            "message": st.column_config.TextColumn(t("stock_sync_request_message"), width="large"),
        },
    )

# ------------------------------------------------------------------------------------------------ the rules
waiting = store.dirty_skus(store_path)  # the lean path's change queue (writeback/stock/lean.py)
if waiting:
    shown = sorted(sku for sku in waiting if sku != store.EVERY_SKU)
    st.caption(t("stock_sync_waiting", n=integer(len(shown)) if shown else t("stock_sync_all_skus"),
                 skus=", ".join(shown[:10]) + (" …" if len(shown) > 10 else "")))  # fmt: skip

st.subheader(t("stock_sync_rules_title"))
st.caption(t("stock_sync_rules_caption"))
stored_names = {rule.name for rule in stored_rules}
rules: list[Rule] = stored_rules + [rule for rule in config_rules if rule.name not in stored_names]


def _names(values: tuple[str, ...]) -> str:
    return t("stock_sync_any") if ALL in values else ", ".join(values) or "—"


data_table(
    pd.DataFrame(
        [
            {
                "name": r.name,
                "source": t("stock_sync_source_page" if r.version else "stock_sync_source_config"),
                "version": r.version,
                "priority": r.priority,
                "shops": _names(r.shops),
                "scope": ", ".join(r.skus) if r.skus else _names(r.categories),
                "warehouses": _names(r.warehouses),
                "formula": f"floor(x × {r.percent}% + {r.plus})",
                "bounds": f"{r.minimum} – {r.maximum if r.maximum is not None else '∞'}",
                "below": t(f"stock_sync_below_{r.below_minimum}"),
                "share": r.share,
                "quantities": " ".join(
                    [
                        *(f"+{t('stock_sync_q_' + q)}" for q in r.add),
                        *(f"−{t('stock_sync_q_' + q)}" for q in r.subtract),
                    ]
                )
                or "—",
            }
            for r in sorted(rules, key=lambda r: (-r.priority, r.name))
        ],
        columns=[
            "name",
            "source",
            "version",
            "priority",
            "shops",
            "scope",
            "warehouses",
            "formula",
            "bounds",
            "below",
            "share",
            "quantities",
        ],
    ),  # fmt: skip
    key="stock_sync_rules",
    filename="stock_rules",
    sku_column=None,
    column_config={
        "name": st.column_config.TextColumn(t("stock_sync_rule")),
        "source": st.column_config.TextColumn(t("stock_sync_source")),
        "version": st.column_config.NumberColumn(t("stock_sync_rule_version"), format="%d"),
        "priority": st.column_config.NumberColumn(t("stock_sync_priority"), format="%d"),
        "shops": st.column_config.TextColumn(t("stock_sync_shop")),
        "scope": st.column_config.TextColumn(t("stock_sync_scope")),
        "warehouses": st.column_config.TextColumn(t("stock_sync_warehouses")),
        "formula": st.column_config.TextColumn(t("stock_sync_formula")),
        "bounds": st.column_config.TextColumn(t("stock_sync_bounds")),
        "below": st.column_config.TextColumn(t("stock_sync_below")),
        "share": st.column_config.NumberColumn(t("stock_sync_share"), format="%d"),
        "quantities": st.column_config.TextColumn(t("stock_sync_quantities"), width="large"),
    },
)


def _seen_version(kind: str, name: str, current: int) -> int:
    """The version the editor started from: kept in the session from the first time this item was shown, so a
    save after someone else's is refused (StaleEdit) instead of overwriting it."""
    return st.session_state.setdefault(f"stock_sync_seen__{kind}__{name}", current)


def _after_save(kind: str, name: str, version: int, message: str) -> None:
    st.session_state[f"stock_sync_seen__{kind}__{name}"] = version
    st.session_state[FLASH_KEY] = ("ok", message)


def _forget_seen(kind: str, name: str) -> None:
    st.session_state.pop(f"stock_sync_seen__{kind}__{name}", None)


by_name = {rule.name: rule for rule in rules}
if MAY_EDIT:  # the editors: managers and admins (dashboards/writes.py refuses the others)
    with st.expander(t("stock_sync_rule_editor")):
        # labels computed here, in the session's language (a format_func calling t() later would not know it)
        rule_labels = {NEW: t("stock_sync_new_rule"), **{n: n for n in by_name}}
        picked = st.selectbox(
            t("stock_sync_rule_pick"), [NEW, *sorted(by_name)], key="stock_sync_rule_pick",
            format_func=rule_labels.__getitem__,
        )  # fmt: skip
        base = by_name.get(picked, Rule(name=""))
        stored_version = base.version if picked in stored_names else 0
        seen = _seen_version("rule", picked, stored_version)
        with st.form("stock_sync_rule_form"):
            name = st.text_input(
                t("stock_sync_rule"), value=base.name, disabled=picked != NEW, key="stock_sync_rule_name"
            )
            c1, c2, c3, c4 = st.columns(4)
            priority = c1.number_input(
                t("stock_sync_priority"), value=base.priority, step=1, key="stock_sync_rule_priority"
            )
            percent = c2.number_input(
                t("stock_sync_percent"),
                value=float(base.percent),
                min_value=0.0,
                step=5.0,
                key="stock_sync_rule_percent",
            )
            plus = c3.number_input(t("stock_sync_plus"), value=base.plus, step=1)
            share = c4.number_input(t("stock_sync_share"), value=base.share, min_value=1, step=1)
            c1, c2, c3 = st.columns(3)
            minimum = c1.number_input(t("stock_sync_minimum"), value=base.minimum, min_value=0, step=1)
            maximum = c2.number_input(
                t("stock_sync_maximum"),
                value=base.maximum,
                min_value=0,
                step=1,
                help=t("stock_sync_maximum_help"),
            )
            below = c3.selectbox(
                t("stock_sync_below"), ["delist", "minimum"], index=["delist", "minimum"].index(base.below_minimum),
                format_func={b: t(f"stock_sync_below_{b}") for b in ("delist", "minimum")}.__getitem__,
            )  # fmt: skip
            rule_shops = st.multiselect(
                t("stock_sync_shop"),
                shops,
                default=[s for s in base.shops if s in shops],
                help=t("stock_sync_any_help"),
                key="stock_sync_rule_shops",
            )
            categories = st.text_input(
                t("stock_sync_categories"), value="" if ALL in base.categories else ", ".join(base.categories),
                help=t("stock_sync_any_help"),
            )  # fmt: skip
            skus = st.text_input(
                t("stock_sync_skus"), value=", ".join(base.skus), help=t("stock_sync_skus_help")
            )
            warehouses = st.multiselect(
                t("stock_sync_warehouses"), inventory.warehouses(sel.path, sel.version),
                default=[w for w in base.warehouses if w != ALL], help=t("stock_sync_any_help"),
            )  # fmt: skip
            c1, c2 = st.columns(2)
            quantity_labels = {q: t(f"stock_sync_q_{q}") for q in QUANTITIES}
            add = c1.multiselect(t("stock_sync_add"), list(QUANTITIES), default=list(base.add),
                                 format_func=quantity_labels.__getitem__)  # fmt: skip
            subtract = c2.multiselect(t("stock_sync_subtract"), list(QUANTITIES), default=list(base.subtract),
                                      format_func=quantity_labels.__getitem__)  # fmt: skip
            overallocate = st.checkbox(t("stock_sync_overallocate"), value=base.overallocate,
                                       help=t("stock_sync_overallocate_help"))  # fmt: skip
            note = st.text_input(t("stock_sync_note"))
            saved = st.form_submit_button(
                t("stock_sync_save_rule"), type="primary", key="stock_sync_save_rule"
            )
        if saved:

            def _split(text: str) -> list[str]:
                return [part.strip() for part in text.replace("，", ",").split(",") if part.strip()]

            definition = {
                "name": (name or "").strip(), "priority": int(priority), "percent": str(percent), "plus": int(plus),
                "share": int(share), "minimum": int(minimum), "below_minimum": below,
                "shops": rule_shops or [ALL], "categories": _split(categories) or [ALL], "skus": _split(skus),
                "warehouses": warehouses or [ALL], "add": add, "subtract": subtract, "overallocate": overallocate,
            }  # fmt: skip
            if maximum is not None:
                definition["maximum"] = int(maximum)
            try:
                if not _by():
                    raise OpsStoreError(t("stock_sync_by_needed"))
                key = definition["name"]
                if picked == NEW and key in by_name:
                    raise OpsStoreError(t("stock_sync_rule_exists", name=key))
                # a new rule starts from no version: one someone else created meanwhile under its name is refused
                rule = writes.save_rule(
                    store_path, definition, _by(), seen if picked != NEW else 0, note=note or None
                )
                _after_save(
                    "rule",
                    rule.name,
                    rule.version,
                    t("stock_sync_rule_saved", name=rule.name, version=rule.version),
                )
                st.rerun()
            except store.StaleEdit as exc:
                _forget_seen("rule", picked)
                st.error(t("stock_sync_stale", error=exc))
            except (RuleError, OpsStoreError, access.AccessDenied) as exc:
                st.error(str(exc))

# ------------------------------------------------------------------------------------------------ the locks
st.subheader(t("stock_sync_locks_title"))
now = datetime.now(UTC)
shown_locks = [lock for lock in locks if not sel.shop_ids or lock.shop_id in sel.shop_ids]
if not shown_locks:
    st.info(t("stock_sync_no_locks"))
else:
    data_table(
        pd.DataFrame(
            [
                {
                    "lock_id": k.lock_id,
                    "sku": k.sku,
                    "shop_id": k.shop_id,
                    "quantity": k.quantity,
                    "until": local_timestamp(k.until),
                    "state": t("stock_sync_lock_active" if k.active(now) else "stock_sync_lock_ended"),
                    "note": k.note or "—",
                    "version": k.version,
                }
                for k in sorted(shown_locks, key=lambda k: (not k.active(now), k.until))
            ]
        ),  # fmt: skip
        key="stock_sync_locks",
        filename="stock_locks",
        column_config={
            "lock_id": st.column_config.TextColumn(t("stock_sync_lock_id")),
            "sku": st.column_config.TextColumn(t("stock_sync_sku")),
            "shop_id": st.column_config.TextColumn(t("stock_sync_shop")),
            "quantity": st.column_config.NumberColumn(t("stock_sync_lock_units"), format="%d"),
            "until": st.column_config.TextColumn(t("stock_sync_lock_until")),
            "state": st.column_config.TextColumn(t("stock_sync_lock_state")),
            "note": st.column_config.TextColumn(t("stock_sync_note")),
            "version": st.column_config.NumberColumn(t("stock_sync_rule_version"), format="%d"),
        },
    )

locks_by_id: dict[str, Lock] = {lock.lock_id: lock for lock in locks}
if MAY_EDIT:  # the editors: managers and admins (dashboards/writes.py refuses the others)
    with st.expander(t("stock_sync_lock_editor")):
        lock_labels = {NEW: t("stock_sync_new_lock"), **{n: n for n in locks_by_id}}
        picked_lock = st.selectbox(
            t("stock_sync_lock_pick"), [NEW, *sorted(locks_by_id)], key="stock_sync_lock_pick",
            format_func=lock_labels.__getitem__,
        )  # fmt: skip
        current = locks_by_id.get(picked_lock)
        seen_lock = _seen_version("lock", picked_lock, current.version if current else 0)
        local = ZoneInfo(DISPLAY_TIMEZONE)
        default_until = (current.until if current else now + timedelta(hours=3)).astimezone(local)
        with st.form("stock_sync_lock_form"):
            c1, c2, c3 = st.columns(3)
            lock_sku = c1.text_input(
                t("stock_sync_sku"), value=current.sku if current else "", key="stock_sync_lock_sku"
            )
            lock_shop = c2.selectbox(
                t("stock_sync_shop"), shops, key="stock_sync_lock_shop",
                index=shops.index(current.shop_id) if current and current.shop_id in shops else 0,
            )  # fmt: skip
            units = c3.number_input(t("stock_sync_lock_units"), value=current.quantity if current else 1, min_value=0,
                                    step=1, help=t("stock_sync_lock_units_help"), key="stock_sync_lock_units")  # fmt: skip
            c1, c2 = st.columns(2)
            until_day = c1.date_input(t("stock_sync_lock_until_day"), value=default_until.date())
            until_time = c2.time_input(
                t("stock_sync_lock_until_time", tz=DISPLAY_TIMEZONE), value=default_until.time()
            )
            lock_note = st.text_input(t("stock_sync_note"), value=current.note if current else "")
            saved_lock = st.form_submit_button(
                t("stock_sync_save_lock"), type="primary", key="stock_sync_save_lock"
            )
        if saved_lock:
            try:
                if not _by():
                    raise OpsStoreError(t("stock_sync_by_needed"))
                sku = lock_sku.strip()
                lock_id = picked_lock if current else f"{lock_shop}-{sku}-{now:%Y%m%d%H%M}"
                until = datetime.combine(until_day, until_time, tzinfo=local)
                if until <= now and int(units) > 0:
                    raise OpsStoreError(t("stock_sync_lock_in_past"))
                lock = writes.save_lock(store_path, lock_id, sku, lock_shop, int(units), until, _by(),
                                        seen_lock if current else 0, note=lock_note or None)  # fmt: skip
                _after_save(
                    "lock", lock.lock_id, lock.version, t("stock_sync_lock_saved", lock_id=lock.lock_id)
                )
                st.rerun()
            except store.StaleEdit as exc:
                _forget_seen("lock", picked_lock)
                st.error(t("stock_sync_stale", error=exc))
            except (OpsStoreError, access.AccessDenied) as exc:
                st.error(str(exc))
