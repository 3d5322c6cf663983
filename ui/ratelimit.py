"""Per-client rate limits, in memory only: no IP address is stored."""

import threading
import time
from collections import defaultdict, deque


class RateLimited(Exception):
    """Too many questions from one client in the last minute; the message says when to try again."""


class RateLimiter:
    """A sliding one-minute window per client key, kept in memory only (no IP address is stored)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            window = self._seen[client]
            while window and now - window[0] > 60:
                window.popleft()
            if len(window) >= self.per_minute:
                wait = int(60 - (now - window[0])) + 1
                raise RateLimited(f"Too many questions: the limit is {self.per_minute} a minute. "
                                  f"Please try again in {wait} seconds.")
            window.append(now)
