"""rosbags typestore for ROS 2 Jazzy plus this workspace's interface packages.

Bags hold raw CDR; reading (report, tests) or writing (the recorder) them with `rosbags` needs the
message definitions, which are taken from the installed ``share/<pkg>/msg/*.msg`` of whichever
package is on the ament prefix path — ours or the vendor's real one.
"""

from __future__ import annotations

import os
from pathlib import Path

INTERFACE_PACKAGES = ("unitree_hg", "livox_ros_driver2", "grid_map_msgs")


def share_dirs() -> list[Path]:
    """``share/`` of every prefix on AMENT_PREFIX_PATH, in priority order."""
    return [Path(p) / "share" for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]


def interface_typestore(shares: list[Path] | None = None):  # -> rosbags.typesys.store.Typestore
    """Jazzy typestore with our interface packages' messages registered (first prefix wins)."""
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    store = get_typestore(Stores.ROS2_JAZZY)
    types = {}
    for pkg in INTERFACE_PACKAGES:
        for share in shares if shares is not None else share_dirs():
            msg_dir = Path(share) / pkg / "msg"
            if msg_dir.is_dir():
                for f in sorted(msg_dir.glob("*.msg")):
                    types.update(get_types_from_msg(f.read_text(), f"{pkg}/msg/{f.stem}"))
                break
    store.register(types)
    return store
