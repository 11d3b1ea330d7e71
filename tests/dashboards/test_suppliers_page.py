"""供应商交付 Supplier deliveries over the built warehouse: the tiles are ratios of marts.supplier_performance's sums,
the table is the mart, the late lines are every supplier_deliveries line still open past its expected date, and a
warehouse filter cuts those lines."""

from __future__ import annotations

from dashboards.filters import WAREHOUSES_KEY
from dashboards.format import integer, percent
from tests.dashboards.pages_helper import render_page, rows, tiles


def _table(at, column: str):
    return next(t.value for t in at.dataframe if column in t.value.columns)


def test_the_tiles_and_tables_are_the_marts(built_serve_path, monkeypatch):
    serve = built_serve_path
    at = render_page(serve, "suppliers", monkeypatch)

    on_time, rated, received, due, overdue_units = rows(
        serve,
        "select sum(lines_on_time), sum(lines_rated), sum(units_received_of_due), sum(units_due), "
        "sum(overdue_units) from marts.supplier_performance",
    )[0]
    ((late_open,),) = rows(
        serve, "select count(*) from marts.supplier_deliveries where delivery_status = 'late_open'"
    )
    assert tiles(at) == {
        "准时率": percent(on_time / rated),
        "满足率": percent(received / due),
        "迟到采购行": integer(late_open),
        "逾期未到数量": integer(overdue_units),
    }
    assert overdue_units > 0  # the simulated world has suppliers that stopped delivering

    performance = _table(at, "lead_time_days_configured")
    expected = rows(serve, "select supplier_id, overdue_units from marts.supplier_performance "
                    "order by overdue_units desc, open_units desc, supplier_id")  # fmt: skip
    assert list(performance["supplier_id"]) == [r[0] for r in expected]
    assert [int(u) for u in performance["overdue_units"]] == [r[1] for r in expected]

    late = _table(at, "days_late")
    lines = rows(
        serve,
        "select po_number, sku, days_late from marts.supplier_deliveries "
        "where delivery_status in ('late_open', 'overdue') order by days_late desc, po_number, sku",
    )
    assert lines
    assert list(zip(late["po_number"], late["sku"], late["days_late"].astype(int), strict=True)) == lines
    assert set(late["delivery_status"]) <= {"迟到", "逾期"}


def test_a_warehouse_filter_cuts_the_late_lines(built_serve_path, monkeypatch):
    serve = built_serve_path
    ((warehouse,),) = rows(
        serve,
        "select warehouse_id from marts.supplier_deliveries where delivery_status in ('late_open', 'overdue') "
        "group by 1 order by count(*) desc, 1 limit 1",
    )
    at = render_page(serve, "suppliers", monkeypatch, **{WAREHOUSES_KEY: [warehouse]})
    late = _table(at, "days_late")
    ((n,),) = rows(
        serve,
        "select count(*) from marts.supplier_deliveries where delivery_status in ('late_open', 'overdue') "
        "and warehouse_id = ?",
        [warehouse],
    )
    assert len(late) == n > 0
