"""Buyer personal data never lands in the clear: connectors hash it at the edge, before dlt sees it.

A keyed hash (HMAC-SHA256 with the configured salt) keeps one buyer recognisable across orders and loads, so
repurchase and cohorts still work, while the warehouse, logs and dashboards never hold a name, phone, e-mail
or street address.

Each connector declares where its platform documents buyer data (`PII_PATHS`: dotted paths through nested
objects and lists, e.g. `post_addr.detail`, `sku_order_list.encrypt_post_tel`; a path ending at an object
hashes everything personal inside it) and passes every record through `hash_pii`, which also applies a safety
net anywhere in the record: a field whose *name* says it holds a phone, e-mail, receiver, consignee, street
address, person's name, open id or ID card is hashed even when no path lists it, in plain, `encrypt_*` and
`*_mask` variants alike. Regions (province/state, city, district/county, town, country) stay readable for
regional analysis, and so do ids, codes and flags inside an address.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any


class MissingSaltError(RuntimeError):
    pass


def require_salt(salt: str | None, env_name: str = "SHOPKEEP_PII_SALT") -> str:
    """The salt, or an error telling the user which variable to set."""
    if not salt:
        raise MissingSaltError(
            f"environment variable {env_name} is not set: it salts the hashes of buyer data. "
            f"Set it once (any long random string, e.g. `openssl rand -hex 32`) in .env and keep it stable."
        )
    return salt


def pii_hash(value: object, salt: str) -> str | None:
    """`h:` + 16 hex chars of HMAC-SHA256(salt, value); None and '' stay None."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    return "h:" + hmac.digest(salt.encode(), text.encode(), "sha256").hex()[:16]


# --- which field names hold personal data -------------------------------------------------------------------

PII_WORDS = frozenset({
    "phone", "mobile", "tel", "telephone", "email", "fullname", "nick", "nickname", "receiver", "consignee",
    "recipient", "addressee", "address", "address1", "address2", "addr", "zip", "zipcode", "postcode",
    "latitude", "longitude", "ip", "oaid", "ouid", "openid", "password", "idcard", "passport", "pin",
    "wangwang", "wechat", "wxid", "xid",
})  # fmt: skip
"""A field name holding any of these words is personal (`receiver_mobile`, `encrypt_post_tel`, `buyer_email`)."""
PII_PAIRS = frozenset({
    ("open", "id"), ("open", "uid"), ("id", "card"), ("card", "no"), ("card", "num"), ("card", "number"),
    ("card", "name"), ("bank", "account"), ("postal", "code"), ("invoice", "title"), ("buyer", "id"),
    ("buyer", "uid"), ("buyer", "name"), ("buyer", "account"), ("buyer", "no"), ("buyer", "alipay"),
    ("alipay", "account"), ("alipay", "id"), ("other", "account"),
})  # fmt: skip
"""Two consecutive words that together make a field personal (`doudian_open_id`, `id_card_num`, `buyer_id`,
`buyer_alipay_no`; not a trade's `alipay_no`, a payment number)."""
PERSON_ROLES = frozenset({
    "first", "last", "full", "real", "middle", "given", "family", "receiver", "consignee", "recipient",
    "contact", "buyer", "customer", "user", "member", "person", "billing", "shipping", "card", "invoice",
    "holder", "account",
})  # fmt: skip
"""`<role>_name` is a person's name (`first_name`, `buyerName`); a bare `name` is one only inside an address."""
REGION_WORDS = frozenset({
    "province", "state", "city", "district", "county", "town", "township", "country", "region", "area",
})  # fmt: skip
"""Kept readable for regional analysis (`receiver_state`, `consigneeInfo.city`, `post_addr.province.name`)."""
ADDRESS_WORDS = frozenset({
    "address", "addresses", "addr", "consignee", "consignees", "receiver", "receivers", "recipient", "recipients",
    "addressee", "destination",
})  # fmt: skip
"""An object under such a name is an address or a person: every non-region, non-id scalar in it is hashed."""
FLAG_FIRST = frozenset({"is", "has", "need", "can", "if"})
FLAG_LAST = frozenset({"type", "status", "flag", "flags", "count", "mode", "at", "time", "date", "default"})
KEY_LAST = frozenset({"id", "ids", "code"})
ATTRIBUTE_NAME_KEYS = ("name", "key")
"""A `{name, value}` pair (Shopify note_attributes, line item properties): `value` is hashed when `name` is
personal (e.g. `{"name": "Delivery phone", "value": "…"}`)."""

