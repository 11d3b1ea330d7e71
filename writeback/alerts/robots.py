"""Sending digests to group robots: DingTalk custom robots and WeCom group robots (issue 16, Alerts).

- **DingTalk** (`https://oapi.dingtalk.com/robot/send?access_token=…`): a JSON `POST` of
  `{"msgtype": "markdown", "markdown": {"title", "text"}}`. A robot with 加签 (signed mode) takes
  `&timestamp=<ms>&sign=<sign>` on the URL, sign = URL-encoded base64 of HMAC-SHA256 keyed with the secret over
  `f"{timestamp}\\n{secret}"` (DingTalk refuses a timestamp more than an hour off); a robot with 自定义关键词
  (keyword mode) takes only messages whose text holds the keyword (the digest puts it in every message's first
  line). It answers HTTP 200 with `{"errcode": 0, "errmsg": "ok"}` or an error: 310000 (signature, timestamp
  or keyword refused), 130101 (more than 20 messages a minute: the robot is then throttled for 10 minutes),
  300001 (no such access_token), 460101 (message too long). A markdown text is kept to 20000 bytes.
- **WeCom** (`https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY`): `{"msgtype": "markdown",
  "markdown": {"content"}}`, content at most 4096 bytes; errcode 0, 45009 over the limit, 93000 a wrong key.

Both allow 20 messages per robot per minute. **The rate guard** keeps every robot under that on the sender's
side: before each request it counts the requests to that robot in the last 60 s (the ledger below, so the
Dagster sensor's process and a build's process count each other's) and, at 20, waits for the oldest to age out
when that is within `max_wait` seconds; otherwise the message and the rest of its digest are **deferred** (kept
in the ledger with the reason) and go first, oldest first, the next time anything is sent to that robot. A
robot that answers "too many" (130101, 45009) defers the same way. A build's digest waits (up to 60 s: a
slot always frees within a minute); the run-failure sensor does not wait (`max_wait = 0`) and defers. A
refusal for any other reason (a wrong secret or keyword) is `failed`: sending it again would not help; the
outcome names the robot and the errcode.

**The ledger** (`alert_messages`, `alert_attempts`) lives in the ops store when one is given (else in memory,
for one sender): every message with its robot, digest, part, status (queued, sent, failed, deferred), the
robot's errcode and words, and every request's time (what the guard counts).

**Secrets** (the access token, the WeCom key, the signing secret) come only from the environment
(orchestration/alerts.py reads them from the variables the config names). They are never in a log line, an
outcome or an exception's text: URLs are shown masked (`access_token=***`), the robot's answers and transport
errors are masked, and a filter on httpx's logger masks the request lines it logs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import httpx

from writeback.alerts.digest import Message

log = logging.getLogger("shopkeep.alerts")

RobotKind = Literal["dingtalk", "wecom"]
MAX_BYTES: dict[str, int] = {"dingtalk": 20000, "wecom": 4096}
"""The most UTF-8 bytes of markdown text one message takes (DingTalk markdown text, WeCom markdown content)."""
LIMIT = 20
"""Messages per robot per rolling minute (both platforms)."""
WINDOW_SECONDS = 60.0
TOO_MANY = {"dingtalk": 130101, "wecom": 45009}

_SECRET_QUERY = re.compile(r"((?:access_token|key|sign)=)([^&\s\"'<>]+)", re.IGNORECASE)


def mask_url(text: str) -> str:
    """`text` with the values of access_token, key and sign query parameters replaced by ***."""
    return _SECRET_QUERY.sub(r"\1***", text)


class _MaskingFilter(logging.Filter):
    """Masks webhook secrets in what httpx logs ("HTTP Request: POST https://…?access_token=…")."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_url(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


for _name in ("httpx", "httpcore"):
    _logger = logging.getLogger(_name)
    if not any(isinstance(f, _MaskingFilter) for f in _logger.filters):
        _logger.addFilter(_MaskingFilter())


