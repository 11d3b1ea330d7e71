"""Douyin (抖店) open-platform request signing — pure functions, no I/O.

`param_json` is the business parameters as compact JSON with keys sorted recursively, unicode not escaped
(`{}` when there are none). The string to sign is

    p   = "app_key" + app_key + "method" + method + "param_json" + param_json + "timestamp" + timestamp + "v" + v
    str = app_secret + p + app_secret

and `sign` is lower-case hex of md5(str) (sign_method=md5) or of HMAC-SHA256(app_secret, str)
(sign_method=hmac-sha256). `access_token` is not signed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

SIGN_METHODS = ("md5", "hmac-sha256")
API_VERSION = "2"


def _sorted_deep(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _sorted_deep(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        return [_sorted_deep(v) for v in value]
    return value


def param_json(params: dict[str, Any] | None) -> str:
    """Business parameters as Douyin signs and sends them: keys sorted at every depth, no spaces, unicode kept."""
    return json.dumps(_sorted_deep(params or {}), ensure_ascii=False, separators=(",", ":"))


def string_to_sign(
    app_key: str,
    app_secret: str,
    method: str,
    param_json_text: str,
    timestamp: int | str,
    v: str = API_VERSION,
) -> str:
    """secret + "app_key…method…param_json…timestamp…v…" + secret."""
    payload = f"app_key{app_key}method{method}param_json{param_json_text}timestamp{timestamp}v{v}"
    return f"{app_secret}{payload}{app_secret}"


def sign(
    app_key: str,
    app_secret: str,
    method: str,
    param_json_text: str,
    timestamp: int | str,
    sign_method: str = "md5",
    v: str = API_VERSION,
) -> str:
    """The request's `sign` (lower-case hex)."""
    text = string_to_sign(app_key, app_secret, method, param_json_text, timestamp, v).encode()
    if sign_method == "md5":
        return hashlib.md5(text).hexdigest()
    if sign_method == "hmac-sha256":
        return hmac.new(app_secret.encode(), text, hashlib.sha256).hexdigest()
    raise ValueError(f"unknown Douyin sign_method {sign_method!r}; use one of {SIGN_METHODS}")
