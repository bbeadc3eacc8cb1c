"""Quick checks of training inputs and export: motions, terrain placement, checkpoint records, parity."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from videomimic_offline.contracts.heightfield import read_heightfield
from videomimic_offline.contracts.robot_motion import read_robot_motion, write_robot_motion
from videomimic_offline.errors import IncompatibleError, InputError
from videomimic_offline.policy.layout import StudentLayout
from videomimic_offline.robot import g1
from videomimic_offline.training import motions, stages
from videomimic_offline.training.export import export_student, parity, policy_from_checkpoint


def test_generated_mocap_is_contract_and_feet_touch_ground(data):
    clip = motions.load_clip(data["mocap"] / "walk.npz", g1.TRACKED_LINKS)
    assert clip.joint_pos.shape == (75, 29) and clip.body_pos_w.shape == (75, len(g1.TRACKED_LINKS), 3)
    feet = [g1.TRACKED_LINKS.index(n) for n in g1.FOOT_LINKS]
    low = clip.body_pos_w[:, feet, 2].min(axis=1)
    assert np.allclose(low, low[0], atol=1e-4)  # one foot always on the ground
    assert clip.body_pos_w[-1, 0, 0] > clip.body_pos_w[0, 0, 0] + 0.3  # walks forward
    assert clip.contacts.any(axis=1).all()


def test_motion_in_another_joint_order_is_remapped(data, tmp_path):
    m = read_robot_motion(data["mocap"] / "stand.npz")
    perm = np.arange(29)[::-1]
    names = tuple(m.joint_names[i] for i in perm)
    write_robot_motion(tmp_path / "rev.npz", replace(m, joint_names=names, joint_pos=m.joint_pos[:, perm],
                                                     joint_vel=m.joint_vel[:, perm]))  # fmt: skip
    a = motions.load_clip(data["mocap"] / "stand.npz", g1.TRACKED_LINKS)
    b = motions.load_clip(tmp_path / "rev.npz", g1.TRACKED_LINKS)
    assert np.array_equal(a.joint_pos, b.joint_pos)


def test_missing_motion_file_is_one_clear_error(tmp_path):
    with pytest.raises(InputError, match="not found.*retarget"):
        motions.load_clip(tmp_path / "nope.npz", g1.TRACKED_LINKS)


def test_motion_without_terrain_is_refused_for_the_teacher(data, tmp_path):
    with pytest.raises(InputError, match="names no terrain"):
        motions.load_clip(data["mocap"] / "stand.npz", g1.TRACKED_LINKS, need_scene=True)
    # names a terrain file that is gone
    write_robot_motion(
        tmp_path / "lost.npz", replace(read_robot_motion(data["clip"]), scene=tmp_path / "gone" / "heightfield.npz")
    )
    with pytest.raises(InputError, match="terrain .* is missing"):
        motions.load_clip(tmp_path / "lost.npz", g1.TRACKED_LINKS, need_scene=True)


def test_nan_in_motion_is_refused(data, tmp_path):
    m = read_robot_motion(data["mocap"] / "stand.npz")
    m.body_pos_w[3, 2, 1] = np.nan
    write_robot_motion(tmp_path / "nan.npz", m)
    with pytest.raises(InputError, match="NaN"):
        motions.load_clip(tmp_path / "nan.npz", g1.TRACKED_LINKS)


def test_heightfield_patch_origin_maps_scene_centre_to_patch_centre(data):
    hf = read_heightfield(data["clip"].parent / "heightfield.npz")
    assert np.allclose(hf.center_xy, [-1.0 + 1.45, -1.5 + 1.45])
    assert hf.height_at(np.array([1.0, 0.0])) == pytest.approx(0.1)
    assert hf.height_at(np.array([0.0, 0.0])) == pytest.approx(0.0)


def _fake_student_checkpoint(path, joint_names=g1.JOINT_NAMES_23, hidden=(32, 32), gate=0):
    """A checkpoint in the real format of the distill stage (real rsl_rl network, random weights)."""
    from tensordict import TensorDict
    from videomimic_offline.training.models import GatedHeightmapModel

    lay = StudentLayout()
    obs = TensorDict({"student": torch.zeros(1, lay.dim)}, batch_size=[1])
    m = GatedHeightmapModel(
        obs,
        {"policy": ["student"]},
        "policy",
        23,
        hidden_dims=hidden,
        obs_normalization=True,
        distribution_cfg={"class_name": "GaussianDistribution", "init_std": 1.0, "std_type": "scalar"},
        heightmap_dim=gate,
    )
    if gate:
        torch.nn.init.constant_(m.mlp.gate, 0.7)
    m.obs_normalizer.update(torch.randn(64, lay.dim) * 3 + 1)
    meta = {
        "format": stages.CKPT_FORMAT,
        "stage": "distill",
        "joint_names": list(joint_names),
        "obs_dims": {"student": lay.dim, "actor": 524},
        "student_layout": lay.to_dict(),
        "policy_hidden": list(hidden),
        "policy_group": "student",
        "policy_heightmap_gate": gate,
    }
    torch.save({"student_state_dict": m.state_dict(), "iter": 0, "infos": {stages.META_KEY: meta}}, path)
    return path


@pytest.mark.parametrize("gate", [0, 121])
def test_export_parity_and_metadata(tmp_path, gate):
    ck = _fake_student_checkpoint(tmp_path / "model_0.pt", gate=gate)
    files = export_student(ck, tmp_path / "export")
    actor, _ = policy_from_checkpoint(ck)
    assert parity(actor, files, StudentLayout()) < 1e-5


def test_checkpoint_with_other_joint_order_is_refused(tmp_path):
    ck = _fake_student_checkpoint(tmp_path / "model_0.pt", joint_names=tuple(reversed(g1.JOINT_NAMES_23)))
    with pytest.raises(IncompatibleError, match="joint order"):
        export_student(ck, tmp_path / "export")


def test_checkpoint_with_other_observation_layout_is_refused():
    ours = {
        "format": stages.CKPT_FORMAT,
        "joint_names": list(g1.JOINT_NAMES_23),
        "obs_dims": {"student": 499, "actor": 524},
        "student_layout": StudentLayout().to_dict(),
    }
    blind = {
        **ours,
        "obs_dims": {"student": 378, "actor": 524},
        "student_layout": StudentLayout(heightmap=False).to_dict(),
    }
    stages.check_compatible(ours, ours, "ck", ("student", "actor"))
    with pytest.raises(IncompatibleError, match="observation group 'student' has 378"):
        stages.check_compatible(blind, ours, "ck", ("student",))


def test_lafan_g1_csv_mocap_loads_as_a_clip(data, tmp_path):
    from videomimic_offline.motion_io.lafan_csv import write_lafan_csv

    clip = motions.load_clip(data["mocap"] / "walk.npz", g1.TRACKED_LINKS)
    T = 45  # 1.5 s at 30 fps
    qpos = np.zeros((T, 36))
    idx = np.linspace(0, clip.length - 1, T).astype(int)
    qpos[:, :3] = clip.body_pos_w[idx, 0]
    qpos[:, 3:7] = clip.body_quat_w[idx, 0]
    qpos[:, 7:] = clip.joint_pos[idx]
    write_lafan_csv(tmp_path / "walk.csv", qpos)
    got = motions.load_clip(tmp_path / "walk.csv", g1.TRACKED_LINKS)
    assert got.length == 74 and got.scene is None  # resampled 30 -> 50 fps
    np.testing.assert_allclose(got.body_pos_w[0], clip.body_pos_w[0], atol=1e-3)
    assert motions.find_motions([tmp_path]) == [tmp_path / "walk.csv"]


def test_heightmap_gate_starts_closed():
    from tensordict import TensorDict
    from videomimic_offline.training.models import GatedHeightmapModel

    lay = StudentLayout()
    obs = TensorDict({"student": torch.zeros(4, lay.dim)}, batch_size=[4])
    m = GatedHeightmapModel(obs, {"policy": ["student"]}, "policy", 23, hidden_dims=(16,), heightmap_dim=121)
    x = torch.randn(4, lay.dim)
    y = x.clone()
    y[:, -121:] += 1.0
    td = lambda v: TensorDict({"student": v}, batch_size=[4])  # noqa: E731
    assert torch.equal(m(td(x)), m(td(y)))  # terrain ignored at initialisation
    with torch.no_grad():
        m.mlp.gate.fill_(1.0)
    assert not torch.allclose(m(td(x)), m(td(y)))


TOOLS = Path(__file__).resolve().parents[2] / "install" / "videomimic_offline" / "lib" / "videomimic_offline"


@pytest.mark.skipif(not (TOOLS / "train_mpt").exists(), reason="workspace not built (bash scripts/setup.sh)")
def test_installed_tools_give_one_line_errors_and_write_mocap(tmp_path):
    res = subprocess.run(
        [str(TOOLS / "train_mpt"), "--motions", str(tmp_path / "none.npz"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [
        f"error: motion file {tmp_path / 'none.npz'} not found: pass "
        "robot_motion.npz files written by the retarget tool"
    ]
    res = subprocess.run(
        [
            str(TOOLS / "make_mocap"),
            "--out",
            str(tmp_path / "d"),
            "--kinds",
            "squat",
            "--seconds",
            "0.5",
            "--sample-clip",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    clip = motions.load_clip(tmp_path / "d" / "clips" / "stepclip" / "robot_motion.npz", g1.TRACKED_LINKS, True)
    assert clip.scene == tmp_path / "d" / "clips" / "stepclip" / "heightfield.npz"
    assert (tmp_path / "d" / "mocap" / "squat.npz").is_file()
