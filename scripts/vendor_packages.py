"""Decide which of our vendor-interface packages to leave out of the colcon build.

We ship message-only copies of ``unitree_hg``, ``livox_ros_driver2`` and ``grid_map_msgs`` so the
workspace builds anywhere. Where the real package exists — installed in a sourced underlay
(e.g. /opt/ros/jazzy, a unitree_ros2 install) or as source elsewhere under ``src/`` — ours must not
be built, or two packages of one name would collide. ``VM_VENDOR_INTERFACES=ours|theirs`` forces
the choice. Prints the reason per package, or colcon arguments with ``--skip-args``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OURS = ROOT / "src" / "interfaces"
PACKAGES = ("unitree_hg", "livox_ros_driver2", "grid_map_msgs")


def _in_underlay(name: str) -> str | None:
    install = (ROOT / "install").resolve()
    for prefix in filter(None, os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep)):
        p = Path(prefix).resolve()
        if p == install or install in p.parents:
            continue  # our own build
        if (p / "share" / "ament_index" / "resource_index" / "packages" / name).exists():
            return str(p)
    return None


def _in_sources(name: str) -> str | None:
    for xml in (ROOT / "src").rglob("package.xml"):
        if OURS in xml.parents or "COLCON_IGNORE" in os.listdir(xml.parent):
            continue
        if f"<name>{name}</name>" in xml.read_text(errors="ignore"):
            return str(xml.parent)
    return None


def decide() -> dict[str, str | None]:
    """Map package -> reason to skip ours (None: build ours)."""
    force = os.environ.get("VM_VENDOR_INTERFACES", "").lower()
    out: dict[str, str | None] = {}
    for name in PACKAGES:
        if force == "ours":
            out[name] = None
        elif force == "theirs":
            out[name] = "VM_VENDOR_INTERFACES=theirs"
        else:
            where = _in_sources(name) or _in_underlay(name)
            out[name] = f"real package found at {where}" if where else None
    return out


def main() -> int:
    decisions = decide()
    if "--skip-args" in sys.argv:
        skip = [n for n, why in decisions.items() if why]
        print(f"--packages-ignore {' '.join(skip)}" if skip else "")
    else:
        for name, why in decisions.items():
            print(f"{name}: {'use ' + why if why else 'build ours (src/interfaces/' + name + ')'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
