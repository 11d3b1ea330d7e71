"""Douyin (抖店) open-platform client: signed calls, the `code != 10000` envelope, throttles and retries.

`call("order.searchList", {...})` POSTs the business parameters as JSON to `/order/searchList` with the system
parameters (method, app_key, access_token, timestamp, v=2, sign_method, sign) in the query and returns the
envelope's `data`. What each failure becomes:

- throttled (code 70001, or any sub_code about rate limits): wait the seconds the message states, try again;
- service errors (code 20000), HTTP 5xx, timeouts, broken connections, a truncated/non-JSON body: back off
  exponentially and try again (bounded);
- bad signature / unknown app_key (code 30005): `DouyinConfigError` — a retry will not fix it;
- invalid or expired token (code 30001): `DouyinAuthError` naming the shop and the environment variable to renew;
- anything else (bad parameters, windows): `DouyinError` with the platform's sub_code and message.

Secrets never appear in errors or logs (the token travels in the query, so URLs are never logged).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any

import httpx
from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from connectors.douyin.signing import API_VERSION, SIGN_METHODS, param_json, sign

log = logging.getLogger(__name__)

SUCCESS = 10000
SERVICE_ERROR = 20000
INVALID_TOKEN = 30001
BAD_SIGN = 30005
BAD_PARAM = 40003
THROTTLED = 70001

_SECONDS = re.compile(r"(\d+(?:\.\d+)?)\s*(?:秒|s\b|sec)")


class DouyinError(RuntimeError):
    """A Douyin call failed in a way a retry will not fix."""

    def __init__(self, message: str, code: int | None = None, sub_code: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.sub_code = sub_code


class DouyinAuthError(DouyinError):
    """The platform refused the access token (invalid or expired)."""


class DouyinConfigError(DouyinError):
    """The platform refused the signature or app key: the shop's app credentials are wrong."""


class _Transient(Exception):
    """Worth another attempt after a back-off."""


class _Throttled(Exception):
    def __init__(self, wait: float) -> None:
        super().__init__(wait)
        self.wait = wait


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
        for _ in range(self.max_throttle_waits + 1):
            try:
                return self._once(method, params)
            except _Throttled as throttled:
                log.info(
                    "Douyin shop %s: throttled on %s, waiting %.1fs", self.shop_id, method, throttled.wait
                )
                self._sleep(throttled.wait)
        raise DouyinError(
            f"Douyin shop {self.shop_id}: {method} was still throttled after {self.max_throttle_waits} waits. "
            f"Another app may be using the shop's API quota."
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
        detail = f"code {code} {sub_code}: {envelope.get('sub_msg') or envelope.get('msg') or ''}".strip()
        if code == THROTTLED or "rate-limit" in sub_code or "too-many" in sub_code:
            raise _Throttled(throttle_seconds(str(envelope.get("sub_msg") or envelope.get("msg") or "")))
        if code == SERVICE_ERROR or sub_code.startswith("isp."):
            raise _Transient(detail)
        if code == INVALID_TOKEN or "access-token" in sub_code:
            raise DouyinAuthError(
                f"Douyin shop {self.shop_id}: the platform refused the access token ({detail}). Renew the shop's "
                f"抖店 authorisation and set the new access_token in environment variable {self.token_env}.",
                code,
                sub_code,
            )
        if code == BAD_SIGN or "sign" in sub_code or "app-key" in sub_code:
            raise DouyinConfigError(
                f"Douyin shop {self.shop_id}: the platform refused the request signature ({detail}). Check the "
                f"app key and the app secret in environment variable {self.secret_env} (and sign_method); "
                f"retrying will not help.",
                code,
                sub_code,
            )
        raise DouyinError(f"Douyin shop {self.shop_id}: {method} was rejected ({detail}).", code, sub_code)


def throttle_seconds(message: str, default: float = 1.0) -> float:
    """The wait a throttle message asks for ("请求过于频繁，请3秒后重试" -> 3.0); `default` when it says none."""
    match = _SECONDS.search(message)
    return float(match.group(1)) if match else default
