"""A run's alerts as one markdown digest per robot (issue 16, Alerts).

An `Alert` is one thing a manager should look at (a failed run, a failed dbt test, a stale source, a best-seller
about to stock out, an oversold SKU, a failed stock push, a reconciliation mismatch above the threshold, a late
supplier), with the lines that say which. `digest` turns every alert of one run into the markdown a robot
receives: grouped by kind in a fixed order (most urgent first), each kind with its owner, muted kinds and kinds
the robot does not take left out. An empty run gives no message at all.

A robot takes messages of a bounded size (DingTalk markdown ~20000 bytes, WeCom markdown content 4096 bytes), so a
digest too long for one message is split into as few messages as fit, at line boundaries, each headed
`(i/n)` and repeating its kind's heading `（续）` when a kind goes on; a single line longer than a whole message is
cut into pieces ending in `…`: every line of every alert is in exactly one message, none is dropped.

Plain Python: no Dagster, no HTTP (robots.py sends what this builds).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal[
    "run_failed",
    "check_failed",
    "stale_source",
    "stockout_risk",
    "oversold",
    "stock_push_failed",
    "reconciliation_mismatch",
    "late_supplier",
]
KINDS: tuple[Kind, ...] = (
    "run_failed",
    "check_failed",
    "oversold",
    "stockout_risk",
    "stock_push_failed",
    "stale_source",
    "reconciliation_mismatch",
    "late_supplier",
)
"""Every alert kind, in the order a digest lists them (most urgent first)."""

LABELS: dict[str, str] = {
    "run_failed": "运行失败 run failed",
    "check_failed": "数据检查失败 check failed",
    "oversold": "超卖 oversold",
    "stockout_risk": "畅销品即将断货 best-sellers about to stock out",
    "stock_push_failed": "库存同步失败 stock push failed",
    "stale_source": "数据源过期 stale source",
    "reconciliation_mismatch": "对账差异 reconciliation mismatch",
    "late_supplier": "供应商延迟 late supplier",
}

Severity = Literal["critical", "warning", "info"]
SEVERITY_MARK = {"critical": "🔴", "warning": "🟠", "info": "🔵"}
CONTINUED = "（续）"
CUT = "…"


@dataclass(frozen=True)
class Alert:
    kind: Kind
    severity: Severity
    title: str
    """One line: what happened (e.g. "3 SKUs oversold")."""
    lines: tuple[str, ...] = ()
    """Which: one line per SKU, source, order, supplier, …"""
    owner: str = ""
    """Who looks after it; empty: the kind's owner from the config (`[alerts] owners`)."""
    same_as: str = ""
    """What makes it the same alert again (a repeat is not re-sent for a while, `Policy.repeat_after_hours`);
    empty: its kind, title and lines with every number masked (the same SKUs, checks or sources, whatever their
    figures)."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown alert kind {self.kind!r}; expected one of {', '.join(KINDS)}")

    @property
    def repeat_key(self) -> str:
        """A short stable fingerprint of `same_as` (or of the alert with its numbers masked)."""
        text = self.same_as or "\n".join((self.title, *self.lines))
        masked = re.sub(r"\d+(?:[.,]\d+)*", "#", text)
        return self.kind + ":" + hashlib.sha256(masked.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Policy:
    """What the config says about alerts in general (`[alerts]`): kinds muted everywhere and each kind's owner."""

    muted: frozenset[str] = frozenset()
    owners: Mapping[str, str] = field(default_factory=dict)
    repeat_after_hours: float = 24.0
    """An alert a robot got within this many hours is not sent to it again (logged as a repeat); 0: always."""


def nbytes(text: str) -> int:
    return len(text.encode("utf-8"))


def _split(text: str, room: int) -> tuple[str, str]:
    """The longest head of `text` that fits `room` bytes with … after it (UTF-8 characters kept whole), and the
    rest."""
    limit, size = room - nbytes(CUT), 0
    for index, char in enumerate(text):
        size += nbytes(char)
        if size > limit:
            return text[:index] + CUT, text[index:]
    return text, ""


