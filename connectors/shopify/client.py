"""Shopify Admin REST client: access-token auth, Link-header cursor pagination, rate limits and retries.

HTTP statuses are data (`STATUSES` below), from Shopify's REST Admin API status-code reference: 401 (the token is
wrong, revoked or the app uninstalled) is auth; 403 (the token lacks a scope, or the app needs merchant approval)
is permission; 404 (wrong store URL or API version) and 402/423 (store frozen or locked) are configuration of the
store; 429 waits `Retry-After`; 5xx (and a JSON body cut short, timeouts, broken connections) back off and retry;
400/406/422 are the request's fault; anything else is reported as a status this client does not know. Shopify's
REST calls carry no signature, so a refused token is never a signature problem, and a missing scope is never
"renew your token".

Errors name the shop and what to fix (which environment variable holds the token to renew); the token itself
never appears in an error, a log line or a URL (it only travels in the `X-Shopify-Access-Token` header).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from connectors.common.errors import ChannelError

log = logging.getLogger(__name__)

_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
FOLLOW_UP_PARAMS = ("page_info", "limit", "fields")
"""The only parameters Shopify accepts next to `page_info`."""


STATUSES: dict[int, str] = {
    400: "request",  # Bad Request (e.g. a filter next to page_info)
    401: "auth",  # Unauthorized: wrong or revoked access token, app uninstalled
    402: "config",  # Payment Required: the store is frozen
    403: "permission",  # Forbidden: the token lacks a scope / the app needs merchant approval
    404: "config",  # Not Found: wrong store URL or API version
    406: "request",  # Not Acceptable
    422: "request",  # Unprocessable Entity
    423: "config",  # Locked: the store is locked
    429: "throttle",  # Too Many Requests: wait Retry-After
    500: "busy",
    502: "busy",
    503: "busy",
    504: "busy",
}
"""Shopify HTTP statuses -> what they mean for a client (see the module docstring); other 5xx count as busy."""


class ShopifyError(ChannelError):
    """A Shopify call failed in a way a retry will not fix."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ShopifyAuthError(ShopifyError):
    """The store refused the access token (401)."""


class ShopifyPermissionError(ShopifyError):
    """The access token lacks a scope the call needs (403)."""


class ShopifyConfigError(ShopifyError):
    """The store URL, API version or the store itself (frozen, locked) is not what the config says (402/404/423)."""


class ShopifyUnknownStatusError(ShopifyError):
    """The store answered an HTTP status this client has no entry for."""


class ShopifyResponseError(ShopifyError):
    """The store answered something that is not the JSON it should be."""


class ShopifyNotFoundError(ShopifyConfigError):
    """The store has no such resource (HTTP 404): a wrong store URL or API version — or Shopify Payments
    endpoints on a store without Shopify Payments, which the payouts resource reads as "no payouts"."""


class _Transient(Exception):
    """A 5xx or a network failure: worth another attempt after a back-off."""


