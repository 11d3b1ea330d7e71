"""HTTP client for the warehouse system: bearer auth, paging until done, retries on 5xx and timeouts.

The token is only ever put in the Authorization header: errors name the environment variable that holds it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import httpx
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

PAGE_SIZE = 500


class WmsError(RuntimeError):
    """The WMS refused a request for a reason the user must fix (bad warehouse id, bad date, ...)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class WmsAuthError(WmsError):
    """The WMS rejected the token."""


class _Retryable(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)


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
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token_env = token_env
        self.attempts = attempts
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
        caller = retry(
            retry=retry_if_exception(_is_retryable),
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=0.2, max=5),
            reraise=True,
        )(self._get_once)
        try:
            return caller(path, params)
        except _Retryable as exc:
            raise WmsError(f"{exc} after {self.attempts} attempts; is the WMS at {self.base_url} up?") from None
        except httpx.TransportError as exc:
            raise WmsError(
                f"could not reach the WMS at {self.base_url} ({type(exc).__name__}) after {self.attempts} "
                "attempts: check [wms].base_url in shopkeep.toml and that the WMS is up"
            ) from None

    def _get_once(self, path: str, params: dict[str, Any]) -> dict:
        response = self._http.get(path, params=params)
        if response.status_code == 401:
            raise WmsAuthError(
                f"the WMS at {self.base_url} rejected the token (HTTP 401): set environment variable "
                f"{self.token_env} to a valid WMS API token",
                status=401,
            )
        if response.status_code >= 500:
            raise _Retryable(f"the WMS answered HTTP {response.status_code} to {path}")
        if response.status_code >= 400:
            raise WmsError(
                f"the WMS refused {path} {params}: HTTP {response.status_code}: {_message(response)}",
                status=response.status_code,
            )
        return response.json()

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
