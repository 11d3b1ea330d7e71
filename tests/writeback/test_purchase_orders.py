"""Purchase orders (writeback/purchasing): the lifecycle's commands allow only the transitions they name and never
reuse a number, whatever the sequence (hypothesis); an order goes to the supplier sandbox's signed webhook exactly
once, also when the sender dies between the supplier's acceptance and its own record, or the answer is lost."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.runner import start
from sandbox.supplier import Policy, create_app
from writeback.ops_store import OpsStoreError
from writeback.purchasing import orders
from writeback.purchasing.orders import TRANSITIONS, IllegalTransition, Line
from writeback.purchasing.send import SupplierEndpoint, attempts, send

SECRET = "s3cret-for-tests"
T0 = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)


def _draft(ops, supplier="SUP-01", lines=None, draft=None):
    lines = lines or [Line("AP-0001-M", 40, "35.00"), Line("HM-0002", 12, "8.50")]
    return orders.create(
        ops, supplier, lines, "ming", expected_date=date(2026, 12, 12), source_draft_id=draft, at=T0
    )


COMMANDS = st.sampled_from(["approve", "send", "confirm", "receive_some", "receive_all", "close", "cancel"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.integers(0, 3), COMMANDS), min_size=1, max_size=40))
def test_any_sequence_of_commands_makes_only_legal_transitions_and_never_reuses_a_number(
    tmp_path_factory, steps
):
    ops = tmp_path_factory.mktemp("po") / "ops.sqlite"
    numbers = [_draft(ops).po_number for _ in range(4)]
    assert len(set(numbers)) == 4
    for index, command in steps:
        po = numbers[index]
        before = orders.get(ops, po)
        key = command.split("_")[0]
        try:
            if command == "approve":
                orders.approve(ops, po, "ming")
            elif command == "send":
                orders.mark_sent(ops, po, "sender")
            elif command == "confirm":
                orders.confirm(ops, po, {"AP-0001-M": 30, "HM-0002": 12}, date(2026, 12, 10), "sender")
            elif command == "receive_some":
                orders.receive(ops, po, {"AP-0001-M": 10}, "wms")
            elif command == "receive_all":
                orders.receive(ops, po, {"AP-0001-M": 40, "HM-0002": 12}, "wms")
            elif command == "close":
                orders.close(ops, po, "li")
            else:
                orders.cancel(ops, po, "not needed", "li")
        except IllegalTransition:
            assert before.state not in TRANSITIONS[key]
            assert orders.get(ops, po) == before  # refused: nothing changed
            continue
        after = orders.get(ops, po)
        assert before.state in TRANSITIONS[key] and after.version == before.version + 1
        if key == "receive":
            assert after.state in ("partially_received", "received")
        elif key == "confirm":
            assert after.state == "confirmed"
        else:
            assert after.state == TRANSITIONS[key][before.state]
        assert orders.history(ops, po)[-1]["to_state"] == after.state
    fresh = _draft(ops).po_number  # after any of it, the next number is new
    assert fresh not in numbers and len({o.po_number for o in orders.orders(ops)}) == 5


def test_a_draft_becomes_one_order_and_a_cancelled_orders_number_is_not_given_again(tmp_path):
    ops = tmp_path / "ops.sqlite"
    first = _draft(ops, draft="DRAFT-20261204-SUP-01")
    assert _draft(ops, draft="DRAFT-20261204-SUP-01") == first
    orders.cancel(ops, first.po_number, "ordered by phone instead", "li")
    second = _draft(ops)
    assert (first.po_number, second.po_number) == ("PO-20261204-0001", "PO-20261204-0002")
    with pytest.raises(IllegalTransition, match="PO-20261204-0001 is cancelled: it cannot be approved"):
        orders.approve(ops, first.po_number, "li")
    with pytest.raises(OpsStoreError, match="say why"):
        orders.cancel(ops, second.po_number, " ", "li")


def test_receipts_move_a_confirmed_order_to_partially_received_then_received_and_outstanding_follows(
    tmp_path,
):
    ops = tmp_path / "ops.sqlite"
    po = _draft(ops).po_number
    orders.approve(ops, po, "li")
    orders.mark_sent(ops, po, "sender")
    confirmed = orders.confirm(ops, po, {"AP-0001-M": 30, "HM-0002": 12}, date(2026, 12, 10), "sender")
    assert confirmed.outstanding == {"AP-0001-M": 30, "HM-0002": 12}
    part = orders.receive(ops, po, {"AP-0001-M": 30}, "wms")
    assert part.state == "partially_received" and part.outstanding == {"AP-0001-M": 0, "HM-0002": 12}
    done = orders.receive(ops, po, {"HM-0002": 12}, "wms")
    assert done.state == "received" and done.outstanding == {}
    with pytest.raises(IllegalTransition, match="cannot be cancelled"):
        orders.cancel(ops, po, "too late", "li")
    assert orders.close(ops, po, "li").state == "closed"
    assert [e["command"] for e in orders.history(ops, po)] == [
        "create", "approve", "send", "confirm", "receive", "receive", "close"
    ]  # fmt: skip


@pytest.fixture
def supplier():
    server = start(create_app(SECRET, Policy(lead_days=5, short={"HM-0002": 8})), "supplier")
    try:
        yield server
    finally:
        server.stop()


def _endpoint(server, secret=SECRET):
    return SupplierEndpoint("SUP-01", f"{server.url}/webhook/purchase-orders", secret)


def _held(server) -> list[dict]:
    return httpx.get(f"{server.url}/_sandbox/orders").json()["orders"]


class Killed(BaseException):
    """The sender's process dying (not an error it could handle)."""


