"""Per-frame QP inverse kinematics for the G1 (MuJoCo Jacobians + the daqp QP solver).

Each frame solves a few Gauss-Newton steps of

    min  sum_i w_i |J_i dq - e_i|^2 + w_s |q + dq - q_prev|^2 + w_p |q + dq - q_default|^2 + lam |dq|^2
    s.t. joint limits and joint velocity limits (hard box bounds on dq),
         every sole / collision point above the terrain, self-collision pairs >= d_min (linearised),

warm-started from the previous frame. Residuals: feet and pelvis absolute positions, bone
vector directions at robot lengths, planted-foot orientation. Terrain and self-collision rows are
daqp "soft" constraints so a conflict with the hard bounds can never make the QP infeasible.
"""

from __future__ import annotations

import daqp
import mujoco
import numpy as np

from videomimic_offline.retarget.config import Weights
from videomimic_offline.retarget.keypoints import TRACKED, VECTORS, robot_keypoints
from videomimic_offline.retarget.targets import LEG_BONES, ClipTargets
from videomimic_offline.retarget.terrain import Terrain
from videomimic_offline.robot import g1
from videomimic_offline.robot.model import g1_model, joint_qpos_indices

SOFT = 8
#: Leg bones whose direction a seated robot does not copy: its thighs must slope down for its
#: shorter legs to reach the floor from a seat made for the person.
SEATED_LEG_VECTORS = frozenset(LEG_BONES)
TERRAIN_ACTIVATION = 0.05  # m: points closer than this to the surface get a constraint row
COLLISION_ACTIVATION = 0.04
COLLISION_MIN = 0.005
#: A frame gets up to this many Gauss-Newton steps beyond ``iters`` while its last step still moved
#: a coordinate by more than CONVERGED_STEP (rad or m). Where the constant-velocity prediction
#: overshoots (a jump the frame before), two linearised steps can leave a sole 6 mm into a tread.
EXTRA_ITERS = 4
CONVERGED_STEP = 0.05


def _skew(v: np.ndarray) -> np.ndarray:
    return np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])


def _rotvec(R: np.ndarray) -> np.ndarray:
    """Rotation vector (axis * angle) of a rotation matrix."""
    c = np.clip((np.trace(R) - 1.0) / 2.0, -1.0, 1.0)
    ang = np.arccos(c)
    w = np.array([R[2, 1] - R[1, 2], R[0, 2] - R[2, 0], R[1, 0] - R[0, 1]])
    s = np.sin(ang)
    if s < 1e-6:
        return 0.5 * w
    return ang / (2 * s) * w


def _rotz(yaw: float) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def foot_sole_corners(model) -> np.ndarray:
    """(4, 3) sole rectangle corners in the ankle-roll-link frame, from the foot collision capsules."""
    body = model.body(g1.FOOT_LINKS[0]).id
    pts = []
    for gid in range(model.ngeom):
        if model.geom_bodyid[gid] != body or model.geom_type[gid] != mujoco.mjtGeom.mjGEOM_CAPSULE:
            continue
        R = np.zeros(9)
        mujoco.mju_quat2Mat(R, model.geom_quat[gid])
        axis = R.reshape(3, 3)[:, 2] * model.geom_size[gid, 1]
        for sgn in (-1, 1):
            pts.append(model.geom_pos[gid] + sgn * axis - [0, 0, model.geom_size[gid, 0]])
    pts = np.array(pts)
    x0, x1, y0, y1, z = pts[:, 0].min(), pts[:, 0].max(), pts[:, 1].min(), pts[:, 1].max(), pts[:, 2].min()
    # The left foot's capsules are symmetric about the link's x axis; centre the rectangle there.
    yc = 0.5 * (y0 + y1)
    return np.array([[x1, y1 - yc, z], [x1, y0 - yc, z], [x0, y1 - yc, z], [x0, y0 - yc, z]])


def foot_sole_radius(model) -> float:
    """Radius (m) of the foot collision capsules whose ends :func:`foot_sole_corners` rests on.

    A sole corner is a capsule end's lowest point only while the foot is flat: pitched by θ (toe-off,
    heel strike), the end sphere reaches ``r (1 - cos θ)`` lower (2.5 mm at 41°).
    """
    body = model.body(g1.FOOT_LINKS[0]).id
    caps = [g for g in range(model.ngeom)
            if model.geom_bodyid[g] == body and model.geom_type[g] == mujoco.mjtGeom.mjGEOM_CAPSULE]  # fmt: skip
    return float(max(model.geom_size[g, 0] for g in caps))


