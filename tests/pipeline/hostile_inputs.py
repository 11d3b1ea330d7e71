"""Hostile inputs for a whole run, and the scan that must find none of them afterwards.

A seller's run meets buyer data in files it cannot use (rows set aside with the buyer's name, phone and address in
them) and text from outside that a spreadsheet would run (a listing title `=HYPERLINK(...)`). After such a run no
buyer datum may be in the clear anywhere shopkeep writes — the build and serving files, the ops store, the dlt
state, dbt's and Dagster's logs, what the run printed — and no download may hold a live formula.
"""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import duckdb
import openpyxl

from sandbox.world import World

HOSTILE_TITLE = '=HYPERLINK("http://evil.example/x","点我领券")'
"""A listing title a spreadsheet would run: the sandboxes serve it for one SKU everywhere it is sold."""

BUYER = {
    "收货人姓名": "欧阳锋锐",
    "联系手机": '="13712345678"',
    "详细地址": "幸福路88号7幢",
    "买家会员名": "ouyang_feng_88",
    "买家留言": "到了打13787654321",
}
CLEAR = ["欧阳锋锐", "13712345678", "幸福路88号", "ouyang_feng_88", "13787654321", "7幢"]
"""The planted buyer data as it could appear anywhere (the address's second half also alone)."""


def _secrets() -> list[str]:
    """The sandboxes' secrets the run was given (tokens, app secrets, the PII salt): no more allowed anywhere
    than buyer data."""
    from tests.conftest import TOKENS

    return [value for name, value in TOKENS.items() if name.endswith(("TOKEN", "SECRET", "SALT"))]

FORMULA_STARTS = ("=", "+", "-", "@")


def with_hostile_title(world: World) -> World:
    """`world` with one SKU sold in several shops titled HOSTILE_TITLE on every line and listing (the truth —
    orders, units, money — is unchanged)."""
    lines = world.order_lines
    shops_per_sku = lines.groupby("sku")["shop_id"].nunique().sort_values(ascending=False)
    sku = shops_per_sku.index[0]
    tables = dict(world.tables)
    lines = lines.copy()
    lines.loc[lines["sku"] == sku, "title"] = HOSTILE_TITLE
    tables["order_lines"] = lines
    if "sku" in world.listings.columns:
        listings = world.listings.copy()
        listings.loc[listings["sku"] == sku, "title"] = HOSTILE_TITLE
        tables["listings"] = listings
    return World(params=world.params, tables=tables)


def plant_bad_export(exports: Path, shop_id: str) -> Path:
    """Next to the Taobao shop's orders export, a file of rows the importer must set aside, each carrying a buyer's
    name, phone, address, member name and a remark holding a phone, and the hostile title: an unknown status, a
    negative quantity, and a row cut in two by a line break inside the address."""
    source = exports / f"{shop_id}__orders.csv"
    rows = list(csv.reader(io.StringIO(source.read_bytes().decode("gbk"), newline="")))
    header, good = rows[0], rows[1]
    col = {h: i for i, h in enumerate(header)}

    def bad(n: int, **cells: str) -> list[str]:
        row = list(good)
        row[col["订单编号"]] = f'="77700000000000{n:03d}"'
        row[col["子订单编号"]] = f'="77700000000001{n:03d}"'
        for name, value in {**BUYER, "宝贝标题": HOSTILE_TITLE, **cells}.items():
            row[col[name]] = value
        return row

    unknown_status = bad(1, 订单状态="已冻结")
    negative = bad(2, 宝贝数量="-2")
    cut = bad(3, 详细地址="幸福路88号\n7幢")
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([unknown_status, negative])
    # written by hand: a naive export breaks the row at the address's line break, unquoted
    at = col["详细地址"]
    buffer.write(",".join(cut[:at]) + ",幸福路88号\r\n7幢," + ",".join(cut[at + 1 :]) + "\r\n")
    path = exports / f"{shop_id}__orders_bad.csv"
    path.write_bytes(buffer.getvalue().encode("gbk"))
    return path


def leaks_in_duckdb(path: Path) -> list[str]:
    """`schema.table` of every table or view in the DuckDB file that holds a planted buyer datum in any cell."""
    found = []
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_schema not in ('information_schema', 'pg_catalog')"
        ).fetchall()
        for schema, table in tables:
            text = str(con.execute(f'select * from "{schema}"."{table}"').fetchall())
            found += [f"{path.name}: {schema}.{table} holds {v!r}" for v in CLEAR + _secrets() if v in text]
    return found


def leaks_in_files(root: Path, skip: set[Path]) -> list[str]:
    """Every file under `root` (but the DuckDB files and `skip`) whose bytes hold a planted buyer datum, as UTF-8
    or GBK."""
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.suffix in {".duckdb", ".wal"} or any(path.is_relative_to(s) for s in skip):
            continue
        data = _content(path)
        found += [
            f"{path.relative_to(root)} holds {v!r}"
            for v in CLEAR + _secrets()
            if v.encode("utf-8") in data or v.encode("gbk") in data
        ]
    return found


def _content(path: Path) -> bytes:
    """What a file holds, as a reader of it would see it: gzip decompressed, Parquet and Arrow IPC as their rows'
    text. (Compressed or columnar bytes would both hide a datum and, being dense, hold a short GBK datum's three
    bytes by chance.)"""
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        return gzip.decompress(data)
    if path.suffix in {".parquet", ".arrow"}:
        import pyarrow.ipc
        import pyarrow.parquet

        table = (
            pyarrow.parquet.read_table(path)
            if path.suffix == ".parquet"
            else pyarrow.ipc.open_file(path).read_all()
        )
        return repr(table.to_pylist()).encode("utf-8")
    return data


def leaks_in_text(where: str, text: str) -> list[str]:
    return [f"{where} holds {v!r}" for v in CLEAR + _secrets() if v in text]


def download_problems(serve_path: Path) -> tuple[list[str], int]:
    """Every mart of the serving file through the dashboards' CSV and XLSX downloads: the cells that would run as a
    formula or hold a planted buyer datum; and how many mart cells start like a formula before the download
    (so a caller can check the run really brought one)."""
    from dashboards.tables import csv_bytes, xlsx_bytes

    problems, raw_formulas = [], 0
    with duckdb.connect(str(serve_path), read_only=True) as con:
        marts = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()]  # fmt: skip
        frames = {m: con.execute(f'select * from marts."{m}"').df() for m in marts}
    for mart, df in frames.items():
        raw_formulas += sum(
            isinstance(v, str) and v.startswith(HOSTILE_TITLE[:10])
            for c in df.columns
            for v in df[c].tolist()
        )
        text = csv_bytes(df).decode("utf-8-sig")
        problems += leaks_in_text(f"{mart}.csv", text)
        for row in csv.reader(io.StringIO(text, newline="")):
            problems += [f"{mart}.csv runs {cell[:40]!r}" for cell in row if _live(cell)]
        book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(df)))
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if cell.data_type == "f":
                        problems.append(f"{mart}.xlsx {cell.coordinate} runs {str(cell.value)[:40]!r}")
                    elif isinstance(cell.value, str):
                        problems += leaks_in_text(f"{mart}.xlsx {cell.coordinate}", cell.value)
    return problems, raw_formulas


def _live(cell: str) -> bool:
    if not cell.startswith(FORMULA_STARTS):
        return False
    try:
        float(cell)  # a negative number is a number
    except ValueError:
        return True
    return False