CHINESE_PII = re.compile(
    r"收货人|收件人|联系人|姓名|手机|电话|地址|昵称|会员名|旺旺|邮箱|身份证|证件|支付宝|帐号|账号|买家\s*id|客户名|邮编"
    r"|openid|open\s*id|oaid",
    re.IGNORECASE,
)
"""Export headers and attribute names in Chinese: 收货人姓名, 联系手机, 详细地址, 买家会员名, 旺旺, 买家ID, 下单帐号…"""
CHINESE_NOT_PII = re.compile(r"是否|时间|日期|类型|状态")
"""…but not 是否修改地址 or 地址修改时间 (收货省份 / 收货城市 / 收货区县 match neither: regions stay readable)."""
_CJK = re.compile(r"[\u3400-\u9fff]")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[^a-z0-9]+")

PERSONAL = "personal"  # inside an address/person object
REGIONAL = "regional"  # inside a region object (post_addr.province = {id, name})


@lru_cache(maxsize=4096)
def words(key: str) -> tuple[str, ...]:
    """`encryptPostTel` -> ('encrypt', 'post', 'tel'); `Shipping Address1` -> ('shipping', 'address1')."""
    return tuple(w for w in _SEPARATORS.split(_CAMEL.sub("_", str(key)).lower()) if w)


@lru_cache(maxsize=4096)
def is_region_key(key: str) -> bool:
    return bool(REGION_WORDS & set(words(key)))


@lru_cache(maxsize=4096)
def is_flag_or_key(key: str) -> bool:
    """Ids, codes, flags, counts and times: never personal, even inside an address (`provinceId`, `default`)."""
    w = words(key)
    return bool(w) and (w[0] in FLAG_FIRST or w[-1] in FLAG_LAST or w[-1] in KEY_LAST) and not _named_pii(w)


def _named_pii(w: tuple[str, ...]) -> bool:
    if PII_WORDS & set(w):
        return True
    if any(pair in PII_PAIRS for pair in zip(w, w[1:], strict=False)):
        return True
    return "name" in w and bool(PERSON_ROLES & set(w))


@lru_cache(maxsize=4096)
def is_pii_key(key: str) -> bool:
    """Whether a field of this name holds personal data wherever it appears (regions, flags and ids excepted)."""
    if _CJK.search(key):
        return bool(CHINESE_PII.search(key)) and not CHINESE_NOT_PII.search(key)
    w = words(key)
    if not w or is_region_key(key):
        return False
    if w[0] in FLAG_FIRST or w[-1] in FLAG_LAST - {"default"}:
        return False  # has_address_detail, post_tel_type, address_status
    return _named_pii(w)


@lru_cache(maxsize=4096)
def is_address_key(key: str) -> bool:
    return bool(ADDRESS_WORDS & set(words(key))) and not is_region_key(key)


def _compile(paths: Iterable[str]) -> frozenset[tuple[str, ...]]:
    return frozenset(tuple(p.split(".")) for p in paths)


def hash_pii(record: Any, salt: str, paths: Iterable[str] = ()) -> Any:
    """`record` with every declared path (dotted, lists crossed transparently) and every field the safety net
    recognises replaced by `pii_hash`, in place; returns it. None stays None, booleans are never hashed."""
    return _walk(record, (), _compile(paths), salt, None)


def _hashable(value: Any) -> bool:
    return value is not None and not isinstance(value, (bool, dict, list, tuple))


def _walk(value: Any, path: tuple[str, ...], declared: frozenset, salt: str, context: str | None) -> Any:
    if isinstance(value, list):
        for i, item in enumerate(value):
            value[i] = _walk(item, path, declared, salt, context)
        return value
    if not isinstance(value, dict):
        return value
    attribute = next((k for k in ATTRIBUTE_NAME_KEYS if k in value), None)
    if attribute and "value" in value and isinstance(value[attribute], str) and is_pii_key(value[attribute]):
        value["value"] = pii_hash(value["value"], salt) if _hashable(value["value"]) else value["value"]
    for key, child in value.items():
        where = (*path, str(key))
        if isinstance(child, (dict, list)):
            if isinstance(child, dict) and (is_region_key(key) or words(key)[-1:] == ("street",)):
                inner = REGIONAL  # post_addr.province = {id, name}, post_addr.street = {id, name}
            elif where in declared or is_address_key(key) or context == PERSONAL:
                inner = PERSONAL
            else:
                inner = context
            value[key] = _walk(child, where, declared, salt, inner)
        elif _hashable(child) and _personal(str(key), where, declared, context):
            value[key] = pii_hash(child, salt)
    return value


def _personal(key: str, where: tuple[str, ...], declared: frozenset, context: str | None) -> bool:
    if where in declared:
        return True
    if context == REGIONAL:
        return False
    if is_pii_key(key):
        return True
    return context == PERSONAL and not is_region_key(key) and not is_flag_or_key(key)
