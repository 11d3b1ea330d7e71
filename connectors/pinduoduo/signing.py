"""Pinduoduo POP request signing (a pure function, known-answer tested).

sign = upper(hex(md5(client_secret + name1 + value1 + name2 + value2 + … + client_secret))) over every request
parameter except `sign`, sorted by name (byte order), values as the strings that are sent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping


def sign_params(params: Mapping[str, object], client_secret: str) -> str:
    """The `sign` value for `params` (the `sign` entry itself and None values are left out)."""
    text = "".join(
        f"{name}{params[name]}" for name in sorted(params) if name != "sign" and params[name] is not None
    )
    return hashlib.md5(f"{client_secret}{text}{client_secret}".encode()).hexdigest().upper()
