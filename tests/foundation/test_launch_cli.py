"""`vm_launch` / `./vm launch` as a user meets it: arguments checked before anything starts, one clear
line where a policy comes from, `--print` that runs as printed, the README's argument list, and a
graph that fails at start leaving no broken bag (issues #13 items 5-6 and #16)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from videomimic.graph import DEPLOY_ARGUMENTS, deploy_graph, deploy_notes

REPO = Path(__file__).resolve().parents[2]
VM_LAUNCH = REPO / "install" / "videomimic" / "lib" / "videomimic" / "vm_launch"
#: A deploy graph without the simulator or robot drivers: quick to start on any machine.
LIGHT = ["sim:=false", "lidar_driver:=false", "dds:=default", "odom:=external"]


def _launch(*args: str, timeout: float = 120, cwd: Path | None = None, env: dict | None = None):
    if not VM_LAUNCH.exists():
        pytest.skip("vm_launch not built: run bash scripts/setup.sh")
    return subprocess.run([str(VM_LAUNCH), *args], capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env={**os.environ, **(env or {})})  # fmt: skip


@pytest.mark.parametrize("arg", ["sim:=maybe", "record:=yes please", "lidar_driver:=2"])
def test_non_boolean_values_are_refused_before_anything_starts(arg: str) -> None:
    res = _launch("deploy", arg)
    assert res.returncode == 2, res.stdout + res.stderr
    name = arg.split(":=")[0]
    assert f"{name}:=" in res.stderr and "is not a boolean" in res.stderr and f"{name}:=true" in res.stderr
    assert "started" not in res.stdout


def test_booleans_spelled_as_launch_does() -> None:
    cfg = REPO / "config"
    for value in ("true", "True", "1", "false", "FALSE", "0"):
        names = [n.name for n in deploy_graph({"sim": value, "dds": "default"}, cfg)]
        assert ("sim_g1" in names) == (value.lower() in ("true", "1"))


def test_policy_argument_says_what_happens() -> None:
    """Issue #13 item 5: no policy is packaged; the description must not promise one."""
    doc = DEPLOY_ARGUMENTS["policy"][1]
    assert "packaged default" not in doc and "none is packaged" in doc and "./vm demo" in doc
    names = [n.name for n in deploy_graph({"sim": "true"}, REPO / "config")]
    assert "policy" not in names and "g1_bridge" in names  # stand / damping still work
    assert "policy" in [n.name for n in deploy_graph({"sim": "true", "policy": "/p.onnx"}, REPO / "config")]
    (note,) = deploy_notes({"sim": "true"})
    assert "runs/main/train/export/student.onnx" in note and "docs/training.md" in note


def test_print_shows_commands_that_exist_and_run(tmp_path: Path) -> None:
    """Issue #16: `--print` pointed at temporary parameter files that were deleted on exit."""
    res = _launch("deploy", "sim:=true", "record:=true", "policy:=/x/student.onnx", "--print")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert len(lines) >= 6
    for line in lines:
        argv = shlex.split(line)
        files = [argv[i + 1] for i, a in enumerate(argv) if a == "--params-file"]
        assert Path(argv[0]).is_file() and all(Path(f).is_file() for f in files), line  # nothing temporary
    policy = next(shlex.split(x) for x in lines if "/policy " in x)
    assert "policy_path:=/x/student.onnx" in policy
    # run one printed command as printed: it starts (here: --help, which the node answers without starting)
    sim = shlex.split(next(x for x in lines if "/sim_g1 " in x))
    ran = subprocess.run([sim[0], "--help", *sim[1:]], capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0 and "spawn" in ran.stdout


def test_no_policy_is_one_clear_line(tmp_path: Path) -> None:
    res = _launch("deploy", "sim:=true", "--print")
    assert res.returncode == 0
    notes = [x for x in res.stderr.splitlines() if "policy" in x]
    assert len(notes) == 1 and "./vm demo" in notes[0] and "Traceback" not in res.stderr


def test_readme_lists_every_launch_argument() -> None:
    """Issue #16: the README's argument list left out `odom`."""
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Deploying") :]
    section = section[: section.index("\n## ", 5)]
    listed = re.search(r"Arguments:(.*?)\.\s", section, re.S).group(1)
    named = set(re.findall(r"`(\w+)`", re.sub(r"\([^)]*\)", "", listed)))  # not the values in parentheses
    assert named == set(DEPLOY_ARGUMENTS), (
        sorted(set(DEPLOY_ARGUMENTS) - named),
        sorted(named - set(DEPLOY_ARGUMENTS)),
    )


@pytest.mark.ros
def test_a_graph_that_fails_at_start_leaves_no_bag(tmp_path: Path, ros_domain: int) -> None:
    """Issue #13 item 6: a required node that fails at start stops the graph; the recorder, stopped
    before anything was recorded, leaves no folder; one that recorded something leaves a complete bag
    (never a folder without metadata.yaml)."""
    bags = tmp_path / "bags"
    res = _launch("deploy", *LIGHT, "record:=true", f"policy:={tmp_path / 'missing.onnx'}",
                  env={"VM_BAG_DIR": str(bags)}, cwd=tmp_path, timeout=180)  # fmt: skip
    out = res.stdout + res.stderr
    assert res.returncode == 1, out
    assert "required node policy exited with code 2" in out
    errors = [x for x in out.splitlines() if "error:" in x]
    assert errors and "missing.onnx" in errors[0], out  # the cause, on one line
    assert "Traceback" not in out and "KeyboardInterrupt" not in out, out
    # On a loaded machine the recorder may catch a few messages before the graph stops: then it
    # must have closed a complete bag. What must never be left is a folder without metadata.
    from videomimic_offline.report import read_bag

    for bag in sorted(bags.iterdir()) if bags.exists() else []:
        assert bag.is_dir() and (bag / "metadata.yaml").is_file(), (
            bag,
            sorted(bag.iterdir()) if bag.is_dir() else None,
        )
        read_bag(bag)  # opens and every message deserializes
