"""Setup fails early, with a message that says what to do, on a bad machine."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _copy_tree(tmp: Path) -> Path:
    """A minimal checkout (scripts + requirements) so setup runs without touching the real .venv."""
    root = tmp / "ws"
    shutil.copytree(REPO / "scripts", root / "scripts")
    shutil.copytree(REPO / "requirements", root / "requirements")
    return root


def _run(root: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("ROS_DISTRO", "VIRTUAL_ENV", "VM_PYTHON")}
    return subprocess.run(["bash", str(root / "scripts" / "setup.sh")], env={**base, **env}, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


def test_unsupported_python_is_refused(tmp_path: Path) -> None:
    other = shutil.which("python3.12") or shutil.which("python3.10") or "/bin/false"
    res = _run(_copy_tree(tmp_path), {"VM_PYTHON": other})
    assert res.returncode != 0
    assert "needs CPython 3.11" in res.stderr or "Python 3.11 not found" in res.stderr or "lacks" in res.stderr
    assert not (tmp_path / "ws" / ".venv").exists()


def test_missing_compiler_is_reported(tmp_path: Path) -> None:
    # A non-Debian machine (no dpkg) with everything setup needs except a C++ compiler.
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("bash", "cat", "sha256sum", "cut", "id", "grep", "dirname", "printf", "sed", "cmake"):
        found = shutil.which(tool)
        if found:
            (bindir / tool).symlink_to(found)
    (bindir / "python3.11").symlink_to(sys.executable if "3.11" in sys.version[:4] else shutil.which("python3.11"))
    res = _run(_copy_tree(tmp_path), {"PATH": str(bindir), "VM_PYTHON": str(bindir / "python3.11")})
    assert res.returncode != 0
    assert "no C++ compiler found" in res.stderr and "apt-get install g++" in res.stderr


def test_no_package_index_is_reported(tmp_path: Path) -> None:
    env = {"PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_EXTRA_INDEX_URL": "", "PIP_FIND_LINKS": "",
           "PIP_CONFIG_FILE": os.devnull, "PIP_RETRIES": "0", "PIP_TIMEOUT": "2", "VM_PYTHON": sys.executable}  # fmt: skip
    res = _run(_copy_tree(tmp_path), env)
    assert res.returncode != 0
    assert "could not reach the package index" in res.stderr or "pip install failed" in res.stderr
