"""Pinduoduo POP client: signed `POST /api/router` calls, POP envelopes and error codes, retries.

Error codes are data (`ERROR_CODES` below), from POP's published common error table (10000 parameter, 10016
client offline or wrong client_id, 10019 access_token expired, 20004 sign check failed, 20005 IP not whitelisted,
20031 the user has not authorised this API, 20032 access_token or client_id wrong, 30000 no permission for the
target API, 50000 system error, 52101 API rate-limited, 52102/52103 temporarily unavailable, 70031 called too
often, 70032-70035 call forbidden / risk control, ...). What each leads to:
- throttle (70031, 52101): wait the seconds the answer names (sub_msg/error_msg), else one second; call again
  (bounded);
- busy (50000, 50002, 52001, 52002, 52102, 52103, 70033), HTTP 5xx, timeouts, broken connections, a
  truncated/non-JSON body: back off exponentially and retry (bounded);
- auth (10019 expired, 20032 token or client_id wrong): `PddAuthError` naming the shop and the env var to renew;
- config (20004 signature, 10016 client_id, 20005 IP whitelist, 20035 wrong gateway, 30001 partner_id):
  `PddSignatureError`, a configuration problem, never "renew";
- permission (20031, 30000, 70032, 70034, 70035, 70036): `PddPermissionError`;
- request (10000, 10001, 10017, 21001, 21002, 20034, 52004, 50001 business error): `PddError` with the text;
- any other code: `PddUnknownCodeError` with the platform's code and text.
Choices where the docs leave room: 20032 ("access_token or client_id wrong") is reported as an auth problem whose
message also names the client_id; 50001 (business error: a window over the limit, stock below zero) is the
caller's request, not retried; 70036 (a test-stage app's call quota) is a permission matter, not waited out.
Secrets (client_secret, access_token) never appear in an error, a log line or a repr.
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
from connectors.pinduoduo.signing import sign_params

log = logging.getLogger(__name__)

ERROR_CODES: dict[int, str] = {
    10000: "request",  # 参数错误
    10001: "request",  # 公共参数错误
    10016: "config",  # client下线或者clientId不正确
    10017: "request",  # type不正确
    10019: "auth",  # access_token已过期
    20004: "config",  # 签名sign校验失败
    20005: "config",  # ip无权访问接口，请加入ip白名单
    20031: "permission",  # 用户没有授权访问此接口
    20032: "auth",  # access_token或client_id错误
    20034: "request",  # 接口处于下线状态
    20035: "config",  # 接口不属于当前网关 (base_url points at the wrong gateway)
    21001: "request",  # 请求参数错误
    21002: "request",  # 请求参数不能为空
    30000: "permission",  # 没有调用此target接口权限
    30001: "config",  # client_id和partner_id不匹配
    50000: "busy",  # 系统内部错误
    50001: "request",  # 业务服务错误
    50002: "busy",  # 业务系统内部异常
    52001: "busy",  # 网关业务服务错误
    52002: "busy",  # 网关系统内部异常
    52004: "request",  # 请求body太大
    52101: "throttle",  # 当前接口被限流，请稍后重试
    52102: "busy",  # 当前接口暂时不可用，请稍后重试
    52103: "busy",  # 服务暂时不可用，请稍后重试
    70031: "throttle",  # 调用过于频繁，请调整调用频率
    70032: "permission",  # 当前请求被禁止调用
    70033: "busy",  # 当前接口因系统维护，暂时下线，请稍后再试
    70034: "permission",  # 当前用户或应用存在风险，禁止调用
    70035: "permission",  # 当前用户或应用存在风险，禁止调用
    70036: "permission",  # 应用处于测试状态，调用次数被限制
}
"""POP error codes -> what they mean for a client (see the module docstring)."""
_SECONDS = re.compile(r"(\d+(?:\.\d+)?)\s*(?:秒|s\b|sec|seconds?)")


class PddError(ChannelError):
    """A Pinduoduo call failed in a way a retry will not fix."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class PddAuthError(PddError):
    """The platform refused the access token (expired or invalid): the seller must re-authorise."""


class PddSignatureError(PddError):
    """The platform refused the signature or the app (client_id / client_secret, IP whitelist)."""


