"""Why a periodic thread missed its period: waiting for a CPU, its own work, or its own process.

A simulated robot whose clock stops for a third of a second makes the bridge damp on "stale
LowState", rightly. Which of three things stopped it decides the fix, and only the kernel's
per-thread accounting tells them apart:

* **waiting for a CPU** (``run_delay`` in ``/proc/<pid>/task/<tid>/schedstat``): the thread was
  runnable but other work, of higher priority or not, had the cores;
* **its own CPU**: the thread was running (a slow step);
* **the rest of its process**: other threads of the same process ran (in Python, most likely
  holding the GIL the thread needed).

Whatever is left was sleeping or blocked (a lock, a GIL whose holder was itself waiting).
Linux only: elsewhere the watch still measures the gap and reports the causes as unknown.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Stall:
    """One gap between two ticks of the watched thread, split by cause (ms)."""

    gap_ms: float
    cpu_wait_ms: float | None  # runnable, but another thread or process had the CPUs
    own_cpu_ms: float | None  # the watched thread itself was running
    process_cpu_ms: float | None  # the process's other threads were running (Python: the GIL)

    @property
    def rest_ms(self) -> float | None:
        """The part of the gap in none of the three: sleeping or blocked (a lock, a stalled GIL holder)."""
        if self.cpu_wait_ms is None or self.own_cpu_ms is None or self.process_cpu_ms is None:
            return None
        return max(0.0, self.gap_ms - self.cpu_wait_ms - self.own_cpu_ms - self.process_cpu_ms)

    @property
    def cause(self) -> str:
        """The largest share, in words (for the log and /vm/events)."""
        if self.rest_ms is None:
            return "unknown (no per-thread scheduler statistics here)"
        shares = {
            "waiting for a CPU (other work had the cores)": self.cpu_wait_ms,
            "its own work (a slow step)": self.own_cpu_ms,
            "other threads of its process (the GIL)": self.process_cpu_ms,
            "sleeping or blocked": self.rest_ms,
        }
        return max(shares, key=shares.__getitem__)

    def describe(self) -> str:
        def ms(v: float | None) -> str:
            return "?" if v is None else f"{v:.0f}"

        return (f"paused {self.gap_ms:.0f} ms: {ms(self.cpu_wait_ms)} ms waiting for a CPU, "
                f"{ms(self.own_cpu_ms)} ms its own CPU, {ms(self.process_cpu_ms)} ms other threads of the process; "
                f"mostly {self.cause}")  # fmt: skip


class StallWatch:
    """Made and ticked by the watched thread. Call ``tick()`` once per period; it returns a ``Stall`` when the
    time since the previous tick exceeded ``threshold_s``, else None. Cheap enough for 500 Hz:
    one ``pread`` of an already open /proc file per tick."""

    def __init__(self, threshold_s: float) -> None:
        self.threshold_s = threshold_s
        self._fd = _open_schedstat(threading.get_native_id())
        self._last: tuple[float, float | None, float | None, float] | None = None

    def tick(self) -> Stall | None:
        now = (time.monotonic(), *self._schedstat(), time.process_time())
        last, self._last = self._last, now
        if last is None or now[0] - last[0] <= self.threshold_s:
            return None
        gap = (now[0] - last[0]) * 1e3
        run, wait = (None, None) if now[1] is None or last[1] is None else (now[1] - last[1], now[2] - last[2])
        proc = (now[3] - last[3]) * 1e3
        return Stall(
            gap_ms=gap, cpu_wait_ms=wait, own_cpu_ms=run, process_cpu_ms=None if run is None else max(0.0, proc - run)
        )

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _schedstat(self) -> tuple[float | None, float | None]:
        """(ms on a CPU, ms runnable but waiting) of the watched thread, or (None, None)."""
        if self._fd is None:
            return None, None
        try:
            run_ns, wait_ns, _ = os.pread(self._fd, 96, 0).split()
        except (OSError, ValueError):
            return None, None
        return int(run_ns) / 1e6, int(wait_ns) / 1e6


def _open_schedstat(tid: int) -> int | None:
    try:
        return os.open(f"/proc/self/task/{tid}/schedstat", os.O_RDONLY)
    except OSError:
        return None
