"""A fixed-rate loop on absolute deadlines, in its own thread.

The policy's 50 Hz loop runs here rather than on an rclpy timer: on this kind of machine an
rclpy timer's wake-up jitter (executor wait-set churn, callbacks queued behind others) has a p99
several times that of a thread sleeping to absolute deadlines. Deadlines do not drift; a tick that
is more than a period late is skipped rather than run in a burst.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class PeriodicLoop:
    def __init__(self, period_s: float, fn: Callable[[], None], name: str = "loop") -> None:
        self.period = period_s
        self.fn = fn
        self.starts: deque[float] = deque(maxlen=5000)  # monotonic start time of each tick
        self.skipped = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> PeriodicLoop:
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        deadline = time.monotonic() + self.period
        while not self._stop.is_set():
            delay = deadline - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)
                if self._stop.is_set():
                    return
            now = time.monotonic()
            if now - deadline > self.period:
                missed = int((now - deadline) / self.period)
                self.skipped += missed
                deadline += missed * self.period
            self.starts.append(now)
            self.fn()
            deadline += self.period

    def jitter_s(self) -> list[float]:
        """|interval - period| between consecutive ticks."""
        s = list(self.starts)
        return [abs(b - a - self.period) for a, b in zip(s[:-1], s[1:])]
