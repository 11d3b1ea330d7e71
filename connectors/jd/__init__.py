"""JD (JOS) connector: signed gateway client and the dlt source (orders, refunds, settlements, listings)."""

from connectors.jd.client import JdAuthError, JdClient, JdError, JdResponseError, JdSignatureError
from connectors.jd.source import jd_source, load_shop

__all__ = [
    "JdAuthError",
    "JdClient",
    "JdError",
    "JdResponseError",
    "JdSignatureError",
    "jd_source",
    "load_shop",
]
