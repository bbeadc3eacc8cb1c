"""Sitting: pin the G1's pelvis on the seat while the person's pelvis rests on one (``seat_contact``).

Why a pin and not the scaled human pelvis height: the person's pelvis height above the floor,
scaled by the leg-length ratio (~0.7), puts a 1.3 m robot's pelvis *inside* a 45 cm chair. The
seat is where it is; the robot has to sit on it and reach the floor with its feet, as a short
person does on a tall chair: at the front of the seat, with the thighs over its edge.

So, for each seated stretch:

- the seat top is the terrain under the person's pelvis and hips (median over the stretch), when
  the terrain has a surface there at least ``MIN_SEAT_M`` above the floor under the feet;
  otherwise (flat floor, unknown cells) there is nothing to sit on and the pelvis is pinned at its
  scaled target, held still;
- the robot's pelvis target is ``seat_pelvis_height`` above the seat top (its pelvis and hip
  collision geoms resting on it), moved forward (towards the knees) so the pelvis origin is ``SEAT_INSET_M``
  behind the seat's front edge, where the robot's thighs clear the edge;
- around the stretch (``SEAT_WINDOW_S`` before and after) the pelvis target is the higher of the
  scaled target and the seated one, so the robot lowers itself onto the seat and rises from it
  without passing through it;
- in those frames the solver also keeps the pelvis and thigh collision geoms above the terrain
  (:func:`seat_points`), the way it keeps the soles above it.
"""

from __future__ import annotations

from functools import lru_cache

import mujoco
import numpy as np

from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.retarget.terrain import Terrain

#: A surface under the pelvis counts as a seat when it is at least this high above the floor.
MIN_SEAT_M = 0.10
#: Robot pelvis origin this far behind the seat's front edge (pelvis sphere radius 7 cm + 2 cm).
SEAT_INSET_M = 0.09
#: How far a seated G1's thighs slope down on a seat made for a person (its feet reach the floor).
THIGH_SLOPE_DEG = 30.0
#: Frames this long before and after a seated stretch lower onto / rise from the seat.
SEAT_WINDOW_S = 1.5
#: Bodies whose collision geoms rest on (and must stay above) the seat.
SEAT_BODIES = ("pelvis", "left_hip_roll_link", "right_hip_roll_link", "left_hip_yaw_link", "right_hip_yaw_link")


@lru_cache(maxsize=1)
def _model():
    from videomimic_offline.robot.model import g1_model

    return g1_model("29dof", actuators=False)


def seat_points(model=None) -> list[tuple[int, np.ndarray, float]]:
    """(body id, local point, radius) of the collision geoms of :data:`SEAT_BODIES` (capsule end
    points, sphere centres), the points the feasibility report checks against the terrain."""
    from videomimic_offline.retarget.feasibility import _collision_points

    m = model if model is not None else _model()
    ids = {m.body(n).id for n in SEAT_BODIES}
    return [(b, p, r) for b, p, r in _collision_points(m) if b in ids]


def seat_pelvis_height(model=None) -> float:
    """Height of the pelvis origin above a seat the robot sits upright on, in the posture it takes on
    a seat made for a person (thighs ``THIGH_SLOPE_DEG`` down so its feet reach the floor): the
    lowest of its seat points over the seat (up to ``SEAT_INSET_M`` in front of the pelvis origin),
    below the pelvis origin. 0.16 m on the G1 (the pelvis sphere alone: 0.15 m)."""
    m = model if model is not None else _model()
    return _seat_pelvis_height(m)


@lru_cache(maxsize=4)
def _seat_pelvis_height(m) -> float:
    from videomimic_offline.robot import g1
    from videomimic_offline.robot.model import joint_qpos_indices

    d = mujoco.MjData(m)
    d.qpos[:] = 0.0
    d.qpos[3] = 1.0
    names = g1.JOINT_NAMES_29
    adr = joint_qpos_indices(m, names)
    for side in ("left", "right"):
        d.qpos[adr[names.index(f"{side}_hip_pitch_joint")]] = -np.radians(90.0 - THIGH_SLOPE_DEG)
        d.qpos[adr[names.index(f"{side}_knee_joint")]] = 1.0
    mujoco.mj_kinematics(m, d)
    drop = 0.0
    for b, p, r in seat_points(m):
        w = d.xpos[b] + d.xmat[b].reshape(3, 3) @ p  # pelvis at the origin, facing +x
        if w[0] <= SEAT_INSET_M:
            drop = max(drop, r - float(w[2]))
    return drop


