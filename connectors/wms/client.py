"""HTTP client for the warehouse system: bearer auth, paging until done, retries on throttles, 5xx and timeouts.

HTTP statuses are data (`STATUSES` below), as any REST service answers them: 401 the token is refused (auth),
403 the token may not read this (permission), 429 throttled (wait `Retry-After`, else back off), 5xx busy (back
off and retry), 400/404/422 the request's fault (a warehouse id or date the WMS does not know); any other status
is reported as unknown, with the WMS's own words. The token is only ever put in the Authorization header: errors
name the environment variable that holds it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

import httpx
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

from connectors.common.errors import ChannelError

PAGE_SIZE = 500
STATUSES: dict[int, str] = {
    400: "request",
    401: "auth",
    403: "permission",
    404: "request",
    422: "request",
    429: "throttle",
    500: "busy",
    502: "busy",
    503: "busy",
    504: "busy",
}
"""WMS HTTP statuses -> what they mean for a client (see the module docstring); other 5xx count as busy."""


class WmsError(ChannelError):
    """The WMS refused a request for a reason the user must fix (bad warehouse id, bad date, ...)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class WmsAuthError(WmsError):
    """The WMS rejected the token."""


class WmsPermissionError(WmsError):
    """The token is valid but may not read this resource."""


class WmsUnknownStatusError(WmsError):
    """The WMS answered an HTTP status this client has no entry for."""


class _Retryable(Exception):
    def __init__(self, message: str, wait: float | None = None) -> None:
        super().__init__(message)
        self.wait = wait


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, _Retryable | httpx.TimeoutException | httpx.TransportError)


class WmsClient:
    """A thin client over `GET /api/v1/stock`, `/movements`, `/purchase-orders` and `/receipts`."""

    def __init__(
        self,
        base_url: str,
        token: str,
        token_env: str = "WMS_TOKEN",
        timeout: float = 30.0,
        attempts: int = 5,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token_env = token_env
        self.attempts = attempts
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> WmsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, path: str, params: dict[str, Any]) -> dict:
        """One GET returning the decoded JSON body; 5xx and timeouts are retried with backoff."""
        backoff = wait_exponential(multiplier=0.2, max=5)
        caller = retry(
            retry=retry_if_exception(_is_retryable),
            stop=stop_after_attempt(self.attempts),
            wait=lambda state: _asked_wait(state) or backoff(state),
            sleep=self._sleep,
            reraise=True,
        )(self._get_once)
        try:
            return caller(path, params)
        except _Retryable as exc:
            raise WmsError(
                f"{exc} after {self.attempts} attempts; is the WMS at {self.base_url} up?"
            ) from None
        except httpx.TransportError as exc:
            raise WmsError(
                f"could not reach the WMS at {self.base_url} ({type(exc).__name__}) after {self.attempts} "
                "attempts: check [wms].base_url in shopkeep.toml and that the WMS is up"
            ) from None

    def _get_once(self, path: str, params: dict[str, Any]) -> dict:
        response = self._http.get(path, params=params)
        status = response.status_code
        if status < 400:
            try:
                return response.json()
            except ValueError:
                raise _Retryable(f"the WMS answered {path} with a body that is not complete JSON") from None
        kind = STATUSES.get(status, "busy" if status >= 500 else "unknown")
        text = f"HTTP {status}: {_message(response)}"
        if kind == "throttle":
            raise _Retryable(f"the WMS kept throttling {path} ({text})", _retry_after(response))
        if kind == "busy":
            raise _Retryable(f"the WMS answered {path} with {text}")
        if kind == "auth":
            raise WmsAuthError(
                f"the WMS at {self.base_url} rejected the token ({text}): set environment variable "
                f"{self.token_env} to a valid WMS API token",
                status=status,
            )
        if kind == "permission":
            raise WmsPermissionError(
                f"the WMS at {self.base_url} does not let this token read {path} ({text}): give the API user of "
                f"the token in environment variable {self.token_env} read access to stock and movements",
                status=status,
            )
        if kind == "request":
            raise WmsError(f"the WMS refused {path} {params}: {text}", status=status)
        raise WmsUnknownStatusError(
            f"the WMS answered {path} with an HTTP status shopkeep does not know ({text})", status=status
        )

    def stock_pages(self, warehouse: str, day: date | None = None) -> Iterator[dict]:
        """Every page of one warehouse's closing stock on `day` (None = the WMS's current snapshot).
        Each page carries the `date` the WMS served."""
        page = 1
        while True:
            params: dict[str, Any] = {"warehouse": warehouse, "page": page, "page_size": PAGE_SIZE}
            if day is not None:
                params["date"] = day.isoformat()
            try:
                body = self.get("/api/v1/stock", params)
            except WmsError as exc:
                if exc.status == 404:
                    raise WmsError(
                        f"{exc} — check the warehouse ids in [wms].warehouses of shopkeep.toml", status=404
                    ) from None
                raise
            yield body
            if not body["items"] or page * body["page_size"] >= body["total"]:
                return
            page += 1

    def movements(self, since: datetime | None = None) -> Iterator[list[dict]]:
        """Pages of stock movements with moved_at >= since (None = all), oldest first."""
        yield from self._pages("/api/v1/movements", "since", since)

    def purchase_orders(self, updated_since: datetime | None = None) -> Iterator[list[dict]]:
        """Pages of purchase orders (with their lines and received units) updated at or after `updated_since`
        (None = all), least recently updated first."""
        yield from self._pages("/api/v1/purchase-orders", "updated_since", updated_since)

    def receipts(self, since: datetime | None = None) -> Iterator[list[dict]]:
        """Pages of goods receipts with received_at >= since (None = all), oldest first."""
        yield from self._pages("/api/v1/receipts", "since", since)

    def _pages(self, path: str, cursor_param: str, cursor: datetime | None) -> Iterator[list[dict]]:
        page = 1
        while True:
            params: dict[str, Any] = {"page": page, "page_size": PAGE_SIZE}
            if cursor is not None:
                params[cursor_param] = cursor.isoformat()
            body = self.get(path, params)
            yield body["items"]
            if not body.get("has_next") or not body["items"]:
                return
            page += 1


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error", response.text))
    except ValueError:
        return response.text[:200]


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        return None


def _asked_wait(state: Any) -> float | None:
    """The seconds a throttled answer asked to wait (its Retry-After), if the last attempt was one."""
    error = state.outcome.exception() if state.outcome is not None else None
    return error.wait if isinstance(error, _Retryable) else None
