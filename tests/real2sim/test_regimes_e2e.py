"""The default pipeline on short generated clips of every camera regime, a sit-down clip, and a
real tripod clip (the static camera that used to be refused)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.real2sim.config import OutputsConfig, PipelineConfig

from videomimic_offline import artifacts

pytestmark = pytest.mark.slow

FAST = {"progress": False, "outputs": OutputsConfig(write_overlay=False, write_snapshot=False)}
#: what the camera stage must find for each generator regime (a hand-held phone drifts a few
#: centimetres: either answer is a working model for it)
EXPECTED = {
    "tripod": {"static"},
    "pan_tilt": {"rotation"},
    "handheld_still": {"rotation", "translating"},
    "follow_behind": {"translating"},
    "orbit": {"translating"},
}


@pytest.mark.parametrize("regime", list(EXPECTED))
def test_every_camera_regime_reconstructs(regime: str, tmp_path: Path) -> None:
    from videomimic_offline.real2sim.metrics import evaluate_reconstruction
    from videomimic_offline.real2sim.pipeline import run_pipeline
    from videomimic_offline.real2sim.synthetic.clip import make_clip

    clip = make_clip("curb", tmp_path / "clip", seconds=4.0, seed=41, regime=regime, progress=False)
    gt = np.load(clip / "gt.npz")
    out = run_pipeline(clip / "video.mp4", tmp_path / "out", PipelineConfig(height_m=float(gt["height_m"]), **FAST))
    report = artifacts.read_json(out / "report.json")
    assert report["camera"]["regime"] in EXPECTED[regime]
    cams = np.load(out / "cameras.npz")
    assert (
        str(cams["regime"]) == report["camera"]["regime"]
        and str(cams["focal_source"]) == report["camera"]["focal_source"]
    )
    m = evaluate_reconstruction(clip, out)
    print(regime, report["camera"]["regime"], {k: round(float(v), 3) for k, v in m.items()})
    # loose bounds (the bench measures the targets): a world-consistent, upright, metric result
    assert m["wa_mpjpe_mm"] < 150 and m["gravity_err_deg"] < 5 and m["scale_err_pct"] < 10
    scene = json.loads((out / "scene.json").read_text())
    assert any(s["kind"] == "floor" for s in scene["solids"])
    hf = np.load(out / "heightfield.npz")
    assert hf["source"].shape == hf["heights"].shape and (hf["source"] == 3).any()


def test_sitting_down_on_a_chair_recovers_the_seat(tmp_path: Path) -> None:
    """Tripod clip: walk to a chair, sit, stand up. The seat is a box whose top is within 5 cm of
    the true seat height, and the motion marks the seated frames.

    The issue's 3 cm is the benchmark's figure, a mean over each regime's clips. One clip's seat
    is as good as its fitted seated pelvis, which scatters by about +-4 cm from clip to clip (11
    generated sit clips: -2.8 .. +8.0 cm). This clip's seat error was 1.5 cm with the old fixed
    ankle height (which stood everyone 1.4 cm high), 3.2 cm with the body model's, and 4.2 cm since
    the detector's view-dependent size places the person 2 % nearer in side views: that made the
    mean seat error of the 17 dev clips 0.025 -> 0.018 m, and this one clip worse."""
    from videomimic_offline.real2sim.metrics import evaluate_reconstruction
    from videomimic_offline.real2sim.pipeline import run_pipeline
    from videomimic_offline.real2sim.synthetic.clip import make_clip

    clip = make_clip("chair", tmp_path / "clip", seconds=8.0, seed=43, regime="tripod", progress=False)
    gt = np.load(clip / "gt.npz")
    out = run_pipeline(clip / "video.mp4", tmp_path / "out", PipelineConfig(height_m=float(gt["height_m"]), **FAST))
    motion = artifacts.read_npz(out / "motion.npz", schema="videomimic.human_motion", max_version=1)
    seated = motion["seat_contact"]
    truth = gt["seat_contact"][: len(seated)]
    assert seated.dtype == bool and (seated & truth).sum() > 0.6 * truth.sum()
    scene = json.loads((out / "scene.json").read_text())
    assert [s["kind"] for s in scene["solids"]].count("seat") == 1
    m = evaluate_reconstruction(clip, out)
    print({k: round(float(v), 3) for k, v in m.items()})
    assert m["seat_height_err_m"] < 0.05


def test_a_tripod_clip_takes_gravity_from_the_scene_lines_when_asked(tmp_path: Path) -> None:
    """``cameras.scene_lines``: the generated room's tiles and walls give the up direction (and the
    focal length when two perpendicular families are seen) where the person only guesses them."""
    from videomimic_offline.real2sim.config import CamerasConfig
    from videomimic_offline.real2sim.metrics import evaluate_reconstruction
    from videomimic_offline.real2sim.pipeline import run_pipeline
    from videomimic_offline.real2sim.synthetic.clip import make_clip

    clip = make_clip("stairs_down", tmp_path / "clip", seconds=4.0, seed=201, regime="tripod", progress=False)
    gt = np.load(clip / "gt.npz")
    cfg = PipelineConfig(height_m=float(gt["height_m"]), cameras=CamerasConfig(scene_lines=True), **FAST)
    out = run_pipeline(clip / "video.mp4", tmp_path / "out", cfg)
    info = artifacts.read_json(out / "stages" / "optimize" / "info.json")
    assert info["gravity"]["source"] == "scene lines", info["gravity"]
    m = evaluate_reconstruction(clip, out)
    assert m["gravity_err_deg"] < 1.0, m
    report = artifacts.read_json(out / "report.json")
    assert report["camera"]["focal_source"] in ("lines", "prior")


def test_a_real_tripod_clip_reconstructs_and_retargets(shared_video: Path, tmp_path: Path) -> None:
    """Tai chi filmed from a tripod (refused before as 'the camera is static'): 3 s reconstruct
    with a still camera, the stance feet on the contact-derived floor, and the robot motion is usable."""
    from videomimic_offline.contracts.heightfield import read_heightfield
    from videomimic_offline.real2sim.pipeline import run_pipeline
    from videomimic_offline.toolrun import run_tool_process

    cfg = PipelineConfig(max_frames=72, **FAST)
    out = run_pipeline(shared_video / "hybrik_taiji.mp4", tmp_path / "out", cfg)
    report = artifacts.read_json(out / "report.json")
    assert report["camera"]["regime"] in ("static", "rotation") and report["camera"]["focal_source"] == "prior"
    assert report["persons"]["num_people"] == 1
    motion = artifacts.read_npz(out / "motion.npz", schema="videomimic.human_motion", max_version=1)
    joints, contacts = motion["joints_w"], motion["contacts"]
    assert contacts.mean() > 0.5, "tai chi is mostly standing"
    hf = read_heightfield(out / "heightfield.npz")
    feet = [HUMAN_JOINTS.index("left_ankle"), HUMAN_JOINTS.index("right_ankle")]
    gap = []
    for k, f in enumerate(feet):
        xy = joints[contacts[:, k], f, :2]
        assert hf.known_at(xy).all(), "every planted foot stands on a known cell"
        gap.append(np.abs(joints[contacts[:, k], f, 2] - cfg.fit.ankle_height(cfg.height) - hf.height_at(xy)))
    assert np.percentile(np.concatenate(gap), 95) < 0.03
    run_tool_process(
        "retarget", str(out / "motion.npz"), "--scene", str(out / "heightfield.npz"), "--out", str(tmp_path / "robot")
    )
    feas = json.loads((tmp_path / "robot" / "feasibility.json").read_text())
    assert feas["usable"], feas["reasons"]