@dataclass(frozen=True)
class Robot:
    name: str
    kind: RobotKind
    url: str = field(repr=False)
    """The full webhook URL with its access_token / key (from the environment)."""
    secret: str = field(default="", repr=False)
    """DingTalk signed mode: the robot's SEC… secret; empty: not signed."""
    keyword: str = ""
    """DingTalk keyword mode: a keyword every message must hold."""
    kinds: tuple[str, ...] | None = None
    """The alert kinds it gets; None: every kind."""

    def __post_init__(self) -> None:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.url).query)
        needed = "access_token" if self.kind == "dingtalk" else "key"
        if not query.get(needed):
            raise ValueError(
                f"robot {self.name!r}: its {self.kind} webhook URL has no {needed}= parameter; set the "
                "variable to the robot's whole webhook URL"
            )
        if self.secret and self.kind != "dingtalk":
            raise ValueError(f"robot {self.name!r}: only a DingTalk robot is signed with a secret")

    @property
    def masked_url(self) -> str:
        return mask_url(self.url)

    @property
    def max_bytes(self) -> int:
        return MAX_BYTES[self.kind]

    def secrets(self) -> list[str]:
        """The values that must never be shown: the token or key in the URL, the signing secret."""
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.url).query)
        values = [v for key in ("access_token", "key") for v in query.get(key, [])]
        return [v for v in (*values, self.secret) if v]

    def mask(self, text: str) -> str:
        text = mask_url(text)
        for value in self.secrets():
            text = text.replace(value, "***")
        return text


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature (before URL-encoding): base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}"))."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def request_url(robot: Robot, now: float) -> str:
    """Where a message goes: the webhook URL, plus timestamp and sign for a signed DingTalk robot."""
    if robot.kind != "dingtalk" or not robot.secret:
        return robot.url
    stamp = int(now * 1000)
    sign = urllib.parse.quote_plus(dingtalk_sign(robot.secret, stamp))
    return f"{robot.url}&timestamp={stamp}&sign={sign}"


def payload(robot: Robot, message: Message) -> dict:
    if robot.kind == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": message.title, "text": message.text}}
    return {"msgtype": "markdown", "markdown": {"content": message.text}}


# -- the ledger -------------------------------------------------------------------------------------------------

LEDGER_SCHEMA = """
create table if not exists alert_messages (
    message_id integer primary key autoincrement,
    robot text not null,
    digest_id text not null,
    part integer not null,
    parts integer not null,
    title text not null,
    text text not null,
    status text not null check (status in ('queued', 'sent', 'failed', 'deferred')),
    errcode integer,
    detail text,                       -- the robot's words, or why it was deferred (masked)
    created_at real not null,          -- Unix seconds
    finished_at real
);
create index if not exists alert_messages_waiting on alert_messages (robot, status);
create table if not exists alert_attempts (
    robot text not null,
    at real not null                   -- Unix seconds of a request to the robot (what the rate guard counts)
);
create index if not exists alert_attempts_robot on alert_attempts (robot, at);
create table if not exists alert_repeats (
    robot text not null,
    repeat_key text not null,          -- Alert.repeat_key: a fingerprint, no alert text
    sent_at real not null,             -- Unix seconds it was last put in a digest for the robot
    primary key (robot, repeat_key)
);
"""


