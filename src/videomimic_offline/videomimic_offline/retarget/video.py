"""Side-by-side video: the human (as a mannequin of capsules, shifted to the robot's left) and the
retargeted G1, on the terrain the retargeting used.

960 x 540 at 30 fps (the 50 fps motion interpolated), with a camera that follows the pair from a
three-quarter front view. Scene geometry between the camera and the pair is cut away: the near
clipping plane sits just in front of them, so a reconstructed wall can never hide the bodies.
Rendered offscreen with MuJoCo (``MUJOCO_GL=egl``, or osmesa where EGL is missing).
"""

from __future__ import annotations

from pathlib import Path

import mujoco
import numpy as np

from videomimic_offline.body.skeleton import HUMAN_JOINTS, HUMAN_PARENTS
from videomimic_offline.contracts.robot_motion import RobotMotion
from videomimic_offline.errors import BackendUnavailableError
from videomimic_offline.retarget.terrain import Terrain
from videomimic_offline.robot.model import g1_spec
from videomimic_offline.sim.terrain import add_heightfield

#: Distance [m] of the human beside the robot (to the robot's left).
SIDE_M = 1.0
#: Scene geometry nearer to the camera than the bodies minus this margin [m] is cut away.
CUT_MARGIN_M = 0.9
HUMAN_RGBA = np.array([0.85, 0.55, 0.4, 1.0], np.float32)


def scene_model(terrain: Terrain, size: tuple[int, int] = (960, 540)):  # -> mujoco.MjModel
    """The 29-DoF G1 (no actuators) on ``terrain``, lit, with an offscreen buffer of ``size``."""
    from videomimic_offline.viz.robot_meshes import use_simplified_meshes

    spec = g1_spec("29dof", actuators=False, floor=terrain.is_flat)
    use_simplified_meshes(spec)
    if terrain.field is not None:  # the same hfield the simulator and training build
        add_heightfield(spec, terrain.field).rgba = [0.62, 0.64, 0.6, 1]
    for pos, diffuse in (([2, -2, 5], 0.6), ([-2, 2, 4], 0.35)):
        light = spec.worldbody.add_light()
        light.pos = pos
        light.dir = -np.asarray(pos, float) / np.linalg.norm(pos)
        light.diffuse = [diffuse] * 3
    spec.add_texture(name="sky", type=mujoco.mjtTexture.mjTEXTURE_SKYBOX, builtin=mujoco.mjtBuiltin.mjBUILTIN_GRADIENT,
                     rgb1=[0.93, 0.95, 0.98], rgb2=[0.75, 0.8, 0.88], width=32, height=32)  # fmt: skip
    spec.visual.global_.offwidth = max(size[0], 640)
    spec.visual.global_.offheight = max(size[1], 480)
    spec.visual.headlight.ambient = [0.35, 0.35, 0.35]
    return spec.compile()


def offscreen_renderer(m, size: tuple[int, int]):  # m: mujoco.MjModel -> mujoco.Renderer
    """A MuJoCo renderer, or a clear message when no offscreen GL is available."""
    try:
        return mujoco.Renderer(m, height=size[1], width=size[0])
    except Exception as exc:  # no EGL/OSMesa context
        raise BackendUnavailableError(f"offscreen rendering failed ({exc}); set MUJOCO_GL=osmesa or egl") from exc


