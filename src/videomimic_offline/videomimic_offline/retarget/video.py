"""Side-by-side video: the human skeleton (blue, shifted 1 m to its left) and the G1 on the scene.

Rendered offscreen with MuJoCo (``MUJOCO_GL=egl``, or osmesa where EGL is missing) at a small
size and 10 fps (every 5th frame at 50 fps) so a clip stays cheap on a CPU.
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

SIDE_OFFSET = np.array([0.0, 1.0, 0.0])


def _scene_model(terrain: Terrain):
    spec = g1_spec("29dof", actuators=False, floor=terrain.is_flat)
    if terrain.field is not None:  # the same hfield the simulator and training build
        add_heightfield(spec, terrain.field).rgba = [0.6, 0.6, 0.55, 1]
    light = spec.worldbody.add_light()
    light.pos = [0, 0, 4]
    light.dir = [0, 0, -1]
    return spec.compile()


def render_side_by_side(path: Path, human: np.ndarray, motion: RobotMotion, terrain: Terrain,
                        size: tuple[int, int] = (400, 300), every: int = 5) -> Path:  # fmt: skip
    """Write an MP4 of ``human`` (T, J, 3) beside the robot; returns the path."""
    import cv2

    m = _scene_model(terrain)
    d = mujoco.MjData(m)
    try:
        renderer = mujoco.Renderer(m, height=size[1], width=size[0])
    except Exception as exc:  # no EGL/OSMesa context
        raise BackendUnavailableError(f"offscreen rendering failed ({exc}); set MUJOCO_GL=osmesa or egl") from exc
    cam = mujoco.MjvCamera()
    cam.type = mujoco.mjtCamera.mjCAMERA_FREE
    cam.distance, cam.elevation, cam.azimuth = 3.2, -15.0, 150.0
    fps = motion.fps / every
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    try:
        for t in range(0, len(motion.qpos), every):
            d.qpos[:] = motion.qpos[t]
            mujoco.mj_forward(m, d)
            cam.lookat[:] = motion.qpos[t, :3] + SIDE_OFFSET / 2
            renderer.update_scene(d, cam)
            scn = renderer.scene
            scn.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = 0  # shadows and reflections dominate software GL time
            scn.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = 0
            scn.flags[mujoco.mjtRndFlag.mjRND_SKYBOX] = 0
            pts = human[min(t, len(human) - 1)] + SIDE_OFFSET
            for j, p in enumerate(HUMAN_PARENTS):
                if p < 0 or scn.ngeom >= scn.maxgeom:
                    continue
                g = scn.geoms[scn.ngeom]
                mujoco.mjv_initGeom(g, mujoco.mjtGeom.mjGEOM_CAPSULE, np.zeros(3), np.zeros(3), np.eye(3).ravel(),
                                    np.array([0.2, 0.4, 0.9, 1.0], np.float32))  # fmt: skip
                mujoco.mjv_connector(g, mujoco.mjtGeom.mjGEOM_CAPSULE, 0.025, pts[p], pts[j])
                scn.ngeom += 1
            img = renderer.render()
            writer.write(cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    finally:
        writer.release()
        renderer.close()
    return Path(path)


assert len(HUMAN_PARENTS) == len(HUMAN_JOINTS)
