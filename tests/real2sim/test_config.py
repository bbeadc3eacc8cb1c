"""The reconstruction config: one owner of every default, CLI and cache keys generated from it."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any, Literal

import pytest
from videomimic_offline.errors import BackendUnavailableError, ConfigError, InputError
from videomimic_offline.real2sim.config import PipelineConfig
from videomimic_offline.real2sim.pipeline import STAGE_READS, STAGES, run_until, stage_settings

from videomimic_offline import settings

_HASHED = "videomimic.hashed"


def _leaves(cls: type, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any, bool]]:
    """(path, type, hashed) of every leaf field of a nested config dataclass."""
    out = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        t = hints[f.name]
        if dataclasses.is_dataclass(t):
            out += _leaves(t, (*prefix, f.name))
        else:
            out.append(((*prefix, f.name), t, f.metadata.get(_HASHED, True)))
    return out


def _other_value(t: Any, cur: Any) -> Any:
    """A valid value of type ``t`` different from ``cur``."""
    args = [a for a in typing.get_args(t) if a is not type(None)]
    if typing.get_origin(t) is Literal:
        return next(a for a in typing.get_args(t) if a != cur and a != "nksr")
    if cur is None:  # optional: give a value of the inner type
        inner = args[0]
        if typing.get_origin(inner) is Literal:
            return typing.get_args(inner)[0]
        return {float: 1.8, int: 100, Path: Path("/nonexistent/file")}[inner]
    if isinstance(cur, bool):
        return not cur
    if isinstance(cur, int):
        return cur + 1
    if isinstance(cur, float):
        return round(cur * 1.1 + 0.01, 4)
    if isinstance(cur, tuple):
        return (*cur, 6)
    raise AssertionError(f"no test value for {t}")


def _with(cfg: PipelineConfig, path: tuple[str, ...], value: Any) -> PipelineConfig:
    data = settings.resolved(cfg)
    node = data
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    return settings.from_dict(PipelineConfig, data)


def _owner(path: tuple[str, ...]) -> str:
    """The stage whose cache key must change when ``path`` changes."""
    head = "height" if path[0] in ("height_m", "height_prior_m") else path[0]
    owners = [s for s, reads in STAGE_READS.items() if head in reads]
    assert owners, f"{'.'.join(path)} is read by no stage: add it to pipeline.STAGE_READS or mark it hashed=False"
    return owners[0]


def test_every_result_affecting_field_invalidates_its_stage_and_no_earlier_one() -> None:
    """Change each field: the stage reading it gets a new cache key, earlier stages keep theirs,
    and fields marked ``hashed=False`` change no key. New fields are covered without editing this."""
    base = PipelineConfig()
    keys = {s: stage_settings(base, s) for s in STAGE_READS}
    leaves = _leaves(PipelineConfig)
    assert len(leaves) > 50
    for path, t, hashed in leaves:
        cur = base
        for p in path:
            cur = getattr(cur, p)
        changed = _with(base, path, _other_value(t, cur))
        new = {s: stage_settings(changed, s) for s in STAGE_READS}
        moved = [s for s in STAGE_READS if new[s] != keys[s]]
        name = ".".join(path)
        if not hashed:
            assert moved == [], f"{name} is hashed=False but changed {moved}"
            continue
        if path[0] == "outputs":
            # outputs are written by export, which hashes the whole config
            assert settings.cache_key(changed) != settings.cache_key(base), name
            continue
        owner = _owner(path)
        assert owner in moved, f"{name} changed but the {owner} stage would reuse its cache"
        earlier = STAGES[: STAGES.index(owner)]
        assert not set(moved) & set(earlier), f"{name} invalidates earlier stages {set(moved) & set(earlier)}"


def test_a_local_file_setting_is_hashed_by_content(tmp_path: Path) -> None:
    """A new checkpoint at the same path must not reuse old masks (sam2_checkpoint was not hashed)."""
    ckpt = tmp_path / "sam2.pt"
    ckpt.write_bytes(b"one")
    cfg = settings.from_dict(PipelineConfig, {"persons": {"sam2_checkpoint": str(ckpt)}})
    before = stage_settings(cfg, "persons")
    ckpt.write_bytes(b"two")
    assert stage_settings(cfg, "persons") != before


def test_the_height_is_one_ruler_with_the_body_models_range() -> None:
    """Height enters the fit once (the resolved ruler); the accepted range is the body model's."""
    from videomimic_offline.body.model import VALID_HEIGHT_M, BodyShape
    from videomimic_offline.real2sim.body_template import rest_joints

    lo, hi = VALID_HEIGHT_M
    assert stage_settings(PipelineConfig(height_m=1.70), "optimize") == stage_settings(PipelineConfig(), "optimize")
    for bad in (lo - 0.01, hi + 0.01):
        with pytest.raises(ConfigError, match=rf"outside {lo}\.\.{hi} m"):
            PipelineConfig(height_m=bad)
        with pytest.raises(InputError):
            BodyShape(height_m=bad)
        with pytest.raises(InputError):  # refused, never silently another skeleton table
            rest_joints(bad)
    PipelineConfig(height_m=lo)
    PipelineConfig(height_m=hi)


