"""Whole-clip refinement: one Gauss-Newton problem over every frame jointly.

The per-frame QP pass (:mod:`.solver`) is causal: each frame only sees the past, so smoothness is
a pull towards a constant-velocity prediction and errors cannot be spread over the future. This
stage takes that answer as the warm start and minimises, over all ``T x nv`` tangent variables
at once,

    sum_t |J_t d_t - e_t|^2_W                      keypoints, feet, planted-foot orientation
        + w_acc  |a_t + d_{t-1} - 2 d_t + d_{t+1}|^2   acceleration (temporal smoothness)
        + w_vel  |v_t + d_{t+1} - d_t|^2               velocity (anchors unobservable joints)
        + w_slide |f_{t+1} - f_t + Jf_{t+1} d_{t+1} - Jf_t d_t|^2  while a foot stays in contact
        + w_con  |A_t d_t - b_t|^2  for terrain / self-collision rows A d >= b the step would break
        + posture prior + LM damping,

with the per-frame Jacobians the QP pass uses (terrain rows on points along the sole edges,
against the plain heightfield). Each term couples at most frames t-1..t+1, so the
normal matrix is block-banded (half-bandwidth 2 nv) and one iteration is a banded Cholesky solve
(scipy.linalg.solveh_banded), linear in T. Within an iteration a primal active set (a few banded
re-solves) pins joints at the limits they would cross and holds the terrain / self-collision rows
the step would break; the last pass enforces joint and velocity limits exactly, in frame order. A final check reverts any
frame where the refinement broke terrain or self-collision more than the per-frame answer did.
"""

from __future__ import annotations

import functools

import mujoco
import numpy as np
from scipy.linalg import solveh_banded

from videomimic_offline.retarget.config import RefineWeights
from videomimic_offline.retarget.solver import G1Retargeter, sole_sphere_gaps
from videomimic_offline.retarget.targets import ClipTargets
from videomimic_offline.retarget.terrain import Terrain


@functools.lru_cache(maxsize=8)
def _band_index(T: int, n: int) -> tuple[np.ndarray, ...]:
    """Flat positions in the lower band storage (2n+1, T n) of each block entry (cached per shape)."""
    N = T * n
    base = np.arange(T) * n
    rr, cc = np.tril_indices(n)
    d_flat = ((rr - cc)[None, :] * N + base[:, None] + cc[None, :]).ravel()
    r, c = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    r, c = r.ravel(), c.ravel()
    l1_flat = ((n + r - c)[None, :] * N + base[:-1, None] + c[None, :]).ravel()
    l2_cols = (base[:-2, None] + np.arange(n)[None, :]).ravel()
    return rr, cc, d_flat, l1_flat, l2_cols