class PddPermissionError(PddError):
    """The app, or the seller's authorisation, does not cover this API."""


class PddUnknownCodeError(PddError):
    """The platform answered an error code this client has no entry for."""


class PddResponseError(PddError):
    """The platform answered something that is not the envelope it should be."""


class _Transient(Exception):
    """5xx, network failure, truncated body: worth another attempt after a back-off."""


class _Throttled(Exception):
    def __init__(self, wait: float, text: str) -> None:
        super().__init__(wait)
        self.wait, self.text = wait, text


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

    def call(self, api_type: str, params: dict[str, Any], response_key: str, idempotent: bool = True) -> dict:
        """One API call with retries; the dict under `response_key` of the success envelope. A call that is not
        idempotent (a stock change) is sent once: after a timeout nobody knows whether it landed (the platform's
        throttling answer, which says it did not, is still waited out)."""
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts if idempotent else 1),
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
        last = ""
        for n in range(self.max_throttle_waits + 1):
            try:
                return self._call_once(api_type, params, response_key)
            except _Throttled as throttled:
                # the seconds the platform names, else a wait that doubles from one second (capped)
                wait, last = throttled.wait or min(self.backoff_max_seconds, 2.0**n), throttled.text
                log.info("Pinduoduo shop %s: throttled on %s (%s), waiting %.1fs", self.shop_id, api_type,
                         throttled.text, wait)  # fmt: skip
                self._sleep(wait)
        raise PddError(
            f"Pinduoduo shop {self.shop_id}: {api_type} was still throttled ({last}) after "
            f"{self.max_throttle_waits} waits. Another tool may be using this app's call budget; try again later."
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
        kind = ERROR_CODES.get(code, "unknown") if code is not None else "unknown"
        text, shop = _text(error), f"Pinduoduo shop {self.shop_id}"
        if kind == "throttle":
            raise _Throttled(throttle_wait(error, default=0.0), text)
        if kind == "busy":
            raise _Transient(f"platform busy ({text})")
        if kind == "auth":
            raise PddAuthError(
                f"{shop}: the platform refused the access token ({text}). Re-authorise the shop on the Pinduoduo "
                f"open platform and set the new access_token in environment variable {self.token_env} (it must "
                f"be issued to this app's client_id).",
                code,
            )
        if kind == "config":
            raise PddSignatureError(
                f"{shop}: the platform refused the app's credentials or set-up ({text}). Check the client_id / "
                f"client_secret configured for this shop, the base_url and the app's IP whitelist; the access "
                f"token is not the cause and a retry will not help.",
                code,
            )
        if kind == "permission":
            raise PddPermissionError(
                f"{shop}: the app may not call {api_type} ({text}). Apply for the API's permission package for the "
                f"app on the Pinduoduo open platform and have the seller authorise it.",
                code,
            )
        if kind == "request":
            raise PddError(f"{shop}: {api_type} was refused ({text}).", code)
        raise PddUnknownCodeError(
            f"{shop}: {api_type} failed with a Pinduoduo error code shopkeep does not know ({text}); see the POP "
            f"error code list for what to do.",
            code,
        )


def _text(error: dict) -> str:
    """The platform's own code and words: 'error_code 10019: access_token已过期 …'."""
    words = " ".join(str(error.get(k) or "") for k in ("error_msg", "sub_code", "sub_msg")).split()
    return f"error_code {error.get('error_code')}: {' '.join(dict.fromkeys(words))}".strip()


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


GOODS = ("pdd.goods.list.get", "goods_list_get_response", "goods_list")


def goods_skus(pdd: PddClient, page_size: int = 100) -> Iterator[tuple[dict, dict]]:
    """(goods, sku) for every SKU of the shop's goods (`pdd.goods.list.get`), page by page."""
    api_type, response_key, list_key = GOODS
    page = 1
    while True:
        body = pdd.call(api_type, {"page": page, "page_size": page_size}, response_key)
        goods = body.get(list_key) or []
        for item in goods:
            for sku in item.get("sku_list") or []:
                yield item, sku
        if not goods or page * page_size >= int(body.get("total_count") or 0):
            return
        page += 1
