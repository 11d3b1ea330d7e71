"""Purchase orders placed as 1688 orders (writeback/purchasing/ali1688.py) against the 1688 gateway sandbox: signed
preview then create with the PO number as outOrderId; exactly one 1688 order when the sender dies after 1688
placed it or the answer is lost; a preview refusal (minimum order quantity, stock) cancels the order with 1688's
words; a SKU the offer map lacks or a wrong app secret sends nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest

from sandbox.ali1688 import Offer, aop_signature, create_app
from sandbox.runner import start
from writeback.purchasing import ali1688, orders
from writeback.purchasing.ali1688 import Ali1688Endpoint, OfferMapError, read_offers
from writeback.purchasing.orders import Line
from writeback.purchasing.send import attempts, send

APP_KEY, SECRET, TOKEN = "8211001", "1688-app-secret-for-tests", "1688-token-for-tests"
T0 = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
OFFERS = [
    Offer(610947572360, "b266e0726506185beaf205cbae88530d", "AP-0001-M", Decimal("33.50"), moq=10, stock=500),
    Offer(610947572360, "2ba3d63866a71fbae83909d9b4814f01", "AP-0001-L", Decimal("33.50"), moq=10, stock=500),
    Offer(554456348334, "9f1c0e6a1b2d4c5e8f7a6b5c4d3e2f10", "HM-0002", Decimal("8.20"), moq=20, stock=30),
]
MAP = {o.sku: (o.offer_id, o.spec_id) for o in OFFERS}


@pytest.fixture
def gateway():
    server = start(create_app(APP_KEY, SECRET, TOKEN, [Offer(**vars(o)) for o in OFFERS]), "ali1688")
    try:
        yield server
    finally:
        server.stop()


def _endpoint(server, secret=SECRET, offers=None):
    return Ali1688Endpoint(
        "SUP-1688", f"{server.url}/openapi", APP_KEY, secret, TOKEN, MAP if offers is None else offers, "9001",
        "offers.csv",
    )  # fmt: skip


def _approved(ops, lines) -> str:
    order = orders.create(ops, "SUP-1688", lines, "ming", expected_date=date(2026, 12, 14), at=T0)
    orders.approve(ops, order.po_number, "li")
    return order.po_number


def _placed(server) -> list[dict]:
    return httpx.get(f"{server.url}/_sandbox/orders").json()["orders"]


def _calls(server) -> list[str]:
    return [c["api"].rsplit(".", 1)[-1] for c in httpx.get(f"{server.url}/_sandbox/orders").json()["calls"]]


def test_the_signature_is_1688s_hmac_sha1_of_the_url_path_and_the_sorted_parameters():
    # 1688's documented example shape: path + "access_token" + token + "memberId" + id, sorted by key+value
    path = "param2/1/cn.alibaba.open/member.get/100000"
    params = {"memberId": "tonytp4", "access_token": "abc", "_aop_timestamp": "135123456789"}
    expected = aop_signature("secret", path, params)
    assert (
        expected == ali1688.signature("secret", path, params) and expected.isupper() and len(expected) == 40
    )
    import hashlib
    import hmac

    text = path + "_aop_timestamp135123456789" + "access_tokenabc" + "memberIdtonytp4"
    assert expected == hmac.new(b"secret", text.encode(), hashlib.sha1).hexdigest().upper()


def test_an_approved_order_is_previewed_then_created_with_the_po_number_as_out_order_id(tmp_path, gateway):
    ops = tmp_path / "ops.sqlite"
    po = _approved(ops, [Line("AP-0001-M", 40, "33.50"), Line("HM-0002", 20, "8.20")])
    result = send(ops, po, _endpoint(gateway))
    assert (result.outcome, result.state) == ("delivered", "confirmed"), result.message
    (placed,) = _placed(gateway)
    assert (
        placed["baseInfo"]["outOrderId"] == po and placed["baseInfo"]["totalAmount"] == 40 * 33.5 + 20 * 8.2
    )
    assert [(i["productID"], i["quantity"]) for i in placed["productItems"]] == [
        (610947572360, 40),
        (554456348334, 20),
    ]
    assert _calls(gateway) == ["preview", "fastCreateOrder"]
    order = orders.get(ops, po)
    assert {line.sku: line.confirmed for line in order.lines} == {"AP-0001-M": 40, "HM-0002": 20}
    assert order.promised_date == "2026-12-14"  # 1688 gives no date: the order's expected date stands
    (attempt,) = attempts(ops, po)
    assert attempt["channel"] == "1688" and attempt["outcome"] == "delivered"
    assert placed["baseInfo"]["id"] in attempt["message"]


class Killed(BaseException):
    """The sender's process dying (not an error it could handle)."""


class DiesWhen1688HasPlacedIt(httpx.HTTPTransport):
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.url.path.endswith(f"alibaba.trade.fastCreateOrder/{APP_KEY}"):
            response.read()
            raise Killed  # 1688 placed the order; the sender never records it
        return response


