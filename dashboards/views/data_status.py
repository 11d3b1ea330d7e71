"""数据状态 Data status: what was set aside (quarantined rows per importer and shop, unmapped SKUs per shop)
and which sources shopkeep.toml configures, at the top; then how fresh each source is (last load per raw table
and shop, newest order per shop), the last build and publish, failed checks (dbt tests), the export files
imported (each file's current version, earlier versions on request, and a chosen file's set-aside rows with
their reasons), and the quarantined rows and unmapped SKUs themselves.

Everything comes from the published snapshot: marts.source_freshness, marts.file_imports, marts.quarantined_rows,
marts.unmapped_skus, marts.data_sources, meta.publish_log and meta.check_results (written by the publish
step). The shop filter applies to rows kept per shop; rows not kept per shop (WMS, product master) always
show. Dates, categories and warehouses do not apply.
"""

from __future__ import annotations

import os

import pandas as pd
import streamlit as st

from dashboards import access, filters, labels
from dashboards.format import integer, local_timestamp, money_format, percent
from dashboards.i18n import STRINGS, t
from dashboards.queries import core, data_quality
from dashboards.settings import DISPLAY_TIMEZONE, LAKE_PREFIX, SettingsError, ops_path, serve_path
from dashboards.tables import data_table

sel = filters.current()
SCOPE = filters.file_scope(sel, dated=False)  # downloads' file names
freshness = data_quality.source_freshness(sel.path, sel.version, sel.shop_ids)
through = data_quality.sales_through(sel.path, sel.version, sel.shop_ids)
log = data_quality.publish_log(sel.path, sel.version)
checks = data_quality.check_results(sel.path, sel.version)
quarantine = data_quality.quarantined_rows(sel.path, sel.version, sel.shop_ids)
unmapped = data_quality.unmapped_skus(sel.path, sel.version, sel.shop_ids)
left_out = data_quality.set_aside_rows(sel.path, sel.version, sel.shop_ids)
imports = data_quality.file_imports(sel.path, sel.version, sel.shop_ids)
sources = core.data_sources(sel.path, sel.version)
shop_list = core.shops(sel.path, sel.version)
shop_names = dict(zip(shop_list["shop_id"], shop_list["shop_name"], strict=True))

st.title(t("data_status"))
st.caption(t("data_status_caption"))
if sel.categories or sel.warehouse_ids:
    st.caption(t("data_status_filters_ignored"))


def _local(series: pd.Series) -> pd.Series:
    """UTC timestamps as naive local times (the table shows them in the shops' timezone)."""
    stamps = pd.to_datetime(series, utc=True)
    return stamps.dt.tz_convert(DISPLAY_TIMEZONE).dt.tz_localize(None)


stale = freshness[freshness["is_stale"].fillna(False).astype(bool)]
failed = checks[checks["passed"].eq(False)] if checks is not None else None
published = log.iloc[0] if not log.empty else None
tiles = [
    (
        t("data_status_published"),
        local_timestamp(published["published_at"]).split(" (")[0] if published is not None else "—",
        t("data_status_build_started")
        + ": "
        + (local_timestamp(published["build_started_at"]) if published is not None else "—"),
    ),
    (t("data_status_stale_sources"), integer(len(stale)), t("data_status_stale_help")),
    (t("data_status_failed_checks"), integer(len(failed)) if failed is not None else "—", None),
    (t("data_status_quarantined"), integer(len(quarantine)), None),
    (t("data_status_unmapped"), integer(len(unmapped)), None),
]
for column, (label, value, help_text) in zip(st.columns([1.8, 1, 1, 1, 1]), tiles, strict=True):
    column.metric(label, value, help=help_text, border=True)
if published is not None and pd.notna(published["build_started_at"]):
    minutes = (published["published_at"] - published["build_started_at"]).total_seconds() / 60
    st.caption(t("data_status_build_minutes", minutes=f"{minutes:.1f}"))


def _importer(importer: str) -> str:
    key = f"data_status_importer_{importer}"
    return t(key) if key in STRINGS else importer


