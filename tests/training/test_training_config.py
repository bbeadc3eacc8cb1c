"""Training settings have one owner (training/config.py): the tools' command lines, the resume key and
the saved config all come from it, with each stage's own defaults."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest
from videomimic_offline.training import config, tools

from videomimic_offline import settings

#: Fields that cannot change what a stage learns (where it is written, how far, how often it saves, ...).
NOT_HASHED = {"out", "iterations", "save_interval", "device", "max_minutes", "progress", "init"}
TOOLS = {
    "train_mpt": tools.train_mpt,
    "train_teacher": tools.train_teacher,
    "distill_student": tools.distill_student,
    "finetune_student": tools.finetune_student,
    "export_student": tools.export_student_tool,
    "eval_policy": tools.eval_policy,
    "sim2sim": tools.sim2sim,
    "plot_training": tools.plot_training,
    "make_mocap": tools.make_mocap,
}


@pytest.mark.parametrize("name", TOOLS)
def test_help_names_the_tool_and_shows_defaults(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        TOOLS[name](["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: {name} ") and "(default: " in out


def test_each_stage_shows_its_own_defaults_and_the_terrain_choices(capsys: pytest.CaptureFixture[str]) -> None:
    expect = {"train_mpt": "0.001", "train_teacher": "2e-05", "distill_student": "0.001", "finetune_student": "3e-05"}
    for name, lr in expect.items():
        with pytest.raises(SystemExit):
            TOOLS[name](["--help"])
        out = " ".join(capsys.readouterr().out.split())
        assert f"Adam learning rate. (default: {lr})" in out, name
        assert "--terrain [{flat,rough,stairs}" in out and "--iterations INT" in out and "--iters" not in out
    with pytest.raises(SystemExit) as bad:
        tools.train_mpt(["--motions", "m", "--out", "o", "--terrain", "bumpy"])
    assert bad.value.code == 2 and "bumpy" in capsys.readouterr().err


def test_command_line_sets_nested_settings_without_prefixes() -> None:
    cfg = settings.parse_cli(
        config.TeacherConfig,
        ["--motions", "a", "b", "--out", "o", "--num-envs", "4", "--terrain", "flat", "--hidden", "64", "64",
         "--learning-rate", "1e-4", "--iterations", "3", "--init", "prev"],
    )  # fmt: skip
    assert cfg.motions == [Path("a"), Path("b")] and cfg.init == Path("prev") and cfg.iterations == 3
    assert cfg.env == dataclasses.replace(
        config.TeacherConfig(motions=[], out=Path(".")).env, num_envs=4, terrain=("flat",)
    )
    assert cfg.agent.hidden == (64, 64) and cfg.agent.learning_rate == 1e-4
    assert cfg.agent.steps_per_env == 24  # untouched settings keep the stage's defaults


@pytest.mark.parametrize("stage", config.STAGES)
def test_every_setting_that_can_change_results_is_in_the_resume_key(stage: str, tmp_path: Path) -> None:
    cfg = config.stage_config(stage, motions=[tmp_path / "m"], out=tmp_path)
    base = settings.cache_key(cfg)
    assert set(settings.resolved(cfg)) - set(base) == NOT_HASHED & set(settings.resolved(cfg))
    for group in ("env", "agent"):
        for f in dataclasses.fields(getattr(cfg, group)):
            value = getattr(getattr(cfg, group), f.name)
            if isinstance(value, bool):
                changed = not value
            elif isinstance(value, (int, float)):
                changed = value + 1
            elif isinstance(value, tuple) and value and isinstance(value[0], int):
                changed = (*value, 8)
            elif isinstance(value, tuple):
                changed = value[:1]
            else:
                changed = (16, 16)  # head_depth: None -> on
            other = config.stage_config(stage, motions=[tmp_path / "m"], out=tmp_path, **{group: {f.name: changed}})
            assert settings.cache_key(other) != base, f"{group}.{f.name}"
    for name in ("seed",):
        assert settings.cache_key(dataclasses.replace(cfg, **{name: 1})) != base
    assert settings.cache_key(dataclasses.replace(cfg, iterations=7, device="cpu")) == base


def test_tools_are_on_path_after_sourcing_env(repo_root: Path) -> None:
    res = subprocess.run(
        ["bash", "-c", ". scripts/env.sh && train_mpt --help && plot_training --help"],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert "usage: train_mpt" in res.stdout and "usage: plot_training" in res.stdout
