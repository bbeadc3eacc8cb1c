"""Minimal ament index lookups (what `ros2 run` / `ros2 launch` do), without ros2cli."""

from __future__ import annotations

import os
from pathlib import Path


def prefixes() -> list[Path]:
    """Install prefixes on AMENT_PREFIX_PATH, in priority order."""
    return [Path(p) for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]


def package_prefix(package: str) -> Path | None:
    """Prefix that holds ``package`` (by its ament resource marker), or None."""
    for prefix in prefixes():
        if (prefix / "share" / "ament_index" / "resource_index" / "packages" / package).exists():
            return prefix
    return None


def package_share(package: str) -> Path | None:
    """``share/<package>`` of an installed package, or None."""
    prefix = package_prefix(package)
    return prefix / "share" / package if prefix else None


def executables(package: str) -> list[str]:
    """Executables a package installs in ``lib/<package>`` (what `ros2 run` offers)."""
    prefix = package_prefix(package)
    if prefix is None:
        return []
    lib = prefix / "lib" / package
    if not lib.is_dir():
        return []
    return sorted(p.name for p in lib.iterdir() if p.is_file() and os.access(p, os.X_OK))


def find_executable(package: str, executable: str) -> Path:
    """Resolve ``lib/<package>/<executable>``; raise LookupError saying what exists instead."""
    prefix = package_prefix(package)
    if prefix is None:
        raise LookupError(
            f"package '{package}' not found on AMENT_PREFIX_PATH: build the workspace (`./vm build`) "
            "or source the setup file of the install that provides it"
        )
    path = prefix / "lib" / package / executable
    if not (path.is_file() and os.access(path, os.X_OK)):
        have = ", ".join(executables(package)) or "none"
        raise LookupError(f"no executable '{executable}' in package '{package}' (it has: {have})")
    return path