class ShopifyClient:
    """One Shopify store's Admin REST API.

    `paginate("orders.json", {...})` yields the pages of a listing, following `Link: <…>; rel="next"`.
    429 answers wait `Retry-After` seconds and try again (at most `max_throttle_retries` times in a row);
    5xx and network errors back off exponentially (at most `max_attempts` attempts).
    """

    def __init__(
        self,
        shop_id: str,
        base_url: str,
        token: str,
        api_version: str = "2025-07",
        token_env: str = "SHOPIFY_GLOBAL_TOKEN",
        timeout: float = 30.0,
        max_attempts: int = 5,
        max_throttle_retries: int = 20,
        backoff_max_seconds: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not token:
            raise ShopifyAuthError(
                f"Shopify shop {shop_id}: no access token. Set environment variable {token_env} to the store's "
                f"Admin API access token."
            )
        self.shop_id = shop_id
        self.token_env = token_env
        self.api_version = api_version
        self.max_attempts = max_attempts
        self.max_throttle_retries = max_throttle_retries
        self.backoff_max_seconds = backoff_max_seconds
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"X-Shopify-Access-Token": token, "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )

    def __enter__(self) -> ShopifyClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:  # never show the token
        return f"ShopifyClient(shop_id={self.shop_id!r}, base_url={str(self._http.base_url)!r})"

    # ------------------------------------------------------------------------------------------------ #

    def path(self, resource: str) -> str:
        """'orders.json' -> '/admin/api/2025-07/orders.json' (a path starting with '/' is kept)."""
        return resource if resource.startswith("/") else f"/admin/api/{self.api_version}/{resource}"

    def get(self, resource: str, params: dict[str, Any] | None = None) -> tuple[Any, httpx.Response]:
        """GET one resource: (parsed JSON body, response)."""
        return self.request("GET", resource, params=params)

    def post(self, resource: str, body: dict[str, Any], idempotent: bool = True) -> Any:
        """POST a JSON body; the parsed JSON answer. A POST that must not land twice (an inventory adjustment)
        is sent once: after a 5xx or a timeout nobody knows whether it landed (429s are still waited out)."""
        return self.request("POST", resource, json=body, idempotent=idempotent)[0]

    def paginate(
        self, resource: str, params: dict[str, Any] | None = None, key: str | None = None
    ) -> Iterator[Any]:
        """Yield each page of a listing: the list under `key` (default: the resource name, e.g. 'orders').

        The first request carries `params`; follow-ups carry only `page_info`, `limit` (and `fields`) as
        Shopify requires, taken from the `Link` header's rel="next" URL."""
        key = key or resource.rsplit("/", 1)[-1].removesuffix(".json")
        params = dict(params or {})
        while True:
            body, response = self.get(resource, params)
            if not isinstance(body, dict) or key not in body:
                raise ShopifyResponseError(
                    f"Shopify shop {self.shop_id}: {self.path(resource)} answered without a {key!r} list "
                    f"(HTTP {response.status_code})."
                )
            yield body[key]
            next_url = next_page_url(response.headers.get("Link"))
            if next_url is None:
                return
            query = parse_qs(urlsplit(next_url).query)
            params = {name: query[name][0] for name in FOLLOW_UP_PARAMS if name in query}
            if "page_info" not in params:
                raise ShopifyResponseError(
                    f"Shopify shop {self.shop_id}: {self.path(resource)} sent a next-page link without page_info."
                )

    def request(
        self, method: str, resource: str, idempotent: bool = True, **kwargs: Any
    ) -> tuple[Any, httpx.Response]:
        path = self.path(resource)
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts if idempotent else 1),
            wait=wait_exponential(multiplier=0.5, max=self.backoff_max_seconds),
            retry=retry_if_exception_type(_Transient),
            sleep=self._sleep,
            reraise=False,
        )
        try:
            return retrying(self._attempt, method, path, **kwargs)
        except RetryError as error:
            cause = error.last_attempt.exception()
            if isinstance(cause, _BrokenBody):
                raise cause.error from None
            raise ShopifyError(
                f"Shopify shop {self.shop_id}: {method} {path} kept failing after {self.max_attempts} attempts "
                f"({cause}). The store or the network is down; try again later."
            ) from None

    def _attempt(self, method: str, path: str, **kwargs: Any) -> tuple[Any, httpx.Response]:
        response = self._send_through_throttle(method, path, **kwargs)
        return self._json(response, path), response

    # ------------------------------------------------------------------------------------------------ #

    def _send_through_throttle(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send once, waiting out 429s as long as the store asks (bounded); 5xx/network -> _Transient."""
        for _ in range(self.max_throttle_retries + 1):
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TransportError as error:  # timeouts, refused connections, broken streams
                raise _Transient(f"{type(error).__name__}") from None
            if response.status_code != 429:
                break
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            log.info("Shopify shop %s: throttled on %s, waiting %.1fs", self.shop_id, path, wait)
            self._sleep(wait)
        else:
            raise ShopifyError(
                f"Shopify shop {self.shop_id}: {method} {path} was still throttled (HTTP 429) after "
                f"{self.max_throttle_retries} waits. Another app may be using the store's API budget."
            )
        return self._checked(method, path, response)

    def _checked(self, method: str, path: str, response: httpx.Response) -> httpx.Response:
        status = response.status_code
        if status < 400:
            return response
        kind = STATUSES.get(status, "busy" if status >= 500 else "unknown")
        text, shop = f"HTTP {status}: {_error_text(response)}", f"Shopify shop {self.shop_id}"
        if kind == "busy":
            raise _Transient(f"HTTP {status}")
        if kind == "auth":
            raise ShopifyAuthError(
                f"{shop}: the store refused the access token on {path} ({text}). Renew the Admin API access token "
                f"(reinstall or re-authorise the app) and set it in environment variable {self.token_env}.",
                status,
            )
        if kind == "permission":
            raise ShopifyPermissionError(
                f"{shop}: the access token may not {method} {path} ({text}). Grant the app the scope it needs "
                f"(read_orders, read_products, read_inventory, read_shopify_payments_payouts{', write_inventory' if method == 'POST' else ''}) "
                f"and have the merchant approve it; the token itself is valid.",
                status,
            )
        if status == 404:
            raise ShopifyNotFoundError(
                f"{shop}: {method} {path} does not exist on this store ({text}). Check the shop's base_url and "
                f"api_version in shopkeep.toml.",
                status,
            )
        if kind == "config":
            raise ShopifyConfigError(
                f"{shop}: {method} {path} was refused ({text}). Check the shop's base_url and api_version in "
                f"shopkeep.toml, and that the store is active (not frozen or locked).",
                status,
            )
        if kind == "request":
            raise ShopifyError(f"{shop}: {method} {path} was rejected ({text}).", status)
        raise ShopifyUnknownStatusError(
            f"{shop}: {method} {path} answered an HTTP status shopkeep does not know ({text}).", status
        )

    def _json(self, response: httpx.Response, path: str) -> Any:
        try:
            return response.json()
        except ValueError:
            error = ShopifyResponseError(
                f"Shopify shop {self.shop_id}: {path} answered HTTP {response.status_code} with a body that is "
                f"not valid JSON ({response.headers.get('content-type', 'no content type')}). Check the shop's "
                f"base_url in shopkeep.toml points at the store's Admin API."
            )
            if "json" in response.headers.get("content-type", ""):
                raise _BrokenBody(error) from None  # JSON cut short on the way: worth another attempt
            raise error from None


class _BrokenBody(_Transient):
    """A JSON answer that does not parse (cut off): retried; if it never parses, `error` is what the user sees."""

    def __init__(self, error: ShopifyResponseError) -> None:
        super().__init__("a JSON body cut short")
        self.error = error


def next_page_url(link_header: str | None) -> str | None:
    """The rel="next" URL of a Shopify `Link` header, if any."""
    if not link_header:
        return None
    for part in link_header.split(","):
        match = _NEXT_LINK.search(part)
        if match:
            return match.group(1)
    return None


def retry_after_seconds(value: str | None, default: float = 2.0) -> float:
    """Shopify's `Retry-After` is seconds as a float ("2.0"); fall back to `default` when absent/odd."""
    try:
        return max(0.0, float(value)) if value is not None else default
    except ValueError:
        return default


def _error_text(response: httpx.Response) -> str:
    try:
        errors = response.json().get("errors", response.json())
    except (ValueError, AttributeError):
        return response.text[:200]
    return str(errors)[:300]
