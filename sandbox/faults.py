"""Fault mode shared by every channel sandbox: at a set rate, a request gets one of the failures real platforms
produce — a throttle in the platform's own envelope, a 5xx, a timeout, a truncated JSON body, or a page whose
records overlap the previous page (data moving while a client pages). Deterministic for a given seed.

A server asks `faults.draw()` once per data request (never for the test-only `/_sandbox/*` endpoints) and
applies the fault it gets; throttles must be rendered in that platform's own error envelope by the server.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

KINDS = ("throttle", "server_error", "timeout", "truncated", "overlap")


@dataclass
class FaultConfig:
    rate: float = 0.0
    """Share of data requests that get a fault (0.2 = 20 %)."""
    kinds: tuple[str, ...] = KINDS
    seed: int = 0
    timeout_seconds: float = 3.0
    """How long a `timeout` fault stalls before answering (clients should time out sooner)."""
    throttle_seconds: int = 1
    """The wait a throttle asks for (kept short so tests stay fast)."""


@dataclass
class Faults:
    """Thread-safe fault drawer; `counts` records what was injected (tests assert faults really happened)."""

    config: FaultConfig = field(default_factory=FaultConfig)
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.config.kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {KINDS}")
        self._rng = random.Random(self.config.seed)
        self._lock = threading.Lock()

    def configure(self, config: FaultConfig) -> None:
        with self._lock:
            self.config = config
            self._rng = random.Random(config.seed)

    def draw(self) -> str | None:
        """The fault for this request, or None."""
        with self._lock:
            if self.config.rate <= 0 or self._rng.random() >= self.config.rate:
                return None
            kind = self._rng.choice(self.config.kinds)
            self.counts[kind] = self.counts.get(kind, 0) + 1
            return kind

    @staticmethod
    def truncate(body: bytes) -> bytes:
        """A JSON body cut in the middle, as a dropped connection leaves it."""
        return body[: max(1, len(body) // 2)]
