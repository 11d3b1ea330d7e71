"""A large seller's raw tables, written straight into a build.duckdb (no HTTP, no connector): the benchmark input
of `bench.scale`.

A built warehouse of the simulated shop (`--source`, by default the demo's `.shopkeep/build.duckdb`: ≈127k order
lines, 200 SKUs, 5 shops, 18 months) gives every raw table's real shape and rows. `scale_raw` copies its raw
schemas `clones` times into a new file in DuckDB SQL (a cross join with `range()`): clone 0 is the shop as it is,
clone k > 0 a copy of the whole catalogue and its trade — every SKU / merchant code, platform id, order, line,
refund, bill line, buyer, stock snapshot and movement, purchase order, listing, promotion and ad campaign — with
its ids suffixed `~k` (text) or offset by k × 10^14 (integers), and dlt's `_dlt_id` / `_dlt_parent_id` /
`_dlt_root_id` suffixed alike so parent/child links hold. Dates and times are kept: a seller with `clones` times
the catalogue and `clones` times the orders per day. Shops, configuration, suppliers and dlt's bookkeeping are
copied once. The marts' tables are not copied: the benchmark builds them.

`hold_out_last_day`: the API channels' orders created on the last full day of the data or after (with their lines) are left out
of the file and written to a schema `bench_new_day` instead, so the benchmark can land "one new day of orders"
and time the hourly incremental run (`land_new_day`).

Generated files are cached under `.shopkeep/bench/raw/` keyed by this module's code, the source file and
`clones` (`cached_raw`).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from datetime import UTC, timedelta
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".shopkeep" / "bench" / "raw"
ID_OFFSET = 10**14
"""Integer ids of clone k are offset by k × ID_OFFSET (every id range of the simulated shop is narrower)."""

# Columns whose values are identities that must stay unique per clone (platform ids, orders, lines, refunds, bill
# lines, buyers, POs, stock movements) or that name a SKU (merchant codes): text gets `~k`, integers + k × 10^14.
ID_COLUMNS = {
    "_dlt_id",
    "_dlt_parent_id",
    "_dlt_root_id",
    "order_id",
    "line_id",
    "parent_order_id",
    "product_id",
    "sku_id",
    "refund_id",
    "aftersale_id",
    "shop_order_id",
    "sku_order_id",
    "request_no",
    "bill_id",
    "bill_line_id",
    "bill_no",
    "entry_id",
    "campaign_id",
    "ware_id",
    "id",
    "oid",
    "tid",
    "num_iid",
    "goods_id",
    "order_sn",
    "account_log_id",
    "payout_id",
    "source_id",
    "source_order_id",
    "source_order_transaction_id",
    "inventory_item_id",
    "variant_id",
    "line_item_id",
    "customer__id",
    "po_number",
    "reference",
    "name",  # shopify order name '#1001' (a product name elsewhere: suffixing it is harmless)
    "order_number",
    "admin_graphql_api_id",
    "spu",
    "barcode",
    "source_row",
    "promo_id",
    # buyers
    "buyer_open_uid",
    "buyer_nick",
    "doudian_open_id",
    "pin",
    "buyer_id",
    "buyer_id_hash",
    "email",
    "customer__email",
    # SKUs / merchant codes
    "sku",
    "outer_id",
    "out_sku_id",
    "code",
    "outer_sku_id",
    "merchant_code",
    "kit_sku",
    "component_sku",
}
SKU_LIST_COLUMNS = {"skus"}  # comma-separated merchant codes (promotions)
NOT_CLONED = {
    "raw_config",
    "raw_product_master.suppliers",
    "raw_files.folder",
    "raw_files.imports",
    "raw_files.quarantine",
    "raw_product_master.quarantine",
    "raw_ops.shop_targets",
}
# Per API channel: the orders table, its creation time as a local date expression, and its child tables.
ORDER_TABLES = {
    "raw_taobao": ("orders", "cast(created as timestamp)::date", ["orders__orders"]),
    "raw_jd": ("orders", "cast(order_start_time as timestamp)::date", ["orders__item_info_list"]),
    "raw_pinduoduo": ("orders", "cast(created_time as timestamp)::date", ["orders__item_list"]),
    "raw_douyin": (
        "orders",
        "cast(timezone('Asia/Shanghai', to_timestamp(create_time)) as date)",
        ["orders__sku_order_list"],
    ),
    "raw_shopify": (
        "orders",
        "cast(timezone('Asia/Shanghai', created_at) as date)",
        [
            "orders__line_items",
            "orders__fulfillments",
            "orders__shipping_lines",
            "orders__refunds",
            "orders__refunds__refund_line_items",
            "orders__refunds__transactions",
        ],
    ),
}
NEW_DAY = "bench_new_day"


def _is_cloned(schema: str, table: str) -> bool:
    return not (
        schema in NOT_CLONED
        or f"{schema}.{table}" in NOT_CLONED
        or table.startswith("_dlt")
        or schema.endswith("_staging")
    )


def _column_expr(name: str, dtype: str, cloned: bool) -> str:
    col = f'src."{name}"'
    if not cloned:
        return col
    if name in SKU_LIST_COLUMNS and dtype == "VARCHAR":
        return f"case when c.c = 0 then {col} else regexp_replace({col}, '([^,]+)', '\\1~' || c.c, 'g') end"
    if name not in ID_COLUMNS:
        return col
    if dtype == "VARCHAR":
        return f"case when c.c = 0 or {col} = '' then {col} else {col} || '~' || c.c end"
    if dtype in {"BIGINT", "INTEGER", "HUGEINT"}:
        return f"{col} + c.c * {ID_OFFSET}" if name != "source_row" else f"{col} + c.c * 10000000"
    return col


def scale_raw(source: Path, out: Path, clones: int, hold_out_last_day: bool = True) -> dict:
    """Write `out`: `source`'s raw schemas with `clones` copies of the shop (see the module doc)."""
    if out.exists():
        out.unlink()
    started = time.perf_counter()
    con = duckdb.connect(str(out))
    try:
        con.execute("set preserve_insertion_order = false")
        con.execute(f"attach '{source}' as src_db (read_only)")
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = 'src_db' "
            "and schema_name like 'raw%' order by 1, 2"
        ).fetchall()
        sizes: dict[str, int] = {}
        for schema in sorted({s for s, _ in tables}):
            con.execute(f'create schema "{schema}"')
        for schema, table in tables:
            columns = con.execute(
                "select column_name, data_type from duckdb_columns() "
                "where database_name = 'src_db' and schema_name = ? and table_name = ? order by column_index",
                [schema, table],
            ).fetchall()
            cloned = _is_cloned(schema, table)
            exprs = ",\n".join(f'{_column_expr(c, d, cloned)} as "{c}"' for c, d in columns)
            con.execute(
                f"""
                create table "{schema}"."{table}" as
                select {exprs}
                from src_db."{schema}"."{table}" as src, range({clones if cloned else 1}) as c(c)
                """
            )
            (sizes[f"{schema}.{table}"],) = con.execute(
                f'select count(*) from "{schema}"."{table}"'
            ).fetchone()
        held = _hold_out_last_day(con) if hold_out_last_day else {}
        con.execute("detach src_db")
        con.execute("checkpoint")
    finally:
        con.close()
    return {
        "source": str(source),
        "clones": clones,
        "rows": sizes,
        "held_out": held,
        "generate_s": round(time.perf_counter() - started, 1),
        "file_mb": round(out.stat().st_size / 2**20),
    }


