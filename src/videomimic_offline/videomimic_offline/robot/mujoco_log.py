"""MuJoCo's warnings on stderr (the run's log), never in a ``MUJOCO_LOG.TXT`` in the user's cwd.

Without a user warning handler, MuJoCo appends every warning (an attach conflict, a "Nan, Inf or
huge value in QACC", a full contact buffer) to ``MUJOCO_LOG.TXT`` in the process's working
directory: a file a user never asked for, left wherever they happened to start ``./vm``, and seen
by nobody. :func:`route_warnings` installs a handler that says each kind of warning once on
stderr, where every tool's and node's log already goes (the main job's step logs, ``vm_launch``'s
node output), and counts the repeats (a simulation can warn every step).

Installed by :func:`videomimic_offline.robot.model.g1_spec`, the one path through which every
simulator, renderer and trainer here builds a MuJoCo model of the G1; idempotent.
"""

from __future__ import annotations

import re
import sys
import threading

#: times each kind of warning was seen (its text with the numbers masked: "... at DOF 3 ... Time = 1.2"
#: is one kind); after the first, it is only counted.
SEEN: dict[str, int] = {}
_LOCK = threading.Lock()
_installed = False


def _handler(message: str) -> None:
    text = str(message).strip()
    kind = re.sub(r"\d+(\.\d+)?", "#", text)
    with _LOCK:
        n = SEEN.get(kind, 0) + 1
        SEEN[kind] = n
    if n == 1:
        print(f"[mujoco] warning: {text} (repeats of this kind not shown)", file=sys.stderr, flush=True)


def route_warnings() -> None:
    """Send MuJoCo's warnings to stderr (once per kind) instead of ``MUJOCO_LOG.TXT`` in the cwd."""
    global _installed
    if _installed:
        return
    import mujoco

    mujoco.set_mju_user_warning(_handler)
    _installed = True
