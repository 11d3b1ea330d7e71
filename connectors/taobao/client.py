"""TOP (Taobao Open Platform) client: signed gateway calls, envelopes, error codes, retries, window paging.

Error codes are data (`ERROR_CODES`, `SUB_CODE_PREFIXES` below), from TOP's published platform error table
(codes < 100: 4/5/6/7/8 call limits, 10 service unavailable, 11/12/13 insufficient ISV/user/partner
permissions, 15 remote service error, 21-34 missing/invalid method, format, signature, session, app key,
timestamp, version, 40/41 missing/invalid arguments; sub_codes `isp.*` are the platform's fault, `isv.*` the
caller's). What each kind leads to:
- throttle (4, 5, 6, 7, 8): wait the seconds named in `sub_msg` ("This ban will last for 12 more seconds"), or
  one second, and send again (bounded);
- busy (10; any `isp.*` sub_code, e.g. code 15 isp.remote-service-timeout), HTTP 5xx, timeouts, broken or
  cut-off JSON: retry with exponential backoff (bounded);
- clock (31 invalid timestamp): learn the gateway's time again and retry;
- auth (26, 27: missing/invalid or expired session): `TaobaoAuthError`, "renew the seller session";
- config (24, 25, 28, 29: signature or app key): `TaobaoConfigError` naming app_key/app_secret, never "renew";
- permission (11, 12, 13, or an `isv.permission*` sub_code): `TaobaoPermissionError`, apply for the API's
  permission package / have the seller grant it;
- request (21, 22, 23, 32, 33, 34, 40, 41, 15 with an `isv.*` sub_code): `TaobaoError` with the platform's text;
- any other code: `TaobaoUnknownCodeError` with the platform's code and text.
Choices where the docs leave room: 4/5/6 (user/session/partner call limits) are waited out like 7; 53
(insufficient security level) is not in the table and so reported as unknown.

`taobao.time.get` is optional: when the gateway does not answer it (not offered, refused, no permission, no
time in the answer) the client uses the local clock, says so once in the log, and carries on.
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

from connectors.common.errors import ChannelError
from connectors.taobao.signing import SIGN_METHODS, sign

log = logging.getLogger(__name__)

GMT8 = timezone(timedelta(hours=8))
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_PAGE_SIZE = 100
_BAN_SECONDS = re.compile(r"(\d+)\s*more\s*seconds?", re.IGNORECASE)


ERROR_CODES: dict[int, str] = {
    4: "throttle",  # User Call Limited
    5: "throttle",  # Session Call Limited
    6: "throttle",  # Partner Call Limited
    7: "throttle",  # App Call Limited
    8: "throttle",  # App Call Exceeds Limited Frequency
    10: "busy",  # Service Currently Unavailable
    11: "permission",  # Insufficient ISV Permissions
    12: "permission",  # Insufficient User Permissions
    13: "permission",  # Insufficient Partner Permissions
    15: "request",  # Remote Service Error: isv.* the caller's fault (isp.* is caught first, as busy)
    21: "request",  # Missing Method
    22: "request",  # Invalid Method
    23: "request",  # Invalid Format
    24: "config",  # Missing Signature
    25: "config",  # Invalid Signature
    26: "auth",  # Missing Session
    27: "auth",  # Invalid Session
    28: "config",  # Missing App Key
    29: "config",  # Invalid App Key
    30: "request",  # Missing Timestamp
    31: "clock",  # Invalid Timestamp
    32: "request",  # Missing Version
    33: "request",  # Invalid Version
    34: "request",  # Unsupported Version
    40: "request",  # Missing Required Arguments
    41: "request",  # Invalid Arguments
    42: "request",  # Forbidden Request
    43: "request",  # Parameter Error
}
"""TOP's platform error codes -> what they mean for a client (see the module docstring)."""

SUB_CODE_PREFIXES: dict[str, str] = {
    "isp.": "busy",  # the platform's fault: try again later
    "isv.permission": "permission",  # isv.permission-api-package-limit, -ip-whitelist-limit, ...
    "isv.invalid-permission": "permission",
}
"""sub_code prefixes that decide the kind whatever the code (checked before `ERROR_CODES`)."""


