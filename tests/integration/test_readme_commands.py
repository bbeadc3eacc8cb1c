"""Every command the README shows exists, and the cheap ones run here. The expensive ones are run
elsewhere: `./vm test` by .ci/run, `./vm demo` by test_main_job.py, the deploy graph by the deploy
e2e test; `ros2 launch ...` needs a ROS install (test_launch_equivalence.py runs there)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()
VM_COMMANDS = set(re.findall(r"^\s*([\w|-]+(?:\|[\w-]+)*)\)", (REPO / "vm").read_text(), re.M))
VM_COMMANDS = {c for group in VM_COMMANDS for c in group.split("|")}

#: README commands that another test or .ci/run executes (what runs them).
RUN_ELSEWHERE = {
    "test": ".ci/run",
    "demo": "tests/integration/test_main_job.py",
    "setup": "every ./vm command (scripts/setup.sh)",
    "build": "every ./vm command (scripts/setup.sh)",
    "bench": "bench scripts (run by hand; never timed asserts)",
    "shell": "interactive",
    "lock": "scripts/lock.py (network)",
}


def _shown() -> list[list[str]]:
    """Every `./vm ...` invocation in the README (code blocks and inline code)."""
    found = re.findall(r"\./vm ([^`\n#]*)", README)
    return [cmd.split() for cmd in found if cmd.strip()]


def test_every_vm_subcommand_in_readme_exists() -> None:
    shown = _shown()
    assert len(shown) >= 8
    for argv in shown:
        sub = argv[0]
        assert sub in VM_COMMANDS, f"README shows './vm {' '.join(argv)}' but vm has no '{sub}'"


@pytest.mark.parametrize(
    "argv",
    [["help"], ["run", "videomimic_offline", "vm_info"], ["launch", "deploy", "--show-args"],
     ["launch", "deploy", "sim:=true", "record:=true", "--print"], ["run", "videomimic_offline", "reconstruct", "--help"],
     ["run", "videomimic_offline", "retarget", "--help"], ["run", "videomimic_offline", "train_mpt", "--help"],
     ["run", "videomimic_offline", "vm_batch", "--help"], ["demo", "--help"]],
)  # fmt: skip
def test_cheap_readme_commands_run(argv: list[str]) -> None:
    env = {**os.environ, "VM_SETUP_DONE": "1"}  # setup itself is exercised by .ci/run
    res = subprocess.run([str(REPO / "vm"), *argv], capture_output=True, text=True, timeout=300, cwd=REPO, env=env)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert res.stdout.strip()


def test_commands_not_run_here_are_accounted_for() -> None:
    ran_here = {"help", "run", "launch", "demo", "lint"}
    for argv in _shown():
        assert argv[0] in ran_here or argv[0] in RUN_ELSEWHERE, f"nothing runs './vm {' '.join(argv)}'"


def test_lint_is_clean() -> None:
    """`./vm lint`: ruff check + ruff format --check over the whole repository."""
    env = {**os.environ, "VM_SETUP_DONE": "1"}
    res = subprocess.run([str(REPO / "vm"), "lint"], capture_output=True, text=True, timeout=300, cwd=REPO, env=env)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]


def test_every_tool_named_in_readme_is_installed() -> None:
    from videomimic.ament import executables

    tools = set(executables("videomimic_offline"))
    named = set(
        re.findall(
            r"`(r2s_\w+|make_\w+|train_\w+|distill_\w+|finetune_\w+|export_\w+|eval_\w+|plot_\w+|vm_\w+|sim2sim|retarget|reconstruct)",
            README,
        )
    )
    named.discard("vm_launch")
    named.discard("vm_run")
    assert named and named <= tools, named - tools