class Ledger:
    """The send ledger: in the ops store at `path`, or in memory (one process) when None."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._lock = threading.Lock()
        self._memory: sqlite3.Connection | None = None
        if self.path is None:
            self._memory = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
            self._memory.executescript(LEDGER_SCHEMA)
        self._ready = False

    @contextmanager
    def _con(self) -> Iterator[sqlite3.Connection]:
        if self._memory is not None:
            with self._lock:
                yield self._memory
            return
        from writeback.ops_store import connect

        with connect(self.path) as con:
            con.isolation_level = None  # explicit transactions (begin immediate) below
            if not self._ready:
                con.executescript(LEDGER_SCHEMA)
                self._ready = True
            yield con

    def queue(self, robot: str, digest_id: str, messages: list[Message], now: float) -> list[int]:
        with self._con() as con:
            ids = []
            for part, message in enumerate(messages, start=1):
                cursor = con.execute(
                    "insert into alert_messages (robot, digest_id, part, parts, title, text, status, created_at) "
                    "values (?, ?, ?, ?, ?, ?, 'queued', ?)",
                    (robot, digest_id, part, len(messages), message.title, message.text, now),
                )
                ids.append(int(cursor.lastrowid))
            return ids

    def recent(self, robot: str, keys: Iterable[str], since: float) -> dict[str, float]:
        """Of `keys`, those put in a digest for `robot` after `since`: key -> when."""
        keys = list(keys)
        if not keys:
            return {}
        with self._con() as con:
            marks = ", ".join("?" * len(keys))
            rows = con.execute(
                f"select repeat_key, sent_at from alert_repeats where robot = ? and sent_at > ? "
                f"and repeat_key in ({marks})",
                (robot, since, *keys),
            ).fetchall()
            return {key: at for key, at in rows}

    def remember(self, robot: str, keys: Iterable[str], now: float) -> None:
        with self._con() as con:
            con.executemany(
                "insert into alert_repeats (robot, repeat_key, sent_at) values (?, ?, ?) "
                "on conflict (robot, repeat_key) do update set sent_at = excluded.sent_at",
                [(robot, key, now) for key in keys],
            )

    def waiting(self, robot: str) -> list[sqlite3.Row]:
        """The robot's deferred and queued messages, oldest first."""
        with self._con() as con:
            con.row_factory = sqlite3.Row
            rows = con.execute(
                "select * from alert_messages where robot = ? and status in ('deferred', 'queued') "
                "order by message_id",
                (robot,),
            ).fetchall()
            con.row_factory = None
            return rows

    def reserve(self, robot: str, now: float, limit: int = LIMIT, window: float = WINDOW_SECONDS) -> float:
        """Take a slot for one request to `robot` now: 0.0 when taken, else the seconds until one frees."""
        with self._con() as con:
            con.execute("begin immediate")
            try:
                times = [
                    r[0]
                    for r in con.execute(
                        "select at from alert_attempts where robot = ? and at > ? order by at",
                        (robot, now - window),
                    )
                ]
                if len(times) >= limit:
                    return max(times[len(times) - limit] + window - now, 0.001)
                con.execute("insert into alert_attempts (robot, at) values (?, ?)", (robot, now))
                con.execute("delete from alert_attempts where at < ?", (now - 24 * 3600,))
                return 0.0
            finally:
                con.execute("commit")

    def finish(self, message_id: int, status: str, errcode: int | None, detail: str, now: float) -> None:
        with self._con() as con:
            con.execute(
                "update alert_messages set status = ?, errcode = ?, detail = ?, finished_at = ? "
                "where message_id = ?",
                (status, errcode, detail[:500], now, message_id),
            )

    def messages(self, robot: str | None = None) -> list[dict]:
        with self._con() as con:
            con.row_factory = sqlite3.Row
            rows = con.execute(
                "select * from alert_messages where ? is null or robot = ? order by message_id",
                (robot, robot),
            ).fetchall()
            con.row_factory = None
            return [dict(r) for r in rows]


# -- sending ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    robot: str
    digest_id: str
    part: int
    parts: int
    status: Literal["sent", "failed", "deferred"]
    errcode: int | None
    detail: str
    """The robot's words or why it was deferred; masked (never a secret)."""


