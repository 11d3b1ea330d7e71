"""The strict sandbox leaves optional fields out of records, never out of the envelope a client needs."""

from __future__ import annotations

from sandbox.strict import Strictness, omit_optional


def test_douyin_answers_keep_their_envelope_code_while_their_skus_lose_the_merchant_code():
    answer = {
        "code": 10000,
        "msg": "success",
        "log_id": "a",
        "data": {
            "shop_order_list": [{"order_id": "1", "sku_order_list": [{"order_id": "11", "code": "AP-1"}]}]
        },
    }

    omit_optional(answer, "douyin", Strictness(seed=0, omit_rate=1.0))

    assert answer["code"] == 10000
    assert "code" not in answer["data"]["shop_order_list"][0]["sku_order_list"][0]
