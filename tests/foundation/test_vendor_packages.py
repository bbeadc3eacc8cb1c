"""Our message-only vendor packages step aside when the real ones are present."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "vendor_packages.py"


def _skip_args(env: dict[str, str]) -> str:
    base = {k: v for k, v in os.environ.items() if k != "VM_VENDOR_INTERFACES"}
    return subprocess.run([sys.executable, str(SCRIPT), "--skip-args"], env={**base, **env}, capture_output=True,
                          text=True, check=True).stdout.strip()  # fmt: skip


def test_builds_ours_when_no_real_package(monkeypatch) -> None:
    install = str(REPO / "install" / "unitree_hg")  # our own install never counts as "the real one"
    assert _skip_args({"AMENT_PREFIX_PATH": install}) == ""


def test_skips_ours_when_underlay_has_real_package(tmp_path: Path) -> None:
    underlay = tmp_path / "opt_ros"
    marker = underlay / "share" / "ament_index" / "resource_index" / "packages"
    marker.mkdir(parents=True)
    (marker / "unitree_hg").touch()
    (marker / "grid_map_msgs").touch()
    assert _skip_args({"AMENT_PREFIX_PATH": str(underlay)}) == "--packages-ignore unitree_hg grid_map_msgs"


def test_override_by_environment() -> None:
    assert (
        _skip_args({"VM_VENDOR_INTERFACES": "theirs"}) == "--packages-ignore unitree_hg livox_ros_driver2 grid_map_msgs"
    )
    assert _skip_args({"VM_VENDOR_INTERFACES": "ours", "AMENT_PREFIX_PATH": ""}) == ""


def test_real_source_package_in_workspace_wins(tmp_path: Path) -> None:
    """With unitree_ros2's unitree_hg in src/, ours is marked COLCON_IGNORE and colcon sees one."""
    ws = tmp_path / "ws"
    shutil.copytree(REPO / "scripts", ws / "scripts")
    shutil.copytree(
        REPO / "src" / "interfaces", ws / "src" / "interfaces", ignore=shutil.ignore_patterns("COLCON_IGNORE")
    )
    real = ws / "src" / "unitree_ros2" / "unitree_hg"
    real.mkdir(parents=True)
    (real / "package.xml").write_text((REPO / "src/interfaces/unitree_hg/package.xml").read_text())
    run = [sys.executable, str(ws / "scripts" / "vendor_packages.py"), "--skip-args"]
    env = {**os.environ, "AMENT_PREFIX_PATH": "", "VM_VENDOR_INTERFACES": ""}
    assert subprocess.run(run, env=env, capture_output=True, text=True, check=True).stdout.strip() == ""
    assert (ws / "src/interfaces/unitree_hg/COLCON_IGNORE").exists()
    listed = subprocess.run(
        [shutil.which("colcon") or "colcon", "list"], cwd=ws, capture_output=True, text=True, check=True
    )
    rows = [line.split("\t") for line in listed.stdout.splitlines()]
    assert [r[1] for r in rows if r[0] == "unitree_hg"] == ["src/unitree_ros2/unitree_hg"]
    # The real package goes away: the marker is removed and ours is built again.
    shutil.rmtree(ws / "src" / "unitree_ros2")
    subprocess.run(run, env=env, capture_output=True, text=True, check=True)
    assert not (ws / "src/interfaces/unitree_hg/COLCON_IGNORE").exists()
