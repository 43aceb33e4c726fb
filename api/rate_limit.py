"""A small in-process sliding-window limiter (login attempts, anonymous reports).

Per worker process: with N workers a client gets at most N times the limit, which still
stops guessing and flooding. Keys are client addresses; the table is bounded so that a
flood of addresses cannot exhaust memory.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from typing import Any

MAX_KEYS = 10_000


class RateLimiter:
    """At most ``limit`` events per ``window_s`` seconds for each key."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._events: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> float:
        """0 when ``key`` may go on (and the event is counted); else seconds to wait."""
        now = time.monotonic()
        with self._lock:
            events = self._events.get(key)
            if events is None:
                events = deque()
                self._events[key] = events
                while len(self._events) > MAX_KEYS:
                    self._events.popitem(last=False)
            self._events.move_to_end(key)
            while events and events[0] <= now - self.window_s:
                events.popleft()
            if len(events) >= self.limit:
                return max(0.0, events[0] + self.window_s - now)
            events.append(now)
            return 0.0

    def wait_s(self, key: str) -> float:
        """Seconds ``key`` must wait before its next event, without counting one (0: may go on)."""
        now = time.monotonic()
        with self._lock:
            events = self._events.get(key)
            if not events:
                return 0.0
            while events and events[0] <= now - self.window_s:
                events.popleft()
            return max(0.0, events[0] + self.window_s - now) if len(events) >= self.limit else 0.0

    def reset(self, key: str) -> None:
        with self._lock:
            self._events.pop(key, None)


# Anonymous reports (POST /cases without a token, Open311 POST) per client address and hour.
PUBLIC_REPORTS_PER_HOUR = 30


def public_report_limiter(app: Any) -> RateLimiter:
    """The app's limiter of anonymous reports, shared by every way in (one per app, never global)."""
    limiter = getattr(app.state, "public_report_limiter", None)
    if limiter is None:
        limiter = app.state.public_report_limiter = RateLimiter(PUBLIC_REPORTS_PER_HOUR, 3600)
    return limiter
