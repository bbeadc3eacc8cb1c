"""Retargeting takes its ruler (height, rest skeleton) and contacts from what real2sim wrote, and its
settings from one config: every setting on the command line, hashed into the cache key, saved."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.cli import EXIT_UNUSABLE
from videomimic_offline.contracts.feasibility import read_feasibility
from videomimic_offline.contracts.heightfield import Heightfield, write_heightfield
from videomimic_offline.contracts.human_motion import write_human_motion
from videomimic_offline.motion_io.load import load_human
from videomimic_offline.real2sim.body_template import rest_joints
from videomimic_offline.retarget import terrain as tr
from videomimic_offline.retarget.pipeline import retarget
from videomimic_offline.retarget.procedural import walking_clip
from videomimic_offline.retarget.targets import leg_length, resample
from videomimic_offline.retarget.tool import RetargetTool, main

from videomimic_offline import settings


def _run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    return int(exc.value.code)


def _as_real2sim(path: Path, height_m: float, contacts: bool = True) -> Path:
    """A walk written as real2sim writes motion.npz: its height and the rest skeleton at that height."""
    human = walking_clip(tr.flat(), [0.0, 0.3, 0.9, 1.5, 1.5])
    human = replace(human, height_m=height_m, rest_joints=rest_joints(height_m),
                    contacts=human.contacts if contacts else None)  # fmt: skip
    write_human_motion(path, human)
    return path


def test_changing_the_height_in_motion_npz_changes_the_retargeted_scale(tmp_path: Path) -> None:
    short = retarget(load_human(_as_real2sim(tmp_path / "a.npz", 1.6)), report=False).targets
    tall = retarget(load_human(_as_real2sim(tmp_path / "b.npz", 1.9)), report=False).targets
    # the same joints, another height: the scale follows the height, not the clip's bone lengths
    assert tall.scale == pytest.approx(short.scale * 1.6 / 1.9, rel=1e-6)
    assert tall.scale * leg_length(rest_joints(1.9)) == pytest.approx(short.scale * leg_length(rest_joints(1.6)))
    assert "rest skeleton" in short.ruler
    # the height alone (no rest skeleton in the file) gives the same ruler; no height: the clip's bones
    human = load_human(tmp_path / "b.npz")
    assert retarget(replace(human, rest_joints=None), report=False).targets.scale == pytest.approx(tall.scale)
    own = retarget(replace(human, rest_joints=None, height_m=float("nan")), report=False).targets
    assert own.scale == pytest.approx(tall.scale * leg_length(rest_joints(1.9)) / leg_length(human.joints_w))
    assert own.ruler == "the clip's bone lengths"


def test_contacts_come_from_the_file_and_are_detected_only_without_them(tmp_path: Path) -> None:
    labelled = load_human(_as_real2sim(tmp_path / "m.npz", 1.75))
    labelled.contacts[:, 0] = True  # a label the detector would never give (the left foot swings)
    tg = retarget(labelled, report=False).targets
    assert not tg.contacts_detected
    np.testing.assert_array_equal(tg.contacts, resample(labelled)[1])
    unlabelled = load_human(_as_real2sim(tmp_path / "n.npz", 1.75, contacts=False))
    tg2 = retarget(unlabelled, report=False).targets
    assert tg2.contacts_detected and tg2.contacts[0].all() and not tg2.contacts[:, 0].all()


def _leaves(cls: type, prefix: str = "") -> list[tuple[str, dataclasses.Field, typing.Any]]:
    hints = typing.get_type_hints(cls, include_extras=True)
    out = []
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            out += _leaves(hint, f"{prefix}{f.name}.")
        else:
            out.append((prefix + f.name, f, hint))
    return out


def _changed(value: typing.Any, hint: typing.Any) -> typing.Any:
    choices = typing.get_args(hint)
    if typing.get_origin(hint) is typing.Literal:
        return next(c for c in choices if c != value)
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value * 2 + 1
    if isinstance(value, str):
        return value + "x"
    return Path("/elsewhere/thing")


def _with(cfg: typing.Any, dotted: str, value: typing.Any) -> typing.Any:
    head, _, rest = dotted.partition(".")
    return replace(cfg, **{head: _with(getattr(cfg, head), rest, value) if rest else value})


def test_every_setting_that_can_change_the_result_is_in_the_cache_key(tmp_path: Path) -> None:
    base = RetargetTool(motion=tmp_path / "m.npz", out=tmp_path / "out")
    key = settings.cache_key(base)
    leaves = _leaves(RetargetTool)
    assert {"iterations", "refine", "weights.foot", "refine_weights.accel", "contacts.max_speed", "scene"} <= {
        n for n, _, _ in leaves
    }
    for name, f, hint in leaves:
        current = base
        for part in name.split("."):
            current = getattr(current, part)
        changed = settings.cache_key(_with(base, name, _changed(current, hint)))
        if f.metadata.get("videomimic.hashed", True):
            assert changed != key, f"{name} is not in the cache key"
        else:
            assert changed == key, f"{name} cannot change results but is hashed"
    assert {n for n, f, _ in leaves if not f.metadata.get("videomimic.hashed", True)} == {"out", "force"}


def test_cli_sets_weights_saves_the_resolved_config_and_recomputes_when_one_changes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    motion = _as_real2sim(tmp_path / "motion.npz", 1.75)
    out = tmp_path / "out"
    argv = [str(motion), "--out", str(out), "--iterations", "3", "--weights.foot", "40", "--contacts.max-speed", "0.3"]
    assert _run(argv) == 0
    saved = settings.load_resolved(RetargetTool, out / "retarget_config.json")
    assert saved.iterations == 3 and saved.weights.foot == 40.0 and saved.contacts.max_speed == 0.3
    capsys.readouterr()
    assert _run(argv) == 0
    assert "up to date" in capsys.readouterr().out
    assert _run([*argv, "--weights.foot", "45"]) == 0
    assert "up to date" not in capsys.readouterr().out
    assert settings.load_resolved(RetargetTool, out / "retarget_config.json").weights.foot == 45.0
    with pytest.raises(SystemExit):
        main([str(motion), "--out", str(out), "--iters", "3"])  # one spelling everywhere: --iterations


def test_not_usable_exits_3_and_says_when_refine_fixes_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Swing feet that skim the treads: the per-frame solve clips a step edge by ~2 cm, the whole-clip
    refinement does not (the case the issue found on a real clip)."""
    h, o, res = tr.staircase()
    write_heightfield(tmp_path / "heightfield.npz", Heightfield(h, o, res))
    stairs = tr.from_heights(h, o, res)
    human = walking_clip(stairs, [0.0, 0.3, 1.175, 1.525, 1.875, 2.225, 2.7, 2.7])
    for k, side in enumerate(("left", "right")):
        for j in (f"{side}_ankle", f"{side}_toe"):
            human.joints_w[~human.contacts[:, k], HUMAN_JOINTS.index(j), 2] -= 0.07
    write_human_motion(tmp_path / "motion.npz", human)
    argv = [str(tmp_path / "motion.npz"), "--scene", str(tmp_path / "heightfield.npz"), "--out", str(tmp_path / "o")]
    assert _run(argv) == EXIT_UNUSABLE
    lines = capsys.readouterr().out.strip().splitlines()
    summary = lines[-5:]
    assert "NOT usable: terrain penetration" in summary[0]
    assert any("re-run with --refine" in line for line in summary)
    rep = read_feasibility(tmp_path / "o" / "feasibility.json")
    assert not rep.usable and "makes this clip usable" in rep.advice[0]
    assert _run([*argv, "--refine"]) == 0
    assert "usable" in capsys.readouterr().out and read_feasibility(tmp_path / "o" / "feasibility.json").usable