def test_a_sender_killed_after_1688_placed_the_order_looks_it_up_instead_of_ordering_again(tmp_path, gateway):
    ops = tmp_path / "ops.sqlite"
    po = _approved(ops, [Line("AP-0001-L", 12, "33.50")])
    with httpx.Client(transport=DiesWhen1688HasPlacedIt()) as dying, pytest.raises(Killed):
        send(ops, po, _endpoint(gateway), http=dying)
    assert [a["outcome"] for a in attempts(ops, po)] == ["pending"] and len(_placed(gateway)) == 1
    rerun = send(ops, po, _endpoint(gateway))
    assert (rerun.outcome, rerun.state) == ("already_there", "confirmed"), rerun.message
    assert len(_placed(gateway)) == 1
    assert _calls(gateway) == ["preview", "fastCreateOrder", "buyerView"]  # asked, not placed again
    assert orders.get(ops, po).lines[0].confirmed == 12


def test_an_answer_lost_on_its_way_back_is_looked_up_and_a_refused_call_is_sent_once_more(tmp_path, gateway):
    ops = tmp_path / "ops.sqlite"
    po = _approved(ops, [Line("AP-0001-M", 10, "33.50")])
    httpx.post(f"{gateway.url}/_sandbox/fail", json={"mode": "after_accept"})
    lost = send(ops, po, _endpoint(gateway))
    assert (lost.outcome, lost.state) == ("failed", "approved") and "502" in lost.message
    again = send(ops, po, _endpoint(gateway))
    assert (again.outcome, again.state) == ("already_there", "confirmed") and len(_placed(gateway)) == 1

    second = _approved(ops, [Line("AP-0001-M", 10, "33.50")])
    httpx.post(f"{gateway.url}/_sandbox/fail", json={"mode": "before_accept"})
    assert send(ops, second, _endpoint(gateway)).outcome == "failed"
    assert send(ops, second, _endpoint(gateway)).outcome == "delivered"
    assert sorted(o["baseInfo"]["outOrderId"] for o in _placed(gateway)) == sorted([po, second])


def test_a_preview_refusal_cancels_the_order_with_1688s_words_and_places_nothing(tmp_path, gateway):
    ops = tmp_path / "ops.sqlite"
    below_moq = _approved(ops, [Line("HM-0002", 5, "8.20")])
    result = send(ops, below_moq, _endpoint(gateway))
    assert (result.outcome, result.state) == ("failed", "cancelled")
    assert (
        "QUANTITY_BELOW_MOQ" in orders.history(ops, below_moq)[-1]["detail"] and "起批量 20" in result.message
    )
    no_stock = _approved(ops, [Line("HM-0002", 40, "8.20")])
    assert "STOCK_NOT_ENOUGH" in send(ops, no_stock, _endpoint(gateway)).message
    assert _placed(gateway) == [] and _calls(gateway) == ["preview", "preview"]
    assert [a["outcome"] for a in attempts(ops, below_moq)] == ["failed"]


def test_a_sku_without_an_offer_or_a_wrong_app_secret_sends_nothing_and_says_what_to_fix(tmp_path, gateway):
    ops = tmp_path / "ops.sqlite"
    po = _approved(ops, [Line("AP-0001-M", 10, "33.50"), Line("ZZ-0404", 3, "1.00")])
    unmapped = send(ops, po, _endpoint(gateway))
    assert (unmapped.outcome, unmapped.state) == ("failed", "approved")
    assert "no 1688 offer for ZZ-0404 in offers.csv" in unmapped.message and attempts(ops, po) == []
    other = _approved(ops, [Line("AP-0001-M", 10, "33.50")])
    refused = send(ops, other, _endpoint(gateway, secret="wrong"))
    assert (refused.outcome, refused.state) == (
        "failed",
        "approved",
    ) and "gw.SignatureInvalid" in refused.message
    assert SECRET not in refused.message and "wrong" not in refused.message
    assert _placed(gateway) == [] and _calls(gateway) == []


def test_the_offer_map_is_read_from_the_sellers_csv_and_a_bad_row_names_the_file_and_the_row(tmp_path):
    good = tmp_path / "offers.csv"
    good.write_text(
        "\ufeffsku,offer_id,spec_id\nAP-0001-M,610947572360,b266e07\n HM-0002 ,554456348334,9f1c\n"
    )
    assert read_offers(good) == {"AP-0001-M": (610947572360, "b266e07"), "HM-0002": (554456348334, "9f1c")}
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,offer_id,spec_id\nAP-0001-M,not-a-number,b266e07\n")
    with pytest.raises(OfferMapError, match=r"bad.csv row 2: needs a sku, a numeric offer_id"):
        read_offers(bad)
    with pytest.raises(OfferMapError, match="no such offer map file"):
        read_offers(tmp_path / "missing.csv")
