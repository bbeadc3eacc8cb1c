"""Ego-view RGB-D: metric depth of known geometry from the offline renderer and from the training
sensor, the head camera's mount, and the `render_egoview` artifact end to end on generated inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from videomimic_offline.egoview.camera import camera_pose_in_parent, intrinsics
from videomimic_offline.egoview.scene import EgoScene, box_mesh
from videomimic_offline.robot import g1

#: A camera at the origin looking along world +x (OpenCV axes: x right = -y world, y down = -z world).
T_LOOK_X = np.array([[0.0, 0.0, 1.0, 0.0], [-1.0, 0.0, 0.0, 0.0], [0.0, -1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]])


def _box_scene(distance: float) -> EgoScene:
    v, f = box_mesh(center=(distance + 0.25, 0.0, 0.0), size=(0.5, 1.0, 0.6), yaw=0.0)
    return EgoScene(v, f, np.tile(np.array([200, 80, 40], np.uint8), (len(v), 1)), 1.0, "box")


def test_offline_depth_of_a_known_box_within_one_percent() -> None:
    from videomimic_offline.egoview.render import render_frames

    K = intrinsics()
    w, h = g1.HEAD_CAMERA_RESOLUTION
    frames = render_frames(_box_scene(2.0), K, (w, h), np.zeros(1), T_LOOK_X[None], g1.HEAD_CAMERA_DEPTH_RANGE_M)
    depth, valid, rgb = frames.depth[0], frames.valid[0], frames.rgb[0]
    # The box face x = 2.0 spans y in +-0.5, z in +-0.3: pixels |u - cx| < f*0.5/2, |v - cy| < f*0.3/2.
    f, cx, cy = K[0, 0], K[0, 2], K[1, 2]
    u, v = np.meshgrid(np.arange(w), np.arange(h))
    inside = (np.abs(u - cx) < f * 0.25 - 2) & (np.abs(v - cy) < f * 0.15 - 2)
    outside = (np.abs(u - cx) > f * 0.25 + 2) | (np.abs(v - cy) > f * 0.15 + 2)
    assert np.all(valid[inside]) and not np.any(valid[outside])
    assert np.max(np.abs(depth[inside] / 2.0 - 1.0)) < 0.01
    assert abs(float(depth[round(cy), round(cx)]) - 2.0) < 1e-3
    assert np.all(depth[outside] == 0) and np.all(rgb[inside] == [200, 80, 40])


def test_head_camera_sits_on_the_head_looking_ahead_and_down() -> None:
    import mujoco
    from videomimic_offline.robot.model import g1_model, joint_qpos_indices

    m = g1_model("29dof", actuators=False)
    d = mujoco.MjData(m)
    d.qpos[:3] = [0, 0, g1.DEFAULT_PELVIS_HEIGHT]
    d.qpos[3] = 1.0
    d.qpos[joint_qpos_indices(m, tuple(g1.DEFAULT_POSE))] = list(g1.DEFAULT_POSE.values())
    mujoco.mj_kinematics(m, d)
    torso = m.body(g1.HEAD_CAMERA_PARENT_LINK).id
    T = np.eye(4)
    T[:3, :3], T[:3, 3] = d.xmat[torso].reshape(3, 3), d.xpos[torso]
    cam = T @ camera_pose_in_parent()
    assert 1.15 < cam[2, 3] < 1.35  # at head height on a 1.32 m robot
    axis = cam[:3, 2]  # optical axis: forward (+x) and 47.6 deg down
    assert axis[0] > 0.6 and abs(np.degrees(np.arcsin(-axis[2])) - 47.6) < 1.0
    assert cam[:3, 0] @ [0, -1, 0] > 0.99  # image right = the robot's right


def test_render_egoview_writes_the_artifact(tmp_path) -> None:
    """A standing robot over a generated floor: the optical axis meets the floor where geometry says."""
    import mujoco
    from videomimic_offline.contracts.robot_motion import from_qpos, write_robot_motion
    from videomimic_offline.egoview.render import read_egoview
    from videomimic_offline.egoview.tool import EgoviewConfig, render_egoview
    from videomimic_offline.real2sim.scene import write_ply
    from videomimic_offline.robot.model import g1_model, joint_qpos_indices

    from videomimic_offline import artifacts

    m = g1_model("29dof", actuators=False)
    qpos = np.zeros((25, m.nq))
    qpos[:, :3] = [0.0, 0.0, g1.DEFAULT_PELVIS_HEIGHT]
    qpos[:, 0] = np.linspace(0.0, 0.2, 25)  # walks 0.2 m forward in 0.5 s
    qpos[:, 3] = 1.0
    qpos[:, joint_qpos_indices(m, tuple(g1.DEFAULT_POSE))] = list(g1.DEFAULT_POSE.values())
    motion = from_qpos(qpos, 50.0, np.ones((25, 2), bool))
    write_robot_motion(tmp_path / "robot_motion.npz", motion)
    recon = tmp_path / "recon"
    recon.mkdir()
    xs, ys = np.meshgrid(np.linspace(-1, 4, 26), np.linspace(-2, 2, 21))
    verts = np.stack([xs.ravel(), ys.ravel(), np.zeros(xs.size)], 1)
    i = (np.arange(20)[:, None] * 26 + np.arange(25)[None]).ravel()
    write_ply(
        recon / "scene_mesh.ply",
        verts,
        np.concatenate([np.stack([i, i + 1, i + 27], 1), np.stack([i, i + 27, i + 26], 1)]),
    )

    out = render_egoview(EgoviewConfig(robot_motion=tmp_path / "robot_motion.npz", recon=recon, out=tmp_path / "ego",
                                       width=160, height=120, fps=30.0, progress=False))  # fmt: skip
    ego = read_egoview(out / "egoview.npz")
    assert ego["depth_m"].shape == (15, 120, 160) and ego["valid"].shape == (15, 120, 160)  # 0.48 s at 30 fps
    np.testing.assert_allclose(ego["K"], intrinsics(160, 120))
    assert (out / "egoview.mp4").stat().st_size > 1000
    info = artifacts.read_json(out / "info.json")
    assert info["frames"] == 15 and 0.3 < info["valid_fraction"] < 1.0
    # Expected depth of the centre pixel: the optical axis from the camera centre to the floor z = 0.
    for k in (0, 14):
        T = ego["T_world_cam"][k]
        t_hit = -T[2, 3] / T[2, 2]
        cy, cx = 59.5, 79.5  # pixel centres straddle the axis: average the four around it
        centre = ego["depth_m"][k, int(cy) : int(cy) + 2, int(cx) : int(cx) + 2].astype(float).mean()
        assert abs(centre / t_hit - 1) < 0.01, (centre, t_hit)
    # A re-run with the same inputs reuses the artifact.
    stamp = (out / "egoview.npz").stat().st_mtime_ns
    render_egoview(EgoviewConfig(robot_motion=tmp_path / "robot_motion.npz", recon=recon, out=tmp_path / "ego",
                                 width=160, height=120, fps=30.0, progress=False))  # fmt: skip
    assert (out / "egoview.npz").stat().st_mtime_ns == stamp
    assert mujoco  # the robot model loaded through MuJoCo above


@pytest.mark.slow
def test_training_sensor_depth_of_a_known_box_within_one_percent() -> None:
    """The mjlab camera sensor config (mount, field of view) rendered by mujoco_warp, as in training."""
    import mujoco
    import mujoco_warp as mjwarp
    from videomimic_offline.robot.model import g1_spec, joint_qpos_indices
    from videomimic_offline.training.head_camera import head_depth_sensor_cfg

    W, H = 65, 49  # odd: the centre pixel lies on the optical axis
    scene = mujoco.MjSpec()
    scene.attach(g1_spec("29dof", actuators=False), prefix="robot/", frame=scene.worldbody.add_frame())
    sensor = head_depth_sensor_cfg(W, H)
    sensor.build().edit_spec(scene, {})
    m = scene.compile()
    d = mujoco.MjData(m)
    d.qpos[:3] = [0, 0, g1.DEFAULT_PELVIS_HEIGHT]
    d.qpos[3] = 1.0
    d.qpos[joint_qpos_indices(m, tuple("robot/" + n for n in g1.DEFAULT_POSE))] = list(g1.DEFAULT_POSE.values())
    mujoco.mj_kinematics(m, d)
    mujoco.mj_camlight(m, d)
    cam = m.camera(sensor.name).id
    torso = m.body("robot/" + g1.HEAD_CAMERA_PARENT_LINK).id
    T_torso = np.eye(4)
    T_torso[:3, :3], T_torso[:3, 3] = d.xmat[torso].reshape(3, 3), d.xpos[torso]
    T_cam = T_torso @ camera_pose_in_parent()
    np.testing.assert_allclose(d.cam_xpos[cam], T_cam[:3, 3], atol=1e-6)
    np.testing.assert_allclose(d.cam_xmat[cam].reshape(3, 3) @ np.diag([1, -1, -1]), T_cam[:3, :3], atol=1e-6)

    # A box whose face is perpendicular to the optical axis, 1.5 m ahead along it.
    dist = 1.5
    axis = T_cam[:3, 2]
    box = scene.worldbody.add_body(pos=(T_cam[:3, 3] + (dist + 0.1) * axis).tolist())
    R = T_cam[:3, :3]
    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, R.ravel())
    box.quat = quat.tolist()
    box.add_geom(type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.4, 0.3, 0.1], group=0)
    m = scene.compile()
    d2 = mujoco.MjData(m)
    d2.qpos[:] = d.qpos
    mujoco.mj_forward(m, d2)
    wm, wd = mjwarp.put_model(m), mjwarp.put_data(m, d2)
    cam_active = [i == m.camera(sensor.name).id for i in range(m.ncam)]
    rc = mjwarp.create_render_context(mjm=m, nworld=1, cam_res=[(W, H)], render_rgb=[False], render_depth=[True],
                                      use_textures=False, enabled_geom_groups=list(sensor.enabled_geom_groups),
                                      cam_active=cam_active)  # fmt: skip
    mjwarp.render(wm, wd, rc)
    depth = rc.depth_data.numpy()[0].reshape(H, W)
    K = intrinsics(W, H)
    u, v = np.meshgrid(np.arange(W), np.arange(H))
    on_face = (np.abs(u - K[0, 2]) < K[0, 0] * 0.4 / dist - 1) & (np.abs(v - K[1, 2]) < K[1, 1] * 0.3 / dist - 1)
    assert on_face.sum() > 200
    ok = np.abs(depth / dist - 1) < 0.01
    # The robot's own hands hang into the lower part of the view (as on the real robot): they are
    # nearer than the box; every other pixel of the face is at the box's distance within 1 %.
    assert ok[on_face].mean() > 0.8 and np.all(depth[on_face & ~ok] < dist * 0.99)
    assert abs(depth[H // 2, W // 2] / dist - 1) < 0.01


def test_head_depth_is_off_by_default_and_adds_one_group_when_on() -> None:
    from videomimic_offline.training.config import stage_config
    from videomimic_offline.training.env_cfg import make_env_cfg

    env = {"num_envs": 1, "terrain": ("flat",), "patch_size": 4.0}
    off = make_env_cfg(stage_config("mpt", motions=[], out=Path("."), env=env), [])
    assert "head_depth" not in off.observations and all(s.name != "head_depth" for s in off.scene.sensors)
    on = make_env_cfg(stage_config("mpt", motions=[], out=Path("."), env={**env, "head_depth": (64, 48)}), [])
    assert set(on.observations) == set(off.observations) | {"head_depth"}
    cam = next(s for s in on.scene.sensors if s.name == "head_depth")
    assert (cam.width, cam.height, cam.data_types) == (64, 48, ("depth",))


@pytest.mark.slow
def test_training_env_observes_head_depth(tmp_path) -> None:
    """The teacher env with the head camera on: a (1, 1, H, W) depth image of the floor ahead."""
    from mjlab.envs import ManagerBasedRlEnv
    from videomimic_offline.training.env_cfg import make_env_cfg
    from videomimic_offline.training.sample_data import make_sample_data
    from videomimic_offline.training.stages import load_clips, stage_config

    data = make_sample_data(tmp_path / "data")
    cfg = stage_config("teacher", out=tmp_path, motions=[data["clips"]],
                       env={"num_envs": 1, "terrain": ("flat",), "patch_size": 4.0, "head_depth": (65, 49)})  # fmt: skip
    env = ManagerBasedRlEnv(cfg=make_env_cfg(cfg, load_clips(cfg), eval_mode=True), device="cpu")
    try:
        obs, _ = env.reset()
        depth = obs["head_depth"].numpy()
    finally:
        env.close()
    assert depth.shape == (1, 1, 49, 65)
    centre = depth[0, 0, 24, 32]
    assert 1.0 < centre < 2.5  # the floor about a metre ahead of a standing G1, seen 47.6 deg down
    assert (depth[0, 0] > 0).mean() > 0.7
