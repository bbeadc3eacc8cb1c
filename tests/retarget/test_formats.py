"""Each input format end to end through the `retarget` tool or its reader, with files written here."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.cli import EXIT_UNUSABLE
from videomimic_offline.contracts.feasibility import read_feasibility
from videomimic_offline.contracts.heightfield import Heightfield, write_heightfield
from videomimic_offline.contracts.human_motion import write_human_motion
from videomimic_offline.contracts.robot_motion import read_robot_motion
from videomimic_offline.errors import InputError
from videomimic_offline.motion_io.bvh import read_bvh
from videomimic_offline.motion_io.lafan_csv import write_lafan_csv
from videomimic_offline.retarget import terrain as tr
from videomimic_offline.retarget.procedural import fk_clip, walking_clip
from videomimic_offline.retarget.tool import main


def _run(argv):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    return exc.value.code


def _check_output(out, frames_min=10):
    data = read_robot_motion(out / "robot_motion.npz")
    T = data.length
    assert data.fps == 50.0 and frames_min <= T
    assert data.joint_pos.shape == (T, 29) and data.joint_vel.shape == (T, 29)
    B = len(data.body_names)
    for k in ("body_pos_w", "body_lin_vel_w", "body_ang_vel_w"):
        assert getattr(data, k).shape == (T, B, 3)
    assert data.body_quat_w.shape == (T, B, 4)
    assert np.allclose(np.linalg.norm(data.body_quat_w, axis=-1), 1.0, atol=1e-4)
    assert data.contacts.shape == (T, 2)
    assert (out / "feasibility.json").is_file()
    return data


def test_motion_npz_with_scene(tmp_path, stairs, stair_holds):
    human = walking_clip(stairs, stair_holds[:5])
    write_human_motion(tmp_path / "motion.npz", human)
    h, o, res = tr.staircase()
    write_heightfield(tmp_path / "heightfield.npz", Heightfield(h, o, res))
    assert (
        _run(
            [str(tmp_path / "motion.npz"), "--scene", str(tmp_path / "heightfield.npz"), "--out", str(tmp_path / "out")]
        )
        == 0
    )
    data = _check_output(tmp_path / "out")
    assert data.scene == (tmp_path / "heightfield.npz").resolve()
    assert data.contacts.any()


def _bvh_text(scale: float) -> str:
    """A LAFAN1-named skeleton (y up) with a short knee-bend motion, lengths in 1/scale metres."""
    joints = [  # name, parent, offset (m, y up)
        ("Hips", None, (0, 0, 0)), ("LeftUpLeg", "Hips", (0.09, -0.05, 0)), ("LeftLeg", "LeftUpLeg", (0, -0.42, 0)),
        ("LeftFoot", "LeftLeg", (0, -0.42, 0)), ("LeftToe", "LeftFoot", (0, -0.06, 0.14)),
        ("RightUpLeg", "Hips", (-0.09, -0.05, 0)), ("RightLeg", "RightUpLeg", (0, -0.42, 0)),
        ("RightFoot", "RightLeg", (0, -0.42, 0)), ("RightToe", "RightFoot", (0, -0.06, 0.14)),
        ("Spine", "Hips", (0, 0.12, 0)), ("Neck", "Spine", (0, 0.4, 0)), ("Head", "Neck", (0, 0.18, 0)),
        ("LeftArm", "Neck", (0.18, -0.03, 0)), ("LeftForeArm", "LeftArm", (0, -0.28, 0)),
        ("LeftHand", "LeftForeArm", (0, -0.25, 0)), ("RightArm", "Neck", (-0.18, -0.03, 0)),
        ("RightForeArm", "RightArm", (0, -0.28, 0)), ("RightHand", "RightForeArm", (0, -0.25, 0)),
    ]  # fmt: skip
    children: dict[str | None, list] = {}
    for j in joints:
        children.setdefault(j[1], []).append(j)
    lines = ["HIERARCHY"]

    def emit(j, depth):
        name, parent, off = j
        pad = "  " * depth
        lines.append(f"{pad}{'ROOT' if parent is None else 'JOINT'} {name}")
        lines.append(pad + "{")
        lines.append(f"{pad}  OFFSET {' '.join(f'{v / scale:.4f}' for v in off)}")
        ch = (
            "6 Xposition Yposition Zposition Zrotation Xrotation Yrotation"
            if parent is None
            else "3 Zrotation Xrotation Yrotation"
        )
        lines.append(f"{pad}  CHANNELS {ch}")
        kids = children.get(name, [])
        for k in kids:
            emit(k, depth + 1)
        if not kids:
            lines.extend([f"{pad}  End Site", pad + "  {", f"{pad}    OFFSET 0 0 0", pad + "  }"])
        lines.append(pad + "}")

    emit(joints[0], 0)
    n = 60
    lines += ["MOTION", f"Frames: {n}", "Frame Time: 0.0333333"]
    for t in range(n):
        bend = 20 * np.sin(np.pi * t / n)
        row = [0.0, (0.92 - 0.03 * np.sin(np.pi * t / n)) / scale, 0.01 * t / scale, 0, 0, 0]
        for name, _parent, _ in joints[1:]:
            row += [0.0, (-bend if name.endswith("UpLeg") else 2 * bend if name.endswith("Leg") else 0.0), 0.0]
        lines.append(" ".join(f"{v:.4f}" for v in row))
    return "\n".join(lines) + "\n"


def test_bvh_lafan_style_cm(tmp_path):
    (tmp_path / "walk.bvh").write_text(_bvh_text(0.01))
    motion = read_bvh(tmp_path / "walk.bvh")
    assert motion.conventions["units"].startswith("cm") and motion.conventions["up"].startswith("+y")
    head, ankle = HUMAN_JOINTS.index("head"), HUMAN_JOINTS.index("left_ankle")
    assert 1.3 < motion.joints_w[0, head, 2] - motion.joints_w[0, ankle, 2] < 1.7  # upright, metres
    assert _run([str(tmp_path / "walk.bvh"), "--out", str(tmp_path / "out")]) == 0
    _check_output(tmp_path / "out")


def test_bvh_ambiguous_units_refused(tmp_path):
    (tmp_path / "odd.bvh").write_text(_bvh_text(0.2))  # leg 4.2 units: no known unit makes it human
    with pytest.raises(InputError, match="cannot tell the length unit"):
        read_bvh(tmp_path / "odd.bvh")
    motion = read_bvh(tmp_path / "odd.bvh", units="m")  # declared: accepted as said
    assert motion.conventions["units"] == "m (declared)"


@pytest.mark.slow
def test_cmu_bvh(shared_data, tmp_path):
    path = shared_data / "bvh" / "cmu_02_01_walk.bvh"
    if not path.is_file():
        pytest.skip("CMU BVH not present")
    motion = read_bvh(path)
    assert motion.conventions["units"].startswith("cmu") and motion.conventions["up"].startswith("+y")
    assert abs(motion.fps - 120.0) < 0.01
    assert _run([str(path), "--out", str(tmp_path / "out")]) == 0
    _check_output(tmp_path / "out", frames_min=100)


def test_lafan_csv(tmp_path):
    _, Q = fk_clip(60, fps=30.0)
    Q[:, 2] -= 0.15  # stand on the floor
    write_lafan_csv(tmp_path / "walk.csv", Q)
    code = _run([str(tmp_path / "walk.csv"), "--out", str(tmp_path / "out")])
    # this made-up clip sinks its feet 3 cm into the floor: written, but the verdict and exit status say so
    assert code == EXIT_UNUSABLE and not read_feasibility(tmp_path / "out" / "feasibility.json").usable
    data = _check_output(tmp_path / "out")
    assert data.length == 99  # 59 frames at 30 fps -> 1.967 s at 50 fps
    assert np.allclose(data.joint_pos[0], Q[0, 7:], atol=1e-5)


def _synthetic_smpl(root):
    """A file with SMPL's keys and shapes (not the licensed model): joints = 24 chosen template vertices."""
    rng = np.random.default_rng(0)
    parents = [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21]
    J = np.array([
        [0, 0, 0], [0.09, -0.08, 0], [-0.09, -0.08, 0], [0, 0.1, 0], [0.1, -0.48, 0], [-0.1, -0.48, 0],
        [0, 0.24, 0], [0.1, -0.88, -0.03], [-0.1, -0.88, -0.03], [0, 0.3, 0], [0.1, -0.94, 0.11],
        [-0.1, -0.94, 0.11], [0, 0.5, 0], [0.08, 0.42, 0], [-0.08, 0.42, 0], [0, 0.6, 0.03],
        [0.18, 0.44, 0], [-0.18, 0.44, 0], [0.44, 0.44, 0], [-0.44, 0.44, 0], [0.69, 0.44, 0],
        [-0.69, 0.44, 0], [0.77, 0.44, 0], [-0.77, 0.44, 0],
    ])  # fmt: skip
    V = 6890
    v = rng.normal(0, 0.1, (V, 3))
    v[:24] = J
    reg = np.zeros((24, V))
    reg[np.arange(24), np.arange(24)] = 1.0
    w = np.zeros((V, 24))
    w[:, 0] = 1.0
    model = {
        "v_template": v, "shapedirs": np.zeros((V, 3, 10)), "posedirs": np.zeros((V, 3, 207)),
        "J_regressor": reg, "weights": w, "kintree_table": np.array([[2**32 - 1] + parents[1:], list(range(24))]),
        "f": rng.integers(0, V, (100, 3)),
    }  # fmt: skip
    (root / "smpl").mkdir(parents=True)
    with open(root / "smpl" / "SMPL_NEUTRAL.pkl", "wb") as fh:
        pickle.dump(model, fh)
    return J


