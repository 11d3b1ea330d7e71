"""Douyin (抖店) open-platform client: signed calls, the `code != 10000` envelope, throttles and retries.

`call("order.searchList", {...})` POSTs the business parameters as JSON to `/order/searchList` with the system
parameters (method, app_key, access_token, timestamp, v=2, sign_method, sign) in the query and returns the
envelope's `data`.

Error codes are data (`SUB_CODES`, `ERROR_CODES` below), from 抖店's platform error table (平台基础错误码汇总):
10000 success, 20000 service unavailable (dop.service-error, isp.service-error:*), 20001 internal timeout, 30001
insufficient permission (sub_codes dop.no-permissions, isv.app-permissions-insufficient — but also
dop.authorization-no-existed / -closed: the shop's authorisation is gone), 30002 IP not whitelisted, 40001 missing
parameter (isv.signature-missing, isv.app-id-missing, isv.access-token-missing), 40003 invalid parameter
(isv.signature-invalid, isv.access-token-expired, isv.access-token-no-existed, isv.access-token-invalid,
isv.app-id-invalid/-expired, isv.parameter-invalid...), 40002/40004 business checks, 50000 server error, 50001
platform processing failed, 50002 business failure, 60000 rate limited (isv.traffic-limited), 70000 service
offline, 80000 security, 90000 other. One code covers several causes, so the sub_code decides first (exact, then
its part before ':'), the code second. What each kind leads to:
- throttle (60000, isv.traffic-limited): wait the seconds the message states, else one second; send again;
- busy (20000, 20001, 50000, any isp.* sub_code), HTTP 5xx, timeouts, broken connections, a truncated/non-JSON
  body: back off exponentially and try again (bounded);
- auth (expired/unknown/missing token, shop authorisation gone): `DouyinAuthError` naming the variable to renew;
- config (signature, app key, IP whitelist, app disabled): `DouyinConfigError`, never "renew the token";
- permission (30001 without an authorisation sub_code): `DouyinPermissionError`;
- request (40001/40002/40003/40004 parameters, 50001, 50002, 70000, 80000, 90000): `DouyinError` with the text;
- any other code: `DouyinUnknownCodeError` with the platform's code, sub_code and text.
Choices where the docs leave room: isv.access-token-invalid ("app_key and access_token do not match") is an auth
problem (a token issued to another app must be renewed for this one); 50000 (general server error) is retried.
Secrets never appear in errors or logs (the token travels in the query, so URLs are never logged).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from connectors.common.errors import ChannelError
from connectors.douyin.signing import API_VERSION, SIGN_METHODS, param_json, sign

log = logging.getLogger(__name__)

SUCCESS = 10000

SUB_CODES: dict[str, str] = {
    "isv.traffic-limited": "throttle",
    "dop.service-error": "busy",
    "isp.service-error": "busy",
    "isv.access-token-expired": "auth",
    "isv.access-token-no-existed": "auth",
    "isv.access-token-missing": "auth",
    "isv.access-token-invalid": "auth",
    "dop.authorization-no-existed": "auth",
    "dop.authorization-closed": "auth",
    "isv.signature-invalid": "config",
    "isv.signature-missing": "config",
    "isv.app-id-missing": "config",
    "isv.app-id-invalid": "config",
    "isv.app-id-expired": "config",
    "isv.invalid_ip": "config",
    "dop.app-forbidden": "config",
    "isv.authorization-type-invalid": "config",
    "dop.no-permissions": "permission",
    "isv.app-permissions-insufficient": "permission",
}
"""sub_codes (or their part before ':') -> kind; they decide before the code (see the module docstring)."""

ERROR_CODES: dict[int, str] = {
    20000: "busy",  # 服务不可用
    20001: "busy",  # 内部服务超时
    30001: "permission",  # 操作权限不足
    30002: "config",  # 请求来源IP不可信，请检查IP白名单
    40001: "request",  # 缺少必选参数（平台校验）
    40002: "request",  # 缺少必选参数（业务校验）
    40003: "request",  # 非法的参数（平台校验）
    40004: "request",  # 非法的参数（业务校验）
    50000: "busy",  # 通用服务器错误
    50001: "request",  # 平台处理失败
    50002: "request",  # 业务处理失败
    60000: "throttle",  # 超过限流限制
    70000: "request",  # 服务已下线
    80000: "request",  # 安全错误
    90000: "request",  # 其他错误
}
"""抖店 platform codes -> kind, when the sub_code does not decide."""

_SECONDS = re.compile(r"(\d+(?:\.\d+)?)\s*(?:秒|s\b|sec)")


class DouyinError(ChannelError):
    """A Douyin call failed in a way a retry will not fix."""

    def __init__(self, message: str, code: int | None = None, sub_code: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.sub_code = sub_code


class DouyinAuthError(DouyinError):
    """The platform refused the access token (invalid or expired)."""


class DouyinConfigError(DouyinError):
    """The platform refused the signature or app key: the shop's app credentials are wrong."""


