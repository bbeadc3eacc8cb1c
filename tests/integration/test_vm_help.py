"""`./vm help` lists the tools, graphs and benches from their one owner; `./vm bench` alone lists the
benches; `vm_info` prints a short table of versions (JSON with --json)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "VM_SETUP_DONE": "1"}
sys.path.insert(0, str(REPO / "scripts"))
import catalog  # noqa: E402


def _vm(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(REPO / "vm"), *argv], capture_output=True, text=True, timeout=120, cwd=REPO, env=ENV)


def test_help_lists_every_tool_graph_and_bench() -> None:
    res = _vm("help")
    assert res.returncode == 0, res.stderr
    from videomimic.ament import executables
    from videomimic.runner import GRAPHS

    installed = set(executables("videomimic_offline")) | {"vm_operator", "vm_deploy_check"}
    listed = {name for rows in catalog.tools().values() for name, _ in rows}
    assert listed == installed, listed ^ installed  # the catalog reads the same setup.py the build installs
    for name in [*listed, *GRAPHS, *(n for n, _ in catalog.benches())]:
        assert f"  {name} " in res.stdout, f"./vm help does not list {name}"
    for name, doc in [row for rows in catalog.tools().values() for row in rows]:
        assert doc, f"{name}: no description (give its entry function a docstring)"
    assert "retarget" in dict(catalog.benches())
    assert not any(n.startswith("peer_") for n, _ in catalog.benches())


def test_bench_without_name_lists_benches() -> None:
    res = _vm("bench")
    assert res.returncode == 0, res.stderr
    for name, _ in catalog.benches():
        assert name in res.stdout
    bad = _vm("bench", "no_such_bench")
    assert bad.returncode == 2 and "no bench 'no_such_bench'" in bad.stderr and "retarget" in bad.stderr


@pytest.mark.parametrize("flag", [[], ["--json"]])
def test_vm_info_versions(flag: list[str]) -> None:
    res = _vm("run", "videomimic_offline", "vm_info", *flag)
    assert res.returncode == 0, res.stderr
    if flag:
        info = json.loads(res.stdout)
        assert info["packages"]["numpy"].count(".") >= 1  # a version, not a boolean
        assert all(v is None or isinstance(v, str) for v in info["packages"].values())
    else:
        lines = res.stdout.splitlines()
        assert len(lines) < 40 and "{" not in res.stdout
        numpy = next(ln for ln in lines if ln.startswith("numpy "))
        assert numpy.split()[1][0].isdigit(), numpy
