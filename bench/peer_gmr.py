"""Run GMR (General Motion Retargeting) on one clip, timed; executed by the PEER interpreter.

    peer/bin/python bench/peer_gmr.py IN.npz OUT.npz

IN (written by bench/retarget.py): ``bodies`` (B,) GMR's LAFAN/BVH human body names, ``pos``
(T, B, 3) their positions (z-up, metres), ``rot`` (T, B, 3, 3) the world rotation taking the
robot's rest bone frame to the human's, ``height`` the person's stature [m]. The human body
orientation GMR reads is ``rot @ R_robot_body_at_rest @ R_offset^-1`` (its model, its ik_config
offsets), so after its own offset the target is the robot body turned like the human bone.
It runs ``GeneralMotionRetargeting('bvh', 'unitree_g1')`` with its bvh_to_g1 config, frame by
frame as its scripts/bvh_to_robot.py does, with ``actual_human_height`` = the stature. OUT: as bench/peer_holosoma.py (``qpos``, ``joint_names``,
``cpu_s``, ``wall_s``, ``ankle_w``). Imports only the peer's packages, never ours.
"""

from __future__ import annotations

import time

T0_CPU, T0_WALL = time.process_time(), time.perf_counter()

import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

SKIP = 3


def main() -> int:
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    try:
        import mujoco
        from general_motion_retargeting import GeneralMotionRetargeting
        from general_motion_retargeting.params import IK_CONFIG_DICT
        from scipy.spatial.transform import Rotation
    except ImportError as exc:
        print(f"GMR is not importable here: {exc}", file=sys.stderr)
        return SKIP
    inp = np.load(src)
    bodies, pos, rot, height = list(inp["bodies"]), inp["pos"], inp["rot"], float(inp["height"])
    config = json.loads(Path(IK_CONFIG_DICT["bvh"]["unitree_g1"]).read_text())
    gmr = GeneralMotionRetargeting(src_human="bvh", tgt_robot="unitree_g1", actual_human_height=height)

    # human body orientations in GMR's convention, from the bone rotations and its rest robot
    m = gmr.model
    d = mujoco.MjData(m)
    mujoco.mj_kinematics(m, d)
    quat = np.zeros(pos.shape[:2] + (4,))
    table = {h: (robot, entry[4]) for robot, entry in config["ik_match_table1"].items() for h in [entry[0]]}
    for b, name in enumerate(bodies):
        robot, off = table[name]
        R0 = d.xmat[m.body(robot).id].reshape(3, 3)
        Roff = Rotation.from_quat(off, scalar_first=True).as_matrix()
        quat[:, b] = Rotation.from_matrix(rot[:, b] @ R0 @ Roff.T).as_quat(scalar_first=True)
    frames = [{n: (pos[t, b], quat[t, b]) for b, n in enumerate(bodies)} for t in range(len(pos))]

    stamps, qpos = [], []
    for fr in frames:
        qpos.append(gmr.retarget(fr))
        stamps.append((time.process_time() - T0_CPU, time.perf_counter() - T0_WALL))
    qpos = np.array(qpos)
    names = [m.joint(i).name for i in range(m.njnt) if m.jnt_type[i] == mujoco.mjtJoint.mjJNT_HINGE]
    d.qpos[:] = qpos[0]
    mujoco.mj_kinematics(m, d)
    ankle = np.array([d.xpos[m.body(f"{s}_ankle_roll_link").id] for s in ("left", "right")])
    cpu, wall = np.array(stamps).T
    np.savez(dst, qpos=qpos, joint_names=np.array(names), cpu_s=cpu, wall_s=wall, ankle_w=ankle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
