"""Heavy-backend loading paths, exercised with files generated here in the real formats."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.errors import BackendUnavailableError, ConfigError, InputError


# ---------------------------------------------------------------- SAM2
def _sam2_files(tmp_path: Path) -> tuple[Path, Path]:
    import torch

    ckpt = tmp_path / "sam2_hiera_tiny.pt"
    torch.save({"model": {"image_encoder.trunk.pos_embed": torch.zeros(1, 96, 7, 7)}}, ckpt)
    cfg = tmp_path / "sam2_hiera_t.yaml"
    cfg.write_text("model:\n  _target_: sam2.modeling.sam2_base.SAM2Base\n  image_size: 1024\n")
    return ckpt, cfg


def test_sam2_checkpoint_validated_then_package_missing(tmp_path: Path) -> None:
    from videomimic_offline.real2sim.backends.sam2 import load_sam2, validate_checkpoint

    ckpt, cfg = _sam2_files(tmp_path)
    sd = validate_checkpoint(ckpt, cfg)
    assert "image_encoder.trunk.pos_embed" in sd
    try:
        import sam2  # noqa: F401
    except ImportError:
        with pytest.raises(BackendUnavailableError, match="'sam2' package"):
            load_sam2(ckpt, cfg)


def test_sam2_rejects_wrong_files(tmp_path: Path) -> None:
    import torch
    from videomimic_offline.real2sim.backends.sam2 import validate_checkpoint

    ckpt, cfg = _sam2_files(tmp_path)
    with pytest.raises(ConfigError):
        validate_checkpoint(None, cfg)
    with pytest.raises(InputError, match="does not exist"):
        validate_checkpoint(tmp_path / "missing.pt", cfg)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"\x00not a checkpoint" * 10)
    with pytest.raises(InputError, match="not a torch checkpoint"):
        validate_checkpoint(junk, cfg)
    other = tmp_path / "other.pt"
    torch.save({"model": {"backbone.w": torch.zeros(1)}}, other)
    with pytest.raises(InputError, match="image_encoder"):
        validate_checkpoint(other, cfg)
    bad_cfg = tmp_path / "bad.yaml"
    bad_cfg.write_text("trainer: {}\n")
    with pytest.raises(InputError, match="'model' section"):
        validate_checkpoint(ckpt, bad_cfg)


# ---------------------------------------------------------------- ViTPose ONNX
def _vitpose_onnx(path: Path) -> Path:
    """A tiny ONNX net with ViTPose's I/O shapes: (1,3,256,192) -> (1,17,64,48) heatmaps.

    Every heatmap is the 4x4-average-pooled red channel, so all 17 peaks sit on the reddest spot.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = np.zeros((17, 3, 1, 1), np.float32)
    w[:, 0] = 1.0
    w[:, 1] = -1.0
    w[:, 2] = -1.0
    nodes = [
        helper.make_node("AveragePool", ["input"], ["pooled"], kernel_shape=[4, 4], strides=[4, 4]),
        helper.make_node("Conv", ["pooled", "w"], ["heatmaps"]),
    ]
    graph = helper.make_graph(
        nodes, "vitpose_stub",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 256, 192])],
        [helper.make_tensor_value_info("heatmaps", TensorProto.FLOAT, [1, 17, 64, 48])],
        initializer=[numpy_helper.from_array(w, "w")],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def test_vitpose_onnx_finds_the_peak(tmp_path: Path) -> None:
    from videomimic_offline.real2sim.backends.vitpose import VitPose

    vp = VitPose(_vitpose_onnx(tmp_path / "vitpose.onnx"))
    img = np.full((480, 640, 3), 90, np.uint8)
    img[300:308, 400:408] = (255, 0, 0)  # a red square centred at (403.5, 303.5)
    xy, score = vp.predict(img, np.array([340.0, 200.0, 460.0, 400.0]))
    assert xy.shape == (17, 2) and score.shape == (17,)
    assert np.all(np.abs(xy - [403.5, 303.5]) < 4.0), xy[0]
    # video path fills our skeleton's COCO joints and keeps the others
    kp = np.zeros((2, len(HUMAN_JOINTS), 2))
    conf = np.full((2, len(HUMAN_JOINTS)), 0.5)
    boxes = np.array([[340.0, 200.0, 460.0, 400.0], [np.nan] * 4])
    kp2, conf2 = vp.predict_video(np.stack([img, img]), boxes, kp, conf)
    j = HUMAN_JOINTS.index("left_knee")
    assert np.allclose(kp2[0, j], xy[13]) and np.all(kp2[1] == 0)
    assert np.all(kp2[0, HUMAN_JOINTS.index("left_toe")] == 0)  # ViTPose has no toes


def test_vitpose_rejects_wrong_model(tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper
    from videomimic_offline.real2sim.backends.vitpose import VitPose

    with pytest.raises(ConfigError):
        VitPose(None)
    with pytest.raises(InputError, match="does not exist"):
        VitPose(tmp_path / "none.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"garbage")
    with pytest.raises(InputError, match="not a loadable ONNX"):
        VitPose(junk)
    g = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])], "id",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 224, 224])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 224, 224])],
    )  # fmt: skip
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, tmp_path / "wrong.onnx")
    with pytest.raises(InputError, match="input shape"):
        VitPose(tmp_path / "wrong.onnx")