class DouyinPermissionError(DouyinError):
    """The app has no permission package for this API."""


class DouyinUnknownCodeError(DouyinError):
    """The platform answered an error code this client has no entry for."""


def error_kind(code: Any, sub_code: str) -> str:
    """'throttle', 'busy', 'auth', 'config', 'permission', 'request' or 'unknown' for a 抖店 error."""
    for key in (sub_code, sub_code.split(":", 1)[0]):
        if key in SUB_CODES:
            return SUB_CODES[key]
    if sub_code.startswith("isp."):
        return "busy"
    try:
        return ERROR_CODES.get(int(code), "unknown")
    except (TypeError, ValueError):
        return "unknown"


class _Transient(Exception):
    """Worth another attempt after a back-off."""


class _Throttled(Exception):
    def __init__(self, wait: float, text: str) -> None:
        super().__init__(wait)
        self.wait, self.text = wait, text


class DouyinClient:
    """One Douyin shop's open-platform API (one app key, one shop's access token)."""

    def __init__(
        self,
        shop_id: str,
        base_url: str,
        app_key: str,
        app_secret: str,
        access_token: str,
        token_env: str = "DOUYIN_LIVE_TOKEN",
        secret_env: str = "DOUYIN_LIVE_APP_SECRET",
        sign_method: str = "md5",
        timeout: float = 30.0,
        max_attempts: int = 8,
        max_throttle_waits: int = 30,
        backoff_max_seconds: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not access_token:
            raise DouyinAuthError(
                f"Douyin shop {shop_id}: no access token. Set environment variable {token_env} to the shop's "
                f"抖店 access_token."
            )
        if not app_key or not app_secret:
            raise DouyinConfigError(
                f"Douyin shop {shop_id}: app key or app secret missing. Set the app's key and secret (the "
                f"secret in environment variable {secret_env})."
            )
        if sign_method not in SIGN_METHODS:
            raise DouyinConfigError(f"Douyin shop {shop_id}: sign_method must be one of {SIGN_METHODS}")
        self.shop_id = shop_id
        self.token_env = token_env
        self.secret_env = secret_env
        self.sign_method = sign_method
        self.max_attempts = max_attempts
        self.max_throttle_waits = max_throttle_waits
        self.backoff_max_seconds = backoff_max_seconds
        self._app_key = app_key
        self._secret = app_secret
        self._token = access_token
        self._sleep = sleep
        self._clock = clock
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport)

    def __enter__(self) -> DouyinClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:  # never show the token or secret
        return f"DouyinClient(shop_id={self.shop_id!r}, base_url={str(self._http.base_url)!r})"

    # ------------------------------------------------------------------------------------------------ #

    def signed_query(self, method: str, body_json: str) -> dict[str, str]:
        timestamp = str(int(self._clock()))
        return {
            "method": method,
            "app_key": self._app_key,
            "access_token": self._token,
            "timestamp": timestamp,
            "v": API_VERSION,
            "sign_method": self.sign_method,
            "sign": sign(self._app_key, self._secret, method, body_json, timestamp, self.sign_method),
        }

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict:
        """Call one API method; the envelope's `data` (a dict)."""
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=wait_exponential(multiplier=0.2, max=self.backoff_max_seconds),
            retry=retry_if_exception_type(_Transient),
            sleep=self._sleep,
            reraise=False,
        )
        try:
            return retrying(self._through_throttle, method, params or {})
        except RetryError as error:
            cause = error.last_attempt.exception()
            raise DouyinError(
                f"Douyin shop {self.shop_id}: {method} kept failing after {self.max_attempts} attempts ({cause}). "
                f"The platform or the network is down; try again later."
            ) from None

    def _through_throttle(self, method: str, params: dict[str, Any]) -> dict:
        last = ""
        for n in range(self.max_throttle_waits + 1):
            try:
                return self._once(method, params)
            except _Throttled as throttled:
                # the seconds the platform names, else a wait that doubles from one second (capped)
                wait, last = throttled.wait or min(self.backoff_max_seconds, 2.0**n), throttled.text
                log.info("Douyin shop %s: throttled on %s (%s), waiting %.1fs", self.shop_id, method,
                         throttled.text, wait)  # fmt: skip
                self._sleep(wait)
        raise DouyinError(
            f"Douyin shop {self.shop_id}: {method} was still throttled ({last}) after "
            f"{self.max_throttle_waits} waits. Another app may be using the shop's API quota; try again later."
        )

    def _once(self, method: str, params: dict[str, Any]) -> dict:
        body = param_json(params)
        query = self.signed_query(method, body)
        try:
            response = self._http.post(
                "/" + method.replace(".", "/"),
                params=query,
                content=body.encode(),
                headers={"Content-Type": "application/json"},
            )
        except httpx.TransportError as error:
            raise _Transient(type(error).__name__) from None
        if response.status_code >= 500:
            raise _Transient(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise DouyinError(
                f"Douyin shop {self.shop_id}: {method} was rejected with HTTP {response.status_code}. Check the "
                f"shop's base_url in shopkeep.toml."
            )
        try:
            envelope = response.json()
        except ValueError:
            raise _Transient("a truncated or non-JSON body") from None
        if not isinstance(envelope, dict) or "code" not in envelope:
            raise _Transient("an answer without the Douyin envelope")
        return self._data(method, envelope)

    def _data(self, method: str, envelope: dict) -> dict:
        code = envelope.get("code")
        if code == SUCCESS:
            data = envelope.get("data")
            return data if isinstance(data, dict) else {}
        sub_code = str(envelope.get("sub_code") or "")
        detail = f"code {code} {envelope.get('msg') or ''}".strip()
        if sub_code or envelope.get("sub_msg"):
            detail += f", {sub_code}: {envelope.get('sub_msg') or ''}".rstrip(": ")
        kind, shop = error_kind(code, sub_code), f"Douyin shop {self.shop_id}"
        if kind == "throttle":
            raise _Throttled(
                throttle_seconds(str(envelope.get("sub_msg") or envelope.get("msg") or ""), 0.0), detail
            )
        if kind == "busy":
            raise _Transient(detail)
        if kind == "auth":
            raise DouyinAuthError(
                f"{shop}: the platform refused the access token or the shop's authorisation ({detail}). Renew the "
                f"shop's 抖店 authorisation and set the new access_token in environment variable {self.token_env}.",
                code,
                sub_code,
            )
        if kind == "config":
            raise DouyinConfigError(
                f"{shop}: the platform refused the app's credentials or set-up ({detail}). Check the app key, the "
                f"app secret in environment variable {self.secret_env} (and sign_method) and the app's IP "
                f"whitelist; the access token is not the cause and retrying will not help.",
                code,
                sub_code,
            )
        if kind == "permission":
            raise DouyinPermissionError(
                f"{shop}: the app may not call {method} ({detail}). Apply for the API's permission package for "
                f"the app on the 抖店 open platform; the credentials are fine.",
                code,
                sub_code,
            )
        if kind == "request":
            raise DouyinError(f"{shop}: {method} was rejected ({detail}).", code, sub_code)
        raise DouyinUnknownCodeError(
            f"{shop}: {method} failed with a 抖店 error code shopkeep does not know ({detail}); see the platform's "
            f"error code list for what to do.",
            code,
            sub_code,
        )


def throttle_seconds(message: str, default: float = 1.0) -> float:
    """The wait a throttle message asks for ("请求过于频繁，请3秒后重试" -> 3.0); `default` when it says none."""
    match = _SECONDS.search(message)
    return float(match.group(1)) if match else default


def sku_pages(api: DouyinClient, page_size: int = 100) -> Iterator[list[dict]]:
    """The shop's SKUs (`sku.list`), a page at a time, each SKU once (a SKU met again on a later page is left
    out)."""
    seen: set[str] = set()
    page = 0
    while True:
        data = api.call("sku.list", {"page": page, "size": page_size})
        skus = data.get("sku_list") or []
        fresh = [s for s in skus if str(s.get("id")) not in seen]
        seen.update(str(s.get("id")) for s in fresh)
        if fresh:
            yield fresh
        page += 1
        if page * page_size >= int(data.get("total") or 0) or not skus:
            return
