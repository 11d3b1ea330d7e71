"""Douyin (抖店) open-platform connector: signed client, dlt source, stock writes."""

from connectors.douyin.client import DouyinAuthError, DouyinClient, DouyinConfigError, DouyinError
from connectors.douyin.source import douyin_source, load_shop

__all__ = [
    "DouyinAuthError",
    "DouyinClient",
    "DouyinConfigError",
    "DouyinError",
    "douyin_source",
    "load_shop",
]