def _resample(motion: RobotMotion, human: np.ndarray, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """qpos (N, nq) and human joints (N, J, 3) at ``fps``: linear in time, quaternion renormalised."""
    src = np.arange(len(motion.qpos)) / motion.fps
    times = np.arange(0.0, src[-1] + 1e-9, 1.0 / fps)
    qpos = np.stack([np.interp(times, src, motion.qpos[:, k]) for k in range(motion.qpos.shape[1])], axis=1)
    quat = motion.qpos[:, 3:7].copy()
    for t in range(1, len(quat)):  # continuous sign before interpolating
        if quat[t] @ quat[t - 1] < 0:
            quat[t] *= -1
    q = np.stack([np.interp(times, src, quat[:, k]) for k in range(4)], axis=1)
    qpos[:, 3:7] = q / np.linalg.norm(q, axis=1, keepdims=True)
    hsrc = np.linspace(0.0, src[-1], len(human))
    flat = human.reshape(len(human), -1)
    joints = np.stack([np.interp(times, hsrc, flat[:, k]) for k in range(flat.shape[1])], axis=1)
    return qpos, joints.reshape(len(times), *human.shape[1:])


def _view(qpos: np.ndarray) -> tuple[np.ndarray, float]:
    """The side direction (unit, xy) that puts the human at the robot's left, and the camera azimuth.

    The camera looks at the pair from 35 deg off the robot's mean facing direction, in front of it.
    """
    w, x, y, z = qpos[:, 3:7].mean(axis=0)
    yaw = np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
    side = np.array([-np.sin(yaw), np.cos(yaw), 0.0])
    # MuJoCo's azimuth is the direction the camera looks along; looking back at the robot's front.
    return side, float(np.degrees(yaw) + 180.0 - 35.0)


def _add_human(scn, pts: np.ndarray) -> None:  # noqa: ANN001 - mujoco.MjvScene
    """Capsules along the bones and a sphere for the head, appended to the scene's geoms."""
    radii = {"head": 0.1}
    for j, p in enumerate(HUMAN_PARENTS):
        if p < 0 or scn.ngeom >= scn.maxgeom:
            continue
        g = scn.geoms[scn.ngeom]
        mujoco.mjv_initGeom(g, mujoco.mjtGeom.mjGEOM_CAPSULE, np.zeros(3), np.zeros(3), np.eye(3).ravel(), HUMAN_RGBA)
        r = 0.055 if "hip" in HUMAN_JOINTS[j] or "spine" in HUMAN_JOINTS[j] or "neck" in HUMAN_JOINTS[j] else 0.04
        mujoco.mjv_connector(g, mujoco.mjtGeom.mjGEOM_CAPSULE, r, pts[p], pts[j])
        scn.ngeom += 1
    for name, r in radii.items():
        if name in HUMAN_JOINTS and scn.ngeom < scn.maxgeom:
            g = scn.geoms[scn.ngeom]
            mujoco.mjv_initGeom(g, mujoco.mjtGeom.mjGEOM_SPHERE, np.full(3, r), pts[HUMAN_JOINTS.index(name)],
                                np.eye(3).ravel(), HUMAN_RGBA)  # fmt: skip
            scn.ngeom += 1


def render_side_by_side(path: Path, human: np.ndarray, motion: RobotMotion, terrain: Terrain,
                        size: tuple[int, int] = (960, 540), fps: float = 30.0) -> Path:  # fmt: skip
    """Write an H.264 MP4 of ``human`` (T, J, 3) beside the robot; returns the path."""
    from videomimic_offline.real2sim.visualize import encode_mp4

    m = scene_model(terrain, size)
    d = mujoco.MjData(m)
    renderer = offscreen_renderer(m, size)
    qpos, joints = _resample(motion, np.asarray(human, float), fps)
    side, azimuth = _view(qpos)
    offset = SIDE_M * side
    cam = mujoco.MjvCamera()
    cam.type = mujoco.mjtCamera.mjCAMERA_FREE
    cam.distance, cam.elevation, cam.azimuth = 3.4, -12.0, azimuth
    m.vis.map.zfar = 50.0
    m.vis.map.znear = max(0.05, cam.distance - CUT_MARGIN_M) / m.stat.extent  # the cut-away plane
    # Follow the pair smoothly (an exponential moving average of their midpoint).
    mid = qpos[:, :3] + offset / 2
    alpha = 1 - np.exp(-1.0 / (0.4 * fps))
    for t in range(1, len(mid)):
        mid[t] = mid[t - 1] + alpha * (mid[t] - mid[t - 1])

    def frames():  # noqa: ANN202 - generator of RGB frames
        for t in range(len(qpos)):
            d.qpos[:] = qpos[t]
            mujoco.mj_kinematics(m, d)
            cam.lookat[:] = mid[t] + np.array([0.0, 0.0, -0.15])
            renderer.update_scene(d, cam)
            scn = renderer.scene
            scn.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = 0  # shadows and reflections dominate software GL time
            scn.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = 0
            _add_human(scn, joints[t] + offset)
            yield renderer.render().copy()

    try:
        encode_mp4(frames(), Path(path), fps)
    finally:
        renderer.close()
    return Path(path)


assert len(HUMAN_PARENTS) == len(HUMAN_JOINTS)
