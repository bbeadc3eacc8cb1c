"""package.xml declarations match what each package's Python imports, and the workspace has no cycle.

colcon orders and rosdep installs from package.xml alone; an import a package does not declare works
here only because everything is built together, and a cycle (A imports B while B depends on A) is
invisible to both tools until someone installs one package on its own.
"""

from __future__ import annotations

import ast
import os
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEP_TAGS = ("depend", "build_depend", "exec_depend", "build_export_depend")
#: rosdep keys of the third-party Python modules whose rosdep key we declare (pip-only ones are in requirements/).
ROSDEP_PY = {"numpy": "python3-numpy", "scipy": "python3-scipy", "yaml": "python3-yaml"}
#: ROS 2 packages that launch files import but that no PyPI wheel installs here (so not in the ament index).
ROS_LAUNCH = {"launch", "launch_ros", "ament_index_python"}


def _packages() -> dict[str, Path]:
    """Workspace package name -> its folder."""
    found = {}
    for xml in REPO.glob("src/**/package.xml"):
        if "COLCON_IGNORE" in {p.name for p in xml.parent.iterdir()}:
            continue
        found[ET.parse(xml).getroot().findtext("name")] = xml.parent
    return found


def _declared(folder: Path) -> set[str]:
    root = ET.parse(folder / "package.xml").getroot()
    return {e.text.strip() for tag in DEP_TAGS for e in root.iter(tag) if e.text}


def _ros_packages() -> set[str]:
    names = set(ROS_LAUNCH)
    for prefix in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep):
        index = Path(prefix) / "share" / "ament_index" / "resource_index" / "packages"
        if index.is_dir():
            names |= {p.name for p in index.iterdir()}
    return names


def _imports(folder: Path) -> set[str]:
    """Top-level modules imported by the package's Python files (its module, launch/ and setup.py)."""
    mods: set[str] = set()
    files = [Path(d) / f for d, _, fs in os.walk(folder, followlinks=True) for f in fs if f.endswith(".py")]
    for py in files:  # launch/ and config/ of the bringup are symlinks into the repo root
        for node in ast.walk(ast.parse(py.read_text(), str(py))):
            if isinstance(node, ast.Import):
                mods |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                mods.add(node.module.split(".")[0])
    return mods


def test_every_imported_ros_package_is_declared() -> None:
    pkgs = _packages()
    ros = _ros_packages() | set(pkgs)
    missing = {}
    for name, folder in pkgs.items():
        if not (folder / "setup.py").is_file():
            continue  # CMake message packages: no Python of their own
        imported = _imports(folder) - {name}
        needed = {m for m in imported if m in ros} | {ROSDEP_PY[m] for m in imported if m in ROSDEP_PY}
        lacking = needed - _declared(folder)
        if lacking:
            missing[name] = sorted(lacking)
    assert not missing, f"imported but not declared in package.xml: {missing}"


def test_workspace_dependencies_have_no_cycle() -> None:
    pkgs = _packages()
    deps = {n: _declared(f) & set(pkgs) for n, f in pkgs.items()}
    done: set[str] = set()

    def visit(n: str, path: tuple[str, ...]) -> None:
        assert n not in path, f"dependency cycle: {' -> '.join((*path, n))}"
        if n in done:
            return
        for d in deps[n]:
            visit(d, (*path, n))
        done.add(n)

    for n in deps:
        visit(n, ())
