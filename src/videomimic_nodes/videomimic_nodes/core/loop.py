"""A fixed-rate loop on absolute deadlines, in its own thread.

The policy's 50 Hz loop runs here rather than on an rclpy timer: on this kind of machine an
rclpy timer's wake-up jitter (executor wait-set churn, callbacks queued behind others) has a p99
several times that of a thread sleeping to absolute deadlines. Deadlines do not drift; a tick that
is more than a period late is skipped rather than run in a burst.

Options against the remaining jitter (``bench/deploy_latency.py`` measures each):
* ``realtime_priority`` > 0: the loop thread asks for SCHED_FIFO at that priority (Linux, needs
  CAP_SYS_NICE or root; refused quietly otherwise, see :attr:`realtime`), so other processes on the
  core cannot delay its wake-up;
* ``gc_control``: automatic garbage collection is switched off (long-lived objects frozen first)
  and a young-generation collection runs right after each tick, in the loop's own slack, instead of
  at whatever allocation happens to trigger it mid-tick;
* ``spin_s`` > 0: sleep until that long before the deadline, then busy-wait (costs spin_s of CPU
  per period; the kernel's sleep wake-up is the rest of the jitter).
"""

from __future__ import annotations

import gc
import threading
import time
from collections import deque
from collections.abc import Callable

from videomimic_nodes.core.realtime import set_fifo


class PeriodicLoop:
    def __init__(self, period_s: float, fn: Callable[[], None], name: str = "loop", realtime_priority: int = 0,
                 gc_control: bool = False, spin_s: float = 0.0) -> None:  # fmt: skip
        self.period = period_s
        self.fn = fn
        self.realtime_priority, self.gc_control, self.spin_s = realtime_priority, gc_control, spin_s
        self.realtime = False  # whether SCHED_FIFO was granted
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
        if self.gc_control:
            gc.enable()

    def _setup_thread(self) -> None:
        self.realtime = set_fifo(0, self.realtime_priority)  # tid 0: this thread (Linux schedules threads)
        if self.gc_control:
            gc.collect()
            gc.freeze()  # what exists now is never scanned again
            gc.disable()

    def _run(self) -> None:
        self._setup_thread()
        deadline = time.monotonic() + self.period
        while not self._stop.is_set():
            delay = deadline - time.monotonic() - self.spin_s
            if delay > 0:
                self._stop.wait(delay)
                if self._stop.is_set():
                    return
            while self.spin_s > 0 and time.monotonic() < deadline:
                pass
            now = time.monotonic()
            if now - deadline > self.period:
                missed = int((now - deadline) / self.period)
                self.skipped += missed
                deadline += missed * self.period
            self.starts.append(now)
            self.fn()
            if self.gc_control:  # young objects every tick, older ones each second, all each minute
                ticks = len(self.starts) + self.skipped
                gc.collect(2 if ticks % 3000 == 0 else 1 if ticks % 50 == 0 else 0)
            deadline += self.period

    def jitter_s(self) -> list[float]:
        """|interval - period| between consecutive ticks."""
        s = list(self.starts)
        return [abs(b - a - self.period) for a, b in zip(s[:-1], s[1:])]