def test_amass_with_synthetic_smpl(tmp_path):
    pytest.importorskip("smplx")
    from videomimic_offline.motion_io.amass import read_amass

    _synthetic_smpl(tmp_path / "models")
    T = 40
    poses = np.zeros((T, 156))
    poses[:, 0] = np.pi / 2  # SMPL is y up; AMASS global_orient turns it z up
    trans = np.stack([np.linspace(0, 0.5, T), np.zeros(T), np.full(T, 0.95)], 1)
    np.savez(tmp_path / "clip.npz", poses=poses, trans=trans, betas=np.zeros(16), mocap_framerate=np.array(60.0))
    motion = read_amass(tmp_path / "clip.npz", tmp_path / "models")
    assert motion.fps == 60.0 and motion.joints_w.shape == (T, 18, 3)
    head, pelvis = HUMAN_JOINTS.index("head"), HUMAN_JOINTS.index("pelvis")
    # rotated by +90 deg about x: SMPL y -> world z
    assert np.allclose(motion.joints_w[:, head] - motion.joints_w[:, pelvis], [0.0, -0.03, 0.6], atol=1e-4)
    assert np.allclose(motion.joints_w[:, pelvis], trans, atol=1e-4)
    with pytest.raises(Exception, match="smpl-model"):
        read_amass(tmp_path / "clip.npz", None)


