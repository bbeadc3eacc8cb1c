"""Shared test fixtures: repo paths, the shared real-data folder, and DDS isolation."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO / ".." / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root."""
    return REPO


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the repo (real third-party files); skip where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present on this machine")
    return SHARED_DATA


@pytest.fixture()
def ros_domain(monkeypatch: pytest.MonkeyPatch) -> int:
    """A private ROS_DOMAIN_ID for this test and the processes it starts (no cross-talk)."""
    domain = random.Random(f"{os.getpid()}-{os.urandom(4).hex()}").randint(1, 101)
    monkeypatch.setenv("ROS_DOMAIN_ID", str(domain))
    monkeypatch.setenv("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    return domain


@pytest.fixture(scope="session")
def smoke_student(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An exported student (.onnx) for deploy tests: a pretrained one when videomimic_offline ships
    one, else the training pipeline's smoke run (the four stages, one tiny iteration each, once per
    session: a trained policy in the real exported format, plumbing rather than walking)."""
    try:
        from videomimic_offline.policy import pretrained  # type: ignore[attr-defined]

        return Path(pretrained.student_path())
    except (ImportError, AttributeError, FileNotFoundError):
        pass
    from videomimic_offline.training import stages
    from videomimic_offline.training.export import export_student
    from videomimic_offline.training.sample_data import make_sample_data

    root = tmp_path_factory.mktemp("smoke_student")
    data = make_sample_data(root / "data", seconds=1.0)
    tiny = dict(
        out=root,
        iterations=1,
        save_interval=1,
        progress=False,
        env={"num_envs": 4, "patch_size": 4.0, "terrain": ("flat",)},
        agent={"steps_per_env": 8, "hidden": (64, 64)},
    )
    ck = stages.train_stage(stages.stage_config("mpt", motions=[data["mocap"]], **tiny))
    for stage in ("teacher", "distill", "finetune"):
        ck = stages.train_stage(stages.stage_config(stage, motions=[data["clips"]], init=ck, **tiny))
    return export_student(ck, root / "export")["onnx"]