class DiesWhenTheSupplierHasAnswered(httpx.HTTPTransport):
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.method == "POST":
            response.read()
            raise Killed  # the supplier took the order; the sender never records it
        return response


def _approved(ops) -> str:
    po = _draft(ops).po_number
    orders.approve(ops, po, "li")
    return po


def test_an_approved_order_is_sent_signed_and_the_partial_confirmation_is_recorded(tmp_path, supplier):
    ops = tmp_path / "ops.sqlite"
    po = _approved(ops)
    result = send(ops, po, _endpoint(supplier))
    assert (result.outcome, result.state) == ("delivered", "confirmed")
    order = orders.get(ops, po)
    assert {line.sku: line.confirmed for line in order.lines} == {"AP-0001-M": 40, "HM-0002": 8}
    assert order.promised_date is not None
    (held,) = _held(supplier)
    assert held["po_number"] == po and [line["quantity"] for line in held["lines"]] == [40, 12]
    assert send(ops, po, _endpoint(supplier)).outcome == "skipped"  # confirmed: nothing more to send
    assert len(_held(supplier)) == 1


def test_a_sender_killed_between_the_suppliers_acceptance_and_its_record_sends_once(tmp_path, supplier):
    ops = tmp_path / "ops.sqlite"
    po = _approved(ops)
    with httpx.Client(transport=DiesWhenTheSupplierHasAnswered()) as dying, pytest.raises(Killed):
        send(ops, po, _endpoint(supplier), http=dying)
    assert orders.get(ops, po).state == "approved" and [a["outcome"] for a in attempts(ops, po)] == [
        "pending"
    ]
    rerun = send(ops, po, _endpoint(supplier))
    assert (rerun.outcome, rerun.state) == ("already_there", "confirmed")
    assert len(_held(supplier)) == 1
    requests = httpx.get(f"{supplier.url}/_sandbox/orders").json()["requests"]
    assert [r["method"] for r in requests] == ["POST", "GET"]  # asked, not sent again
    assert [a["outcome"] for a in attempts(ops, po)] == ["pending", "already_there"]


def test_an_answer_lost_on_its_way_back_is_asked_for_and_not_sent_again(tmp_path, supplier):
    ops = tmp_path / "ops.sqlite"
    po = _approved(ops)
    httpx.post(f"{supplier.url}/_sandbox/fail", json={"mode": "after_accept"})
    lost = send(ops, po, _endpoint(supplier))
    assert (lost.outcome, lost.state) == ("failed", "approved") and "503" in lost.message
    again = send(ops, po, _endpoint(supplier))
    assert (again.outcome, again.state) == ("already_there", "confirmed") and len(_held(supplier)) == 1

    second = _approved(ops)  # refused before the supplier took it: asked, not there, sent
    httpx.post(f"{supplier.url}/_sandbox/fail", json={"mode": "before_accept"})
    assert send(ops, second, _endpoint(supplier)).outcome == "failed"
    assert send(ops, second, _endpoint(supplier)).outcome == "delivered"
    assert sorted(o["po_number"] for o in _held(supplier)) == sorted([po, second])