def test_the_ankle_height_is_the_body_models_unless_given() -> None:
    """The fit's sole lies 0.039 x stature under the ankle, the body model's own ankle (one owner);
    a user's fixed value wins, and a non-positive one is refused."""
    from videomimic_offline.body.model import BodyShape
    from videomimic_offline.body.model import rest_joints as model_rest_joints
    from videomimic_offline.body.skeleton import HUMAN_JOINTS

    ankle = model_rest_joints(BodyShape(height_m=1.8))[HUMAN_JOINTS.index("left_ankle"), 2]
    assert PipelineConfig().fit.ankle_height(1.8) == pytest.approx(ankle)
    assert settings.from_dict(PipelineConfig, {"fit": {"ankle_height_m": 0.09}}).fit.ankle_height(1.8) == 0.09
    with pytest.raises(ConfigError, match="ankle_height_m"):
        settings.from_dict(PipelineConfig, {"fit": {"ankle_height_m": 0.0}})


def test_cli_flags_are_the_config_fields(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from videomimic_offline.real2sim.tools import parse_stage_args

    video, out, cfg = parse_stage_args(
        ["v.mp4", "o", "--height-m", "1.8", "--person", "1", "--max-frames", "90", "--no-progress",
         "--persons.sam2-checkpoint", "x.pt", "--cameras.sfm-keyframes", "40", "--fit.w-floor", "5",
         "--scene.mesh-backend", "heightfield", "--scene.dense.planes", "32", "--outputs.no-write-overlay"],
        "reconstruct", "test",
    )  # fmt: skip
    assert (video, out) == (Path("v.mp4"), Path("o"))
    assert cfg.height_m == 1.8 and cfg.person == 1 and cfg.max_frames == 90 and not cfg.progress
    assert cfg.persons.sam2_checkpoint == Path("x.pt") and cfg.cameras.sfm_keyframes == 40
    assert cfg.fit.w_floor == 5.0 and cfg.scene.mesh_backend == "heightfield" and cfg.scene.dense.planes == 32
    assert not cfg.outputs.write_overlay
    for bad in (["--height", "1.8"], ["--scene.mesh-backend", "marching"]):
        with pytest.raises(SystemExit) as exc:
            parse_stage_args(["v.mp4", "o", *bad], "reconstruct", "test")
        assert exc.value.code == 2
    with pytest.raises(ConfigError, match="height_m=0.5"):
        parse_stage_args(["v.mp4", "o", "--height-m", "0.5"], "reconstruct", "test")
    capsys.readouterr()
    with pytest.raises(SystemExit):
        parse_stage_args(["--help"], "reconstruct", "test")
    text = capsys.readouterr().out
    assert "--height-m" in text and "--scene.mesh-backend" in text and "{tsdf,heightfield,poisson,nksr}" in text


def test_unavailable_backend_fails_before_any_work(tmp_path: Path) -> None:
    """``--scene.mesh-backend nksr`` used to fail after 25 s of work, naming the wrong default."""
    video = tmp_path / "missing.mp4"  # not even probed: the backend check comes first
    cfg = settings.from_dict(PipelineConfig, {"scene": {"mesh_backend": "nksr"}})
    with pytest.raises(BackendUnavailableError, match="default tsdf"):
        run_until(video, tmp_path / "out", cfg)
    assert not (tmp_path / "out").exists()
    cfg = settings.from_dict(PipelineConfig, {"keypoints": {"backend": "vitpose"}})
    with pytest.raises(ConfigError, match="--keypoints.vitpose-onnx"):
        run_until(video, tmp_path / "out", cfg)


def test_resolved_config_round_trips(tmp_path: Path) -> None:
    cfg = settings.from_dict(
        PipelineConfig, {"height_m": 1.6, "fit": {"w_floor": 3.0}, "scene": {"dense": {"planes": 24}}}
    )
    settings.save_resolved(cfg, tmp_path / "config.json")
    assert settings.load_resolved(PipelineConfig, tmp_path / "config.json") == cfg


def test_without_height_the_prior_is_said_and_recorded(tmp_path: Path) -> None:
    import subprocess
    import sys

    from videomimic_offline.real2sim.pipeline import inputs_record

    r = subprocess.run(
        [sys.executable, "-m", "videomimic_offline.real2sim.tools", str(tmp_path / "none.mp4"), str(tmp_path / "o")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 2 and "does not exist" in r.stderr
    assert "height not given" in r.stderr and "1.70 m" in r.stderr and "--height-m" in r.stderr
    rec = inputs_record(PipelineConfig())
    assert rec["height_source"] == "prior" and rec["height_m"] == 1.70 and "prior" in str(rec["height"])
    assert inputs_record(PipelineConfig(height_m=1.8))["height_source"] == "given"
