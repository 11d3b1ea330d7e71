"""Shopify Admin REST client: access-token auth, Link-header cursor pagination, rate limits and retries.

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

log = logging.getLogger(__name__)

_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
FOLLOW_UP_PARAMS = ("page_info", "limit", "fields")
"""The only parameters Shopify accepts next to `page_info`."""


class ShopifyError(RuntimeError):
    """A Shopify call failed in a way a retry will not fix."""


class ShopifyAuthError(ShopifyError):
    """The store refused the access token (401/403)."""


class ShopifyResponseError(ShopifyError):
    """The store answered something that is not the JSON it should be."""


class ShopifyNotFoundError(ShopifyError):
    """The store has no such resource (HTTP 404): e.g. Shopify Payments endpoints on a store without it."""


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

    def post(self, resource: str, body: dict[str, Any]) -> Any:
        """POST a JSON body; the parsed JSON answer."""
        return self.request("POST", resource, json=body)[0]

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

    def request(self, method: str, resource: str, **kwargs: Any) -> tuple[Any, httpx.Response]:
        path = self.path(resource)
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=wait_exponential(multiplier=0.5, max=self.backoff_max_seconds),
            retry=retry_if_exception_type(_Transient),
            sleep=self._sleep,
            reraise=False,
        )
        try:
            response = retrying(self._send_through_throttle, method, path, **kwargs)
        except RetryError as error:
            cause = error.last_attempt.exception()
            raise ShopifyError(
                f"Shopify shop {self.shop_id}: {method} {path} kept failing after {self.max_attempts} attempts "
                f"({cause}). The store or the network is down; try again later."
            ) from None
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
        status = response.status_code
        if status >= 500:
            raise _Transient(f"HTTP {status}")
        if status in (401, 403):
            raise ShopifyAuthError(
                f"Shopify shop {self.shop_id}: the store refused the access token (HTTP {status}) on {path}. "
                f"Renew the Admin API access token (it needs read_orders, read_products, read_inventory, "
                f"read_shopify_payments_payouts"
                f"{', write_inventory' if method == 'POST' else ''}) and set it in environment variable "
                f"{self.token_env}."
            )
        if status == 404:
            raise ShopifyNotFoundError(
                f"Shopify shop {self.shop_id}: {method} {path} does not exist on this store (HTTP 404): "
                f"{_error_text(response)}"
            )
        if status >= 400:
            raise ShopifyError(
                f"Shopify shop {self.shop_id}: {method} {path} was rejected (HTTP {status}): "
                f"{_error_text(response)}"
            )
        return response

    def _json(self, response: httpx.Response, path: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise ShopifyResponseError(
                f"Shopify shop {self.shop_id}: {path} answered HTTP {response.status_code} with a body that is "
                f"not valid JSON ({response.headers.get('content-type', 'no content type')}). Check the shop's "
                f"base_url in shopkeep.toml points at the store's Admin API."
            ) from None


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