# -- what was set aside: rows the build left out, per importer and shop (the tables below list them) --
st.subheader(t("data_status_set_aside_title"))
set_aside = pd.concat(
    [
        quarantine.assign(what=quarantine["importer"].map(_importer))
        .groupby(["what", quarantine["shop_id"].fillna("")], dropna=False)
        .size()
        .rename("rows")
        .reset_index(),
        unmapped.assign(what=t("data_status_unmapped"))
        .groupby(["what", "shop_id"])
        .size()
        .rename("rows")
        .reset_index(),
        left_out.assign(what=left_out["entity"].map(lambda e: t(f"data_status_set_aside_{e}")))
        .groupby(["what", "shop_id"])
        .size()
        .rename("rows")
        .reset_index(),
    ]
)
if set_aside.empty:
    st.success(t("data_status_set_aside_none"))
else:
    set_aside = set_aside.assign(shop_name=set_aside["shop_id"].map(lambda s: shop_names.get(s, s) or "—"))
    data_table(
        set_aside[["what", "shop_name", "rows"]],
        key="data_status_set_aside",
        filename="set_aside",
        file_scope=SCOPE,
        sku_column=None,
        column_config={
            "what": st.column_config.TextColumn(t("data_status_set_aside_what")),
            "shop_name": st.column_config.TextColumn(t("data_status_shop")),
            "rows": st.column_config.NumberColumn(t("data_status_rows"), format="%,d"),
        },
    )

if not left_out.empty:
    st.caption(t("data_status_set_aside_rows_caption"))
    data_table(
        left_out.assign(entity=left_out["entity"].map(labels.entity))[
            ["entity", "row_key", "shop_id", "reason"]
        ],
        key="data_status_set_aside_rows",
        filename="set_aside_rows",
        file_scope=SCOPE,
        sku_column=None,
        column_config={
            "entity": st.column_config.TextColumn(t("data_status_set_aside_what")),
            "row_key": st.column_config.TextColumn("ID"),
            "shop_id": st.column_config.TextColumn(t("data_status_shop")),
            "reason": st.column_config.TextColumn(t("data_status_reason")),
        },
    )

# -- which sources shopkeep.toml configures (pages depending on an absent one say so) --
if sources is not None and not sources.empty:
    st.subheader(t("data_status_sources_title"))
    absent = sources[~sources["is_configured"].astype(bool)]
    if not absent.empty:
        st.caption(t("data_status_sources_absent", n=len(absent)))

    def _source_label(kind: str) -> str:
        key = f"data_status_source_{kind}"
        return t(key) if key in STRINGS else kind

    data_table(
        sources.assign(kind=sources["source_kind"].map(_source_label), shop=sources["shop_name"].fillna(""))[
            ["kind", "shop", "is_configured", "config_section"]
        ],
        key="data_status_sources",
        filename="data_sources",
        file_scope=SCOPE,
        sku_column=None,
        column_config={
            "kind": st.column_config.TextColumn(t("data_status_source")),
            "shop": st.column_config.TextColumn(t("data_status_shop")),
            "is_configured": st.column_config.CheckboxColumn(t("data_status_configured")),
            "config_section": st.column_config.TextColumn(t("data_status_config_section")),
        },
    )

# -- freshness --
st.subheader(t("data_status_freshness_title"))
if not stale.empty:
    st.warning(t("data_status_stale_alert", n=len(stale)), icon=":material/schedule:")
kinds = {k: t(f"data_status_kind_{k}") for k in ("api", "export", "wms", "product_master")}
left, right = st.columns([3, 1])
with left:
    data_table(
        freshness.assign(
            kind=freshness["source_kind"].map(kinds),
            last_loaded_local=_local(freshness["last_loaded_at"]),
            source_name=freshness["source_name"].map(labels.source),
            table_name=freshness["table_name"].map(labels.entity),
        )[
            ["kind", "source_name", "table_name", "shop_name", "row_count", "last_loaded_local",
             "hours_since_last_load", "is_stale"]
        ],
        key="data_status_freshness",
        filename="source_freshness",
        file_scope=SCOPE,
        sku_column=None,
        column_config={
            "kind": st.column_config.TextColumn(t("data_status_kind")),
            "source_name": st.column_config.TextColumn(t("data_status_source")),
            "table_name": st.column_config.TextColumn(t("data_status_table")),
            "shop_name": st.column_config.TextColumn(t("data_status_shop")),
            "row_count": st.column_config.NumberColumn(t("data_status_rows"), format="%,d"),
            "last_loaded_local": st.column_config.DatetimeColumn(
                t("data_status_last_loaded"), format="YYYY-MM-DD HH:mm"
            ),
            "hours_since_last_load": st.column_config.NumberColumn(t("data_status_hours"), format="%.1f"),
            "is_stale": st.column_config.CheckboxColumn(t("data_status_stale")),
        },
    )  # fmt: skip
