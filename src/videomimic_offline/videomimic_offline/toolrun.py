"""Run this package's console tools as processes, the way `ros2 run videomimic_offline <tool>` would.

The main job and the batch processor chain stages through their public tools (same arguments,
progress and error messages a user sees), not through private functions.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from videomimic_offline.errors import BackendUnavailableError, InputError

PACKAGE = "videomimic_offline"


def find_tool(name: str, package: str = PACKAGE) -> Path:
    """``<prefix>/lib/<package>/<name>`` on AMENT_PREFIX_PATH (what ``ros2 run`` finds; PATH need not hold it)."""
    for prefix in filter(None, os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep)):
        exe = Path(prefix) / "lib" / package / name
        if exe.is_file():
            return exe
    raise BackendUnavailableError(f"console tool '{name}' is not installed: run ./vm build (or source the workspace)")


def run_tool_process(name: str, *args: str, log: Path | None = None, ok: tuple[int, ...] = (0,)) -> int:
    """Run tool ``name``; its exit status, or InputError naming it (and its log) when that is not in ``ok``."""
    cmd = [str(find_tool(name)), *args]
    if log is None:
        rc = subprocess.call(cmd)
    else:
        with open(log, "a") as fh:
            rc = subprocess.call(cmd, stdout=fh, stderr=subprocess.STDOUT)
    if rc not in ok:
        where = f"; see {log}" if log else " (its message is above)"
        raise InputError(f"'{name}' failed with exit code {rc}{where}")
    return rc
