"""The open body model: shape from height, skinning, joint map, and a detectable rendering."""

from __future__ import annotations

import time

import numpy as np
import pytest
from videomimic_offline.body.model import (
    BodyShape,
    axis_angle_to_mat,
    build_body,
    mat_to_quat,
    quat_to_mat,
)
from videomimic_offline.body.skeleton import HUMAN_JOINTS, HUMAN_PARENTS
from videomimic_offline.errors import InputError

I = {n: i for i, n in enumerate(HUMAN_JOINTS)}  # noqa: E741


def test_builds_fast_with_the_canonical_skeleton() -> None:
    t0 = time.perf_counter()
    body = build_body(BodyShape(1.75))
    assert time.perf_counter() - t0 < 1.0
    assert body.joints_rest.shape == (len(HUMAN_JOINTS), 3)
    assert body.parents == HUMAN_PARENTS
    assert body.weights.shape == (len(body.vertices_rest), len(HUMAN_JOINTS))
    np.testing.assert_allclose(body.weights.sum(1), 1.0, atol=1e-12)
    assert (body.weights >= 0).all()
    assert body.faces.max() < len(body.vertices_rest)
    assert body.texture.dtype == np.uint8 and body.texture.ndim == 3
    assert ((body.uv >= 0) & (body.uv <= 1)).all()


@pytest.mark.parametrize("height", [1.5, 1.62, 1.75, 1.95])
def test_height_is_the_mesh_height_and_soles_touch_the_floor(height: float) -> None:
    body = build_body(BodyShape(height))
    z = body.vertices_rest[:, 2]
    assert z.max() == pytest.approx(height, abs=2e-3)
    assert z.min() == pytest.approx(0.0, abs=2e-3)
    # joints are ordered bottom-up where anatomy says so
    p = body.joints_rest
    assert p[I["head"], 2] > p[I["neck"], 2] > p[I["spine"], 2] > p[I["pelvis"], 2] > p[I["left_knee"], 2]
    assert p[I["left_hip"], 1] > 0 > p[I["right_hip"], 1]  # +y is the person's left


def test_shape_scales_with_height_and_proportions_keep_height() -> None:
    a, b = build_body(BodyShape(1.5)), build_body(BodyShape(1.95))
    ratio = b.bone_lengths()[1:] / a.bone_lengths()[1:]
    np.testing.assert_allclose(ratio, 1.95 / 1.5, rtol=1e-9)
    long_legs = build_body(BodyShape(1.75, leg_ratio=1.06))
    short_legs = build_body(BodyShape(1.75, leg_ratio=0.94))
    thigh = [m.bone_lengths()[I["left_knee"]] for m in (long_legs, short_legs)]
    assert thigh[0] > thigh[1] * 1.1
    for m in (long_legs, short_legs):
        assert m.vertices_rest[:, 2].max() == pytest.approx(1.75, abs=2e-3)
    broad = build_body(BodyShape(1.75, shoulder_ratio=1.15))
    narrow = build_body(BodyShape(1.75, shoulder_ratio=0.9))
    assert broad.joints_rest[I["left_shoulder"], 1] > narrow.joints_rest[I["left_shoulder"], 1] * 1.2
    assert BodyShape.from_array(broad.shape.as_array()) == broad.shape
    with pytest.raises(InputError):
        BodyShape(175.0)  # centimetres by mistake


def test_posing_is_rigid_per_bone_and_the_root_moves_everything() -> None:
    body = build_body(BodyShape(1.8))
    rest = np.tile(np.eye(3), (len(HUMAN_JOINTS), 1, 1))
    v0, j0 = body.pose(body.joints_rest[0], np.eye(3), rest)
    np.testing.assert_allclose(j0, body.joints_rest, atol=1e-12)
    np.testing.assert_allclose(v0, body.vertices_rest, atol=1e-12)
    # a rigid root transform moves the whole mesh rigidly
    R = axis_angle_to_mat(np.array([0.2, -0.1, 1.2]))
    t = np.array([1.0, -2.0, 0.3])
    v1, j1 = body.pose(R @ body.joints_rest[0] + t, R, rest)
    np.testing.assert_allclose(v1, body.vertices_rest @ R.T + t, atol=1e-9)
    # bending the left knee moves only the left shank/foot joints, keeping bone lengths
    loc = rest.copy()
    loc[I["left_knee"]] = axis_angle_to_mat(np.array([0.0, 1.2, 0.0]))
    _, j2 = body.pose(body.joints_rest[0], np.eye(3), loc)
    moved = np.linalg.norm(j2 - body.joints_rest, axis=1) > 1e-9
    assert [HUMAN_JOINTS[k] for k in np.flatnonzero(moved)] == ["left_ankle", "left_toe"]
    np.testing.assert_allclose(
        np.linalg.norm(j2[I["left_ankle"]] - j2[I["left_knee"]]), body.bone_lengths()[I["left_ankle"]]
    )


def test_quaternion_helpers_round_trip() -> None:
    R = axis_angle_to_mat(np.random.default_rng(0).normal(0, 1, (10, 3)))
    q = mat_to_quat(R)
    assert (q[:, 0] >= 0).all()
    np.testing.assert_allclose(quat_to_mat(q), R, atol=1e-12)


def test_mediapipe_pose_detects_the_rendered_body() -> None:
    """The rendered mannequin must look enough like a person for the offline 2D detector."""
    mp = pytest.importorskip("mediapipe")
    from videomimic_offline.real2sim.synthetic.camera import look_at, project
    from videomimic_offline.real2sim.synthetic.render import ClipRenderer, Lighting
    from videomimic_offline.real2sim.synthetic.scenes import build_scene

    rng = np.random.default_rng(0)
    body = build_body(BodyShape(1.7), seed=3)
    scene = build_scene("curb", rng)
    loc = np.tile(np.eye(3), (len(HUMAN_JOINTS), 1, 1))
    loc[I["left_shoulder"]] = axis_angle_to_mat(np.array([-0.25, 0.0, 0.0]))
    loc[I["right_shoulder"]] = axis_angle_to_mat(np.array([0.25, 0.0, 0.0]))
    root = body.joints_rest[0] + np.array([0.3, 0.0, 0.0])
    verts, joints = body.pose(root, np.eye(3), loc)
    cam = root + np.array([3.0, -1.6, 0.2])
    Tw = np.eye(4)
    Tw[:3, :3] = look_at(cam[None], root[None])[0]
    Tw[:3, 3] = cam
    with ClipRenderer(scene, body, 640, 480, 55.0, Lighting()) as r:
        r.set_body(verts)
        r.set_camera(Tw)
        img = r.render()
    uv, _ = project(joints[None], Tw[None], r.K)
    with mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1) as pose:
        res = pose.process(img)
    assert res.pose_landmarks is not None, "MediaPipe found no person in the rendered frame"
    lm = res.pose_landmarks.landmark
    mp_index = {"left_shoulder": 11, "right_shoulder": 12, "left_hip": 23, "right_hip": 24}
    mp_index |= {"left_knee": 25, "right_knee": 26, "left_ankle": 27, "right_ankle": 28}
    err = [np.hypot(lm[k].x * 640 - uv[0, I[n], 0], lm[k].y * 480 - uv[0, I[n], 1]) for n, k in mp_index.items()]
    assert np.median(err) < 15.0, f"landmarks far from the true joints: {np.round(err, 1)} px"
