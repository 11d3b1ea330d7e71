"""Platform exports land in raw_files whatever their encoding or file type; every bad row is quarantined with its
row number and a reason a person can act on while every good row loads; re-importing changes nothing; the
simulator's history exports import to exactly the world's orders, lines and refunds before the cut-off."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest

from connectors.common.pii import pii_hash
from connectors.files.exports import read_export
from connectors.files.mapping import load_mappings
from connectors.files.source import files_pipeline, import_files
from sandbox.shop.exports import write_history_exports

SALT = "test-salt"
CUTOFF = date(2026, 3, 25)  # a short history keeps the test fast
NOW = datetime(2026, 7, 1, tzinfo=UTC)
MAPPINGS = load_mappings()
SHOPS = {"tmall_flagship": "taobao", "jd_pop": "jd", "pdd_main": "pinduoduo", "douyin_live": "douyin"}


@pytest.fixture(scope="module")
def exports(small_world, tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("history")
    write_history_exports(small_world, directory, before=CUTOFF)
    return directory


def taobao_rows(exports: Path, n: int) -> tuple[list[str], list[list[str]]]:
    """The header and the first `n` rows of the Taobao export, as text cells."""
    rows = list(
        csv.reader(
            io.StringIO((exports / "tmall_flagship__orders.csv").read_bytes().decode("gbk"), newline="")
        )
    )
    return rows[0], rows[1 : n + 1]


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str) -> Path:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows([header, *rows])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def landed(path: Path) -> list[dict]:
    _, result = read_export(path, MAPPINGS, pii_salt=SALT, now=NOW)
    assert result.quarantine == []
    return [
        {k: v for k, v in row.items() if k not in ("source_file", "file_sha256")}
        for row in result.tables["orders"].to_pylist()
    ]


def test_a_gbk_csv_and_an_xlsx_with_the_same_content_land_the_same_rows(exports, tmp_path):
    header, rows = taobao_rows(exports, 30)
    gbk = write_csv(tmp_path / "tmall_flagship__orders.csv", header, rows, "gbk")
    book = openpyxl.Workbook()
    book.active.append(header)
    for row in rows:
        book.active.append([c[2:-1] if c.startswith('="') else c for c in row])  # ids as plain text cells
    book.save(tmp_path / "tmall_flagship__orders.xlsx")
    from_csv = landed(gbk)
    assert len(from_csv) == 30
    assert from_csv == landed(tmp_path / "tmall_flagship__orders.xlsx")
    assert from_csv[0]["order_id"].isdigit()  # the ="..." wrapper is gone
    assert from_csv[0]["created_at"].tzinfo is not None


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16", "utf-16-le", "utf-16-be"])
def test_every_usual_encoding_lands_the_same_rows_as_gbk(exports, tmp_path, encoding):
    header, rows = taobao_rows(exports, 10)
    expected = landed(write_csv(tmp_path / "tmall_flagship__orders.csv", header, rows, "gbk"))
    other = write_csv(tmp_path / "tmall_flagship__orders_other.csv", header, rows, encoding)
    assert landed(other) == expected


def test_buyer_data_is_hashed_before_it_lands(exports, tmp_path, small_world):
    header, rows = taobao_rows(exports, 5)
    row = landed(write_csv(tmp_path / "tmall_flagship__orders.csv", header, rows, "gbk"))[0]
    orders = small_world.shop("tmall_flagship", "orders").set_index("order_id")
    order = orders.loc[row["order_id"]]
    assert row["buyer_id_hash"].startswith("h:") and row["buyer_id_hash"] != order.buyer_id
    assert order.buyer_name not in str(row.values()) and order.buyer_phone not in str(row.values())
    assert row["province"] == order.province  # a province is not personal: kept


def bad_rows_file(exports: Path, directory: Path) -> tuple[Path, dict[str, tuple[int, str]], int]:
    """Five good rows, an empty row, then one bad row of each of 20 kinds, in a GBK CSV. Returns the file, each
    kind's (row number, phrase its reason must contain) and the number of good rows."""
    header, good = taobao_rows(exports, 5)
    col = {h: i for i, h in enumerate(header)}
    base = good[0]

    def variant(n: int, **cells: str) -> list[str]:
        row = list(base)
        row[col["子订单编号"]] = f'="99900000000{n:03d}"'
        for name, value in cells.items():
            row[col[name]] = value
        return row

    created = base[col["订单创建时间"]]
    kinds: dict[str, tuple[list[str], str]] = {
        "missing order id": (variant(1, 订单编号=""), "订单编号 is empty"),
        "missing line id": (variant(2, 子订单编号=""), "子订单编号 is empty"),
        "unparseable date": (
            variant(3, 订单创建时间="昨天下午"),
            "订单创建时间 '昨天下午' is not a date and time",
        ),
        "impossible date": (variant(4, 订单创建时间="2026-02-30 10:00:00"), "is not a date and time"),
        "future date": (
            variant(5, 订单付款时间="2099-01-01 10:00:00"),
            "订单付款时间 '2099-01-01 10:00:00' is in the future",
        ),
        "paid before created": (
            variant(6, 订单付款时间="2020-01-01 00:00:00"),
            "订单付款时间 is before 订单创建时间",
        ),
        "negative quantity": (variant(7, 宝贝数量="-1"), "宝贝数量 '-1' is below 1"),
        "fractional quantity": (variant(8, 宝贝数量="1.5"), "宝贝数量 '1.5' is not a whole number"),
        "quantity in words": (variant(9, 宝贝数量="两件"), "宝贝数量 '两件' is not a whole number"),
        "non-numeric amount": (variant(10, 子订单实付金额="abc"), "子订单实付金额 'abc' is not a number"),
        "currency garbage": (
            variant(11, 子订单实付金额="￥12.30元/件"),
            "子订单实付金额 '￥12.30元/件' is not a number",
        ),
        "negative amount": (variant(12, 买家实际支付金额="-5.00"), "买家实际支付金额 '-5.00' is negative"),
        "fen precision": (variant(13, 价格="12.345"), "价格 '12.345' has more than 2 decimals"),
        "unknown status": (
            variant(14, 订单状态="已冻结"),
            "订单状态 '已冻结' is not in the map of order_status",
        ),
        "duplicate line": (list(good[1]), "子订单编号 "),
        "too many columns": (variant(16) + ["多出来的一格"], "cells but the header has"),
        "too few columns": (variant(17)[: len(header) // 2], "the row is cut short"),
        "excel-mangled id": (
            variant(18, 订单编号="3.90000000048847E+18"),
            "was turned into a number by Excel",
        ),
        "header row pasted again": (list(header), "订单编号 '订单编号' does not look like a 订单编号"),
        "undecodable bytes": (variant(20, 宝贝标题="@@BADBYTE@@"), "bytes that are not valid gb18030"),
    }
    assert created  # the base row is a real order
    rows = [*good, [], *(row for row, _ in kinds.values())]
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows([header, *rows])
    data = buffer.getvalue().encode("gbk").replace(b"@@BADBYTE@@", b"\xff\xfe\xff")
    path = directory / "tmall_flagship__orders_bad.csv"
    path.write_bytes(data)
    first_bad_row = 1 + len(good) + 1 + 1  # header, good rows, the empty row
    expected = {kind: (first_bad_row + i, phrase) for i, (kind, (_, phrase)) in enumerate(kinds.items())}
    return path, expected, len(good)


def test_a_file_with_twenty_kinds_of_bad_rows_keeps_every_good_row_and_says_what_to_fix_for_each_bad_one(
    exports, tmp_path
):
    path, expected, good = bad_rows_file(exports, tmp_path)
    assert len(expected) == 20
    _, result = read_export(path, MAPPINGS, pii_salt=SALT, now=NOW)
    assert len(result.tables["orders"].to_pylist()) == good
    reasons = {q["row_number"]: q["reason"] for q in result.quarantine}
    assert sorted(reasons) == sorted(
        n for n, _ in expected.values()
    )  # the empty row is skipped, not an error
    for kind, (row_number, phrase) in expected.items():
        reason = reasons[row_number]
        assert reason.startswith(f"{path.name} row {row_number}: "), kind
        assert phrase in reason, (kind, reason)
        assert "re-import" in reason or "re-export" in reason, (kind, reason)
    duplicate = reasons[expected["duplicate line"][0]]
    assert "repeats row 3" in duplicate


def _totals(con: duckdb.DuckDBPyConnection, shop_id: str, channel: str) -> dict[str, object]:
    q = lambda sql: con.execute(sql).fetchone()  # noqa: E731
    orders = q(f"select count(distinct order_id) from raw_files.orders where shop_id = '{shop_id}'")[0]
    order_paid = q(
        f"select sum(p) from (select max(order_paid_amount) p from raw_files.orders "
        f"where shop_id = '{shop_id}' group by order_id)"
    )[0]
    lines, line_paid, units = q(
        f"select count(*), sum(line_paid_amount), sum(quantity) "
        f"from raw_files.orders where shop_id = '{shop_id}'"
    )
    refunds, refunded = q(
        f"select count(*), sum(refund_amount) from raw_files.refunds where shop_id = '{shop_id}'"
    )
    return {
        "orders": orders,
        "order_paid": order_paid,
        "lines": lines,
        "line_paid": line_paid,
        "units": units,
        "refunds": refunds,
        "refunded": refunded or Decimal("0.00"),
    }


def _world_totals(world, shop_id: str) -> dict[str, object]:
    orders = world.shop(shop_id, "orders")
    orders = orders[orders.created_at.dt.tz_convert("Asia/Shanghai").dt.date < CUTOFF]
    lines = world.shop(shop_id, "order_lines")
    lines = lines[lines.order_id.isin(orders.order_id)]
    refunds = world.shop(shop_id, "refunds")
    refunds = refunds[refunds.created_at.dt.tz_convert("Asia/Shanghai").dt.date < CUTOFF]
    return {
        "orders": len(orders),
        "order_paid": sum(orders.paid_amount, Decimal("0.00")),
        "lines": len(lines),
        "line_paid": sum(lines.paid_amount, Decimal("0.00")),
        "units": int(lines.quantity.sum()),
        "refunds": len(refunds),
        "refunded": sum(refunds.amount, Decimal("0.00")),
    }


@pytest.fixture(scope="module")
def warehouse(exports, tmp_path_factory):
    """The history exports, a file with bad rows and a file named without its shop, imported twice."""
    work = tmp_path_factory.mktemp("warehouse")
    bad, expected, _ = bad_rows_file(exports, work)
    nameless = work / "orders_export.csv"
    nameless.write_bytes((exports / "tmall_flagship__orders.csv").read_bytes())
    db = work / "build.duckdb"
    pipeline = files_pipeline(db, work / "dlt")
    import_files(pipeline, [bad, nameless], directory=exports, pii_salt=SALT, now=NOW)
    with duckdb.connect(str(db), read_only=True) as con:
        first = {
            t: con.sql(f"select * exclude (_dlt_load_id, _dlt_id) from raw_files.{t} order by all").fetchall()
            for t in ("orders", "refunds")
        }
        first["quarantine"] = con.sql(
            "select source_file, row_number, reason from raw_files.quarantine order by all"
        ).fetchall()
    import_files(pipeline, [bad, nameless], directory=exports, pii_salt=SALT, now=NOW)
    return db, first, expected, bad


def test_the_history_exports_import_to_exactly_the_worlds_orders_lines_and_refunds_before_the_cutoff(
    warehouse, small_world
):
    db, _, _, _ = warehouse
    with duckdb.connect(str(db), read_only=True) as con:
        for shop_id, channel in SHOPS.items():
            assert _totals(con, shop_id, channel) == _world_totals(small_world, shop_id), shop_id


def test_importing_the_same_files_again_changes_nothing(warehouse):
    db, first, _, _ = warehouse
    with duckdb.connect(str(db), read_only=True) as con:
        for table, rows in first.items():
            if table == "quarantine":
                again = con.sql(
                    "select source_file, row_number, reason from raw_files.quarantine order by all"
                ).fetchall()
            else:
                again = con.sql(
                    f"select * exclude (_dlt_load_id, _dlt_id) from raw_files.{table} order by all"
                ).fetchall()
            assert again == rows, table


def test_the_warehouse_quarantine_names_the_file_the_row_and_what_to_fix(warehouse):
    db, _, expected, bad = warehouse
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.sql(
            f"select row_number, reason, raw_row from raw_files.quarantine where source_file = '{bad.name}'"
        ).fetchall()
    assert sorted(r[0] for r in rows) == sorted(n for n, _ in expected.values())
    assert all(bad.name in reason for _, reason, _ in rows)
    assert any("已冻结" in raw for _, _, raw in rows)  # the row as read, for the person fixing it


def test_a_file_whose_name_does_not_say_the_shop_is_quarantined_with_how_to_name_it(warehouse):
    db, _, _, _ = warehouse
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.sql(
            "select row_number, reason from raw_files.quarantine where source_file = 'orders_export.csv'"
        ).fetchall()
    assert len(rows) == 1 and rows[0][0] == 0
    assert "<shop_id>__<kind>.csv" in rows[0][1] and "tmall_flagship__orders.csv" in rows[0][1]


@pytest.fixture(scope="module")
def bill_warehouse(small_world, tmp_path_factory):
    """Every bill line of the world exported (cut-off after the last settlement) and imported twice."""
    work = tmp_path_factory.mktemp("bills")
    end = max(small_world.bill_lines.settled_date)
    paths = [
        p
        for p in write_history_exports(small_world, work / "exports", before=end + timedelta(days=1))
        if "__settlements." in p.name
    ]
    db = work / "build.duckdb"
    pipeline = files_pipeline(db, work / "dlt")
    import_files(pipeline, paths, pii_salt=SALT, now=NOW)
    import_files(pipeline, paths, pii_salt=SALT, now=NOW)
    return db


def _landed_bill_lines(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Every bill entry as (shop, bill line, order, signed amount): the sign by direction, or income less
    expense, as stg_files__settlements reads them."""
    return sorted(
        con.sql(
            "select shop_id, bill_line_id, order_id, cast(case when direction = 'out' then -abs(amount) "
            "when direction = 'in' then abs(amount) "
            "else coalesce(income_amount, 0) - abs(coalesce(expense_amount, 0)) end as varchar) "
            "from raw_files.settlements"
        ).fetchall()
    )


def test_the_bill_exports_import_to_exactly_the_worlds_bill_lines_with_a_line_booked_twice_kept_twice(
    bill_warehouse, small_world
):
    bills = small_world.bill_lines[small_world.bill_lines.shop_id.isin(SHOPS)]
    truth = sorted(
        (r.shop_id, r.bill_line_id, r.order_id, f"{r.amount:.2f}") for r in bills.itertuples(index=False)
    )
    with duckdb.connect(str(bill_warehouse), read_only=True) as con:
        landed = _landed_bill_lines(con)
        quarantined = con.execute("select count(*) from raw_files.quarantine").fetchone()[0]
    assert landed == truth  # imported twice, still once per ledger entry
    assert quarantined == 0
    errors = small_world.truth_bill_errors
    duplicated = errors[
        (errors["error"] == "duplicate_bill") & errors["shop_id"].isin(SHOPS)
    ]  # exported shops
    assert len(duplicated) > 0
    for row in duplicated.itertuples(index=False):
        copies = [r for r in landed if r[0] == row.shop_id and r[2] == row.order_id]
        assert len(copies) - len({r[1] for r in copies}) == 1, row.order_id


def test_the_ad_reports_import_to_exactly_the_worlds_ad_spend_and_a_bad_row_is_set_aside_with_its_fix(
    exports, small_world, tmp_path
):
    """Every shop's plan report lands once per plan and day (imported twice); in a copy of the Taobao report with
    a negative spend and a date that is not one, only those two rows are set aside, each with its reason."""
    header, *rows = list(
        csv.reader(
            io.StringIO((exports / "tmall_flagship__ad_spend.csv").read_bytes().decode("gbk"), newline="")
        )
    )
    rows[0][header.index("花费")] = "-12.50"
    rows[1][header.index("日期")] = "昨天"
    damaged = write_csv(tmp_path / "tmall_flagship__ad_spend.csv", header, rows, "gbk")
    paths = [
        exports / f for f in ("jd_pop__ad_spend.xlsx", "pdd_main__ad_spend.csv", "douyin_live__ad_spend.xlsx")
    ]
    db = tmp_path / "build.duckdb"
    pipeline = files_pipeline(db, tmp_path / "dlt")
    for _ in range(2):
        import_files(pipeline, [*paths, damaged], pii_salt=SALT, now=NOW)
    with duckdb.connect(str(db), read_only=True) as con:
        landed_rows = con.sql(
            "select shop_id, spend_date, campaign_id, cast(spend as varchar) from raw_files.ad_spend"
        ).fetchall()
        reasons = con.sql(
            "select row_number, reason from raw_files.quarantine order by row_number"
        ).fetchall()
    truth = small_world.ad_spend[small_world.ad_spend.shop_id.isin(SHOPS)]
    expected = {(r.shop_id, r.spend_date, r.campaign_id, f"{r.spend:.2f}") for r in truth.itertuples()}
    first, second = (truth[truth.shop_id == "tmall_flagship"].sort_values(["spend_date", "campaign_id"]).iloc[i]
                     for i in (0, 1))  # fmt: skip
    expected -= {(r.shop_id, r.spend_date, r.campaign_id, f"{r.spend:.2f}") for r in (first, second)}
    assert len(landed_rows) == len(set(landed_rows)) == len(expected)
    assert set(landed_rows) == expected
    assert [n for n, _ in reasons] == [2, 3]
    assert "花费" in reasons[0][1] and "-12.50" in reasons[0][1], reasons[0][1]
    assert "日期" in reasons[1][1] and "昨天" in reasons[1][1], reasons[1][1]


def test_every_export_table_has_a_load_id_even_before_any_file_of_its_format_arrived(exports, tmp_path):
    # one orders file: the other formats' tables are created empty, and freshness reads _dlt_load_id from all
    db = tmp_path / "build.duckdb"
    import_files(
        files_pipeline(db, tmp_path / "dlt"), [exports / "tmall_flagship__orders.csv"], pii_salt=SALT, now=NOW
    )
    with duckdb.connect(str(db), read_only=True) as con:
        tables = con.sql(
            "select table_name, count(*) filter (where column_name = '_dlt_load_id') from information_schema.columns"
            " where table_schema = 'raw_files' and table_name not like '%\\_\\_%' escape '\\'"
            " and table_name not like '\\_dlt%' escape '\\' group by 1"
        ).fetchall()
    assert {"orders", "refunds", "settlements", "ad_spend"} <= {t for t, _ in tables}
    assert [t for t, has_load_id in tables if not has_load_id] == []


PLANTED = {
    "收货人姓名": "张三丰",
    "联系手机": "13812345678",
    "详细地址": "人民路1号",
    "买家会员名": "zhangsan_buyer",
}
EXTRA_PII = {"收货地址": "浙江省杭州市人民路1号", "买家邮箱": "buyer@example.com"}
"""Columns a real back-office export may carry that the mapping does not read."""
REMARK = "到了请打13912345678"
CLEAR = [*PLANTED.values(), *EXTRA_PII.values(), "13912345678", "3单元"]


def pii_rows_file(exports: Path, directory: Path) -> tuple[Path, list[str], list[str]]:
    """Rows full of buyer data that are quarantined: a cell problem (an unknown status), a row made longer by an
    unquoted comma in its street address, and a row cut in two by a line break in the address. Returns the
    file, the header and the first (aligned) bad row."""
    header, good = taobao_rows(exports, 1)
    header = [*header, *EXTRA_PII]
    col = {h: i for i, h in enumerate(header)}

    def planted(n: int, **cells: str) -> list[str]:
        row = [*good[0], *EXTRA_PII.values()]
        row[col["子订单编号"]] = f'="88800000000{n:03d}"'
        for name, value in {**PLANTED, "买家留言": REMARK, **cells}.items():
            row[col[name]] = value
        return row

    aligned = planted(1, 订单状态="已冻结")
    comma = planted(2)
    at = col["详细地址"]
    longer = [*comma[:at], "人民路1号", "3单元", *comma[at + 1 :]]
    broken = planted(3)
    first_part, second_part = [*broken[:at], "人民路1号"], ["3单元", *broken[at + 1 :]]
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows([header, aligned, longer, first_part, second_part])
    path = directory / "tmall_flagship__orders_pii.csv"
    path.write_bytes(buffer.getvalue().encode("gbk"))
    return path, header, aligned


def test_a_quarantined_export_row_keeps_its_other_cells_but_no_buyer_datum_in_the_clear(exports, tmp_path):
    path, _, aligned = pii_rows_file(exports, tmp_path)
    _, result = read_export(path, MAPPINGS, pii_salt=SALT, now=NOW)

    assert len(result.quarantine) == 4 and result.tables["orders"].to_pylist() == []
    stored = json.dumps(result.quarantine, ensure_ascii=False, default=str)
    assert [value for value in CLEAR if value in stored] == []
    row = next(q["raw_row"] for q in result.quarantine if q["row_number"] == 2)
    # the non-personal cells and the reason stay, for the person fixing the row
    assert (
        row["订单状态"] == "已冻结"
        and "订单状态 '已冻结' is not in the map of order_status" in result.quarantine[0]["reason"]
    )
    assert row["收货省份"] == aligned[list(row).index("收货省份")] and row["订单编号"]
    # the buyer's cells hashed as an accepted row hashes them (one buyer keeps one hash)
    assert row["收货人姓名"] == pii_hash("张三丰", SALT)
    assert row["买家邮箱"] == pii_hash("buyer@example.com", SALT)
    assert row["买家留言"] == pii_hash(REMARK, SALT)  # a remark holding a phone number
    longer = next(q for q in result.quarantine if q["row_number"] == 3)
    assert "cells but the header has" in longer["reason"] and longer["raw_row"]["订单编号"] == row["订单编号"]


def test_a_personal_cell_that_fails_its_check_is_named_by_its_hash_in_the_reason(tmp_path):
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    (mappings / "phones.yaml").write_text(
        "name: phones\nentity: orders\nfiles: ['*phones*']\n"
        "constants: {order_status: completed, quantity: 1, unit_price: 1, sku_id: X}\ncolumns:\n"
        "  - {header: 订单号, name: order_id}\n"
        "  - {header: 下单时间, name: created_at}\n"
        "  - {header: 手机, name: receiver_phone_hash, required: true, pattern: '1\\d{10}'}\n",
        encoding="utf-8",
    )
    path = write_csv(
        tmp_path / "shop__phones.csv",
        ["订单号", "下单时间", "手机"],
        [["1", "2026-06-01 10:00:00", "138-1234-567"]],
        "utf-8",
    )

    _, result = read_export(path, load_mappings(mappings), pii_salt=SALT, now=NOW)

    (bad,) = result.quarantine
    assert "138-1234-567" not in json.dumps(bad, ensure_ascii=False, default=str)
    assert f"手机 '{pii_hash('138-1234-567', SALT)}' does not look like" in bad["reason"]


def test_the_warehouse_and_its_quarantine_hold_no_planted_buyer_datum(exports, tmp_path):
    path, _, _ = pii_rows_file(exports, tmp_path)
    db = tmp_path / "build.duckdb"
    import_files(files_pipeline(db, tmp_path / "dlt"), [path], pii_salt=SALT, now=NOW)
    with duckdb.connect(str(db), read_only=True) as con:
        tables = con.sql(
            "select table_name from information_schema.tables where table_schema = 'raw_files'"
        ).fetchall()
        cells = "\n".join(str(con.sql(f'select * from raw_files."{t}"').fetchall()) for (t,) in tables)
        quarantined = con.execute("select count(*) from raw_files.quarantine").fetchone()[0]
    assert quarantined == 4
    assert [value for value in CLEAR if value in cells] == []


def test_a_mapping_column_that_looks_like_buyer_data_must_say_whether_it_is_hashed(tmp_path):
    from connectors.files.mapping import MappingError, load_mapping

    def mapping(name: str, option: str) -> Path:
        path = tmp_path / f"m{len(option)}{name}.yaml"
        path.write_text(
            "name: m\nentity: orders\nconstants: {order_status: completed, quantity: 1, unit_price: 1, outer_id: X}\n"
            "columns:\n  - {header: 订单号, name: order_id}\n  - {header: 时间, name: created_at}\n"
            f"  - {{header: 收货人电话, name: {name}{option}}}\n",
            encoding="utf-8",
        )
        return path

    # a header naming buyer data mapped to a column that is not hashed must say so
    with pytest.raises(MappingError, match="收货人电话.*looks like buyer data.*pii: true"):
        load_mapping(mapping("sku_id", ""))
    assert not load_mapping(mapping("sku_id", ", pii: false")).sheets[0].columns[2].pii  # the seller's own
    # a canonical *_hash column is hashed whatever the mapping says
    assert load_mapping(mapping("receiver_phone_hash", "")).sheets[0].columns[2].pii


@pytest.mark.parametrize("shop_id", ["jd_pop", "pdd_main"])
def test_a_sku_listed_twice_in_one_order_of_an_export_without_line_ids_lands_as_two_lines_and_reimports_alike(
    exports, tmp_path, shop_id
):
    """JD and Pinduoduo exports have no line id: a second line of the same SKU in an order (a gift beside a paid
    one) is its own line, numbered by its occurrence, not a duplicate to set aside."""
    source = next(exports.glob(f"{shop_id}__orders.*"))
    table = "orders"
    _, first = read_export(source, MAPPINGS, pii_salt=SALT, now=NOW)
    line = first.tables[table].to_pylist()[0]
    with_repeat = tmp_path / source.name
    if source.suffix == ".xlsx":
        import openpyxl

        book = openpyxl.load_workbook(source)
        sheet = book.worksheets[0]
        sheet.append([cell.value for cell in sheet[2]])  # the first line again, at the end of the file
        book.save(with_repeat)
    else:
        raw = source.read_bytes()
        encoding = "gbk" if not raw.startswith(b"\xef\xbb\xbf") else "utf-8-sig"
        rows = list(csv.reader(io.StringIO(raw.decode(encoding), newline="")))
        write_csv(with_repeat, rows[0], [*rows[1:], rows[1]], encoding)
    for _ in range(2):  # reading the same file again numbers the lines the same way
        _, result = read_export(with_repeat, MAPPINGS, pii_salt=SALT, now=NOW)
        assert result.quarantine == []
        rows = result.tables[table].to_pylist()
        assert len(rows) == len(first.tables[table].to_pylist()) + 1
        same = [r for r in rows if (r["order_id"], r["sku_id"]) == (line["order_id"], line["sku_id"])]
        assert sorted(r["sku_occurrence"] for r in same) == [1, 2]
