"""`vm_info`: print the library version, robot constants and which optional backends are present."""

from __future__ import annotations

import importlib.util
import json

from videomimic_offline import __version__
from videomimic_offline.cli import run_tool
from videomimic_offline.robot import g1

_OPTIONAL = ("torch", "mujoco", "mjlab", "mediapipe", "pycolmap", "open3d", "smplx", "sam2", "nksr", "onnxruntime")


@run_tool
def main() -> int:
    """Print a JSON summary; useful in bug reports."""
    backends = {m: importlib.util.find_spec(m) is not None for m in _OPTIONAL}
    print(json.dumps({"videomimic_offline": __version__, "robot": g1.metadata(), "packages": backends}, indent=2))
    return 0
