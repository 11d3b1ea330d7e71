"""Group robots receiving alert digests: DingTalk custom robots and WeCom group robots, on one local server.

- `POST /robot/send?access_token=T` (DingTalk): JSON `{"msgtype": "markdown", "markdown": {"title", "text"}}`.
  A robot with a secret (加签) needs `&timestamp=<ms>&sign=<urlencoded base64 HMAC-SHA256(secret,
  f"{timestamp}\\n{secret}")>`, the timestamp within an hour of the server's clock; a robot with a keyword
  takes only texts that hold it. Answers HTTP 200 with `{"errcode": 0, "errmsg": "ok"}`, or 300001 (no such
  token), 310000 (signature, timestamp or keyword), 40035 (not a markdown message), 460101 (text over 20000
  bytes), 130101 (a 21st message within a minute: the robot is then throttled for 10 minutes, as DingTalk does).
- `POST /cgi-bin/webhook/send?key=K` (WeCom): `{"msgtype": "markdown", "markdown": {"content"}}`; 93000 (wrong
  key), 40008 (not a markdown message), 40058 (content over 4096 bytes), 45009 (a 21st message within a minute).

Both count the messages each robot accepted over a rolling minute (on `clock`, injectable: tests share a fake
clock with the sender). Test-only (no auth): `GET /_sandbox/messages` lists what each robot accepted and refused
and the most it accepted within any 60 s.

Reads no file of the warehouse's dbt project and imports no product code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

LIMIT = 20
WINDOW = 60.0
DINGTALK_THROTTLE = 600.0
DINGTALK_MAX_BYTES = 20000
WECOM_MAX_BYTES = 4096
MAX_SKEW_MS = 3600 * 1000


@dataclass(frozen=True)
class DingTalkRobot:
    name: str
    secret: str = ""
    keyword: str = ""


class RobotsState:
    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.lock = threading.Lock()
        self.accepted: list[dict] = []
        self.refused: list[dict] = []
        self.times: dict[str, list[float]] = {}
        self.throttled_until: dict[str, float] = {}

    def over_limit(self, robot: str, now: float) -> bool:
        recent = [t for t in self.times.get(robot, []) if t > now - WINDOW]
        return len(recent) >= LIMIT

    def accept(self, robot: str, kind: str, now: float, **message) -> None:
        self.times.setdefault(robot, []).append(now)
        self.accepted.append({"robot": robot, "kind": kind, "at": now, **message})

    def max_per_minute(self) -> dict[str, int]:
        """Per robot: the most messages it accepted within any 60 s."""
        out = {}
        for robot, times in self.times.items():
            times = sorted(times)
            out[robot] = max(sum(1 for u in times if t <= u < t + WINDOW) for t in times)
        return out


def sign(secret: str, timestamp: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def create_app(
    dingtalk: dict[str, DingTalkRobot] | None = None, wecom: dict[str, str] | None = None,
    clock: Callable[[], float] | None = None,
) -> Starlette:  # fmt: skip
    """`dingtalk`: access_token -> robot; `wecom`: key -> robot name."""
    state = RobotsState(clock or time.time)
    dingtalk = dingtalk or {}
    wecom = wecom or {}

    def answer(errcode: int, errmsg: str) -> JSONResponse:
        return JSONResponse({"errcode": errcode, "errmsg": errmsg})

    def refuse(robot: str, errcode: int, errmsg: str, now: float) -> JSONResponse:
        state.refused.append({"robot": robot, "errcode": errcode, "errmsg": errmsg, "at": now})
        return answer(errcode, errmsg)

    async def body(request: Request) -> dict | None:
        try:
            payload = json.loads(await request.body())
        except ValueError:
            return None
        return payload if isinstance(payload, dict) else None

    async def dingtalk_send(request: Request) -> JSONResponse:
        now = state.clock()
        robot = dingtalk.get(request.query_params.get("access_token", ""))
        payload = await body(request)
        with state.lock:
            if robot is None:
                return refuse("?", 300001, "token is not exist", now)
            if robot.secret:
                stamp = request.query_params.get("timestamp", "")
                given = request.query_params.get("sign", "")
                if not stamp.isdigit() or abs(now * 1000 - int(stamp)) > MAX_SKEW_MS:
                    return refuse(robot.name, 310000, "invalid timestamp", now)
                if not hmac.compare_digest(given, sign(robot.secret, stamp)):
                    return refuse(
                        robot.name, 310000, "sign not match, more: [https://open.dingtalk.com]", now
                    )
            markdown = (payload or {}).get("markdown") or {}
            text, title = markdown.get("text"), markdown.get("title")
            if (payload or {}).get("msgtype") != "markdown" or not isinstance(text, str) or not title:
                return refuse(robot.name, 40035, "缺少参数 json: markdown.title and markdown.text", now)
            if robot.keyword and robot.keyword not in text:
                return refuse(robot.name, 310000, "关键词不匹配 keywords not in content", now)
            if len(text.encode()) > DINGTALK_MAX_BYTES:
                return refuse(robot.name, 460101, "message too long, exceed 20000 bytes", now)
            if now < state.throttled_until.get(robot.name, 0) or state.over_limit(robot.name, now):
                if robot.name not in state.throttled_until or now >= state.throttled_until[robot.name]:
                    state.throttled_until[robot.name] = now + DINGTALK_THROTTLE
                return refuse(robot.name, 130101, "send too fast, exceed 20 times per minute", now)
            state.accept(robot.name, "dingtalk", now, title=title, text=text, at_=payload.get("at"))
        return answer(0, "ok")

    async def wecom_send(request: Request) -> JSONResponse:
        now = state.clock()
        robot = wecom.get(request.query_params.get("key", ""))
        payload = await body(request)
        with state.lock:
            if robot is None:
                return refuse("?", 93000, "invalid webhook url, hint: key not found", now)
            content = ((payload or {}).get("markdown") or {}).get("content")
            if (payload or {}).get("msgtype") != "markdown" or not isinstance(content, str) or not content:
                return refuse(robot, 40008, "invalid message type", now)
            if len(content.encode()) > WECOM_MAX_BYTES:
                return refuse(robot, 40058, "markdown.content exceed max length 4096", now)
            if state.over_limit(robot, now):
                return refuse(robot, 45009, "api freq out of limit", now)
            state.accept(robot, "wecom", now, title="", text=content)
        return answer(0, "ok")

    async def messages(request: Request) -> JSONResponse:
        with state.lock:
            return JSONResponse(
                {"messages": list(state.accepted), "refused": list(state.refused),
                 "max_per_minute": state.max_per_minute()}
            )  # fmt: skip

    app = Starlette(
        routes=[
            Route("/robot/send", dingtalk_send, methods=["POST"]),
            Route("/cgi-bin/webhook/send", wecom_send, methods=["POST"]),
            Route("/_sandbox/messages", messages, methods=["GET"]),
        ]
    )
    app.state.sandbox = state
    return app