def _hold_out_last_day(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Move the API orders created on the data's last day (and their child rows) to schema bench_new_day."""
    con.execute(f"create schema {NEW_DAY}")
    # the last full day and the hours after it (the data ends in the morning of the day it was pulled)
    last = max(
        con.execute(f'select max({day}) from "{schema}"."{orders}"').fetchone()[0]
        for schema, (orders, day, _) in ORDER_TABLES.items()
    ) - timedelta(days=1)
    held = {}
    for schema, (orders, day, children) in ORDER_TABLES.items():
        new = f'{NEW_DAY}."{schema}__{orders}"'
        con.execute(f'create table {new} as select * from "{schema}"."{orders}" where {day} >= \'{last}\'')
        con.execute(f'delete from "{schema}"."{orders}" where {day} >= \'{last}\'')
        (held[f"{schema}.{orders}"],) = con.execute(f"select count(*) from {new}").fetchone()
        for child in children:
            child_new = f'{NEW_DAY}."{schema}__{child}"'
            con.execute(
                f'create table {child_new} as select * from "{schema}"."{child}" '
                f"where _dlt_root_id in (select _dlt_id from {new})"
            )
            con.execute(f'delete from "{schema}"."{child}" where _dlt_root_id in (select _dlt_id from {new})')
            (held[f"{schema}.{child}"],) = con.execute(f"select count(*) from {child_new}").fetchone()
    held["day"] = str(last)
    return held


def land_new_day(build: Path, through: str | None = None) -> dict[str, int]:
    """Append the held-out API orders (schema bench_new_day) and their child rows to the raw tables of `build`, as
    an hourly pull would land them (a new dlt load id): those created on or before the day `through` (YYYY-MM-DD),
    or, without it, all that are left."""
    load_id = f"{time.time():.7f}"
    landed = {}
    with duckdb.connect(str(build)) as con:
        for schema, (orders, day, children) in ORDER_TABLES.items():
            held = f'{NEW_DAY}."{schema}__{orders}"'
            picked = f"{day} <= '{through}'" if through else "true"
            roots = f"_dlt_root_id in (select _dlt_id from {held} where {picked})"
            for table, where in [*((child, roots) for child in children), (orders, picked)]:  # children first
                source = f'{NEW_DAY}."{schema}__{table}"'
                columns = [c for (c,) in con.execute(
                    f"select column_name from duckdb_columns() where schema_name = '{NEW_DAY}' and table_name = ?",
                    [f"{schema}__{table}"],
                ).fetchall()]  # fmt: skip
                select = ", ".join(f"'{load_id}'" if c == "_dlt_load_id" else f'"{c}"' for c in columns)
                (landed[f"{schema}.{table}"],) = con.execute(
                    f'insert into "{schema}"."{table}" ({", ".join(chr(34) + c + chr(34) for c in columns)}) '
                    f"select {select} from {source} where {where}"
                ).fetchone()
                con.execute(f"delete from {source} where {where}")
        if not through:
            con.execute(f"drop schema {NEW_DAY} cascade")
    return landed


def cache_key(source: Path, clones: int) -> str:
    stat = source.stat()
    text = (
        Path(__file__).read_bytes()
        + f"{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{clones}".encode()
    )
    return hashlib.sha256(text).hexdigest()[:12]


def source_clock(source: Path) -> str:
    """The time the demo source was last loaded (its latest dlt load, to the second, UTC): the builds' "now"
    (SHOPKEEP_CLOCK), so the marts are built as of the day the source's data ends, whatever day the bench runs."""
    with duckdb.connect(str(source), read_only=True) as con:
        schemas = [
            schema
            for (schema,) in con.execute(
                "select table_schema from information_schema.tables where table_name = '_dlt_loads'"
            ).fetchall()
        ]
        if not schemas:
            raise SystemExit(f"{source} has no dlt loads: pass a warehouse `make demo` built")
        (loaded,) = con.execute(
            "select max(inserted_at) from ("
            + " union all ".join(f"select inserted_at from {schema}._dlt_loads" for schema in schemas)
            + ")"
        ).fetchone()
    return loaded.astimezone(UTC).replace(microsecond=0).isoformat()


def cached_raw(source: Path, clones: int) -> tuple[Path, dict]:
    """The scaled raw file for (`source`, `clones`) under .shopkeep/bench/raw/, generated if missing."""
    key = cache_key(source, clones)
    folder = CACHE / f"x{clones}-{key}"
    raw, meta = folder / "raw.duckdb", folder / "raw.json"
    if raw.exists() and meta.exists():
        return raw, json.loads(meta.read_text())
    if CACHE.exists():  # an older generator's files: they would only fill the disk
        for old in CACHE.glob(f"x{clones}-*"):
            shutil.rmtree(old, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    figures = scale_raw(source, folder / "raw.tmp.duckdb", clones)
    (folder / "raw.tmp.duckdb").rename(raw)
    meta.write_text(json.dumps(figures, indent=2))
    return raw, figures


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--source", type=Path, default=REPO / ".shopkeep" / "build.duckdb")
    parser.add_argument("--clones", type=int, default=8)
    args = parser.parse_args()
    path, figures = cached_raw(args.source, args.clones)
    print(path, json.dumps({k: v for k, v in figures.items() if k != "rows"}, indent=2))
