"""Tiny offline training data and a small evaluation env on it, shared by the training tests."""

from __future__ import annotations

import pytest
from videomimic_offline.training.sample_data import make_sample_data


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_sample_data(tmp_path_factory.mktemp("train_data"))


@pytest.fixture
def flat_teacher_env(data, tmp_path):
    """A 2-env teacher-stage env in evaluation mode on the sample clip (4 m patch, flat floor)."""
    from videomimic_offline.training.stages import build_env, load_clips, stage_config

    cfg = stage_config(
        "teacher", out=tmp_path, motions=[data["clips"]], env={"num_envs": 2, "patch_size": 4.0, "terrain": ("flat",)}
    )
    env = build_env(cfg, load_clips(cfg), eval_mode=True)
    try:
        yield env
    finally:
        env.close()
