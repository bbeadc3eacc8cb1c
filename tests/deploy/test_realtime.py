"""Real-time scheduling of the deploy nodes (core.realtime): threads really end up SCHED_FIFO."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from fifo_probe import needs_fifo
from videomimic_nodes.core import realtime


def _in_thread(fn):  # -> whatever fn returned, run in a fresh thread (so this process stays as it is)
    out: list = []
    th = threading.Thread(target=lambda: out.append(fn()))
    th.start()
    th.join()
    return out[0]


def test_priority_zero_changes_nothing() -> None:
    def body():
        tid = threading.get_native_id()
        return realtime.promote_threads([tid], 0), os.sched_getscheduler(tid)

    (done, total), policy = _in_thread(body)
    assert (done, total) == (0, 1) and policy == os.SCHED_OTHER


@needs_fifo
def test_promote_threads_sets_fifo_and_keeps_a_higher_loop() -> None:
    """A control loop already at a higher priority keeps it; the other threads get the node's."""
    started, release = threading.Barrier(3), threading.Event()
    tids: dict[str, int] = {}

    def worker(name: str, prio: int) -> None:
        tids[name] = threading.get_native_id()
        realtime.set_fifo(0, prio)
        started.wait(5)
        release.wait(5)

    threads = [threading.Thread(target=worker, args=("loop", 50)), threading.Thread(target=worker, args=("exec", 0))]
    for th in threads:
        th.start()
    try:
        started.wait(5)
        done, total = realtime.promote_threads(tids.values(), 45)
        assert (done, total) == (2, 2)
        assert os.sched_getscheduler(tids["exec"]) == os.SCHED_FIFO
        assert os.sched_getparam(tids["exec"]).sched_priority == 45
        assert os.sched_getparam(tids["loop"]).sched_priority == 50  # not lowered
    finally:
        release.set()
        for th in threads:
            th.join()


@needs_fifo
@pytest.mark.ros
def test_bridge_node_runs_all_threads_at_its_configured_priority(tmp_path: Path, ros_domain: int) -> None:
    """g1_bridge with realtime_priority:=60 (config/deploy.yaml): every thread of the process,
    DDS included, is SCHED_FIFO 60 and the node says so."""
    from rosprobe import NODE_LIB, start_node, stop_node

    if not NODE_LIB.is_dir():
        pytest.skip("videomimic_nodes not built: run bash scripts/setup.sh")
    log = tmp_path / "bridge.log"
    proc = start_node("g1_bridge", log, realtime_priority=60)
    try:
        end = time.monotonic() + 30
        while "SCHED_FIFO" not in log.read_text() and time.monotonic() < end and proc.poll() is None:
            time.sleep(0.1)
        assert "SCHED_FIFO priority 60 on all" in log.read_text(), log.read_text()
        tids = [int(p.name) for p in Path(f"/proc/{proc.pid}/task").iterdir()]
        assert len(tids) > 3  # executor + DDS threads
        prios = {t: (os.sched_getscheduler(t), os.sched_getparam(t).sched_priority) for t in tids}
        assert all(v == (os.SCHED_FIFO, 60) for v in prios.values()), prios
    finally:
        assert stop_node(proc) == 0, log.read_text()


@needs_fifo
def test_a_child_started_at_normal_priority_does_not_inherit_sched_fifo() -> None:
    """A helper started by a SCHED_FIFO probe (a CLI query, a 'normal priority' bridge) must not run
    above the nodes it sits beside: a child inherits the caller's SCHED_FIFO unless told otherwise."""
    import subprocess
    import sys

    show = [sys.executable, "-c", "import os; print(os.sched_getscheduler(0), os.sched_getparam(0).sched_priority)"]

    def body():
        realtime.set_fifo(0, 10)
        inherited = subprocess.run(show, capture_output=True, text=True, check=True).stdout.split()
        normal = subprocess.run(realtime.at_normal_priority(show), capture_output=True, text=True, check=True)
        return inherited, normal.stdout.split()

    inherited, normal = _in_thread(body)
    assert inherited == [str(os.SCHED_FIFO), "10"]  # what happens without the helper
    assert normal == [str(os.SCHED_OTHER), "0"]
    assert realtime.at_normal_priority(show) == show  # this (normal) thread: the command is left as it is
