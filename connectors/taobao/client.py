"""TOP (Taobao Open Platform) client: signed gateway calls, envelopes, error codes, retries, window paging.

Error mapping (see /work/shared/spec/channels.md, Taobao / Tmall — TOP):
- code 7 (throttled): wait the seconds named in `sub_msg` ("This ban will last for 12 more seconds"), retry;
- code 15 with an `isp.*` sub_code, HTTP 5xx, timeouts, broken or cut-off JSON: retry with exponential backoff;
- code 26/27 (missing/invalid session): fail, naming the shop and the environment variable to renew;
- code 25/29 (signature, app key): fail as a configuration problem, not retried;
- anything else (`isv.*`, 40/41 …): fail with the platform's message.
The session and the app secret never appear in an error, a log line or a URL (both travel in the POST body).
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from connectors.taobao.signing import SIGN_METHODS, sign

log = logging.getLogger(__name__)

GMT8 = timezone(timedelta(hours=8))
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_PAGE_SIZE = 100
_BAN_SECONDS = re.compile(r"(\d+)\s*more\s*seconds?", re.IGNORECASE)


class TaobaoError(RuntimeError):
    """A TOP call failed in a way a retry will not fix."""


class TaobaoAuthError(TaobaoError):
    """The seller session (access token) is missing, invalid or expired."""


class TaobaoConfigError(TaobaoError):
    """The app key / app secret / signing set-up is wrong."""


class TaobaoResponseError(TaobaoError):
    """The gateway answered something that is not the envelope it should be."""


class _Transient(Exception):
    """5xx, isp.* error, network failure or cut-off body: worth another attempt after a back-off."""


def top_time(moment: datetime) -> str:
    """Aware datetime -> TOP's 'yyyy-MM-dd HH:mm:ss' in GMT+8."""
    return moment.astimezone(GMT8).strftime(TIME_FORMAT)


def parse_top_time(text: str) -> datetime:
    """TOP's 'yyyy-MM-dd HH:mm:ss' (GMT+8) -> aware UTC datetime."""
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=GMT8).astimezone(UTC)


def response_key(method: str) -> str:
    """'taobao.trades.sold.increment.get' -> 'trades_sold_increment_get_response'."""
    return method.removeprefix("taobao.").replace(".", "_") + "_response"


def ban_seconds(sub_msg: str | None, default: float = 1.0) -> float:
    """The wait a code-7 answer asks for: 'This ban will last for 12 more seconds' -> 12."""
    match = _BAN_SECONDS.search(sub_msg or "")
    return float(match.group(1)) if match else default


def unwrap(body: dict, outer: str, inner: str) -> list[dict]:
    """TOP wraps lists twice ({'trades': {'trade': [...]}}) and leaves the key out when the list is empty."""
    wrapper = body.get(outer)
    if wrapper is None:
        return []
    items = wrapper.get(inner) if isinstance(wrapper, dict) else None
    if not isinstance(items, list):
        raise TaobaoResponseError(f"'{outer}' is not wrapped as {{'{inner}': [...]}}")
    return items