with right:
    st.markdown(f"**{t('data_status_sales_through')}**")
    data_table(
        through[["shop_name", "last_order_date"]],
        key="data_status_through",
        filename="sales_through",
        file_scope=SCOPE,
        sku_column=None,
        column_config={
            "shop_name": st.column_config.TextColumn(t("data_status_shop")),
            "last_order_date": st.column_config.DateColumn(
                t("data_status_last_order_date"), format="YYYY-MM-DD"
            ),
        },
    )

# -- stock alerts: how many SKUs each flags, and the thresholds behind it --
alerts = data_quality.alert_counts(sel.path, sel.version)
if alerts is not None and not alerts.empty:
    st.subheader(t("data_status_alerts_title"))
    st.caption(t("data_status_alerts_caption"))

    def _rule(row: pd.Series) -> str:
        first = None if pd.isna(row["threshold"]) else float(row["threshold"])
        second = None if pd.isna(row["threshold_2"]) else float(row["threshold_2"])
        return t(f"data_status_alert_rule_{row['alert']}", a=f"{first:g}" if first is not None else "",
                 b=f"{second:g}" if second is not None else "", pct=percent(first) if first is not None else "")  # fmt: skip

    data_table(
        alerts.assign(
            name=[t(f"data_status_alert_{a}") for a in alerts["alert"]],
            rule=alerts.apply(_rule, axis=1),
        )[["name", "skus", "rule"]],
        key="data_status_alerts",
        filename="stock_alert_counts",
        file_scope=SCOPE,
        sku_column=None,
        column_config={
            "name": st.column_config.TextColumn(t("data_status_alert")),
            "skus": st.column_config.NumberColumn(t("data_status_alert_skus"), format="%,d"),
            "rule": st.column_config.TextColumn(t("data_status_alert_rule"), width="large"),
        },
    )

# -- checks --
st.subheader(t("data_status_checks_title"))
if checks is None:
    st.info(t("data_status_checks_missing"))
elif checks.empty:
    st.info(t("data_status_checks_none"))
elif failed is not None and failed.empty:
    st.success(t("data_status_checks_ok", n=f"{len(checks):,}"))
else:
    st.warning(t("data_status_checks_failed", n=len(failed), total=f"{len(checks):,}"))
    data_table(
        failed.assign(evaluated_local=_local(failed["evaluated_at"]))[
            ["asset_key", "check_name", "severity", "status", "failed_rows", "evaluated_local"]
        ],
        key="data_status_checks",
        filename="failed_checks",
        file_scope=SCOPE,
        sku_column=None,
        column_config={
            "asset_key": st.column_config.TextColumn(t("data_status_asset")),
            "check_name": st.column_config.TextColumn(t("data_status_check")),
            "severity": st.column_config.TextColumn(t("data_status_severity")),
            "status": st.column_config.TextColumn(t("data_status_check_status")),
            "failed_rows": st.column_config.NumberColumn(t("data_status_failed_rows"), format="%,d"),
            "evaluated_local": st.column_config.DatetimeColumn(
                t("data_status_evaluated_at"), format="YYYY-MM-DD HH:mm"
            ),
        },
    )

# -- imported files: each export file's current version (earlier ones on request) and its set-aside rows --
st.subheader(t("data_status_files_title"))
if imports is None:
    st.info(t("data_status_files_missing"))
elif imports.empty:
    st.info(t("data_status_files_none"))
