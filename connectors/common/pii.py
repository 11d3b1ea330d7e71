"""Buyer personal data never lands in the clear: connectors hash it at the edge, before dlt sees it.

A keyed hash (HMAC-SHA256 with the configured salt) keeps one buyer recognisable across orders and loads, so
repurchase and cohorts still work, while the warehouse, logs and dashboards never hold a name, phone, e-mail
or street address.
"""

from __future__ import annotations

import hashlib
import hmac


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
    digest = hmac.new(salt.encode(), text.encode(), hashlib.sha256).hexdigest()
    return "h:" + digest[:16]
