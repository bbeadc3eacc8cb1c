"""Whether this machine lets the tests ask for SCHED_FIFO (root or CAP_SYS_NICE), probed once."""

from __future__ import annotations

import os
import threading

import pytest
from videomimic_nodes.core import realtime


def fifo_permitted() -> bool:
    """Asked from a throwaway thread, so the test process itself stays at normal priority."""
    if not hasattr(os, "SCHED_FIFO"):
        return False
    probe: list[bool] = []
    th = threading.Thread(target=lambda: probe.append(realtime.set_fifo(0, 1)))
    th.start()
    th.join()
    return probe[0]


needs_fifo = pytest.mark.skipif(not fifo_permitted(), reason="SCHED_FIFO refused here (needs root/CAP_SYS_NICE)")