def sole_sphere_gaps(xpos: np.ndarray, xmat: np.ndarray, sole: np.ndarray, radius: float, terrain: Terrain,
                     dilated: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Clearance of a foot's sole spheres above the terrain: (gap (K,), sphere centres' offsets (K, 3), heights).

    ``sole`` (K, 3): points on the sole (corners, or a grid along its edges) in the foot frame; each
    is the bottom of a sphere of ``radius`` when the foot is flat. The gap is measured from the
    sphere's lowest point (its centre minus ``radius`` in world z), so it stays right when the
    foot pitches or rolls; the offsets are what a point Jacobian needs.
    """
    r = (sole + [0.0, 0.0, radius]) @ xmat.reshape(3, 3).T
    p = xpos + r
    h = terrain.height(p[:, :2], dilated=dilated)
    return p[:, 2] - radius - h, r, h


def self_collision_pairs(model) -> np.ndarray:
    """Geom pairs that the solver keeps apart: arms vs trunk/legs/other arm, left leg vs right leg.

    Pairs already touching in the default pose (design overlaps) are left out.
    """
    groups: dict[str, list[int]] = {k: [] for k in ("larm", "rarm", "trunk", "lleg", "rleg")}
    for gid in range(model.ngeom):
        if not (model.geom_contype[gid] or model.geom_conaffinity[gid]):
            continue
        b = model.body(model.geom_bodyid[gid]).name
        if any(k in b for k in ("shoulder_yaw", "elbow", "wrist")):
            groups["larm" if b.startswith("left") else "rarm"].append(gid)
        elif b in ("pelvis", "torso_link"):
            groups["trunk"].append(gid)
        elif b.startswith("left") and ("hip" in b or "knee" in b or "ankle" in b):
            groups["lleg"].append(gid)
        elif b.startswith("right") and ("hip" in b or "knee" in b or "ankle" in b):
            groups["rleg"].append(gid)
    pairs = []
    for a, bs in (
        ("larm", ("trunk", "lleg", "rleg", "rarm")),
        ("rarm", ("trunk", "lleg", "rleg")),
        ("lleg", ("rleg",)),
    ):
        for b in bs:
            pairs += [(i, j) for i in groups[a] for j in groups[b]]
    d = mujoco.MjData(model)
    d.qpos[:] = 0.0
    d.qpos[3] = 1.0
    d.qpos[2] = g1.DEFAULT_PELVIS_HEIGHT
    mujoco.mj_kinematics(model, d)
    ft = np.zeros(6)
    keep = [(i, j) for i, j in pairs if mujoco.mj_geomDistance(model, d, i, j, 0.05, ft) > 0.005]
    return np.array(keep, dtype=np.int64).reshape(-1, 2)


class G1Retargeter:
    """Holds the model, index tables and scratch buffers; :meth:`solve_clip` runs the frames."""

    def __init__(self, weights: Weights | None = None, iters: int = 2, variant: str = "29dof") -> None:
        weights = weights or Weights()
        self.m = g1_model("29dof", actuators=False)
        self.d = mujoco.MjData(self.m)
        self.w = weights
        self.iters = iters
        self.names = g1.JOINT_NAMES_29
        self.qadr = np.array(joint_qpos_indices(self.m, self.names))
        self.vadr = np.array([self.m.jnt_dofadr[self.m.joint(n).id] for n in self.names])
        self.lo, self.hi = g1.limits_array(self.names)
        if variant == "23dof":  # the policy's robot: wrists locked at 0 (still 29 columns in the output)
            locked = [i for i, n in enumerate(self.names) if n in g1.LOCKED_JOINTS_23]
            self.lo[locked] = 0.0
            self.hi[locked] = 0.0
        elif variant != "29dof":
            raise ValueError(f"unknown G1 variant {variant!r}; use '29dof' or '23dof'")
        self.vmax = g1.as_array(g1.VELOCITY_LIMITS, self.names)
        self.q_default = np.zeros(self.m.nq)
        self.q_default[3] = 1.0
        self.q_default[self.qadr] = g1.as_array(g1.DEFAULT_POSE, self.names)
        self.kp = robot_keypoints()
        self._wposture = np.zeros(self.m.nv)
        for n, a in zip(self.names, self.vadr, strict=True):
            # wrists and ankle roll: no keypoint sets them; shoulder yaw (upper-arm twist): only the
            # elbow bend does, and not while the arm is straight, when it drifts into a limit and
            # stays in that branch (cmu_131's right arm: 150-280 mm wrist error for 7 s).
            hidden = "wrist" in n or "ankle_roll" in n or "shoulder_yaw" in n
            self._wposture[a] = weights.posture_unobserved if hidden else weights.posture
        self.bodies = sorted(set(self.kp.body[k] for k in TRACKED))
        self.feet = [self.m.body(n).id for n in g1.FOOT_LINKS]
        self.sole = foot_sole_corners(self.m)
        self.sole_radius = foot_sole_radius(self.m)
        self.pairs = self_collision_pairs(self.m)
        self.rbound = self.m.geom_rbound
        nv = self.m.nv
        self._jacp = {b: np.zeros((3, nv)) for b in self.bodies}
        self._jacr = {b: np.zeros((3, nv)) for b in self.bodies}
        self._jtmp = np.zeros((3, nv))
        self._ft = np.zeros(6)
        self.terrain_rows = 0
        self._seat_points: list | None = None

    # -- kinematics helpers ---------------------------------------------------------------
    def _forward(self, q: np.ndarray) -> None:
        self.d.qpos[:] = q
        mujoco.mj_kinematics(self.m, self.d)
        mujoco.mj_comPos(self.m, self.d)
        for b in self.bodies:
            mujoco.mj_jacBody(self.m, self.d, self._jacp[b], self._jacr[b], b)

    def _point(self, b: int, off: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World position and 3 x nv Jacobian of a point fixed in body ``b``."""
        R = self.d.xmat[b].reshape(3, 3)
        r = R @ off
        p = self.d.xpos[b] + r
        if not off.any():
            return p, self._jacp[b]
        return p, self._jacp[b] - _skew(r) @ self._jacr[b]

    def keypoints(self, q: np.ndarray) -> dict[str, np.ndarray]:
        """World positions of every keypoint at configuration ``q``."""
        self.d.qpos[:] = q
        mujoco.mj_kinematics(self.m, self.d)
        out = {}
        for k, b in self.kp.body.items():
            out[k] = self.d.xpos[b] + self.d.xmat[b].reshape(3, 3) @ self.kp.offset[k]
        return out

    # -- one Gauss-Newton / QP step ---------------------------------------------------------
    def tracking_rows(self, q: np.ndarray, t: int, tg: ClipTargets) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Linearised tracking residuals at ``q`` for frame ``t``: (J, e, weights), J dq ~ e.

        Runs the kinematics, so :meth:`constraint_rows` may follow at the same ``q``.
        """
        d, w = self.d, self.w
        self._forward(q)
        rows_J, rows_e, rows_w = [], [], []
        pts = {}
        jac = {}
        for k in TRACKED:
            pts[k], jac[k] = self._point(self.kp.body[k], self.kp.offset[k])
        # feet: position and orientation
        for i, (fname, fb) in enumerate(zip(("left_ankle", "right_ankle"), self.feet, strict=True)):
            contact = bool(tg.contacts[t, i])
            rows_J.append(jac[fname])
            rows_e.append(tg.foot_pos[t, i] - pts[fname])
            rows_w.append(np.full(3, w.foot_contact if contact else w.foot))
            Rt = _rotz(tg.foot_yaw[t, i])
            err = _rotvec(Rt @ d.xmat[fb].reshape(3, 3).T)
            rows_J.append(self._jacr[fb])
            rows_e.append(err)
            wr = w.foot_rot_contact if contact else w.foot_rot_swing
            rows_w.append(np.array([wr, wr, wr if contact else 0.0]))
        rows_J.append(jac["pelvis"])
        rows_e.append(tg.pelvis_pos[t] - pts["pelvis"])
        on_seat = tg.seat_window is not None and bool(tg.seat_window[t])  # on, onto or off a seat
        rows_w.append(np.full(3, w.pelvis_seat) if on_seat else np.array([w.pelvis_xy, w.pelvis_xy, w.pelvis_z]))
        seated = tg.seat_contact is not None and bool(tg.seat_contact[t])
        for a, b, wv in VECTORS:
            J = jac[b] - jac[a]
            e = tg.vec[(a, b)][t] - (pts[b] - pts[a])
            rows_J.append(J)
            rows_e.append(e)
            if seated and (a, b) in SEATED_LEG_VECTORS:  # pelvis on the seat + feet on the floor set the legs
                wv = wv * w.seated_leg
            rows_w.append(np.full(len(e), w.vector * wv))
        return np.vstack(rows_J), np.concatenate(rows_e), np.concatenate(rows_w)

    def constraint_rows(
        self, terrain: Terrain, terrain_act: float = TERRAIN_ACTIVATION, collision_act: float = COLLISION_ACTIVATION,
        sole: np.ndarray | None = None, dilated: bool = True,
    ) -> tuple[list[np.ndarray], list[float]]:  # fmt: skip
        """Linearised inequality rows ``A dq >= b`` at the last :meth:`tracking_rows` configuration.

        Sole spheres near the terrain stay on or above it (:func:`sole_sphere_gaps`: a pitched foot's
        capsule ends reach below its flat-foot corners); near self-collision pairs stay apart.
        The first ``self.terrain_rows`` rows are the terrain ones; ``sole``: points per foot (default
        the four sole corners).
        """
        m, d = self.m, self.d
        A_rows, a_lo = [], []
        for fb in self.feet:  # all sole points of a foot in one terrain query
            gap, r, h = sole_sphere_gaps(d.xpos[fb], d.xmat[fb], self.sole if sole is None else sole,
                                         self.sole_radius, terrain, dilated)  # fmt: skip
            near = np.isfinite(h) & (gap < terrain_act)
            if near.any():
                Jr = self._jacr[fb]
                i = np.flatnonzero(near)
                # z rows of J_p - [r]x J_r at the sphere centres: the lowest point moves with them
                A_rows += list(self._jacp[fb][2] - (r[i, 0, None] * Jr[1] - r[i, 1, None] * Jr[0]))
                a_lo += list(-gap[i])
        self.terrain_rows = len(A_rows)  # the rows after these are self-collision rows
        if len(self.pairs):
            ga, gb = self.pairs[:, 0], self.pairs[:, 1]
            cd = np.linalg.norm(d.geom_xpos[ga] - d.geom_xpos[gb], axis=1) - self.rbound[ga] - self.rbound[gb]
            for i in np.flatnonzero(cd < collision_act):
                g_a, g_b = int(ga[i]), int(gb[i])
                dist = mujoco.mj_geomDistance(m, d, g_a, g_b, collision_act, self._ft)
                if dist >= collision_act:
                    continue
                pa, pb = self._ft[:3].copy(), self._ft[3:].copy()
                n = pa - pb
                nn = np.linalg.norm(n)
                if nn < 1e-9:
                    continue
                n = n / nn * (1.0 if dist >= 0 else -1.0)
                mujoco.mj_jac(m, d, self._jtmp, None, pa, int(m.geom_bodyid[g_a]))
                Ja = self._jtmp.copy()
                mujoco.mj_jac(m, d, self._jtmp, None, pb, int(m.geom_bodyid[g_b]))
                A_rows.append(n @ (Ja - self._jtmp))
                a_lo.append(COLLISION_MIN - dist)
        return A_rows, a_lo

    def _step(self, q, t, tg: ClipTargets, terrain: Terrain, q_prev, dt: float, first: bool, q_pred=None) -> np.ndarray:
        m, w = self.m, self.w
        J, e, wts = self.tracking_rows(q, t, tg)
        nv = m.nv
        H = J.T @ (wts[:, None] * J)
        f = -(J.T @ (wts * e))
        # smoothness towards the previous frame and a weak default-posture prior (hinges)
        e_s = np.zeros(nv)
        e_v = np.zeros(nv)
        e_p = np.zeros(nv)
        ws = wv = 0.0
        if not first:
            mujoco.mj_differentiatePos(m, e_s, 1.0, q, q_pred if q_pred is not None else q_prev)
            mujoco.mj_differentiatePos(m, e_v, 1.0, q, q_prev)
            ws, wv = w.smooth, w.velocity
        mujoco.mj_differentiatePos(m, e_p, 1.0, q, self.q_default)
        wp = self._wposture
        H[np.diag_indices(nv)] += ws + wv + wp + w.damping
        f -= ws * e_s + wv * e_v + wp * e_p
        # hard bounds: joint limits and velocity limits on the hinges
        upper = np.full(nv, 1e3)
        lower = np.full(nv, -1e3)
        qh = q[self.qadr]
        up = self.hi - qh
        lo = self.lo - qh
        if not first:
            vstep = 0.95 * self.vmax * dt
            qp = q_prev[self.qadr]
            up = np.minimum(up, qp + vstep - qh)
            lo = np.maximum(lo, qp - vstep - qh)
        upper[self.vadr] = np.maximum(up, lo)
        lower[self.vadr] = lo
        # soft linear constraints: terrain and self-collision (+ pelvis and thighs on a seat)
        A_rows, a_lo = self.constraint_rows(terrain)
        if tg.seat_window is not None and tg.seat_window[t]:
            from videomimic_offline.retarget.seat import seat_points, seat_rows

            if self._seat_points is None:
                self._seat_points = seat_points(m)
            A_s, b_s = seat_rows(m, self.d, terrain, self._seat_points, 2 * TERRAIN_ACTIVATION, self._jtmp)
            A_rows, a_lo = A_rows + A_s, a_lo + b_s
        if A_rows:
            A = np.vstack(A_rows)
            bu = np.concatenate([upper, np.full(len(A_rows), 1e3)])
            bl = np.concatenate([lower, np.array(a_lo)])
            sense = np.zeros(nv + len(A_rows), dtype=np.int32)
            sense[nv:] = SOFT
        else:
            A = np.zeros((0, nv))
            bu, bl = upper, lower
            sense = np.zeros(nv, dtype=np.int32)
        dq, _, flag, _ = daqp.solve(H, f, A, bu, bl, sense)
        if flag < 0:  # numerical trouble: fall back to the box-clipped unconstrained step
            dq = np.clip(np.linalg.solve(H, -f), lower, upper)
        q_new = q.copy()
        mujoco.mj_integratePos(m, q_new, dq, 1.0)
        return q_new

    def _project(self, q: np.ndarray, q_prev: np.ndarray | None, dt: float) -> np.ndarray:
        """Exact hard limits after the step (the QP bounds hold only to solver tolerance)."""
        qh = q[self.qadr]
        if q_prev is not None:  # velocity first: clipping into the limits then only moves towards q_prev
            vstep = self.vmax * dt
            qh = np.clip(qh, q_prev[self.qadr] - vstep, q_prev[self.qadr] + vstep)
        qh = np.clip(qh, self.lo, self.hi)
        q[self.qadr] = qh
        q[3:7] /= np.linalg.norm(q[3:7])
        return q

    def initial_q(self, tg: ClipTargets) -> np.ndarray:
        """Default pose at the pelvis target, facing the human's hip line."""
        q = self.q_default.copy()
        q[:3] = tg.pelvis_pos[0]
        v = tg.vec[("right_hip", "left_hip")][0]
        yaw = np.arctan2(v[1], v[0]) - np.pi / 2
        q[3:7] = [np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)]
        return q

    def solve_clip(self, tg: ClipTargets, terrain: Terrain, progress=None) -> np.ndarray:
        """(T, nq) configurations for the whole clip."""
        T = len(tg.contacts)
        dt = 1.0 / tg.fps
        Q = np.zeros((T, self.m.nq))
        q = self.initial_q(tg)
        for _ in range(150):  # the first frame starts from the default pose: iterate to convergence
            q_new = self._project(self._step(q, 0, tg, terrain, None, dt, True), None, dt)
            done = np.abs(q_new - q).max() < 1e-4
            q = q_new
            if done:
                break
        Q[0] = q
        for t in range(1, T):
            q_prev = Q[t - 1]
            # constant-velocity prediction: smoothness penalises acceleration, so no lag
            q_pred = q_prev.copy()
            if t >= 2:
                v = np.zeros(self.m.nv)
                mujoco.mj_differentiatePos(self.m, v, 1.0, Q[t - 2], q_prev)
                mujoco.mj_integratePos(self.m, q_pred, v, 1.0)
                q_pred = self._project(q_pred, q_prev, dt)
            q = q_pred.copy()
            for i in range(self.iters + EXTRA_ITERS):
                q_new = self._project(self._step(q, t, tg, terrain, q_prev, dt, False, q_pred), q_prev, dt)
                moved = np.abs(q_new - q).max()
                q = q_new
                if i + 1 >= self.iters and moved < CONVERGED_STEP:
                    break
            Q[t] = q
            if progress is not None:
                progress(1)
        return Q