else:
    st.caption(t("data_status_files_caption"))
    history = st.toggle(t("data_status_files_history"), key="data_status_files_history")
    listed = imports if history else imports[imports["is_current"].astype(bool)]

    def _holds(row: pd.Series) -> str:
        if row["is_refused"]:
            return t("data_status_files_refused")
        key = f"data_status_files_entity_{row['entity']}"
        return t(key) if key in STRINGS else str(row["entity"])

    def _files(full_sha: bool) -> pd.DataFrame:
        shown = listed.assign(
            shop_name=listed["shop_name"].fillna("—"),
            mapping=listed["mapping"].fillna("—"),
            holds=listed.apply(_holds, axis=1) if not listed.empty else "",
            imported_local=_local(listed["first_imported_at"]),
            sha=listed["file_sha256"] if full_sha else listed["file_sha256"].str.slice(0, 12),
        )
        columns = ["source_file", "shop_name", "mapping", "holds", "rows_loaded", "rows_set_aside",
                   "imported_local", "sha"]  # fmt: skip
        return shown[columns + (["is_current"] if history else [])]

    data_table(
        _files(full_sha=False),
        key="data_status_files",
        filename="imported_files",
        file_scope=SCOPE,
        sku_column=None,
        export=lambda: _files(full_sha=True),
        column_config={
            "source_file": st.column_config.TextColumn(t("data_status_file")),
            "shop_name": st.column_config.TextColumn(t("data_status_shop")),
            "mapping": st.column_config.TextColumn(t("data_status_files_mapping")),
            "holds": st.column_config.TextColumn(t("data_status_files_entity")),
            "rows_loaded": st.column_config.NumberColumn(t("data_status_files_loaded"), format="%,d"),
            "rows_set_aside": st.column_config.NumberColumn(t("data_status_files_set_aside"), format="%,d"),
            "imported_local": st.column_config.DatetimeColumn(
                t("data_status_files_imported_at"), format="YYYY-MM-DD HH:mm"
            ),
            "sha": st.column_config.TextColumn(t("data_status_files_sha")),
            "is_current": st.column_config.CheckboxColumn(t("data_status_files_current")),
        },
    )

    # the set-aside rows of one current file: quarantined_rows holds the current versions' rows (same file and
    # content hash), with the reason; the raw row is in the quarantine table below
    exported = quarantine[quarantine["importer"].eq("export")]
    per_file = exported.groupby(["source_file", "file_sha256"]).size()
    current = imports[imports["is_current"].astype(bool)]
    choices = [
        (file, sha)
        for file, sha in zip(current["source_file"], current["file_sha256"], strict=True)
        if (file, sha) in per_file.index
    ]
    if not choices:
        st.caption(t("data_status_files_nothing_set_aside"))
    else:
        labels = {c: t("data_status_files_pick_option", file=c[0], n=f"{per_file[c]:,}") for c in choices}
        file, sha = st.selectbox(
            t("data_status_files_pick"), choices, format_func=labels.__getitem__, key="data_status_files_pick"
        )
        chosen = exported[exported["source_file"].eq(file) & exported["file_sha256"].eq(sha)]
        data_table(
            chosen[["source_file", "sheet", "row_number", "reason"]]
            .sort_values(["sheet", "row_number"])
            .rename(columns={"reason": "set_aside_reason"}),
            key="data_status_files_set_aside",
            filename="file_set_aside_rows",
            file_scope=SCOPE,
            sku_column=None,
            column_config={
                "source_file": st.column_config.TextColumn(t("data_status_file")),
                "sheet": st.column_config.TextColumn(t("data_status_sheet")),
                "row_number": st.column_config.NumberColumn(t("data_status_row"), format="%d"),
                "set_aside_reason": st.column_config.TextColumn(t("data_status_reason"), width="large"),
            },
        )

# -- quarantine --
st.subheader(t("data_status_quarantine_title"))
if quarantine.empty:
    st.success(t("data_status_quarantine_empty"))
