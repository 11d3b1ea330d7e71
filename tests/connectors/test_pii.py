"""Buyer data is hashed wherever a platform may send it: every name, phone, address, e-mail and buyer id each
platform documents — in the clear, encrypted (`encrypt_*`, `oaid`) and masked (`mask_*`, `*_mask`) — on orders,
their lines, after-sales and bill lines, goes through each connector's own preparation and no planted value
survives anywhere in what would land. Regions stay readable, and one buyer keeps one hash."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from connectors.common.pii import hash_pii, is_pii_key, pii_hash
from connectors.douyin import source as douyin
from connectors.jd import source as jd
from connectors.pinduoduo import source as pinduoduo
from connectors.shopify import source as shopify
from connectors.taobao import source as taobao

SALT = "test-salt"
NAME, PHONE, LANDLINE, STREET, EMAIL = (
    "张三",
    "13812345678",
    "0571-88886666",
    "人民路1号",
    "buyer@example.com",
)
BUYER, NICK, MASKED_NAME, MASKED_PHONE = "buyer-7788", "zhangsan_tb", "张*", "138****5678"
CIPHER_NAME, CIPHER_PHONE, CIPHER_STREET = "#enc#name#AAAA", "$enc$tel$BBBB", "~enc~addr~CCCC"
ID_CARD, IP, ZIP = "330102199001011234", "203.0.113.7", "310000"
PLANTED = [NAME, PHONE, LANDLINE, STREET, EMAIL, BUYER, NICK, MASKED_NAME, MASKED_PHONE, CIPHER_NAME,
           CIPHER_PHONE, CIPHER_STREET, ID_CARD, IP, ZIP]  # fmt: skip
PROVINCE, CITY, DISTRICT = "浙江省", "杭州市", "西湖区"


def survivors(*records: object) -> list[str]:
    """The planted clear values still present anywhere in `records` (nested, flattened or not)."""
    text = json.dumps(records, ensure_ascii=False, default=str)
    return [value for value in PLANTED if value in text]


def h(value: str) -> str | None:
    return pii_hash(value, SALT)


def shopify_address() -> dict:
    return {
        "first_name": "三", "last_name": "张", "name": NAME, "company": NAME, "address1": STREET,
        "address2": STREET, "city": CITY, "province": PROVINCE, "country": "China", "zip": ZIP, "phone": PHONE,
        "latitude": 30.2741, "longitude": 120.1551, "country_code": "CN", "province_code": "ZJ",
    }  # fmt: skip


def shopify_order() -> dict:
    return {
        "id": 5001, "name": "#1001", "email": EMAIL, "contact_email": EMAIL, "phone": PHONE, "browser_ip": IP,
        "updated_at": "2026-06-30T10:00:00+08:00", "total_price": "10.00",
        "client_details": {"browser_ip": IP, "user_agent": "Mozilla/5.0"},
        "customer": {
            "id": 42, "email": EMAIL, "phone": PHONE, "first_name": "三", "last_name": NAME,
            "verified_email": True, "default_address": shopify_address(), "addresses": [shopify_address()],
            "email_marketing_consent": {"state": "subscribed"},
        },
        "billing_address": shopify_address(),
        "shipping_address": shopify_address(),
        "note_attributes": [{"name": "Delivery phone", "value": PHONE}, {"name": "gift_wrap", "value": "yes"}],
        "line_items": [
            {"id": 1, "name": "T-shirt", "price": "10.00", "total_discount": "0.00",
             "properties": [{"name": "收件人手机", "value": LANDLINE}],
             "destination_location": {"id": 9, "name": NAME, "address1": STREET, "zip": ZIP, "city": CITY}},
        ],
        "fulfillments": [{"id": 7, "tracking_number": "SF123", "destination": shopify_address()}],
        "refunds": [
            {"id": 3, "refund_line_items": [], "transactions": [
                {"amount": "1.00", "payment_details": {"credit_card_name": NAME,
                                                        "credit_card_number": "•••• 4242"}},
            ]},
        ],
    }  # fmt: skip


def test_every_shopify_buyer_field_is_hashed_and_regions_and_keys_stay_readable():
    order = shopify.prepare_order(shopify_order(), "shopify_global", SALT)

    assert survivors(order) == []
    assert order["email"] == h(EMAIL) and order["shipping_address"]["address1"] == h(STREET)
    address = order["shipping_address"]
    assert (address["province"], address["city"], address["country"], address["country_code"]) == (
        PROVINCE, CITY, "China", "CN",
    )  # fmt: skip
    assert (
        order["customer"]["id"] == 42 and order["customer"]["verified_email"] is True
    )  # keys and flags stay
    assert order["line_items"][0]["name"] == "T-shirt" and order["name"] == "#1001"
    assert order["note_attributes"][1]["value"] == "yes"  # not personal
    assert order["total_price"] == Decimal("10.00")


def taobao_trade() -> dict:
    return {
        "tid": 39001, "status": "TRADE_FINISHED", "payment": "10.00", "buyer_nick": NICK,
        "buyer_open_uid": BUYER, "buyer_email": EMAIL, "buyer_alipay_no": PHONE, "buyer_ip": IP, "oaid": CIPHER_NAME,
        "alipay_id": BUYER, "alipay_no": "2026063022001", "receiver_name": MASKED_NAME,
        "receiver_mobile": MASKED_PHONE, "receiver_phone": LANDLINE, "receiver_address": STREET, "receiver_zip": ZIP,
        "receiver_state": PROVINCE, "receiver_city": CITY, "receiver_district": DISTRICT, "receiver_town": "留下街道",
        "receiver_country": "中国", "buyer_message": "请尽快发货", "invoice_name": NAME,
        "orders": {"order": [{"oid": 1, "price": "10.00", "payment": "10.00", "buyer_nick": NICK}]},
    }  # fmt: skip


def test_every_taobao_buyer_field_is_hashed_on_trades_refunds_and_bill_lines():
    trade = taobao.prepare_trade(taobao_trade(), "tmall_flagship", SALT)
    refund = taobao.prepare_refund(
        {"refund_id": 1, "tid": 39001, "refund_fee": "5.00", "buyer_nick": NICK, "buyer_open_uid": BUYER,
         "address": f"{NAME}，{PHONE}，{PROVINCE}{CITY}{STREET}", "receiver_mobile": PHONE},
        "tmall_flagship", SALT,
    )  # fmt: skip
    bill = taobao.prepare_bill_line(
        {"account_log_id": "1", "bill_no": "B1", "amount": "5.00", "other_account": EMAIL,
         "other_account_name": NAME},
        "tmall_flagship", SALT,
    )  # fmt: skip

    assert survivors(trade, refund, bill) == []
    assert (trade["receiver_state"], trade["receiver_city"], trade["receiver_district"]) == (
        PROVINCE,
        CITY,
        DISTRICT,
    )
    assert trade["buyer_open_uid"] == refund["buyer_open_uid"] == h(BUYER)  # one buyer, one customer key
    assert trade["receiver_address"] == h(STREET) and trade["buyer_message"] == "请尽快发货"
    assert trade["alipay_no"] == "2026063022001"  # a payment number, not a person
    assert trade["orders"][0]["payment"] == Decimal("10.00") and refund["refund_fee"] == Decimal("5.00")


def jd_order() -> dict:
    return {
        "orderId": 3001, "orderTotalPrice": "10.00", "pin": BUYER, "open_id_buyer": CIPHER_NAME,
        "xid_buyer": CIPHER_PHONE, "orderRemark": "放门口",
        "consigneeInfo": {
            "fullname": NAME, "telephone": LANDLINE, "mobile": PHONE, "desen_mobile": MASKED_PHONE,
            "fullAddress": f"{PROVINCE}{CITY}{DISTRICT}{STREET}", "province": PROVINCE, "provinceId": 15,
            "city": CITY, "cityId": 1213, "county": DISTRICT, "countyId": 3411, "town": "留下街道",
        },
        "invoiceInfo": f"发票类型:普通发票;发票抬头:{NAME}",
        "invoiceEasyInfo": {"invoiceTitle": NAME, "invoiceConsigneeEmail": EMAIL, "invoiceConsigneePhone": PHONE,
                            "invoiceType": 1},
        "vatInfo": {"userName": NAME, "userPhone": PHONE, "userAddress": STREET, "addressRegIstered": STREET,
                    "phoneRegIstered": LANDLINE, "bankAccount": ID_CARD, "vatNo": "91330100"},
        "itemInfoList": [{"skuId": "1", "jdPrice": "10.00", "skuName": "T恤"}],
    }  # fmt: skip


def test_every_jd_buyer_field_is_hashed_on_orders_after_sales_and_bill_lines():
    order = jd.prepare_order(jd_order(), "jd_pop", SALT)
    refund = jd.prepare_refund(
        {"id": 1, "orderId": 3001, "applyRefundSum": "5.00", "buyerId": BUYER, "buyerName": NAME,
         "customerPin": BUYER, "customerMobilePhone": PHONE, "pickwareAddress": STREET},
        "jd_pop", SALT,
    )  # fmt: skip

    assert survivors(order, refund) == []
    consignee = order["consigneeInfo"]
    assert (consignee["province"], consignee["city"], consignee["county"]) == (PROVINCE, CITY, DISTRICT)
    assert consignee["provinceId"] == 15 and consignee["hasAddressDetail"] is True  # told before hashing
    assert order["pin"] == refund["buyerId"] == h(BUYER)
    assert order["orderRemark"] == "放门口" and order["invoiceEasyInfo"]["invoiceType"] == 1
    assert order["vatInfo"]["vatNo"] == "91330100"  # a company's tax number stays


def pinduoduo_order() -> dict:
    return {
        "order_sn": "260630-1", "buyer_id": BUYER, "receiver_name": NAME, "receiver_phone": PHONE,
        "receiver_address": STREET, "address": f"{PROVINCE}{CITY}{DISTRICT}{STREET}", "receiver_name_mask": MASKED_NAME,
        "receiver_phone_mask": MASKED_PHONE, "receiver_address_mask": "人民路**", "address_mask": "人民路**",
        "open_address_id": CIPHER_STREET, "id_card_name": NAME, "id_card_num": ID_CARD,
        "card_info_list": [{"card_no": ID_CARD, "mask_password": CIPHER_PHONE}], "country": "中国",
        "province": PROVINCE, "city": CITY, "town": DISTRICT, "province_id": 15, "town_id": 3411,
        "buyer_memo": "要发顺丰", "pay_no": "XP2026", "tracking_number": "YT123",
        "item_list": [{"goods_id": 1, "sku_id": 2, "goods_name": "T恤", "goods_count": 1}],
    }  # fmt: skip


def test_every_pinduoduo_buyer_field_is_hashed_plain_and_masked():
    order = pinduoduo.prepare_order(pinduoduo_order(), "pdd_main", SALT)
    refund = pinduoduo.prepare_record(
        {"id": 1, "order_sn": "260630-1", "refund_amount": 500, "receiver_name": NAME, "mobile": PHONE},
        "pdd_main", SALT,
    )  # fmt: skip

    assert survivors(order, refund) == []
    assert (order["province"], order["city"], order["town"], order["town_id"]) == (
        PROVINCE,
        CITY,
        DISTRICT,
        3411,
    )
    assert order["buyer_id"] == h(BUYER) and order["address"] is not None
    assert order["buyer_memo"] == "要发顺丰" and order["item_list"][0]["goods_name"] == "T恤"
    assert refund["refund_amount"] == 500 and refund["shop_id"] == "pdd_main"


def douyin_receiver() -> dict:
    region = {"province": {"id": "33", "name": PROVINCE}, "city": {"id": "3301", "name": CITY},
              "town": {"id": "330106", "name": DISTRICT}, "street": {"id": "1", "name": "留下街道"}}  # fmt: skip
    return {
        "post_receiver": NAME, "post_tel": PHONE, "encrypt_post_receiver": CIPHER_NAME,
        "encrypt_post_tel": CIPHER_PHONE, "mask_post_receiver": MASKED_NAME, "mask_post_tel": MASKED_PHONE,
        "post_addr": {**region, "detail": STREET, "encrypt_detail": CIPHER_STREET},
        "mask_post_addr": {**region, "detail": "人民路**"},
    }  # fmt: skip


def douyin_order() -> dict:
    return {
        "order_id": "6900", "shop_id": 1234, "doudian_open_id": BUYER, "open_id": CIPHER_NAME, "user_id": 987654,
        "user_nick_name": NICK, "buyer_words": "送人的", "pay_amount": 1000, **douyin_receiver(),
        "user_id_info": {"id_card_no": ID_CARD, "encrypt_id_card_no": CIPHER_PHONE, "id_card_name": NAME,
                         "encrypt_id_card_name": CIPHER_NAME},
        "logistics_info": [{"tracking_no": "SF9", "company": "shunfeng"}],
        "sku_order_list": [{"order_id": "6901", "product_name": "T恤", "author_name": "某主播", **douyin_receiver()}],
    }  # fmt: skip


def test_every_douyin_buyer_field_is_hashed_clear_encrypted_and_masked_on_orders_and_sku_orders():
    order = douyin.prepare_order(douyin_order(), "douyin_live", SALT)
    aftersale = douyin.prepare_aftersale(
        {"aftersale_info": {"aftersale_id": "1", "refund_amount": 500, "post_receiver": NAME, "post_tel": PHONE,
                            "post_address": {"province": {"name": PROVINCE}, "detail": STREET},
                            "return_address": {"detail": STREET, "receiver_tel": LANDLINE}},
         "order_info": {"shop_order_id": "6900", "doudian_open_id": BUYER}},
        "douyin_live", SALT,
    )  # fmt: skip
    bill = douyin.prepare_settlement(
        {"request_no": "R1", "order_id": "6900", "post_tel": PHONE}, "douyin_live", SALT
    )

    assert survivors(order, aftersale, bill) == []
    assert order["post_addr"]["province"]["name"] == PROVINCE and order["post_addr"]["city"]["name"] == CITY
    assert order["sku_order_list"][0]["mask_post_addr"]["town"]["name"] == DISTRICT
    assert order["post_addr"]["encrypt_detail"] == h(CIPHER_STREET)  # staging's address key
    assert order["doudian_open_id"] == aftersale["doudian_open_id"] == h(BUYER)
    assert order["sku_order_list"][0]["author_name"] == "某主播" and order["buyer_words"] == "送人的"
    assert order["platform_shop_id"] == 1234 and order["shop_id"] == "douyin_live"
    assert aftersale["post_address"]["province"]["name"] == PROVINCE


@pytest.mark.parametrize(
    "key",
    ["receiverMobileBackup", "buyer_contact_phone", "consignee_tel", "encrypt_receiver_name", "ship_to_email",
     "real_name", "idCardNo", "wangwang", "buyer_open_id", "收货人手机号", "收货地址(省市区)", "买家昵称"],
)  # fmt: skip
def test_a_field_no_connector_lists_is_still_hashed_when_its_name_says_it_is_personal(key):
    record = hash_pii({"id": 1, "wrapper": [{key: PHONE}]}, SALT)

    assert record == {"id": 1, "wrapper": [{key: h(PHONE)}]}


@pytest.mark.parametrize(
    "key",
    ["receiver_state", "receiver_city", "province", "district", "buyer_message", "buyer_memo", "seller_memo",
     "title", "name", "product_name", "has_address_detail", "post_tel_type", "tracking_number", "收货省份", "买家留言"],
)  # fmt: skip
def test_regions_remarks_flags_and_product_fields_are_not_taken_for_personal_data(key):
    assert not is_pii_key(key)