class TaobaoClient:
    """One seller's TOP gateway. `call(method, params)` returns the inside of `<method>_response`."""

    def __init__(
        self,
        shop_id: str,
        base_url: str,
        app_key: str,
        app_secret: str,
        access_token: str,
        token_env: str = "TMALL_FLAGSHIP_SESSION",
        sign_method: str = "md5",
        timeout: float = 10.0,
        max_attempts: int = 8,
        max_throttle_waits: int = 30,
        backoff_max_seconds: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not access_token:
            raise TaobaoAuthError(
                f"Taobao shop {shop_id}: no seller session. Authorise the app for the shop and set environment "
                f"variable {token_env} to the session key (renew the seller session)."
            )
        if not app_key or not app_secret:
            raise TaobaoConfigError(f"Taobao shop {shop_id}: app_key and app_secret must both be configured.")
        if sign_method not in SIGN_METHODS:
            raise TaobaoConfigError(
                f"Taobao shop {shop_id}: sign_method {sign_method!r} is not one of {', '.join(SIGN_METHODS)}."
            )
        self.shop_id = shop_id
        self.token_env = token_env
        self.sign_method = sign_method
        self.max_attempts = max_attempts
        self.max_throttle_waits = max_throttle_waits
        self.backoff_max_seconds = backoff_max_seconds
        self._app_key, self._secret, self._session = app_key, app_secret, access_token
        self._sleep = sleep
        self._offset: timedelta | None = None
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport)

    def __enter__(self) -> TaobaoClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:  # never show the session or secret
        return f"TaobaoClient(shop_id={self.shop_id!r}, base_url={str(self._http.base_url)!r})"

    # -- time ----------------------------------------------------------------------------------------------- #

    def server_now(self) -> datetime:
        """The gateway's time (TOP checks `timestamp` against it): learnt once with taobao.time.get."""
        if self._offset is None:
            body = self.call("taobao.time.get", {}, session=False)
            try:
                server = parse_top_time(str(body["time"]))
            except (KeyError, ValueError):
                raise TaobaoResponseError(
                    f"Taobao shop {self.shop_id}: taobao.time.get gave no time"
                ) from None
            # the gateway's time comes truncated to the second: its true time is up to a second later
            self._offset = server + timedelta(seconds=1) - datetime.now(UTC)
        return (datetime.now(UTC) + self._offset).replace(microsecond=0)

    # -- calls ---------------------------------------------------------------------------------------------- #

    def call(
        self, method: str, params: dict[str, Any], session: bool = True, idempotent: bool = True
    ) -> dict:
        """One API call with retries; the body inside `<method>_response`. A call that is not idempotent (a
        stock *add*) waits out throttles but is never resent after a timeout or 5xx: it may have been applied."""
        attempts = self.max_attempts if idempotent else 1
        retrying = Retrying(
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=0.2, max=self.backoff_max_seconds),
            retry=retry_if_exception_type(_Transient),
            sleep=self._sleep,
            reraise=False,
        )
        try:
            return retrying(self._call_through_throttle, method, params, session)
        except RetryError as error:
            cause = error.last_attempt.exception()
            if not idempotent:
                raise TaobaoError(
                    f"Taobao shop {self.shop_id}: {method} got no clear answer ({cause}); it may or may not have "
                    f"been applied. Read the listed stock again before retrying."
                ) from None
            raise TaobaoError(
                f"Taobao shop {self.shop_id}: {method} kept failing after {self.max_attempts} attempts "
                f"({cause}). The platform or the network is down; try again later."
            ) from None

    def _call_through_throttle(self, method: str, params: dict[str, Any], session: bool) -> dict:
        for _ in range(self.max_throttle_waits + 1):
            body = self._send(method, params, session)
            error = body.get("error_response")
            if not isinstance(error, dict):
                key = response_key(method)
                if key not in body or not isinstance(body[key], dict):
                    raise TaobaoResponseError(
                        f"Taobao shop {self.shop_id}: {method} answered without '{key}'. Check the shop's base_url "
                        f"in shopkeep.toml points at the TOP gateway."
                    )
                return body[key]
            if error.get("code") != 7:
                self._raise(method, error)
            wait = ban_seconds(error.get("sub_msg"))
            log.info("Taobao shop %s: throttled on %s, waiting %.0fs", self.shop_id, method, wait)
            self._sleep(wait)
        raise TaobaoError(
            f"Taobao shop {self.shop_id}: {method} was still throttled (code 7) after {self.max_throttle_waits} "
            f"waits. Another app may be using the shop's API quota."
        )

    def _send(self, method: str, params: dict[str, Any], session: bool) -> dict:
        system = {
            "method": method,
            "app_key": self._app_key,
            "timestamp": top_time(self.server_now() if method != "taobao.time.get" else datetime.now(UTC)),
            "format": "json",
            "v": "2.0",
            "sign_method": self.sign_method,
        }
        business = {k: str(v) for k, v in params.items() if v is not None}
        if session:
            business["session"] = self._session  # in the body, so it never shows in a URL or access log
        system["sign"] = sign({**system, **business}, self._secret, self.sign_method)
        try:
            response = self._http.post("/router/rest", params=system, data=business)
        except httpx.TransportError as error:
            raise _Transient(type(error).__name__) from None
        if response.status_code >= 500:
            raise _Transient(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise TaobaoError(
                f"Taobao shop {self.shop_id}: {method} was refused with HTTP {response.status_code}. Check the "
                f"shop's base_url in shopkeep.toml."
            )
        try:
            body = response.json()
        except ValueError:
            raise _Transient("the answer was not complete JSON") from None
        if not isinstance(body, dict):
            raise _Transient("the answer was not a JSON object")
        return body

    def _raise(self, method: str, error: dict) -> None:
        code, sub_code = error.get("code"), str(error.get("sub_code") or "")
        text = f"code {code} {error.get('msg', '')}" + (
            f", {sub_code}: {error.get('sub_msg', '')}" if sub_code else ""
        )
        if code in (26, 27):
            raise TaobaoAuthError(
                f"Taobao shop {self.shop_id}: the seller session was refused ({text}). Renew the seller session "
                f"(re-authorise the app for the shop) and set the new session key in environment variable "
                f"{self.token_env}."
            )
        if code in (25, 28, 29):
            raise TaobaoConfigError(
                f"Taobao shop {self.shop_id}: the gateway rejected the app credentials ({text}). Check the "
                f"app_key and app_secret configured for the shop (sign_method {self.sign_method})."
            )
        if code == 15 and sub_code.startswith("isp."):
            raise _Transient(f"platform error {sub_code}")
        if code == 31:
            self._offset = None  # resync the clock and try again
            raise _Transient("timestamp rejected; clock resynchronised")
        raise TaobaoError(f"Taobao shop {self.shop_id}: {method} was rejected ({text}).")

    # -- paging --------------------------------------------------------------------------------------------- #

    def pages(
        self, method: str, params: dict[str, Any], outer: str, inner: str, page_size: int
    ) -> Iterator[list[dict]]:
        """Pages of a listing from page 1 on, while `has_next`."""
        size = min(page_size, MAX_PAGE_SIZE)
        page_no = 1
        while True:
            body = self.call(method, {**params, "page_no": page_no, "page_size": size})
            yield self._unwrap(method, body, outer, inner)
            if not body.get("has_next"):
                return
            page_no += 1

    def pages_backwards(
        self, method: str, params: dict[str, Any], outer: str, inner: str, page_size: int
    ) -> Iterator[list[dict]]:
        """A window newest-first from its LAST page back to page 1, so records moving to the front while we
        read are met again rather than skipped. The first call learns `total_results` (use_has_next=false)."""
        size = min(page_size, MAX_PAGE_SIZE)
        params = {**params, "use_has_next": "false"}
        first = self.call(method, {**params, "page_no": 1, "page_size": size})
        total = int(first.get("total_results") or 0)
        last = max(1, math.ceil(total / size))
        if last == 1:
            yield self._unwrap(method, first, outer, inner)
            return
        for page_no in range(last, 0, -1):
            body = self.call(method, {**params, "page_no": page_no, "page_size": size})
            yield self._unwrap(method, body, outer, inner)

    def _unwrap(self, method: str, body: dict, outer: str, inner: str) -> list[dict]:
        try:
            return unwrap(body, outer, inner)
        except TaobaoResponseError as error:
            raise TaobaoResponseError(
                f"Taobao shop {self.shop_id}: {method} answered a list {error}"
            ) from None
