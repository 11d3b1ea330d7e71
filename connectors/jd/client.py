"""JD (JOS) gateway client: signed `POST /routerjson` calls, JD's envelopes and error codes, retries.

Error codes are data (`ERROR_CODES` below), from JOS's published gateway error table: 2 App Call Limited,
4/5 version, 7/8 timestamp, 11/12 missing/invalid signature, 14/15 missing/invalid method, 18/19 missing/invalid
access_token, 20/21 missing/invalid app_key, 24 cannot use this API. What each answer leads to:
- success (`<method>_responce`, or `_response`): the result object is returned;
- throttle (2): wait the seconds JD names in `en_desc`, else one second, and send again (bounded);
- HTTP 5xx, network errors, read timeouts, a body that is not JSON (cut off): back off and retry (bounded);
- auth (18, 19: token missing, invalid or expired): `JdAuthError` naming the shop and the variable to renew;
- config (11, 12 signature; 20, 21 app key): `JdSignatureError`, a configuration problem, never "renew";
- permission (24): `JdPermissionError`, apply for the API on the JOS console;
- request (4, 5, 7, 8, 14, 15 and the business codes 100-103): `JdError` with JD's description;
- any other code: `JdUnknownCodeError` with JD's code and description.
Choices where the docs are thin: JD documents code 2 as a per-period call limit ("adjust and call later"), so it
is waited out like a throttle, a bounded number of times; JOS documents no "system busy" gateway code, so only
HTTP 5xx and broken answers count as busy. The access token and app secret never appear in an error or a log.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from connectors.common.errors import ChannelError
from connectors.jd.signing import sign

log = logging.getLogger(__name__)

GMT8 = ZoneInfo("Asia/Shanghai")
ERROR_CODES: dict[str, str] = {
    "2": "throttle",  # App Call Limited
    "4": "request",  # Missing Version
    "5": "request",  # Unsupported Version
    "7": "request",  # Missing Timestamp
    "8": "request",  # Invalid Timestamp (JD allows 6 minutes of clock skew)
    "11": "config",  # Missing Signature
    "12": "config",  # Invalid Signature
    "14": "request",  # Missing Method
    "15": "request",  # Invalid Method
    "18": "auth",  # Missing access_token
    "19": "auth",  # Invalid access_token (expired or revoked)
    "20": "config",  # Missing app_key
    "21": "config",  # Invalid app_key
    "24": "permission",  # cannot use this API
    "100": "request",  # bad business parameter (the sandbox's business codes)
    "101": "request",  # window wider than 30 days
    "102": "request",  # page size over 100
    "103": "request",  # window older than the online history
}
"""JOS error codes -> what they mean for a client (see the module docstring)."""
_SECONDS = re.compile(r"(\d+(?:\.\d+)?)\s*(?:seconds|second|s\b|秒)")


class JdError(ChannelError):
    """A JD call failed in a way a retry will not fix."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class JdAuthError(JdError):
    """The access token is missing, invalid or expired (JD code 18/19)."""


class JdSignatureError(JdError):
    """JD refused the signature or the app key: the app credentials are wrong."""


class JdPermissionError(JdError):
    """The app may not call this API (JD code 24)."""


class JdUnknownCodeError(JdError):
    """JD answered an error code this client has no entry for."""


class JdResponseError(JdError):
    """JD answered something that is not the envelope it should be."""


class _Transient(Exception):
    """5xx, network failure, timeout or a cut-off body: worth another attempt after a back-off."""