def test_unknown_format(tmp_path):
    (tmp_path / "x.fbx").write_text("nope")
    assert _run([str(tmp_path / "x.fbx"), "--out", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists()


def test_side_by_side_video(tmp_path):
    import cv2

    motion, _ = fk_clip(25)
    write_human_motion(tmp_path / "motion.npz", motion)
    assert _run([str(tmp_path / "motion.npz"), "--out", str(tmp_path / "out"), "--video"]) == 0
    cap = cv2.VideoCapture(str(tmp_path / "out" / "retarget.mp4"))
    fps = cap.get(cv2.CAP_PROP_FPS)
    frames = []
    while True:
        ok, img = cap.read()
        if not ok:
            break
        frames.append(img)
    assert fps == pytest.approx(30.0) and len(frames) == 15  # 25 frames at 50 fps = 0.48 s, shown at 30 fps
    assert frames[0].shape == (540, 960, 3) and frames[0].std() > 5  # something was drawn


def test_rerun_is_skipped_when_up_to_date(tmp_path, capsys):
    motion, _ = fk_clip(20)
    write_human_motion(tmp_path / "motion.npz", motion)
    assert _run([str(tmp_path / "motion.npz"), "--out", str(tmp_path / "out")]) == 0
    capsys.readouterr()
    assert _run([str(tmp_path / "motion.npz"), "--out", str(tmp_path / "out")]) == 0
    assert "up to date" in capsys.readouterr().out


@pytest.mark.slow
def test_output_loads_in_mjlab_motion_loader(tmp_path):
    """mjlab's own tracking-motion loader reads robot_motion.npz and picks the tracked links."""
    torch = pytest.importorskip("torch")
    from mjlab.tasks.tracking.mdp.commands import MotionLoader
    from videomimic_offline.robot import g1

    motion, _ = fk_clip(30)
    write_human_motion(tmp_path / "motion.npz", motion)
    assert _run([str(tmp_path / "motion.npz"), "--out", str(tmp_path / "out")]) == 0
    data = read_robot_motion(tmp_path / "out" / "robot_motion.npz")
    names = list(data.body_names)
    idx = torch.tensor([names.index(n) for n in g1.TRACKED_LINKS])
    loader = MotionLoader(str(tmp_path / "out" / "robot_motion.npz"), idx)
    assert loader.time_step_total == data.length
    assert loader.body_pos_w.shape == (data.length, len(g1.TRACKED_LINKS), 3)
    pelvis = names.index("pelvis")
    assert np.allclose(loader.body_pos_w[:, 0].numpy(), data.body_pos_w[:, pelvis])
