"""Tmall/Taobao connector: TOP gateway client, signing, dlt source and stock writes."""

from connectors.taobao.client import (
    TaobaoAuthError,
    TaobaoClient,
    TaobaoConfigError,
    TaobaoError,
    TaobaoResponseError,
)
from connectors.taobao.source import load_shop, taobao_source

__all__ = [
    "TaobaoAuthError",
    "TaobaoClient",
    "TaobaoConfigError",
    "TaobaoError",
    "TaobaoResponseError",
    "load_shop",
    "taobao_source",
]
