"""Pinduoduo POP client: signed `POST /api/router` calls, POP envelopes and error codes, retries.

Error handling (codes as in the sandbox's documented contract, sandbox/pinduoduo.py):
- 70031 throttled: wait the seconds the answer names (sub_msg), then call again (bounded);
- HTTP 5xx, timeouts, broken connections, a truncated/non-JSON body: back off exponentially and retry;
- 20004 signature failed: a configuration problem (client_id / client_secret) — fails at once;
- 10019 access_token invalid/expired: fails at once, naming the shop and the env var holding the token;
- 10000 bad parameter, 50001 business error, anything else: fails at once with the platform's message.
Secrets (client_secret, access_token) never appear in an error, a log line or a repr.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any

import httpx
from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from connectors.pinduoduo.signing import sign_params

log = logging.getLogger(__name__)

THROTTLE_CODES = frozenset({70031})
INVALID_TOKEN_CODES = frozenset({10019})
SIGNATURE_CODES = frozenset({20004})
_SECONDS = re.compile(r"(\d+(?:\.\d+)?)\s*(?:秒|s\b|sec|seconds?)")


class PddError(RuntimeError):
    """A Pinduoduo call failed in a way a retry will not fix."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class PddAuthError(PddError):
    """The platform refused the access token (expired or invalid): the seller must re-authorise."""


class PddSignatureError(PddError):
    """The platform refused the signature: client_id / client_secret are wrong."""


class PddResponseError(PddError):
    """The platform answered something that is not the envelope it should be."""


class _Transient(Exception):
    """5xx, network failure, truncated body: worth another attempt after a back-off."""


class _Throttled(Exception):
    def __init__(self, wait: float) -> None:
        super().__init__(wait)
        self.wait = wait


class PddClient:
    """One Pinduoduo shop's POP gateway. `call(api_type, params, response_key)` -> the body under that key."""

    def __init__(
        self,
        shop_id: str,
        base_url: str,
        client_id: str,
        client_secret: str,
        access_token: str,
        token_env: str = "PDD_MAIN_TOKEN",
        timeout: float = 10.0,
        max_attempts: int = 6,
        max_throttle_waits: int = 30,
        backoff_seconds: float = 0.2,
        backoff_max_seconds: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not access_token:
            raise PddAuthError(
                f"Pinduoduo shop {shop_id}: no access token. Authorise the shop on the Pinduoduo open platform and "
                f"set environment variable {token_env} to its access_token."
            )
        if not client_id or not client_secret:
            raise PddSignatureError(
                f"Pinduoduo shop {shop_id}: client_id or client_secret is empty. Set the app's credentials for "
                f"this shop (see its entry in shopkeep.toml)."
            )
        self.shop_id = shop_id
        self.token_env = token_env
        self.max_attempts = max_attempts
        self.max_throttle_waits = max_throttle_waits
        self.backoff_seconds = backoff_seconds
        self.backoff_max_seconds = backoff_max_seconds
        self._client_id = client_id
        self._secret = client_secret
        self._token = access_token
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
            limits=httpx.Limits(max_keepalive_connections=4),
        )

    def __enter__(self) -> PddClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:
        return f"PddClient(shop_id={self.shop_id!r}, base_url={str(self._http.base_url)!r})"

    # ------------------------------------------------------------------------------------------------ #

    def signed(self, api_type: str, params: dict[str, Any]) -> dict[str, str]:
        """The full form a call sends: business params + system params + sign (all as strings)."""
        form = {
            k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in params.items() if v is not None
        }
        form.update(
            type=api_type,
            client_id=self._client_id,
            access_token=self._token,
            timestamp=str(int(time.time())),
            data_type="JSON",
            version="V1",
        )
        form["sign"] = sign_params(form, self._secret)
        return form

    def call(self, api_type: str, params: dict[str, Any], response_key: str) -> dict:
        """One API call with retries; the dict under `response_key` of the success envelope."""
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=wait_exponential(multiplier=self.backoff_seconds, max=self.backoff_max_seconds),
            retry=retry_if_exception_type(_Transient),
            sleep=self._sleep,
            reraise=False,
        )
        try:
            return retrying(self._call_through_throttle, api_type, params, response_key)
        except RetryError as error:
            cause = error.last_attempt.exception()
            raise PddError(
                f"Pinduoduo shop {self.shop_id}: {api_type} kept failing after {self.max_attempts} attempts "
                f"({cause}). The platform or the network is down; try again later."
            ) from None

    def _call_through_throttle(self, api_type: str, params: dict[str, Any], response_key: str) -> dict:
        for _ in range(self.max_throttle_waits + 1):
            try:
                return self._call_once(api_type, params, response_key)
            except _Throttled as throttled:
                log.info(
                    "Pinduoduo shop %s: throttled on %s, waiting %.1fs",
                    self.shop_id,
                    api_type,
                    throttled.wait,
                )
                self._sleep(throttled.wait)
        raise PddError(
            f"Pinduoduo shop {self.shop_id}: {api_type} was still throttled after {self.max_throttle_waits} waits. "
            f"Another tool may be using this app's call budget."
        )

    def _call_once(self, api_type: str, params: dict[str, Any], response_key: str) -> dict:
        try:
            response = self._http.post("/api/router", data=self.signed(api_type, params))
        except httpx.TransportError as error:
            raise _Transient(type(error).__name__) from None
        if response.status_code >= 500:
            raise _Transient(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise PddError(
                f"Pinduoduo shop {self.shop_id}: {api_type} was rejected with HTTP {response.status_code}. "
                f"Check the shop's base_url in shopkeep.toml points at the POP gateway."
            )
        try:
            body = response.json()
        except ValueError:
            raise _Transient("answer was not complete JSON") from None
        if not isinstance(body, dict):
            raise PddResponseError(
                f"Pinduoduo shop {self.shop_id}: {api_type} answered a non-object JSON body."
            )
        if "error_response" in body:
            self._raise_error(api_type, body["error_response"] or {})
        if response_key not in body or not isinstance(body[response_key], dict):
            raise PddResponseError(
                f"Pinduoduo shop {self.shop_id}: {api_type} answered without {response_key!r} "
                f"(keys: {sorted(body)[:5]})."
            )
        return body[response_key]

    def _raise_error(self, api_type: str, error: dict) -> None:
        code = _code(error.get("error_code"))
        detail = f"error_code {code}: {error.get('error_msg', '')} {error.get('sub_msg', '')}".strip()
        if code in THROTTLE_CODES:
            raise _Throttled(throttle_wait(error))
        if code in INVALID_TOKEN_CODES:
            raise PddAuthError(
                f"Pinduoduo shop {self.shop_id}: the platform refused the access token ({detail}). Re-authorise "
                f"the shop on the Pinduoduo open platform and set the new access_token in environment variable "
                f"{self.token_env}.",
                code,
            )
        if code in SIGNATURE_CODES:
            raise PddSignatureError(
                f"Pinduoduo shop {self.shop_id}: the platform rejected the request signature ({detail}). The "
                f"client_id / client_secret configured for this shop do not match the app; fix them (a retry will "
                f"not help).",
                code,
            )
        raise PddError(f"Pinduoduo shop {self.shop_id}: {api_type} was refused ({detail}).", code)


def _code(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def throttle_wait(error: dict, default: float = 1.0) -> float:
    """Seconds a throttle answer asks to wait ("请1秒后重试" / "retry after 1 seconds"), else `default`."""
    for text in (error.get("sub_msg"), error.get("error_msg")):
        match = _SECONDS.search(str(text or ""))
        if match:
            return min(float(match.group(1)), 60.0)
    return default