def _band_solve(D: np.ndarray, L1: np.ndarray, L2: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve the SPD block-banded system given by diagonal blocks D (T, n, n), sub-diagonal blocks
    L1[t] = H[t+1, t] (T-1, n, n) and diagonal second sub-diagonal L2[t] = diag H[t+2, t] (T-2, n)."""
    T, n, _ = D.shape
    rr, cc, d_flat, l1_flat, l2_cols = _band_index(T, n)
    ab = np.zeros((2 * n + 1) * T * n)
    ab[d_flat] = D[:, rr, cc].ravel()
    if T > 1:
        ab[l1_flat] = L1.ravel()
    if T > 2:
        ab[2 * n * T * n + l2_cols] = L2.ravel()
    ab = ab.reshape(2 * n + 1, T * n)
    return solveh_banded(ab, rhs.ravel(), lower=True, check_finite=False).reshape(T, n)


def _solve_active_set(solver, Q, D, L1, L2, rhs, rows, w: RefineWeights) -> np.ndarray:
    """Banded solve with joint limits and the linearised inequality rows by a primal active set.

    A joint the step would carry past a limit is pinned there (stiff penalty), and a terrain or
    self-collision row ``A d >= b`` the step would break is held at ``A d = b``; the system is then
    solved again (no new linearisation), so the rest of the body compensates instead of the
    answer being clipped afterwards.
    """
    T, nv = rhs.shape
    diag = (slice(None), np.arange(nv), np.arange(nv))
    pin_w = np.zeros((T, nv))
    pin_to = np.zeros((T, nv))
    qh = Q[:, solver.qadr]
    va = solver.vadr
    D = D.copy()
    rhs = rhs.copy()
    held = [np.zeros(len(b), dtype=bool) for _, b in rows]
    for _ in range(w.active_rounds):
        Dp = D.copy()
        Dp[diag] += pin_w
        dQ = _band_solve(Dp, L1, L2, rhs + pin_w * pin_to)
        new = qh + dQ[:, va]
        lo_v = (new < solver.lo - 1e-9) & (pin_w[:, va] == 0)
        hi_v = (new > solver.hi + 1e-9) & (pin_w[:, va] == 0)
        changed = bool(lo_v.any() or hi_v.any())
        if changed:
            tgt = np.where(lo_v, solver.lo - qh, solver.hi - qh)
            v = lo_v | hi_v
            pw, pt = pin_w[:, va], pin_to[:, va]
            pw[v] = w.limit_pin
            pt[v] = tgt[v]
            pin_w[:, va], pin_to[:, va] = pw, pt
        for t, (A, b) in enumerate(rows):
            if not len(b):
                continue
            brk = (A @ dQ[t] < b - w.constraint_tol) & ~held[t]
            if brk.any():
                held[t] |= brk
                Ab = A[brk]
                D[t] += w.constraint * Ab.T @ Ab
                rhs[t] += w.constraint * Ab.T @ b[brk]
                changed = True
        if not changed:
            break
    return dQ


def sole_grid(corners: np.ndarray, n: int) -> np.ndarray:
    """(2n, 3) points along both long edges of the sole rectangle.

    The corners alone let a stair edge pass under the middle of the foot; the whole-clip answer
    tracks a low swing foot closely enough for that to happen.
    """
    a = np.linspace(0.0, 1.0, n)[:, None]
    front, back = corners[:2], corners[2:]
    return np.concatenate([back[i] + a * (front[i] - back[i]) for i in range(2)])


def refine_clip(
    solver: G1Retargeter, Q0: np.ndarray, tg: ClipTargets, terrain: Terrain, *, iters: int = 3,
    weights: RefineWeights | None = None,
) -> tuple[np.ndarray, int]:  # fmt: skip
    """Refine the per-frame solution ``Q0`` (T, nq) over the whole clip.

    Returns the new (T, nq) and how many frames fell back to ``Q0`` (a constraint the refinement
    broke; normally 0).
    """
    w = weights or RefineWeights()
    m = solver.m
    T, nv = len(Q0), m.nv
    dt = 1.0 / tg.fps
    Q = Q0.copy()
    if T < 3:
        return Q, 0
    eye = np.eye(nv)
    wp = solver._wposture + solver.w.damping + w.damping
    tmp = np.zeros(nv)
    sole = sole_grid(solver.sole, w.sole_points)
    for _ in range(iters):
        D = np.zeros((T, nv, nv))
        L1 = np.zeros((T - 1, nv, nv))
        L2 = np.zeros((T - 2, nv))
        rhs = np.zeros((T, nv))
        foot_p = np.zeros((T, 2, 3))
        foot_J = np.zeros((T, 2, 3, nv))
        rows: list[tuple[np.ndarray, np.ndarray]] = []  # per frame: A d >= b
        for t in range(T):
            J, e, wt = solver.tracking_rows(Q[t], t, tg)
            Jw = J.T * wt
            D[t] = Jw @ J
            rhs[t] = Jw @ e
            for i, fb in enumerate(solver.feet):
                foot_p[t, i] = solver.d.xpos[fb]
                foot_J[t, i] = solver._jacp[fb]
            A_rows, b = solver.constraint_rows(terrain, w.terrain_activation, w.collision_activation, sole, w.dilated)
            A = np.vstack(A_rows) if A_rows else np.zeros((0, nv))
            b = np.asarray(b, dtype=float)
            rows.append((A, b))
            # self-collision cushion: a pair closer than margin + cushion is eased apart (one-sided)
            k = solver.terrain_rows
            near = b[k:] > -w.cushion
            if near.any():
                Ac, bc = A[k:][near], b[k:][near] + w.cushion
                D[t] += w.cushion_weight * Ac.T @ Ac
                rhs[t] += w.cushion_weight * Ac.T @ bc
            mujoco.mj_differentiatePos(m, tmp, 1.0, Q[t], solver.q_default)
            D[t][np.diag_indices(nv)] += wp
            rhs[t] += solver._wposture * tmp
        # velocities between consecutive frames (tangent, per frame)
        V = np.zeros((T - 1, nv))
        for t in range(T - 1):
            mujoco.mj_differentiatePos(m, V[t], 1.0, Q[t], Q[t + 1])
        # velocity term: r = V[t] + d_{t+1} - d_t
        wv = w.velocity
        D[:-1][:, range(nv), range(nv)] += wv
        D[1:][:, range(nv), range(nv)] += wv
        L1 -= wv * eye
        rhs[:-1] += wv * V
        rhs[1:] -= wv * V
        # acceleration term on frames 1..T-2: r = A + d_{t-1} - 2 d_t + d_{t+1}
        wa = w.accel
        Acc = V[1:] - V[:-1]  # (T-2, nv), centred on frames 1..T-2
        c = (1.0, -2.0, 1.0)
        for i in range(3):
            D[i : T - 2 + i][:, range(nv), range(nv)] += wa * c[i] * c[i]
            rhs[i : T - 2 + i] -= wa * c[i] * Acc
        L1[:-1] -= 2.0 * wa * eye  # H[t, t-1] of the stencil centred on t: c0*c1 = -2
        L1[1:] -= 2.0 * wa * eye  # H[t+1, t]: c1*c2 = -2
        L2 += wa  # H[t+1, t-1]: c0*c2
        # contact preservation: a planted foot does not move between frames
        both = tg.contacts[:-1] & tg.contacts[1:]
        for t, i in zip(*np.nonzero(both), strict=True):
            r0 = foot_p[t + 1, i] - foot_p[t, i]
            Ja, Jb = foot_J[t, i], foot_J[t + 1, i]
            ws = w.slide
            D[t] += ws * Ja.T @ Ja
            D[t + 1] += ws * Jb.T @ Jb
            L1[t] -= ws * Jb.T @ Ja
            rhs[t] += ws * Ja.T @ r0
            rhs[t + 1] -= ws * Jb.T @ r0
        dQ = _solve_active_set(solver, Q, D, L1, L2, rhs, rows, w)
        for t in range(T):
            mujoco.mj_integratePos(m, Q[t], dQ[t], 1.0)
            Q[t, solver.qadr] = np.clip(Q[t, solver.qadr], solver.lo, solver.hi)
            Q[t, 3:7] /= np.linalg.norm(Q[t, 3:7])
    _enforce_limits(solver, Q, dt)
    bad = _broken_frames(solver, Q, Q0, terrain, sole, w)
    if bad.any():  # fall back to the per-frame answer there, blended in over a few frames
        k = w.fallback_blend
        a = np.convolve(bad.astype(float), np.ones(2 * k + 1), mode="same").clip(0, 1)
        a = np.maximum(bad, np.convolve(a, np.ones(2 * k + 1) / (2 * k + 1), mode="same"))
        for t in np.flatnonzero(a > 0):
            dq = np.zeros(nv)
            mujoco.mj_differentiatePos(m, dq, 1.0, Q[t], Q0[t])
            mujoco.mj_integratePos(m, Q[t], a[t] * dq, 1.0)
        _enforce_limits(solver, Q, dt)
    return Q, int(bad.sum())


def _enforce_limits(solver: G1Retargeter, Q: np.ndarray, dt: float) -> None:
    """Exact hard limits, joint range and velocity, in frame order (in place)."""
    for t in range(len(Q)):
        Q[t] = solver._project(Q[t], Q[t - 1] if t else None, dt)


def _penetration(solver: G1Retargeter, q: np.ndarray, terrain: Terrain, sole: np.ndarray) -> tuple[float, float]:
    """(deepest sole point below the terrain, smallest self-collision pair distance) at ``q``, m."""
    m, d = solver.m, solver.d
    d.qpos[:] = q
    mujoco.mj_kinematics(m, d)
    pen = 0.0
    for fb in solver.feet:
        gap, _, _ = sole_sphere_gaps(d.xpos[fb], d.xmat[fb], sole, solver.sole_radius, terrain)
        # and the sole corners themselves, as the feasibility report measures them: on a pitched
        # swing foot a corner can be over a higher tread than the sphere centre it belongs to
        corners = d.xpos[fb] + solver.sole @ d.xmat[fb].reshape(3, 3).T
        gap = np.concatenate([gap, corners[:, 2] - terrain.height(corners[:, :2])])
        gap = gap[np.isfinite(gap)]
        if gap.size:
            pen = max(pen, float(-gap.min()))
    dmin = np.inf
    if len(solver.pairs):
        ga, gb = solver.pairs[:, 0], solver.pairs[:, 1]
        cd = np.linalg.norm(d.geom_xpos[ga] - d.geom_xpos[gb], axis=1) - solver.rbound[ga] - solver.rbound[gb]
        for i in np.flatnonzero(cd < 0.01):
            dmin = min(dmin, mujoco.mj_geomDistance(m, d, int(ga[i]), int(gb[i]), 0.01, solver._ft))
    return pen, dmin


def _broken_frames(solver, Q, Q0, terrain, sole, w: RefineWeights) -> np.ndarray:
    """Frames where the refinement broke terrain or self-collision by more than the per-frame answer.

    The stiff-penalty active set is not an exact QP; this check keeps its rare failures out.
    """
    bad = np.zeros(len(Q), dtype=bool)
    for t in range(len(Q)):
        pen, dmin = _penetration(solver, Q[t], terrain, sole)
        if pen <= w.fallback_penetration and dmin >= 0.0:
            continue
        pen0, dmin0 = _penetration(solver, Q0[t], terrain, sole)
        bad[t] = pen > max(pen0, w.fallback_penetration) or dmin < min(dmin0, 0.0)
    return bad