class TaobaoError(ChannelError):
    """A TOP call failed in a way a retry will not fix."""

    def __init__(self, message: str, code: int | None = None, sub_code: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.sub_code = sub_code


class TaobaoAuthError(TaobaoError):
    """The seller session (access token) is missing, invalid or expired."""


class TaobaoConfigError(TaobaoError):
    """The app key / app secret / signing set-up is wrong."""


class TaobaoPermissionError(TaobaoError):
    """The app (or the seller's authorisation) lacks the permission package for the API."""


class TaobaoUnknownCodeError(TaobaoError):
    """TOP answered an error code this client has no entry for."""


class TaobaoResponseError(TaobaoError):
    """The gateway answered something that is not the envelope it should be."""


class TaobaoUnclearError(TaobaoError):
    """A call that must not be sent twice (a stock change) got no clear answer: it may or may not have landed."""


class _Transient(Exception):
    """5xx, isp.* error, network failure or cut-off body: worth another attempt after a back-off."""


def error_kind(code: Any, sub_code: str) -> str:
    """The kind of a TOP error ('throttle', 'busy', 'auth', 'config', 'permission', 'clock', 'request',
    'unknown'): a throttle code always waits; otherwise a telling sub_code prefix decides, then the code's
    entry in `ERROR_CODES`."""
    try:
        by_code = ERROR_CODES.get(int(code), "unknown")
    except (TypeError, ValueError):
        by_code = "unknown"
    if by_code == "throttle":
        return by_code
    for prefix, kind in SUB_CODE_PREFIXES.items():
        if sub_code.startswith(prefix):
            return kind
    return by_code


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


ITEM_FIELDS = "num_iid,title,price,num,approve_status,skus"
"""The fields of `taobao.items.onsale.get` that the listings pull and the stock read-back use."""


def onsale_skus(top: TaobaoClient, page_size: int = 100) -> Iterator[tuple[dict, dict]]:
    """(item, sku) for every SKU of the shop's on-sale items (`taobao.items.onsale.get`), page by page."""
    for page in top.pages("taobao.items.onsale.get", {"fields": ITEM_FIELDS}, "items", "item", page_size):
        for item in page:
            skus = unwrap(item, "skus", "sku") if isinstance(item.get("skus"), dict) else []
            for sku in skus:
                yield item, sku


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
        self._clock_warned = False
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
        """The gateway's time (TOP checks `timestamp` against it), learnt once with taobao.time.get. The call is
        optional: when it fails the local clock is used (and the log says so, once)."""
        if self._offset is None:
            self._offset = self._learn_offset()
        return (datetime.now(UTC) + self._offset).replace(microsecond=0)

    def _learn_offset(self) -> timedelta:
        try:
            body = self.call("taobao.time.get", {}, session=False)
            server = parse_top_time(str(body["time"]))
        except (TaobaoError, KeyError, TypeError, ValueError) as error:
            if not self._clock_warned:
                self._clock_warned = True
                log.warning(
                    "Taobao shop %s: taobao.time.get is not available (%s); using this machine's clock for "
                    "request timestamps (keep it synchronised: TOP refuses timestamps 10 minutes off).",
                    self.shop_id,
                    error if isinstance(error, TaobaoError) else "no time in the answer",
                )
            return timedelta(0)
        # the gateway's time comes truncated to the second: its true time is up to a second later
        return server + timedelta(seconds=1) - datetime.now(UTC)

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
                raise TaobaoUnclearError(
                    f"Taobao shop {self.shop_id}: {method} got no clear answer ({cause}); it may or may not have "
                    f"been applied. Read the listed stock again before retrying."
                ) from None
            raise TaobaoError(
                f"Taobao shop {self.shop_id}: {method} kept failing after {self.max_attempts} attempts "
                f"({cause}). The platform or the network is down; try again later."
            ) from None

    def _call_through_throttle(self, method: str, params: dict[str, Any], session: bool) -> dict:
        for n in range(self.max_throttle_waits + 1):
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
            if error_kind(error.get("code"), str(error.get("sub_code") or "")) != "throttle":
                self._raise(method, error)
            # the seconds TOP names, else a wait that doubles from one second (capped)
            wait = ban_seconds(error.get("sub_msg"), default=min(self.backoff_max_seconds, 2.0**n))
            log.info(
                "Taobao shop %s: throttled on %s (code %s), waiting %.0fs",
                self.shop_id,
                method,
                error.get("code"),
                wait,
            )
            self._sleep(wait)
        raise TaobaoError(
            f"Taobao shop {self.shop_id}: {method} was still throttled ({_text(error)}) after "
            f"{self.max_throttle_waits} waits. Another app may be using the shop's API quota; try again later.",
            error.get("code"),
            str(error.get("sub_code") or ""),
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
        kind, text, shop = error_kind(code, sub_code), _text(error), f"Taobao shop {self.shop_id}"
        if kind == "busy":
            raise _Transient(f"platform busy ({text})")
        if kind == "clock":
            self._offset = None  # learn the gateway's time again and retry
            raise _Transient(f"timestamp rejected ({text}); clock resynchronised")
        if kind == "auth":
            raise TaobaoAuthError(
                f"{shop}: the seller session was refused ({text}). Renew the seller session (re-authorise the app "
                f"for the shop) and set the new session key in environment variable {self.token_env}.",
                code,
                sub_code,
            )
        if kind == "config":
            raise TaobaoConfigError(
                f"{shop}: the gateway rejected the app credentials or the signature ({text}). Check the app_key "
                f"and app_secret configured for the shop (sign_method {self.sign_method}); the seller session is "
                f"not the cause.",
                code,
                sub_code,
            )
        if kind == "permission":
            raise TaobaoPermissionError(
                f"{shop}: the app may not call {method} ({text}). Apply for the API's permission package for the "
                f"app on the Taobao open platform (or have the seller grant it); the credentials are fine.",
                code,
                sub_code,
            )
        if kind == "request":
            raise TaobaoError(f"{shop}: {method} was rejected ({text}).", code, sub_code)
        raise TaobaoUnknownCodeError(
            f"{shop}: {method} failed with a TOP error code shopkeep does not know ({text}); see TOP's error code "
            f"list for what to do.",
            code,
            sub_code,
        )

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


def _text(error: dict) -> str:
    """The platform's own code and words: 'code 27 Invalid session, invalid-sessionkey: ...'."""
    sub_code = str(error.get("sub_code") or "")
    text = f"code {error.get('code')} {error.get('msg') or ''}".strip()
    return text + (f", {sub_code}: {error.get('sub_msg') or ''}".rstrip(": ") if sub_code else "")