# ---------------------------------------------------------------- SMPL via smplx
def _synthetic_smpl(root: Path, n_verts: int = 6890, seed: int = 0) -> Path:
    """A SMPL_NEUTRAL.pkl with the real keys and shapes (random body, 1.0 m tall, y up)."""
    rng = np.random.default_rng(seed)
    v = rng.uniform(-0.2, 0.2, (n_verts, 3))
    v[:, 1] = rng.uniform(-0.5, 0.5, n_verts)  # 1 m along y (SMPL's up)
    J_reg = np.zeros((24, n_verts))
    for j in range(24):
        J_reg[j, rng.choice(n_verts, 10, replace=False)] = 0.1
    parents = np.array([-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21])
    kintree = np.stack([np.where(parents < 0, 4294967295, parents), np.arange(24)]).astype(np.int64)
    weights = rng.random((n_verts, 24))
    data = {
        "v_template": v, "shapedirs": rng.normal(0, 1e-3, (n_verts, 3, 10)),
        "posedirs": np.zeros((n_verts, 3, 207)), "J_regressor": J_reg,
        "weights": weights / weights.sum(1, keepdims=True), "kintree_table": kintree,
        "f": rng.integers(0, n_verts, (13776, 3)),
    }  # fmt: skip
    d = root / "smpl"
    d.mkdir(parents=True)
    with open(d / "SMPL_NEUTRAL.pkl", "wb") as fh:
        pickle.dump(data, fh, protocol=2)
    return root


def test_smpl_rest_joints_from_synthetic_model(tmp_path: Path) -> None:
    from videomimic_offline.real2sim.backends.smpl import SMPL_INDEX, smpl_rest_joints
    from videomimic_offline.real2sim.body_template import bone_lengths

    root = _synthetic_smpl(tmp_path / "models")
    j = smpl_rest_joints(root, 1.8)
    assert j.shape == (len(HUMAN_JOINTS), 3) and np.isfinite(j).all()
    assert set(SMPL_INDEX) == set(HUMAN_JOINTS)
    # everything scaled by height: the joints fit inside a 1.8 m tall body standing on z=0
    assert j[:, 2].min() >= -1e-6 and j[:, 2].max() <= 1.8 + 1e-6
    b = bone_lengths(1.8, "smpl", root)
    assert b.shape == (len(HUMAN_JOINTS),) and b[0] == 0 and (b[1:] > 0).all()


def test_smpl_missing_files(tmp_path: Path) -> None:
    from videomimic_offline.real2sim.backends.smpl import load_smpl

    with pytest.raises(ConfigError):
        load_smpl(None)
    with pytest.raises(InputError, match="SMPL_NEUTRAL.pkl is missing"):
        load_smpl(tmp_path)


# ---------------------------------------------------------------- MegaSaM outputs
def _megasam_npz(path: Path, T: int = 12, h: int = 60, w: int = 80) -> Path:
    """sgd_cvd_hr.npz layout: a camera sliding along x over a fronto-parallel wall at depth 2."""
    K = np.array([[60.0, 0, w / 2], [0, 60.0, h / 2], [0, 0, 1]])
    c2w = np.tile(np.eye(4), (T, 1, 1))
    c2w[:, 0, 3] = np.linspace(0, 0.5, T)
    np.savez(path, depths=np.full((T, h, w), 2.0, np.float32), intrinsic=K, cam_c2w=c2w,
             images=np.zeros((T, h, w, 3), np.uint8))  # fmt: skip
    return path


def test_megasam_reader(tmp_path: Path) -> None:
    from videomimic_offline.real2sim.backends.megasam import read_megasam

    ct = read_megasam(_megasam_npz(tmp_path / "sgd_cvd_hr.npz"), 12, (160, 120))
    assert ct.T_world_cam.shape == (12, 4, 4)
    assert np.allclose(ct.K[0, 0], 120.0) and np.allclose(ct.K[:2, 2], [80, 60])  # rescaled to 160x120
    assert len(ct.points) > 100 and np.allclose(ct.points[:, 2], 2.0)  # the wall, back-projected


def test_megasam_rejects_bad_files(tmp_path: Path) -> None:
    from videomimic_offline.real2sim.backends.megasam import read_megasam

    good = _megasam_npz(tmp_path / "good.npz")
    with pytest.raises(InputError, match="12 frames but the video has 30"):
        read_megasam(good, 30, (160, 120))
    np.savez(tmp_path / "partial.npz", depths=np.zeros((2, 4, 4)))
    with pytest.raises(InputError, match="lacks intrinsic, cam_c2w"):
        read_megasam(tmp_path / "partial.npz", 2, (4, 4))
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(InputError, match="not a readable npz"):
        read_megasam(tmp_path / "junk.npz", 2, (4, 4))
    with pytest.raises(ConfigError):
        read_megasam(None, 2, (4, 4))


# ---------------------------------------------------------------- NKSR
def test_nksr_unavailable() -> None:
    from videomimic_offline.real2sim.scene import nksr_mesh

    with pytest.raises(BackendUnavailableError, match="NKSR"):
        nksr_mesh(np.zeros((10, 3)))