def test_a_wrong_secret_is_refused_and_a_rejection_cancels_the_order_with_the_suppliers_reason(tmp_path):
    ops = tmp_path / "ops.sqlite"
    server = start(create_app(SECRET, Policy(rejects={"HM-0002"})), "supplier-rejects")
    try:
        po = _approved(ops)
        refused = send(ops, po, _endpoint(server, secret="wrong"))
        assert refused.outcome == "failed" and "401" in refused.message and _held(server) == []
        rejected = send(ops, po, _endpoint(server))
        assert rejected.state == "cancelled"
        assert "rejected by SUP-01" in orders.history(ops, po)[-1]["detail"]
    finally:
        server.stop()


def test_the_document_has_the_suppliers_own_columns_the_lines_and_the_total(tmp_path):
    import io

    import openpyxl

    from writeback.purchasing.document import Layout, document

    ops = tmp_path / "ops.sqlite"
    order = _draft(ops, lines=[Line("AP-0001-M", 40, "35.00"), Line("=HYPERLINK(1)", 2, "1.50")])
    layout = Layout(title="PO", columns={"quantity": "Qty", "sku": "Item code", "amount": "Amount"})
    sheet = openpyxl.load_workbook(io.BytesIO(document(order, layout, "Ningbo Knit"))).active
    rows = [[c for c in row if c is not None] for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["PO", order.po_number] and rows[1][1] == "Ningbo Knit"
    table = rows[rows.index(["Qty", "Item code", "Amount"]) + 1 :]
    assert table == [[2, "'=HYPERLINK(1)", 3.0], [40, "AP-0001-M", 1400.0], ["合计 Total", 1403.0]]  # by SKU
    with pytest.raises(ValueError, match="not fields of a purchase-order line"):
        Layout(columns={"colour": "颜色"})


def test_approved_drafts_of_the_published_warehouse_become_orders_sent_once_to_their_suppliers(
    built_warehouse, tmp_path, monkeypatch
):
    """`shopkeep po send`: the manager approved one draft with an edited and a rejected line and another as
    suggested; each becomes one approved order at the approved quantities, its XLSX document is written and it is sent
    to the supplier's webhook; run again, nothing is made or sent twice. A supplier without a [[suppliers]]
    entry is named, not sent to."""
    import duckdb
    from typer.testing import CliRunner

    from orchestration.cli import app
    from writeback.ops_store import decide, record

    with duckdb.connect(str(built_warehouse.serve_path), read_only=True) as con:
        drafts = con.execute("select * from marts.purchase_order_drafts order by draft_id, sku").df()
    counts = drafts.groupby("draft_id").size()
    first = counts.sort_values(kind="stable").index[
        -1
    ]  # the draft with the most lines: one edited, one rejected
    second = next(d for d in counts.index if d != first)  # approved as suggested
    assert counts[first] >= 2, "the demo's drafts have too few lines"
    edited, rejected = drafts[drafts["draft_id"] == first].head(2).itertuples()
    record(tmp_path / "ops.sqlite", decide(draft_id=first, sku=edited.sku, supplier_id=edited.supplier_id,
                                            suggested_qty=edited.quantity, quantity=edited.quantity + 5))  # fmt: skip
    record(tmp_path / "ops.sqlite", decide(draft_id=first, sku=rejected.sku, supplier_id=rejected.supplier_id,
                                            suggested_qty=rejected.quantity, quantity=None, reject=True))  # fmt: skip
    for row in drafts[drafts["draft_id"] == second].itertuples():
        record(tmp_path / "ops.sqlite", decide(draft_id=second, sku=row.sku, supplier_id=row.supplier_id,
                                                suggested_qty=row.quantity, quantity=row.quantity))  # fmt: skip
    known = edited.supplier_id
    unknown = drafts.loc[drafts["draft_id"] == second, "supplier_id"].iloc[0]
    assert known != unknown, "the two drafts should be to two suppliers"
    server = start(create_app(SECRET), "supplier-po-send")
    config = tmp_path / "shopkeep.toml"
    config.write_text(
        f'[warehouse]\nbuild_path = "build.duckdb"\nserve_path = "{built_warehouse.serve_path}"\n'
        f'ops_path = "ops.sqlite"\n\n[[suppliers]]\nid = "{known}"\nname = "Ningbo Knit"\nwarehouse = "WH-SH"\n'
        f'webhook_url = "{server.url}/webhook/purchase-orders"\nsecret_env = "SUPPLIER_TEST_SECRET"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("SHOPKEEP_CONFIG", str(config))
    monkeypatch.setenv("SUPPLIER_TEST_SECRET", SECRET)
    monkeypatch.setenv("COLUMNS", "200")
    try:
        done = CliRunner().invoke(app, ["po", "send"])
        assert done.exit_code == 1, done.output  # the unknown supplier's order is not sent
        assert f"no [[suppliers]] entry with id = '{unknown}'" in done.output
        made = {o.source_draft_id: o for o in orders.orders(tmp_path / "ops.sqlite")}
        assert set(made) == {first, second}
        assert made[first].state == "confirmed" and made[second].state == "approved"
        assert {line.sku: line.quantity for line in made[first].lines} == {edited.sku: edited.quantity + 5}
        assert {line.sku: line.quantity for line in made[second].lines} == dict(
            drafts.loc[drafts["draft_id"] == second, ["sku", "quantity"]].itertuples(index=False)
        )
        (held,) = _held(server)
        assert held["po_number"] == made[first].po_number
        assert (tmp_path / "purchase_orders" / f"{made[first].po_number}.xlsx").exists()
        again = CliRunner().invoke(app, ["po", "send"])
        assert (
            again.exit_code == 1
            and len(orders.orders(tmp_path / "ops.sqlite")) == 2
            and len(_held(server)) == 1
        )
        # Dagster's sensor sees the order still waiting (its supplier has no entry) and its run sends nothing twice
        import dagster as dg

        from orchestration.purchasing import purchase_order_job, purchase_order_sensor
        from orchestration.settings import load_settings

        settings = load_settings(config)
        job = purchase_order_job(settings)
        with dg.DagsterInstance.ephemeral() as instance:
            request = purchase_order_sensor(settings, job)(dg.build_sensor_context(instance=instance))
            assert isinstance(request, dg.RunRequest) and request.tags["shopkeep/purchase_orders"] == "1"
            assert job.execute_in_process(instance=instance).success
        assert len(_held(server)) == 1 and len(orders.orders(tmp_path / "ops.sqlite")) == 2
    finally:
        server.stop()

    # the next build counts the sent order as on order: replenishment no longer suggests what it brings
    import shutil

    from analytics.dbt_cli import run_dbt
    from orchestration.ingest import OPS_PO_LINE_COLUMNS, read_ops_purchase_order_lines, replace_raw_ops

    build = tmp_path / "build.duckdb"
    shutil.copyfile(built_warehouse.build_path, build)
    lines = read_ops_purchase_order_lines(tmp_path / "ops.sqlite")
    replace_raw_ops(build, "purchase_order_lines", OPS_PO_LINE_COLUMNS, lines)
    done = run_dbt(build, tmp_path, "build", "--select", "stg_ops__purchase_order_lines+,+replenishment_suggestions",
                   "--exclude", "test_type:unit")  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
    sql = "select sku, on_order, suggested_qty from marts.replenishment_suggestions where sku = ?"
    with duckdb.connect(str(built_warehouse.build_path), read_only=True) as con:
        before = con.execute(sql, [edited.sku]).fetchone()
    with duckdb.connect(str(build), read_only=True) as con:
        after = con.execute(sql, [edited.sku]).fetchone()
    assert after[1] == before[1] + edited.quantity + 5, (
        before,
        after,
    )  # what the supplier confirmed is on order
    assert after[2] < before[2] and after[2] <= max(0, before[2] - edited.quantity - 5), (before, after)


def test_the_wms_receipts_of_an_order_receive_it_once_however_often_they_are_read(tmp_path):
    ops = tmp_path / "ops.sqlite"
    po = _draft(ops).po_number
    orders.approve(ops, po, "li")
    orders.mark_sent(ops, po, "sender")
    orders.confirm(ops, po, {"AP-0001-M": 30, "HM-0002": 12}, date(2026, 12, 10), "sender")
    first = [{"id": "R1", "po_number": po, "merchant_code": "AP-0001-M", "quantity": 20},
             {"id": "R2", "po_number": "PO-WMS-OWN", "merchant_code": "AP-0001-M", "quantity": 99}]  # fmt: skip
    (changed,) = orders.apply_receipts(ops, first)
    assert changed.state == "partially_received" and changed.outstanding == {"AP-0001-M": 10, "HM-0002": 12}
    assert orders.apply_receipts(ops, first) == []  # read again: nothing new
    everything = first + [{"id": "R3", "po_number": po, "merchant_code": "AP-0001-M", "quantity": 10},
                          {"id": "R4", "po_number": po, "merchant_code": "HM-0002", "quantity": 12}]  # fmt: skip
    (done,) = orders.apply_receipts(ops, everything)
    assert done.state == "received" and {line.sku: line.received for line in done.lines} == {
        "AP-0001-M": 30,
        "HM-0002": 12,
    }


def test_the_demo_approves_every_draft_and_each_supplier_confirms_its_order_at_its_own_webhook(
    built_warehouse, tmp_path, monkeypatch
):
    import duckdb

    from orchestration.purchasing import demo_purchase_orders
    from orchestration.settings import load_settings

    with duckdb.connect(str(built_warehouse.serve_path), read_only=True) as con:
        suppliers = [
            r[0]
            for r in con.execute("select distinct supplier_id from marts.purchase_order_drafts").fetchall()
        ]
        skus = con.execute(
            "select sku from marts.purchase_order_drafts where supplier_id = ? order by sku", [max(suppliers)]
        ).fetchall()
    # the last supplier takes its orders on 1688 (its offers: every SKU it is asked for), the others at webhooks
    from sandbox import ali1688

    on_1688 = max(suppliers)
    offers = [
        ali1688.Offer(610000000000 + n, f"spec{n}", sku, Decimal("9.90")) for n, (sku,) in enumerate(skus)
    ]
    ali1688.write_offer_map(offers, tmp_path / "offers.csv")
    server = start(create_app(SECRET), "suppliers-demo")
    gateway = start(ali1688.create_app("8211001", SECRET, "token-1688", offers), "ali1688-demo")
    config = tmp_path / "shopkeep.toml"
    config.write_text(
        f'[warehouse]\nbuild_path = "build.duckdb"\nserve_path = "{built_warehouse.serve_path}"\n'
        'ops_path = "ops.sqlite"\n'
        + "".join(f'\n[[suppliers]]\nid = "{s}"\nwebhook_url = "{server.url}/suppliers/{s}/purchase-orders"\n'
                  f'secret_env = "SUPPLIER_TEST_SECRET"\nwarehouse = "WH-SH"\n' for s in suppliers if s != on_1688)
        + f'\n[[suppliers]]\nid = "{on_1688}"\nchannel = "1688"\ngateway_url = "{gateway.url}/openapi"\n'
          'app_key = "8211001"\nsecret_env = "SUPPLIER_TEST_SECRET"\ntoken_env = "TOKEN_1688"\n'
          'offers_file = "offers.csv"\naddress_id = "9001"\nwarehouse = "WH-SH"\n',
        encoding="utf-8",
    )  # fmt: skip
    monkeypatch.setenv("SUPPLIER_TEST_SECRET", SECRET)
    monkeypatch.setenv("TOKEN_1688", "token-1688")
    try:
        note = demo_purchase_orders(load_settings(config))
        placed = orders.orders(tmp_path / "ops.sqlite")
        assert {o.supplier_id for o in placed} == set(suppliers) and {o.state for o in placed} == {
            "confirmed"
        }, note
        assert note.startswith(f"{len(suppliers)} purchase orders") and "0 not sent" in note
        by_webhook = sorted(o.po_number for o in placed if o.supplier_id != on_1688)
        assert sorted(o["po_number"] for o in _held(server)) == by_webhook
        (on_1688_order,) = httpx.get(f"{gateway.url}/_sandbox/orders").json()["orders"]
        assert on_1688_order["baseInfo"]["outOrderId"] == next(
            o.po_number for o in placed if o.supplier_id == on_1688
        )
        assert demo_purchase_orders(load_settings(config)).startswith(
            "0 purchase orders"
        )  # run again: none new
        assert len(_held(server)) == len(by_webhook)
        assert len(httpx.get(f"{gateway.url}/_sandbox/orders").json()["orders"]) == 1
    finally:
        server.stop()
        gateway.stop()


def test_a_supplier_that_cannot_be_asked_leaves_its_order_waiting_without_sending_blind(tmp_path):
    ops = tmp_path / "ops.sqlite"
    server = start(create_app(SECRET), "supplier-goes-away")
    po = _approved(ops)
    httpx.post(f"{server.url}/_sandbox/fail", json={"mode": "after_accept"})
    endpoint = _endpoint(server)
    assert send(ops, po, endpoint).outcome == "failed"  # taken, answer lost
    server.stop()  # the supplier's system is down when the sender asks
    down = send(ops, po, endpoint)
    assert (down.outcome, down.state) == (
        "failed",
        "approved",
    ) and "not sent again until it answers" in down.message
    assert [a["outcome"] for a in attempts(ops, po)] == ["failed"]  # nothing was posted blind


def test_receipts_the_wms_lists_against_a_sent_order_receive_it_at_the_next_send_run(
    demo_stack, tmp_path, monkeypatch
):
    """The loop's last step through the real WMS API: goods arrive at the warehouse against a PO shopkeep sent (the
    WMS sandbox records the receipt and its movement); the next `po send` run reads /api/v1/receipts and moves the
    order to partially received, then received; a receipt read again counts once."""
    from typer.testing import CliRunner

    from orchestration.cli import app
    from sandbox import wms

    ops = tmp_path / "ops.sqlite"
    sku = str(demo_stack.world.products.loc[~demo_stack.world.products["is_kit"].astype(bool), "sku"].iloc[0])
    order = orders.create(ops, "SUP-01", [Line(sku, 30, "12.00")], "ming", expected_date=date(2026, 12, 12),
                          warehouse_id="WH-SH")  # fmt: skip
    orders.approve(ops, order.po_number, "li")
    supplier = start(create_app(SECRET), "supplier-receipts")
    warehouse = start(
        wms.create_app(demo_stack.world, token="wms-test-token", now=datetime.now(UTC)), "wms-receipts"
    )
    config = tmp_path / "shopkeep.toml"
    config.write_text(
        f'[warehouse]\nbuild_path = "build.duckdb"\nserve_path = "{demo_stack.settings().serve_path}"\n'
        f'ops_path = "ops.sqlite"\n\n[wms]\nbase_url = "{warehouse.url}"\ntoken_env = "WMS_TEST_TOKEN"\n'
        f'warehouses = ["WH-SH", "WH-GZ"]\n\n[[suppliers]]\nid = "SUP-01"\n'
        f'webhook_url = "{supplier.url}/webhook/purchase-orders"\nsecret_env = "SUPPLIER_TEST_SECRET"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("SHOPKEEP_CONFIG", str(config))
    monkeypatch.setenv("SUPPLIER_TEST_SECRET", SECRET)
    monkeypatch.setenv("WMS_TEST_TOKEN", "wms-test-token")

    def receive(units: int) -> None:
        httpx.post(f"{warehouse.url}/_sandbox/clock", json={"now": datetime.now(UTC).isoformat()})
        done = httpx.post(f"{warehouse.url}/_sandbox/receipts", json={
            "po_number": order.po_number, "warehouse": "WH-SH", "merchant_code": sku, "quantity": units})  # fmt: skip
        assert done.status_code == 200, done.text

    try:
        sent = CliRunner().invoke(app, ["po", "send"])
        assert sent.exit_code == 0, sent.output
        assert orders.get(ops, order.po_number).state == "confirmed"
        receive(12)
        assert CliRunner().invoke(app, ["po", "send"]).exit_code == 0
        part = orders.get(ops, order.po_number)
        assert part.state == "partially_received" and part.outstanding == {sku: 18}
        assert CliRunner().invoke(app, ["po", "send"]).exit_code == 0  # the same receipt read again
        assert orders.get(ops, order.po_number).outstanding == {sku: 18}
        receive(18)
        assert CliRunner().invoke(app, ["po", "send"]).exit_code == 0
        done = orders.get(ops, order.po_number)
        assert done.state == "received" and done.outstanding == {}
        listed = httpx.get(f"{warehouse.url}/api/v1/movements", headers={"Authorization": "Bearer wms-test-token"},
                           params={"since": order.created_at}).json()["items"]  # fmt: skip
        assert [(m["type"], m["quantity"], m["reference"]) for m in listed if m["merchant_code"] == sku] == [
            ("receipt", 12, order.po_number), ("receipt", 18, order.po_number)
        ]  # fmt: skip
    finally:
        supplier.stop()
        warehouse.stop()
