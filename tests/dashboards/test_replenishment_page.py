"""补货 Replenishment over the built warehouse: today's drafts per supplier as in marts.purchase_order_drafts,
and approve / edit / reject decisions that land in the ops store (never the warehouse) and show on the next
page load."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest

from dashboards import labels
from dashboards.format import integer, money
from tests.dashboards.pages_helper import one, render_page, rows, tiles
from writeback import ops_store as ops


@pytest.fixture
def ops_store(tmp_path, monkeypatch):
    store = tmp_path / "state" / "ops.sqlite"
    monkeypatch.setenv("SHOPKEEP_OPS_PATH", str(store))
    return store


def draft_lines(serve) -> list[tuple]:
    return rows(
        serve,
        "select draft_id, sku, supplier_id, quantity, pack_size from marts.purchase_order_drafts "
        "order by supplier_id, stockout_date nulls last, sku",
    )


def decision_cells(at) -> dict[str, str]:
    table = at.dataframe[0].value
    return dict(zip(table["sku"], table["decision"], strict=True))


def test_the_drafts_equal_the_mart_and_every_line_starts_pending(built_serve_path, ops_store, monkeypatch):
    serve = built_serve_path

    at = render_page(serve, "replenishment", monkeypatch)

    drafts, lines, value = one(
        serve,
        "select count(distinct draft_id), count(*), sum(line_value_cny) from marts.purchase_order_drafts",
    )
    assert lines > 0, "the small shop has starved SKUs to reorder"
    assert tiles(at) == {
        "采购单草稿": integer(drafts),
        "待采购 SKU": integer(lines),
        "草稿金额": money(value),
        "待审批": integer(lines),
    }
    first_supplier = draft_lines(serve)[0][2]
    assert at.selectbox(key="replenishment_supplier").value == first_supplier
    shown = at.dataframe[0].value
    expected = [r[1] for r in draft_lines(serve) if r[2] == first_supplier]
    assert list(shown["sku"]) == expected
    assert set(shown["decision"]) == {"待审批"}
    assert not ops_store.exists(), "reading the page creates no ops store"


def test_approving_a_line_is_stored_in_the_ops_store_and_shown_on_the_next_page_load(
    built_serve_path, ops_store, monkeypatch
):
    serve = built_serve_path
    serve_stamp = os.stat(serve).st_mtime_ns
    draft_id, sku, supplier_id, quantity, _pack = draft_lines(serve)[0]
    key = f"{draft_id}|{sku}"

    at = render_page(serve, "replenishment", monkeypatch)
    at.button(key=f"replenishment_approve__{key}").click().run()

    assert not at.exception
    assert [s.value for s in at.success] == [f"{sku}：已批准，已保存。"]
    (row,) = ops.current_decisions(ops_store).to_dict("records")
    assert (row["draft_id"], row["sku"], row["supplier_id"]) == (draft_id, sku, supplier_id)
    assert (row["status"], row["suggested_qty"], row["approved_qty"]) == ("approved", quantity, quantity)
    published = one(serve, "select max(published_at) from meta.publish_log")[0]
    assert row["snapshot_version"] == published.isoformat()

    fresh = render_page(serve, "replenishment", monkeypatch)  # a new session: the next page load

    assert decision_cells(fresh)[sku] == "已批准"
    assert tiles(fresh)["待审批"] == integer(len(draft_lines(serve)) - 1)
    assert os.stat(serve).st_mtime_ns == serve_stamp, "the warehouse is never written"


def test_an_edited_quantity_is_an_edited_approval_and_a_rejection_replaces_it(
    built_serve_path, ops_store, monkeypatch
):
    serve = built_serve_path
    draft_id, sku, _supplier, quantity, pack = draft_lines(serve)[0]
    key = f"{draft_id}|{sku}"
    edited = int(quantity) + int(pack)

    at = render_page(serve, "replenishment", monkeypatch, lang="en")
    at.number_input(key=f"replenishment_qty__{key}").set_value(edited)
    at.text_input(key=f"replenishment_note__{key}").input("one more carton")
    at.button(key=f"replenishment_approve__{key}").click().run()

    (row,) = ops.current_decisions(ops_store).to_dict("records")
    assert (row["status"], row["approved_qty"], row["note"]) == ("edited", edited, "one more carton")
    again = render_page(serve, "replenishment", monkeypatch, lang="en")
    assert decision_cells(again)[sku] == "Approved (edited)"
    assert again.number_input(key=f"replenishment_qty__{key}").value == edited
    # the edited quantity is what the line and its draft are worth now
    price, line_value = one(
        serve,
        "select unit_price_cny, line_value_cny from marts.purchase_order_drafts where draft_id = ? and sku = ?",
        [draft_id, sku],
    )
    (total,) = one(serve, "select sum(line_value_cny) from marts.purchase_order_drafts")
    shown = again.dataframe[0].value.set_index("sku")
    assert Decimal(str(shown.loc[sku, "line_value_cny"])) == edited * price
    assert tiles(again)["Draft value"] == money(total - line_value + edited * price)

    again.button(key=f"replenishment_reject__{key}").click().run()

    (row,) = ops.current_decisions(ops_store).to_dict("records")
    assert (row["status"], row["approved_qty"]) == ("rejected", None)
    assert list(ops.history(ops_store, draft_id, sku)["status"]) == ["edited", "rejected"]
    assert decision_cells(render_page(serve, "replenishment", monkeypatch, lang="en"))[sku] == "Rejected"


def test_a_decision_on_a_line_another_manager_decided_after_the_page_loaded_is_refused(
    built_serve_path, ops_store, monkeypatch
):
    serve = built_serve_path
    draft_id, sku, supplier_id, quantity, _pack = draft_lines(serve)[0]
    key = f"{draft_id}|{sku}"
    at = render_page(serve, "replenishment", monkeypatch)  # the line is undecided on this manager's page
    line = dict(draft_id=draft_id, sku=sku, supplier_id=supplier_id, suggested_qty=quantity)
    theirs = ops.record(ops_store, ops.decide(**line, quantity=None, reject=True), seen=None)

    at.button(key=f"replenishment_approve__{key}").click().run()

    assert not at.exception
    (message,) = [e.value for e in at.error]
    assert message.startswith("无法保存") and "someone rejected this line" in message
    (row,) = ops.current_decisions(ops_store).to_dict("records")
    assert (row["decision_id"], row["status"]) == (theirs, "rejected")
    assert decision_cells(at)[sku] == "已拒绝"  # the page now shows their decision


def test_approving_zero_units_is_refused_with_a_message_and_nothing_is_stored(
    built_serve_path, ops_store, monkeypatch
):
    serve = built_serve_path
    draft_id, sku, *_ = draft_lines(serve)[0]
    key = f"{draft_id}|{sku}"

    at = render_page(serve, "replenishment", monkeypatch)
    at.number_input(key=f"replenishment_qty__{key}").set_value(0)
    at.button(key=f"replenishment_approve__{key}").click().run()

    assert not at.exception
    (message,) = [e.value for e in at.error]
    assert message.startswith("无法保存") and sku in message and "reject" in message
    assert ops.current_decisions(ops_store).empty


def test_the_forecast_chart_and_accuracy_of_a_draft_sku_come_from_the_forecast_marts(
    built_serve_path, ops_store, monkeypatch
):
    serve = built_serve_path
    _draft, sku, supplier_id, *_ = draft_lines(serve)[0]

    at = render_page(serve, "replenishment", monkeypatch)

    assert at.selectbox(key="replenishment_forecast_sku").value == sku
    model, wape = one(
        serve, "select model_name, wape from marts.demand_forecast_summary where sku = ?", [sku]
    )
    assert any(f"预测模型 {labels.model(model)}" in c.value for c in at.caption)  # in the reader's language
    accuracy = at.dataframe[-1].value
    supplier_skus = {r[0] for r in rows(
        serve, "select sku from marts.demand_forecast_summary join marts.skus using (sku) where supplier_id = ?",
        [supplier_id],
    )}  # fmt: skip
    assert set(accuracy["sku"]) == supplier_skus
    horizon = one(serve, "select count(*) from marts.demand_forecasts where sku = ?", [sku])[0]
    chart = at.get("plotly_chart")[0].proto.spec
    assert sku in chart and horizon > 0


def test_every_sku_short_of_stock_or_overdue_is_listed_with_why(built_serve_path, ops_store, monkeypatch):
    serve = built_serve_path

    at = render_page(serve, "replenishment", monkeypatch)

    expected = dict(
        rows(
            serve,
            "select sku, decision from marts.replenishment_suggestions "
            "where overdue_quantity > 0 or (daily_demand > 0 and available <= reorder_point)",
        )
    )
    assert expected, "the small shop has starved SKUs"
    tables = {t.key.split("__")[0]: t.value for t in at.dataframe}
    shown = tables["replenishment_attention"]
    labels = {"order": "建议补货", "covered_by_open_pos": "在途已覆盖", "no_forecast_demand": "无预测需求",
              "enough_stock": "库存充足"}  # fmt: skip
    assert dict(zip(shown["sku"], shown["decision"], strict=True)) == {
        sku: labels[decision] for sku, decision in expected.items()
    }


def test_each_late_supplier_is_named_with_its_lines_units_and_days_late(
    built_serve_path, ops_store, monkeypatch
):
    serve = built_serve_path

    at = render_page(serve, "replenishment", monkeypatch)

    late = rows(
        serve,
        "select coalesce(any_value(supplier_name), supplier_id), count(*), sum(open_quantity), max(days_late) "
        "from marts.supplier_deliveries where delivery_status in ('late_open', 'overdue') group by supplier_id",
    )
    assert late, "the world has a supplier that stopped delivering"
    (warning,) = [w.value for w in at.warning if w.value.startswith("供应商延期")]
    for supplier, lines, units, days in late:
        assert (
            f"{supplier} {integer(lines)} 行、{integer(units)} 件未到，最多晚 {integer(days)} 天" in warning
        )
