"""A video of a deploy run, rendered from its rosbag: the simulated G1 as the bag recorded it.

Each frame poses the robot from the bag alone: base pose from ``/vm/odom``, joint angles from
``/lowstate``, on the heightfield the run used (the bag's ``scene``). One frame throughout: the
scene's world frame, the heightfield's own (in simulation ``/vm/odom`` is the simulator's true pose in
it). ``/vm/odom`` is the pose of ``torso_link`` (its child frame), not of the model's root (pelvis);
:func:`pose_from_torso` places the root so the torso lands where the odometry says, through the
measured waist joints (posing the root at the torso's pose drew the G1 5 cm above its terrain).
The 11 x 11 policy heightmap of that instant (``/vm/heightmap``) and the bridge state
(``/vm/bridge_state``) are drawn as insets, so the video shows what the policy saw and did.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from videomimic_offline.robot import g1
from videomimic_offline.topics import TOPICS


def _latest(stamps: np.ndarray, t: int) -> int:
    """Index of the newest message at or before ``t`` (0 before the first)."""
    return max(int(np.searchsorted(stamps, t, side="right")) - 1, 0)


def heightmap_inset(values: np.ndarray, size: int = 150, lo: float = 0.4, hi: float = 1.2) -> np.ndarray:
    """The 11 x 11 heightmap (torso height above each cell, m) as an RGB image, robot at the centre."""
    import cv2

    grid = np.asarray(values, float).reshape(g1.HEIGHTMAP_SHAPE)
    x = np.clip((grid - lo) / (hi - lo), 0, 1)
    img = cv2.applyColorMap((x * 255).astype(np.uint8), cv2.COLORMAP_VIRIDIS)[::-1, :, ::-1]  # row 0 = behind
    img = cv2.resize(np.ascontiguousarray(img), (size, size), interpolation=cv2.INTER_NEAREST)
    c = size // 2
    cv2.drawMarker(img, (c, c), (255, 255, 255), cv2.MARKER_TRIANGLE_UP, 14, 2)
    return img


def pose_from_torso(m, d, joints: np.ndarray, qadr, pos, quat) -> None:  # m, d: mujoco.MjModel, MjData
    """Pose ``d`` (then ``mj_kinematics``) so that ``torso_link`` is at ``pos``/``quat`` (w, x, y, z)
    with the 29 ``joints`` (motor order) at ``qadr``: the root (pelvis) follows through the waist."""
    import mujoco

    torso = m.body(g1.TORSO_LINK).id
    d.qpos[:3], d.qpos[3:7] = 0.0, [1.0, 0.0, 0.0, 0.0]
    d.qpos[qadr] = joints
    mujoco.mj_kinematics(m, d)
    p_rel, R_rel = d.xpos[torso].copy(), d.xmat[torso].reshape(3, 3).copy()  # torso in the root's frame
    R_torso = np.zeros(9)
    mujoco.mju_quat2Mat(R_torso, np.asarray(quat, dtype=np.float64))
    R_root = R_torso.reshape(3, 3) @ R_rel.T
    q_root = np.zeros(4)
    mujoco.mju_mat2Quat(q_root, R_root.ravel())
    d.qpos[:3] = np.asarray(pos, dtype=np.float64) - R_root @ p_rel
    d.qpos[3:7] = q_root
    mujoco.mj_kinematics(m, d)


def render_deploy_video(msgs: dict[str, list[tuple[int, Any]]], scene: Path | None, path: Path,
                        fps: float = 8.0, size: tuple[int, int] = (640, 360)) -> Path | None:  # fmt: skip
    """Write ``path`` (H.264) from the bag's messages; None when the bag lacks poses or joints."""
    import cv2
    import mujoco

    from videomimic_offline.contracts.heightfield import read_heightfield
    from videomimic_offline.real2sim.visualize import encode_mp4
    from videomimic_offline.retarget.terrain import flat, from_field
    from videomimic_offline.retarget.video import offscreen_renderer, scene_model
    from videomimic_offline.robot.model import joint_qpos_indices

    odom, state = msgs.get(TOPICS["odom"], []), msgs.get(TOPICS["lowstate"], [])
    if not odom or not state:
        return None
    terrain = from_field(read_heightfield(scene)) if scene is not None and Path(scene).is_file() else flat()
    m = scene_model(terrain, size)
    d = mujoco.MjData(m)
    qadr = joint_qpos_indices(m, g1.JOINT_NAMES_29)
    renderer = offscreen_renderer(m, size)
    cam = mujoco.MjvCamera()
    cam.type = mujoco.mjtCamera.mjCAMERA_FREE
    cam.distance, cam.elevation, cam.azimuth = 3.0, -20.0, 135.0
    t_odom = np.array([t for t, _ in odom])
    t_state = np.array([t for t, _ in state])
    heights = msgs.get(TOPICS["heightmap"], [])
    t_height = np.array([t for t, _ in heights])
    bridge = msgs.get(TOPICS["bridge_state"], [])
    t_bridge = np.array([t for t, _ in bridge])
    t0, t1 = max(t_odom[0], t_state[0]), min(t_odom[-1], t_state[-1])
    times = np.arange(t0, t1, 1e9 / fps).astype(np.int64)

    def frames():  # noqa: ANN202 - generator of RGB frames
        for t in times:
            pose = odom[_latest(t_odom, t)][1].pose.pose
            p, q = pose.position, pose.orientation
            ms = state[_latest(t_state, t)][1].motor_state
            joints = np.array([ms[i].q for i in range(len(g1.JOINT_NAMES_29))])
            pose_from_torso(m, d, joints, qadr, [p.x, p.y, p.z], [q.w, q.x, q.y, q.z])
            cam.lookat[:] = [p.x, p.y, p.z - 0.2]
            renderer.update_scene(d, cam)
            img = renderer.render().copy()
            if heights:
                inset = heightmap_inset(heights[_latest(t_height, t)][1].data)
                img[10 : 10 + inset.shape[0], -10 - inset.shape[1] : -10] = inset
                cv2.putText(img, "policy heightmap", (size[0] - 160, 175), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                            (20, 20, 20), 1, cv2.LINE_AA)  # fmt: skip
            label = f"t = {(t - t0) / 1e9:5.1f} s"
            if bridge:
                label += f"   bridge: {bridge[_latest(t_bridge, t)][1].data}"
            cv2.putText(img, label, (12, 28), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (20, 20, 20), 2, cv2.LINE_AA)
            yield img

    try:
        encode_mp4(frames(), Path(path), fps)
    finally:
        renderer.close()
    return Path(path)
