"""Setup's build recovers a checkout updated over an older build (what a user who pulls gets)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PKG = "videomimic_nodes"


def _build(ws: Path, *cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), cwd=ws, capture_output=True, text=True, timeout=600, env=dict(os.environ))


@pytest.mark.ros
def test_setup_build_recovers_from_an_older_checkouts_install(tmp_path: Path) -> None:
    if shutil.which("colcon") is None:
        pytest.skip("colcon is not on PATH (enter the workspace environment)")
    ws = tmp_path / "ws"
    shutil.copytree(
        REPO / "src" / PKG, ws / "src" / PKG, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"), symlinks=True
    )
    script = str(REPO / "scripts" / "colcon_build.sh")
    first = _build(ws, "bash", script)
    assert first.returncode == 0, first.stdout + first.stderr
    # Before bin/ scripts, each node was a setuptools console-script wrapper: a plain file in install/.
    exe = ws / "install" / PKG / "lib" / PKG / "sim_g1"
    assert exe.is_symlink()
    exe.unlink()
    exe.write_text("#!/usr/bin/python3\n# console-script wrapper written by an older checkout\n")
    os.utime(exe, (1.6e9, 1.6e9))  # older than the checkout's bin/ files (else install_data skips it)
    plain = _build(ws, "colcon", "build", "--symlink-install", "--event-handlers", "console_cohesion-", "status-")
    assert plain.returncode != 0  # what setup used to stop at ("File exists: ...")
    again = _build(ws, "bash", script)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"colcon build failed for: {PKG}" in again.stdout and "building once more" in again.stdout
    assert exe.is_symlink() and exe.resolve() == (ws / "src" / PKG / "bin" / "vm_node").resolve()
    assert (ws / "log" / "colcon-build.log").is_file()


@pytest.mark.ros
def test_a_real_build_failure_still_fails(tmp_path: Path) -> None:
    if shutil.which("colcon") is None:
        pytest.skip("colcon is not on PATH (enter the workspace environment)")
    ws = tmp_path / "ws"
    shutil.copytree(
        REPO / "src" / PKG, ws / "src" / PKG, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"), symlinks=True
    )
    (ws / "src" / PKG / "setup.py").write_text("raise SystemExit('broken on purpose')\n")
    res = _build(ws, "bash", str(REPO / "scripts" / "colcon_build.sh"))
    assert res.returncode != 0
    assert "building once more" in res.stdout and "Failed" in res.stdout