def select(alerts: Iterable[Alert], policy: Policy, kinds: Iterable[str] | None = None) -> list[Alert]:
    """The alerts a robot gets: not muted, of the kinds it takes (None: every kind), in digest order."""
    wanted = set(KINDS if kinds is None else kinds) - set(policy.muted)
    chosen = [a for a in alerts if a.kind in wanted]
    return sorted(chosen, key=lambda a: KINDS.index(a.kind))  # stable: a kind's alerts keep their order


def sections(alerts: list[Alert], policy: Policy) -> list[tuple[str, list[str]]]:
    """Per kind present: its heading (label, count, owner) and its lines (each alert's title, then its lines)."""
    out = []
    for kind in KINDS:
        of_kind = [a for a in alerts if a.kind == kind]
        if not of_kind:
            continue
        owners = sorted({a.owner for a in of_kind if a.owner})
        if not owners and policy.owners.get(kind):
            owners = [policy.owners[kind]]
        worst = min((a.severity for a in of_kind), key=["critical", "warning", "info"].index)
        heading = f"### {SEVERITY_MARK[worst]} {LABELS[kind]} ({len(of_kind)})"
        if owners:
            heading += f" · 负责人 owner: {', '.join(owners)}"
        lines = []
        for alert in of_kind:
            lines.append(f"- **{alert.title}**")
            lines.extend(f"  - {line}" for line in alert.lines)
        out.append((heading, lines))
    return out


@dataclass(frozen=True)
class Message:
    title: str
    text: str


def digest(
    alerts: Iterable[Alert], policy: Policy, *, heading: str, max_bytes: int, kinds: Iterable[str] | None = None,
    keyword: str = "",
) -> list[Message]:  # fmt: skip
    """One robot's digest of a run's alerts, as few messages of at most `max_bytes` (UTF-8, markdown text) as
    the lines fit in; [] when nothing is left to say. `keyword` (a DingTalk robot's keyword) is in every
    message's first line."""
    chosen = select(alerts, policy, kinds)
    if not chosen:
        return []
    if keyword and keyword not in heading:
        heading = f"{heading} · {keyword}"
    count = f"{len({a.kind for a in chosen})} 类 kinds, {len(chosen)} 条 alerts"
    suffix_room = nbytes(" (999/999)")
    head = f"## {heading}"
    first = f"{count}"
    budget = max_bytes - nbytes(head) - suffix_room - 2  # the heading line and its newline, with (i/n)
    if budget < 200:
        raise ValueError(f"max_bytes {max_bytes} leaves no room for a digest under its heading")

    bodies: list[list[str]] = [[first]]
    used = [nbytes(first)]

    def add(line: str) -> None:
        if used[-1] + 1 + nbytes(line) > budget:
            bodies.append([])
            used.append(-1)  # no newline before a body's first line
        bodies[-1].append(line)
        used[-1] += 1 + nbytes(line)

    for section_heading, lines in sections(chosen, policy):
        add("")
        add(section_heading)
        continued = f"{section_heading}{CONTINUED}"
        full = budget - nbytes(continued) - 1  # the most one line can take in a message of its own
        for line in lines:
            rest = line
            while rest:
                free = budget - used[-1] - 1
                if nbytes(rest) <= free:
                    bodies[-1].append(rest)
                    used[-1] += 1 + nbytes(rest)
                    break
                if nbytes(rest) <= full or free < 64:  # the kind goes on in the next message
                    bodies.append([continued])
                    used.append(nbytes(continued))
                    continue
                piece, rest = _split(rest, free)  # longer than a whole message: cut, marked …
                bodies[-1].append(piece)
                used[-1] += 1 + nbytes(piece)
    n = len(bodies)
    messages = []
    for i, body in enumerate(bodies, start=1):
        part = f" ({i}/{n})" if n > 1 else ""
        while body and body[0] == "":
            body = body[1:]
        text = "\n".join([f"{head}{part}", *body])
        assert nbytes(text) <= max_bytes, (nbytes(text), max_bytes)
        messages.append(Message(title=f"{heading}{part}", text=text))
    return messages