def _segments(mask: np.ndarray) -> list[tuple[int, int]]:
    e = np.flatnonzero(np.diff(np.r_[0, np.asarray(mask, np.int8), 0]))
    return list(zip(e[0::2], e[1::2], strict=True))


def _front_edge(terrain: Terrain, xy: np.ndarray, fwd: np.ndarray, top: float, reach: float = 0.6) -> float:
    """Distance from ``xy`` along ``fwd`` to where the surface drops 5 cm below ``top`` (``reach`` if never)."""
    d = np.arange(0.0, reach, 0.01)
    h = terrain.height(xy[None] + d[:, None] * fwd[None])
    drop = ~(h > top - 0.05)  # NaN (unknown) counts as off the seat
    return float(d[np.argmax(drop)]) if drop.any() else reach


def seat_targets(
    human: np.ndarray, seat: np.ndarray, terrain: Terrain, pelvis: np.ndarray, fps: float
) -> tuple[np.ndarray, np.ndarray]:
    """Pelvis targets (T,3) with the seated stretches pinned, and the frames (T,) bool in which the
    seat points must stay above the terrain (module docstring). ``human`` (T,J,3) and ``seat``
    (T,) at the targets' rate, ``pelvis`` (T,3) the scaled pelvis targets."""
    idx = HUMAN_JOINTS.index
    out = pelvis.copy()
    window = np.zeros(len(seat), bool)
    h_pel = human[:, idx("pelvis")]
    hips = human[:, [idx("left_hip"), idx("right_hip")]]
    knees = human[:, [idx("left_knee"), idx("right_knee")]]
    ankles = human[:, [idx("left_ankle"), idx("right_ankle")]]
    w = int(round(SEAT_WINDOW_S * fps))
    z_up = seat_pelvis_height()
    for s, e in _segments(seat):
        xy = np.median(h_pel[s:e, :2], axis=0)
        top = np.nan
        if not terrain.is_flat:
            hs = terrain.height(np.concatenate([h_pel[s:e, :2], hips[s:e].reshape(-1, 2)]))
            floor = terrain.height(ankles[s:e].reshape(-1, 2))
            if np.isfinite(hs).any() and np.isfinite(floor).any():
                cand = float(np.nanmedian(hs))
                if cand >= float(np.nanmedian(floor)) + MIN_SEAT_M:
                    top = cand
        if not np.isfinite(top):  # nothing to sit on: hold the scaled pelvis still
            out[s:e] = np.median(pelvis[s:e], axis=0)
            continue
        fwd = np.median((knees[s:e] - hips[s:e]).mean(1)[:, :2], axis=0)
        fwd = fwd / max(float(np.linalg.norm(fwd)), 1e-9)
        edge = _front_edge(terrain, xy, fwd, top)
        target = np.array([*(xy + fwd * max(0.0, edge - SEAT_INSET_M)), top + z_up])
        out[s:e] = target
        lo, hi = max(0, s - w), min(len(seat), e + w)
        window[lo:hi] = True
        for a, b in ((lo, s), (e, hi)):  # lowering onto / rising from the seat: never below it
            out[a:b, 2] = np.maximum(out[a:b, 2], target[2])
            # slide the pelvis to / from its seated place over the approach
            k = np.linspace(0.0, 1.0, b - a + 2)[1:-1] if b > a else np.zeros(0)
            ramp = k * k * (3 - 2 * k)
            if a == e:
                ramp = ramp[::-1]
            off = (target[:2] - xy)[None] * ramp[:, None]
            out[a:b, :2] = out[a:b, :2] + off
    return out, window


def seat_rows(model, data, terrain: Terrain, points, activation: float, jac: np.ndarray):
    """Linearised rows ``A dq >= b`` keeping each seat point's lowest extent on or above the terrain
    (only points within ``activation`` of it), at the configuration already in ``data``."""
    A, b = [], []
    for body, local, radius in points:
        p = data.xpos[body] + data.xmat[body].reshape(3, 3) @ local
        h = float(terrain.height(p[None, :2])[0])
        if not np.isfinite(h) or p[2] - radius - h >= activation:
            continue
        mujoco.mj_jac(model, data, jac, None, p, body)
        A.append(jac[2].copy())
        b.append(h + radius - p[2])
    return A, b
