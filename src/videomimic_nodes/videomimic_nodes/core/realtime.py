"""SCHED_FIFO for the deploy nodes' threads, so a busy machine cannot delay the control path.

On a 2-core computer shared with perception and logging, a normal-priority control thread
waits behind whatever the kernel runs first; p99 latency then measures the load, not the code.
A node started with ``realtime_priority`` > 0 moves every thread it has (the executor and the
DDS threads rclpy started) to SCHED_FIFO at that priority. Python makes this all-or-nothing
per process: a normal-priority thread preempted while it holds the GIL would stall the
real-time one behind it (priority inversion), so the whole process is promoted.

Linux only; needs root or CAP_SYS_NICE (``ulimit -r`` / ``rtprio`` in limits.conf, see
docs/real_robot.md). Where it is refused the node runs at normal priority and says so once.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def set_fifo(tid: int, priority: int) -> bool:
    """SCHED_FIFO at ``priority`` for one thread (``tid`` 0: the calling thread); False if refused."""
    if priority <= 0 or not hasattr(os, "SCHED_FIFO"):
        return False
    try:
        os.sched_setscheduler(tid, os.SCHED_FIFO, os.sched_param(priority))
    except (OSError, PermissionError):
        return False
    return True


def thread_ids() -> list[int]:
    """Kernel ids of this process's threads (empty where /proc is not there)."""
    try:
        return sorted(int(p.name) for p in Path("/proc/self/task").iterdir())
    except OSError:
        return []


def promote_process(priority: int) -> tuple[int, int]:
    """Move every current thread of this process to SCHED_FIFO; returns (promoted, total).

    Threads started later inherit the policy (Linux clones the scheduling attributes), so calling
    this once after the node and its DDS participant exist covers the process for its lifetime.
    """
    return promote_threads(thread_ids(), priority)


def promote_threads(tids: list[int] | set[int], priority: int) -> tuple[int, int]:
    """SCHED_FIFO for the given threads (those already above ``priority`` keep theirs); (promoted, total)."""
    tids = list(tids)
    if priority <= 0:
        return 0, len(tids)
    return sum(_above(t, priority) or set_fifo(t, priority) for t in tids), len(tids)


def _above(tid: int, priority: int) -> bool:
    """A thread already real-time at a higher priority (a control loop) keeps its own."""
    try:
        return os.sched_getscheduler(tid) == os.SCHED_FIFO and os.sched_getparam(tid).sched_priority >= priority
    except OSError:
        return False


def at_normal_priority(cmd: list[str]) -> list[str]:
    """``cmd`` to start as a child at normal scheduling (SCHED_OTHER) whatever the caller runs at.

    A process started from a SCHED_FIFO thread inherits SCHED_FIFO and its priority: a helper
    that a real-time probe or bench starts (a "normal priority" bridge, a CLI query) would then
    run above the nodes it is meant to sit beside, and starve them (seen: 100-380 ms stalls of the
    bridge, dropping it to damping, from a query process started by a SCHED_FIFO 70 monitor).
    Uses util-linux's ``chrt``; where it is missing, ``cmd`` is returned unchanged.
    """
    try:
        rt = os.sched_getscheduler(0) in (os.SCHED_FIFO, os.SCHED_RR)
    except (AttributeError, OSError):
        return list(cmd)
    chrt = shutil.which("chrt") if rt else None
    return [chrt, "--other", "0", *cmd] if chrt else list(cmd)