class JdClient:
    """One JD shop's JOS gateway. `call(method, params)` returns the method's result object."""

    def __init__(
        self,
        shop_id: str,
        base_url: str,
        app_key: str,
        app_secret: str,
        access_token: str,
        token_env: str = "JD_POP_TOKEN",
        timeout: float = 10.0,
        max_attempts: int = 6,
        max_throttle_retries: int = 20,
        backoff_max_seconds: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not access_token:
            raise JdAuthError(
                f"JD shop {shop_id}: no access token. Set environment variable {token_env} to the shop's JOS "
                f"access token (authorise the app in the JD seller backend to get one)."
            )
        if not app_key or not app_secret:
            raise JdSignatureError(
                f"JD shop {shop_id}: the app key or app secret is missing. Set them from the JOS developer console."
            )
        self.shop_id = shop_id
        self.token_env = token_env
        self.max_attempts = max_attempts
        self.max_throttle_retries = max_throttle_retries
        self.backoff_max_seconds = backoff_max_seconds
        self._app_key, self._secret, self._token = app_key, app_secret, access_token
        self._sleep = sleep
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport)

    def __enter__(self) -> JdClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:  # never show the token or secret
        return f"JdClient(shop_id={self.shop_id!r}, base_url={str(self._http.base_url)!r})"

    def signed_form(self, method: str, params: dict[str, Any], now: datetime | None = None) -> dict[str, str]:
        """The form JD expects: system parameters, ONE `360buy_param_json` string, and the md5 `sign`."""
        moment = (now or datetime.now(GMT8)).astimezone(GMT8)
        form = {
            "method": method,
            "app_key": self._app_key,
            "access_token": self._token,
            "timestamp": moment.strftime("%Y-%m-%d %H:%M:%S"),
            "v": "2.0",
            "format": "json",
            "sign_method": "md5",
            "360buy_param_json": json.dumps(
                params, ensure_ascii=False, separators=(",", ":"), sort_keys=True
            ),
        }
        form["sign"] = sign(form, self._secret)
        return form

    def call(self, method: str, params: dict[str, Any]) -> dict:
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=wait_exponential(multiplier=0.2, max=self.backoff_max_seconds),
            retry=retry_if_exception_type(_Transient),
            sleep=self._sleep,
            reraise=False,
        )
        try:
            return retrying(self._call_through_throttle, method, params)
        except RetryError as error:
            cause = error.last_attempt.exception()
            raise JdError(
                f"JD shop {self.shop_id}: {method} kept failing after {self.max_attempts} attempts ({cause}). "
                f"JD or the network is down; try again later."
            ) from None

    # ------------------------------------------------------------------------------------------------ #

    def _call_through_throttle(self, method: str, params: dict[str, Any]) -> dict:
        for n in range(self.max_throttle_retries + 1):
            body = self._send(method, params)
            error = body.get("error_response") if isinstance(body, dict) else None
            if not isinstance(error, dict) or ERROR_CODES.get(str(error.get("code"))) != "throttle":
                break
            # the seconds JD names, else a wait that doubles from one second (capped)
            text = str(error.get("en_desc") or error.get("zh_desc") or "")
            wait = throttle_seconds(text, default=min(self.backoff_max_seconds, 2.0**n))
            log.info("JD shop %s: throttled on %s, waiting %.1fs", self.shop_id, method, wait)
            self._sleep(wait)
        else:
            raise JdError(
                f"JD shop {self.shop_id}: {method} was still throttled ({_text(error)}) after "
                f"{self.max_throttle_retries} waits. The app's call budget is used up (another app may share it); "
                f"try again later.",
                str(error.get("code")),
            )
        return self._result(method, body)

    def _send(self, method: str, params: dict[str, Any]) -> Any:
        try:
            response = self._http.post("/routerjson", data=self.signed_form(method, params))
        except httpx.TransportError as error:
            raise _Transient(type(error).__name__) from None
        if response.status_code >= 500:
            raise _Transient(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise JdError(
                f"JD shop {self.shop_id}: {method} was rejected (HTTP {response.status_code}). Check the shop's "
                f"base_url in shopkeep.toml points at JD's /routerjson gateway."
            )
        try:
            return response.json()
        except ValueError:
            raise _Transient("a body that is not complete JSON") from None

    def _result(self, method: str, body: Any) -> dict:
        if not isinstance(body, dict):
            raise JdResponseError(
                f"JD shop {self.shop_id}: {method} answered {type(body).__name__}, not an object."
            )
        error = body.get("error_response")
        if isinstance(error, dict):
            self._raise(method, error)
        base = method.replace(".", "_")
        for key in (f"{base}_responce", f"{base}_response"):
            if isinstance(body.get(key), dict):
                return body[key]
        raise JdResponseError(
            f"JD shop {self.shop_id}: {method} answered without {base}_responce (keys: {sorted(body)[:5]})."
        )

    def _raise(self, method: str, error: dict) -> None:
        code = str(error.get("code"))
        kind, text, shop = ERROR_CODES.get(code, "unknown"), _text(error), f"JD shop {self.shop_id}"
        if kind == "auth":
            raise JdAuthError(
                f"{shop}: JD refused the access token ({text}) on {method}. Re-authorise the app for this shop in "
                f"the JD seller backend and put the new token in environment variable {self.token_env}.",
                code,
            )
        if kind == "config":
            raise JdSignatureError(
                f"{shop}: JD refused the request's app key or signature ({text}). Check the shop's JD app key and "
                f"app secret (the secret signs every call); the access token is not the cause.",
                code,
            )
        if kind == "permission":
            raise JdPermissionError(
                f"{shop}: the app may not call {method} ({text}). Apply for the API's permission for the app on "
                f"the JOS console (jos.jd.com); the credentials are fine.",
                code,
            )
        if kind == "request":
            raise JdError(f"{shop}: {method} failed ({text}).", code)
        raise JdUnknownCodeError(
            f"{shop}: {method} failed with a JD error code shopkeep does not know ({text}); see JOS's error code "
            f"list for what to do.",
            code,
        )


def _text(error: dict) -> str:
    """JD's own code and words: 'JD code 19: Invalid access_token / 无效access_token'."""
    desc = f"{error.get('en_desc') or ''} / {error.get('zh_desc') or ''}".strip(" /")
    return f"JD code {error.get('code')}: {desc}"


def throttle_seconds(text: str, default: float = 1.0) -> float:
    """The wait JD names in a throttle message ("retry after 3 seconds"), else `default`."""
    match = _SECONDS.search(text)
    return float(match.group(1)) if match else default
