"""Shared test fixtures: repo paths, the shared real-data folder, and DDS isolation."""

from __future__ import annotations

import fcntl
import os
import random
import tempfile
from collections.abc import Iterator
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


#: One lock file per ROS domain, shared by every test process on this machine (any checkout).
DOMAIN_LOCKS = Path(tempfile.gettempdir()) / "videomimic-ros-domains"


@pytest.fixture()
def ros_domain(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """A private ROS_DOMAIN_ID for this test and the processes it starts (no cross-talk).

    Held, not just drawn: a random domain of 101 was shared now and then by two suites running at
    once on one machine (several checkouts, LOCALHOST discovery), and a node then took the other
    test's messages. Each domain is claimed with an exclusive lock on its file for the test's
    duration; a domain another test holds is skipped. Reach and transport stay those of
    scripts/env.sh (this machine, UDP without shared memory), the same for every process.
    """
    DOMAIN_LOCKS.mkdir(exist_ok=True)
    order = list(range(1, 102))
    random.Random(f"{os.getpid()}-{os.urandom(4).hex()}").shuffle(order)
    for domain in order:
        fh = open(DOMAIN_LOCKS / f"{domain}.lock", "a")  # noqa: SIM115 - held for the test
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            continue
        monkeypatch.setenv("ROS_DOMAIN_ID", str(domain))
        try:
            yield domain
        finally:
            fh.close()  # releases the lock
        return
    pytest.fail(f"every ROS domain 1-101 is held by other tests on this machine ({DOMAIN_LOCKS})")


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
