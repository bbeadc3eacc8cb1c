"""`vm_info`: what this install is made of, for a bug report: versions of the library, Python, ROS 2
and every package a stage relies on (or "-" where an optional one is absent), and the robot constants.

A short table by default; ``--json`` prints the same as one JSON object (with the robot's full
constants, as stored in exported policies). Versions are read from the installed packages'
metadata, nothing heavy is imported, so it answers in about a second.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import subprocess
from collections.abc import Sequence
from pathlib import Path

from videomimic_offline import __version__
from videomimic_offline.cli import argparser, run_tool
from videomimic_offline.robot import g1

#: (distribution, what needs it). Optional ones a stage can do without say so.
PACKAGES: tuple[tuple[str, str], ...] = (
    ("numpy", "everything"),
    ("mujoco", "robot model, retargeting, sim2sim, sim_g1"),
    ("daqp", "retargeting QP"),
    ("torch", "training, policy export"),
    ("warp-lang", "training (MuJoCo Warp)"),
    ("mujoco-warp", "training (MuJoCo Warp)"),
    ("mjlab", "training environments"),
    ("rsl-rl-lib", "training (PPO, DAgger)"),
    ("onnxruntime", "policy node, eval, sim2sim"),
    ("mediapipe", "real2sim: default masks and 2D keypoints"),
    ("pycolmap", "real2sim: SfM cameras"),
    ("open3d", "real2sim: TSDF scene mesh"),
    ("viser", "r2s_view, report 3D view"),
    ("ray", "vm_batch"),
    ("rosbags", "bags (recorder, report)"),
    ("rclpy", "nodes (ROS 2)"),
    ("smplx", "optional: --fit.body-backend smpl"),
    ("sam2", "optional: --persons.mask-backend sam2"),
    ("nksr", "not installable (CUDA-only wheels); --scene.mesh-backend nksr says so"),
)


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _git_revision() -> str | None:
    root = os.environ.get("VM_ROOT") or str(Path(__file__).resolve().parent)
    try:
        res = subprocess.run(["git", "-C", root, "describe", "--always", "--dirty"], capture_output=True, text=True,
                             timeout=5)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (res.stdout.strip() or None) if res.returncode == 0 else None


def _ros() -> str:
    distro = os.environ.get("ROS_DISTRO")
    if distro:
        return f"ROS 2 {distro} (sourced install)"
    rclpy = _version("rclpy")
    return f"ROS 2 Jazzy core from PyPI wheels (rclpy {rclpy})" if rclpy else "no ROS 2 (rclpy not found)"


def collect() -> dict[str, object]:
    """Everything ``vm_info`` reports, as one JSON-able dict."""
    return {
        "videomimic_offline": __version__,
        "git": _git_revision(),
        "workspace": os.environ.get("VM_ROOT"),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "ros": _ros(),
        "rmw": os.environ.get("RMW_IMPLEMENTATION"),
        "packages": {dist: _version(dist) for dist, _ in PACKAGES},
        "robot": g1.metadata(),
    }


def table(info: dict[str, object]) -> str:
    """The human summary: a few header lines and one row per package."""
    robot = info["robot"]
    assert isinstance(robot, dict)
    lines = [
        f"videomimic_offline {info['videomimic_offline']}"
        + (f" (git {info['git']})" if info["git"] else "")
        + (f" in {info['workspace']}" if info["workspace"] else ""),
        f"python {info['python']} on {info['platform']}; {info['ros']}; rmw {info['rmw'] or 'default'}",
        f"robot: {robot['robot']}, {len(robot['joint_names'])} policy joints, control "
        f"{1 / float(robot['control_dt']):.0f} Hz, action scale {robot['action_scale']}",
        "",
    ]
    versions = info["packages"]
    assert isinstance(versions, dict)
    width = max(len(d) for d, _ in PACKAGES)
    vwidth = max(len(v or "-") for v in versions.values())
    lines.append(f"{'package':<{width}}  {'version':<{vwidth}}  used for")
    for dist, why in PACKAGES:
        lines.append(f"{dist:<{width}}  {versions[dist] or '-':<{vwidth}}  {why}")
    return "\n".join(lines)


@run_tool
def main(argv: Sequence[str] | None = None) -> int:
    """Versions of the library, Python, ROS 2 and the packages each stage uses; for bug reports."""
    parser = argparser("vm_info", __doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    ns = parser.parse_args(argv)
    info = collect()
    print(json.dumps(info, indent=2) if ns.json else table(info))
    return 0