else:
    data_table(
        quarantine.assign(
            importer_label=quarantine["importer"].map(_importer), loaded_local=_local(quarantine["loaded_at"])
        )[
            [
                "importer_label",
                "shop_id",
                "source_file",
                "sheet",
                "row_number",
                "reason",
                "raw_row",
                "loaded_local",
            ]
        ],
        key="data_status_quarantine",
        filename="quarantined_rows",
        file_scope=SCOPE,
        sku_column=None,
        column_config={
            "importer_label": st.column_config.TextColumn(t("data_status_importer")),
            "shop_id": st.column_config.TextColumn(t("data_status_shop")),
            "source_file": st.column_config.TextColumn(t("data_status_file")),
            "sheet": st.column_config.TextColumn(t("data_status_sheet")),
            "row_number": st.column_config.NumberColumn(t("data_status_row"), format="%d"),
            "reason": st.column_config.TextColumn(t("data_status_reason"), width="large"),
            "raw_row": st.column_config.TextColumn(t("data_status_raw_row")),
            "loaded_local": st.column_config.DatetimeColumn(
                t("data_status_loaded_at"), format="YYYY-MM-DD HH:mm"
            ),
        },
    )

# -- unmapped SKUs --
st.subheader(t("data_status_unmapped_title"))
st.caption(t("data_status_unmapped_help"))
if unmapped.empty:
    st.success(t("data_status_unmapped_empty"))
else:
    data_table(
        unmapped[
            ["shop_name", "outer_id", "platform_sku_id", "listing_title", "order_lines", "units", "net_sales_cny",
             "first_sold_on", "last_sold_on"]
        ],
        key="data_status_unmapped",
        filename="unmapped_skus",
        file_scope=SCOPE,
        sku_column=None,
        column_config={
            "shop_name": st.column_config.TextColumn(t("data_status_shop")),
            "outer_id": st.column_config.TextColumn(t("data_status_outer_id")),
            "platform_sku_id": st.column_config.TextColumn(t("data_status_platform_sku")),
            "listing_title": st.column_config.TextColumn(t("data_status_listing_title")),
            "order_lines": st.column_config.NumberColumn(t("data_status_order_lines"), format="%,d"),
            "units": st.column_config.NumberColumn(t("data_status_units"), format="%,d"),
            "net_sales_cny": st.column_config.NumberColumn(t("data_status_net_sales"), format=money_format()),
            "first_sold_on": st.column_config.DateColumn(t("data_status_first_sold"), format="YYYY-MM-DD"),
            "last_sold_on": st.column_config.DateColumn(t("data_status_last_sold"), format="YYYY-MM-DD"),
        },
    )  # fmt: skip

# -- access and configuration: admins only, when the dashboards are behind a login ([access]) --------------------
WHO = access.current()
if not WHO.open and WHO.can(access.SEE_CONFIG):
    config = access.access_config()
    with st.expander(t("access_config_title")):
        st.caption(t("access_config_caption"))

        def _env(name: str | None) -> str:
            if not name:
                return "—"
            return t("access_env_set" if os.environ.get(name) else "access_env_missing", name=name)

        def _path(where) -> str:
            try:
                return str(where())
            except SettingsError as exc:
                return str(exc)

        serving = _path(serve_path)
        settings = [
            ("config", str(config.config_file)),
            # the published warehouse: the serve.duckdb file, or the DuckLake's locator (catalog#data path)
            ("lake" if serving.startswith(LAKE_PREFIX) else "serve_path", serving),
            ("ops_path", _path(ops_path)),
            ("server_metadata_url", config.server_metadata_url),
            ("client_id", config.client_id),
            ("redirect_uri", config.redirect_uri),
            ("roles_claim", config.roles_claim or "—"),
            ("client_secret_env", _env(config.client_secret_env)),
            ("cookie_secret_env", _env(config.cookie_secret_env)),
            ("kiosk_token_env", _env(config.kiosk_token_env)),
        ]
        st.dataframe(
            pd.DataFrame(settings, columns=[t("access_config_setting"), t("access_config_value")]),
            hide_index=True,
            key="data_status_access_settings",
        )
        st.dataframe(
            pd.DataFrame(
                [(email, t(f"access_role_{role}")) for email, role in sorted(config.users.items())],
                columns=[t("access_user"), t("access_role")],
            ),
            hide_index=True,
            key="data_status_access_users",
        )
