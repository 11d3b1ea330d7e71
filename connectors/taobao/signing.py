"""TOP (Taobao Open Platform) request signing — pure functions, no I/O.

Every parameter except `sign` (system parameters from the query string and business parameters from the form
body alike) is sorted by name in byte order; empty values are skipped; `name + value` pairs are concatenated
with no separator into `s`. Then, by `sign_method`:
  md5          upper(hex(md5(secret + s + secret)))
  hmac         upper(hex(hmac_md5(key=secret, s)))
  hmac-sha256  upper(hex(hmac_sha256(key=secret, s)))
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

SIGN_METHODS = ("md5", "hmac", "hmac-sha256")


def string_to_sign(params: Mapping[str, object]) -> str:
    """The concatenation `s`: sorted `name+value` pairs, `sign` and empty values left out."""
    pairs = []
    for name in sorted(params, key=lambda n: n.encode("utf-8")):
        value = params[name]
        if name == "sign" or value is None or str(value) == "":
            continue
        pairs.append(f"{name}{value}")
    return "".join(pairs)


def sign(params: Mapping[str, object], secret: str, sign_method: str = "md5") -> str:
    """The TOP signature of `params` (upper-case hex) with the app secret, for one of SIGN_METHODS."""
    s = string_to_sign(params).encode("utf-8")
    key = secret.encode("utf-8")
    if sign_method == "md5":
        return hashlib.md5(key + s + key).hexdigest().upper()
    if sign_method == "hmac":
        return hmac.new(key, s, hashlib.md5).hexdigest().upper()
    if sign_method == "hmac-sha256":
        return hmac.new(key, s, hashlib.sha256).hexdigest().upper()
    raise ValueError(f"unknown TOP sign_method {sign_method!r}; use one of {', '.join(SIGN_METHODS)}")
