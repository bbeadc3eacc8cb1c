"""The whole default pipeline on a short generated clip: artifacts, resume after Ctrl-C, metrics, viewer."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.real2sim.config import PipelineConfig

from videomimic_offline import artifacts, settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from videomimic_offline.real2sim.synthetic.clip import make_clip

    # seed 7 at 3 s folds SfM (wrong focal, mirrored cameras): a known failure on very short clips
    return make_clip("stairs_up", tmp_path_factory.mktemp("clip") / "stairs", seconds=4.0, seed=0, progress=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_pipeline_end_to_end(clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from videomimic_offline.real2sim import optimize as optimize_mod
    from videomimic_offline.real2sim.metrics import evaluate_reconstruction
    from videomimic_offline.real2sim.pipeline import run_pipeline

    gt = np.load(clip / "gt.npz")
    cfg = PipelineConfig(height_m=float(gt["height_m"]), progress=False)
    out = tmp_path / "recon"

    # Ctrl-C in the middle of the optimisation: finished stages stay, nothing half-written
    def interrupted(*_a, **_k):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(optimize_mod, "optimize", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_pipeline(clip / "video.mp4", out, cfg)
    stages = out / "stages"
    assert sorted(p.name for p in stages.iterdir()) == ["cameras", "keypoints", "persons"]
    assert not (out / "motion.npz").exists()
    persons_mark = (stages / "persons" / "stage.json").stat().st_mtime_ns
    monkeypatch.undo()

    # re-run resumes: the persons stage is not recomputed
    run_pipeline(clip / "video.mp4", out, cfg)
    assert (stages / "persons" / "stage.json").stat().st_mtime_ns == persons_mark
    for name in ("motion.npz", "cameras.npz", "heightfield.npz", "scene_mesh.ply", "scene.json", "overlay.mp4"):
        assert (out / name).is_file(), name
    assert (out / "snapshot.png").stat().st_size > 10_000
    assert not list(out.rglob(".*partial*"))
    assert settings.load_resolved(PipelineConfig, out / "config.json") == cfg  # the resolved settings, beside

    m = artifacts.read_npz(out / "motion.npz", schema="videomimic.human_motion", max_version=1)
    T = len(gt["joints_w"])
    assert m["joints_w"].shape == (T, len(HUMAN_JOINTS), 3)
    assert list(m["joint_names"]) == list(HUMAN_JOINTS)
    assert m["root_quat_w"].shape == (T, 4) and np.allclose(np.linalg.norm(m["root_quat_w"], axis=1), 1, atol=1e-4)
    assert m["contacts"].dtype == bool and m["contacts"].any()
    feet = m["joints_w"][:, [HUMAN_JOINTS.index("left_ankle"), HUMAN_JOINTS.index("right_ankle")], 2]
    assert -0.1 < np.percentile(feet, 5) < 0.3, "gravity-aligned world: feet near the floor z=0"
    hf = artifacts.read_npz(out / "heightfield.npz", schema="videomimic.heightfield", max_version=1)
    assert np.isnan(hf["heights"]).any() and hf["known"].any() and np.array_equal(np.isnan(hf["heights"]), ~hf["known"])

    metrics = evaluate_reconstruction(clip, out)
    print(metrics)
    assert metrics["wa_mpjpe_mm"] < 250
    assert metrics["w_mpjpe_mm"] < 600
    assert metrics["scale_err_pct"] < 15
    assert metrics["gravity_err_deg"] < 8
    assert metrics["chamfer_m"] < 0.5

    # the CLI on the same folder resumes everything and prints the folder; finished outputs stay untouched
    motion_mark = (out / "motion.npz").stat().st_mtime_ns
    r = subprocess.run(
        [sys.executable, "-c", "from videomimic_offline.real2sim.tools import reconstruct_main; reconstruct_main()",
         str(clip / "video.mp4"), str(out), "--height-m", str(float(gt["height_m"])), "--no-progress"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert 2 <= len(lines) <= 5 and lines[0].startswith(f"reconstruct: {out}: {T} frames"), r.stdout
    assert "reused persons, keypoints, cameras, optimize, scene, export; ran nothing" in lines[0]
    assert "person: " in r.stdout and "camera: translating" in r.stdout and "overlay.mp4" in lines[-1]
    assert (out / "motion.npz").stat().st_mtime_ns == motion_mark

    # a scene setting re-runs the scene (and export) only, and says so stage by stage
    r = subprocess.run(
        [sys.executable, "-m", "videomimic_offline.real2sim.tools", str(clip / "video.mp4"), str(out),
         "--height-m", str(float(gt["height_m"])), "--scene.mesh-backend", "heightfield"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "reused persons, keypoints, cameras, optimize; ran scene, export" in r.stdout, r.stdout
    assert "[4/6] optimize: reused" in r.stderr and "[5/6] scene: done" in r.stderr
    rep = artifacts.read_json(out / "report.json")
    assert rep["inputs"]["height_source"] == "given" and rep["persons"]["num_people"] >= 1
    assert rep["camera"]["regime"] == "translating" and rep["quality"]["reproj_pct_of_height"] < 3

    # the interactive viewer populates a scene with the body, cameras and mesh
    from videomimic_offline.real2sim.viewer import build_view

    server, view = build_view(out, port=_free_port(), host="127.0.0.1")
    try:
        view.show(T - 1)
        assert view.slider.max == T - 1
        assert np.allclose(view.frustum.position, np.load(out / "cameras.npz")["T_world_cam"][T - 1, :3, 3])
    finally:
        server.stop()
