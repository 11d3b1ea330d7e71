"""JD (JOS) request signing: md5 over the sorted parameters, the secret on both sides."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping


def sign_string(params: Mapping[str, str]) -> str:
    """`name+value` of every parameter except `sign`, sorted by name (byte order), empty values skipped."""
    return "".join(
        f"{name}{value}"
        for name, value in sorted(params.items())
        if name != "sign" and value not in ("", None)
    )


def sign(params: Mapping[str, str], app_secret: str) -> str:
    """`upper(hex(md5(secret + sign_string + secret)))`, the `sign` JD's gateway checks (sign_method=md5).
    `params` are the system parameters plus the `360buy_param_json` string, exactly as sent."""
    return hashlib.md5(f"{app_secret}{sign_string(params)}{app_secret}".encode()).hexdigest().upper()
