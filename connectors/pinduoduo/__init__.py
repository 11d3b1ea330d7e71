"""Pinduoduo (POP) connector: signed client, dlt source (orders, refunds, settlements, listings), stock writes."""

from connectors.pinduoduo.client import (
    PddAuthError,
    PddClient,
    PddError,
    PddResponseError,
    PddSignatureError,
)
from connectors.pinduoduo.source import load_shop, pinduoduo_source

__all__ = [
    "PddAuthError",
    "PddClient",
    "PddError",
    "PddResponseError",
    "PddSignatureError",
    "load_shop",
    "pinduoduo_source",
]