class Sender:
    """Sends digests to robots through the rate guard and the ledger.

    `clock` (Unix seconds) and `sleep` are injectable, so tests run the guard on a fake clock."""

    def __init__(
        self, ledger: Ledger | None = None, *, clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep, max_wait: float = WINDOW_SECONDS,
        http: httpx.Client | None = None, limit: int = LIMIT, logger: logging.Logger | None = None,
    ) -> None:  # fmt: skip
        self.ledger = ledger or Ledger()
        self.clock = clock
        self.sleep = sleep
        self.max_wait = max_wait
        self.http = http
        self.limit = limit
        self.log = logger or log
        """Where each send is logged (a Dagster step passes its context.log)."""

    def send(self, robot: Robot, messages: Iterable[Message], digest_id: str) -> list[Outcome]:
        """Queue `messages` (one digest) for `robot`, then send what waits for it, oldest first (deferred
        messages of earlier digests before these), while the rate guard allows."""
        messages = list(messages)
        if messages:
            self.ledger.queue(robot.name, digest_id, messages, self.clock())
        outcomes: list[Outcome] = []
        waiting = self.ledger.waiting(robot.name)
        if not waiting:
            return outcomes
        client = self.http or httpx.Client(timeout=10)
        waited = 0.0
        try:
            for index, row in enumerate(waiting):
                wait = self.ledger.reserve(robot.name, self.clock(), self.limit)
                while wait > 0 and waited + wait <= self.max_wait:
                    self.sleep(wait)
                    waited += wait
                    wait = self.ledger.reserve(robot.name, self.clock(), self.limit)
                if wait > 0:
                    reason = (
                        f"rate guard: {self.limit} messages to robot {robot.name!r} in the last "
                        f"{WINDOW_SECONDS:.0f} s; deferred to the next send (a slot frees in {wait:.0f} s)"
                    )
                    outcomes += self._defer(robot, waiting[index:], reason, None)
                    break
                outcome = self._post(client, robot, row)
                outcomes.append(outcome)
                if outcome.status == "deferred":  # the robot says too many: the rest wait too
                    outcomes += self._defer(robot, waiting[index + 1 :], outcome.detail, outcome.errcode)
                    break
        finally:
            if self.http is None:
                client.close()
        return outcomes

    def _defer(self, robot: Robot, rows: list, reason: str, errcode: int | None) -> list[Outcome]:
        """Defer what waits; a message deferred before and still waiting is not reported again."""
        out = []
        for row in rows:
            if row["status"] == "deferred" and errcode is None:
                continue
            self.ledger.finish(row["message_id"], "deferred", errcode, reason, self.clock())
            out.append(self._logged(robot, row, "deferred", errcode, reason))
        return out

    def _post(self, client: httpx.Client, robot: Robot, row) -> Outcome:
        message = Message(row["title"], row["text"])
        try:
            response = client.post(request_url(robot, self.clock()), json=payload(robot, message))
        except httpx.HTTPError as exc:
            detail = robot.mask(f"could not reach the robot: {type(exc).__name__}: {exc}")
            return self._finished(robot, row, "failed", None, detail)
        try:
            answer = response.json()
            errcode = int(answer.get("errcode"))
            errmsg = str(answer.get("errmsg", ""))
        except (ValueError, TypeError, AttributeError):
            detail = robot.mask(f"HTTP {response.status_code}: {response.text[:200]}")
            return self._finished(robot, row, "failed", None, detail)
        if response.status_code != 200:
            return self._finished(
                robot, row, "failed", errcode, robot.mask(f"HTTP {response.status_code}: {errmsg}")
            )
        if errcode == 0:
            return self._finished(robot, row, "sent", 0, errmsg)
        detail = robot.mask(f"errcode {errcode}: {errmsg}")
        if errcode == TOO_MANY[robot.kind]:
            return self._finished(
                robot, row, "deferred", errcode, f"the robot refused: too many messages ({detail})"
            )
        return self._finished(robot, row, "failed", errcode, detail)

    def _finished(self, robot: Robot, row, status: str, errcode: int | None, detail: str) -> Outcome:
        self.ledger.finish(row["message_id"], status, errcode, detail, self.clock())
        return self._logged(robot, row, status, errcode, detail)

    def _logged(self, robot: Robot, row, status, errcode, detail) -> Outcome:
        outcome = Outcome(robot.name, row["digest_id"], row["part"], row["parts"], status, errcode, detail)
        level = logging.INFO if status == "sent" else logging.WARNING
        self.log.log(
            level, "alert digest %s part %d/%d to robot %s (%s %s): %s%s", outcome.digest_id, outcome.part,
            outcome.parts, robot.name, robot.kind, robot.masked_url, status, f" — {detail}" if detail else "",
        )  # fmt: skip
        return outcome
