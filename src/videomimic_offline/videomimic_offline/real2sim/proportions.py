"""Per-person body proportions at a known height, from the 2D keypoints.

The height fixes the overall size, but people differ in leg length vs. trunk (±5 %) and arm
length; with average proportions a long-legged person is fitted too big, placed too far from the
camera, and the whole scene scale follows. Proportions are visible in 2D (legs vs. trunk in the
image), so a small camera-frame fit over a subset of frames estimates two factors: legs (the
trunk absorbs the difference so the standing height stays the same) and arms.
"""

from __future__ import annotations

import numpy as np

from videomimic_offline.body.skeleton import HUMAN_PARENTS, index

LEG_BONES = [index(n) for n in ("left_knee", "left_ankle", "right_knee", "right_ankle")]
TRUNK_BONES = [index(n) for n in ("spine", "neck", "head")]
ARM_BONES = [index(n) for n in ("left_elbow", "left_wrist", "right_elbow", "right_wrist")]


def apply_factors(bones: np.ndarray, leg: float, arm: float) -> np.ndarray:
    """Bone lengths with legs x ``leg`` (trunk compensating to keep the height) and arms x ``arm``."""
    b = bones.copy()
    L_leg = bones[[index("left_knee"), index("left_ankle")]].sum()
    L_trunk = bones[TRUNK_BONES].sum()
    trunk = (L_leg + L_trunk - L_leg * leg) / L_trunk
    b[LEG_BONES] *= leg
    b[TRUNK_BONES] *= trunk
    b[ARM_BONES] *= arm
    return b


def estimate_proportions(
    local: np.ndarray,
    tau: np.ndarray,
    kp2d: np.ndarray,
    conf: np.ndarray,
    K: np.ndarray,
    bones: np.ndarray,
    max_frames: int = 60,
    prior_sigma: float = 0.2,
) -> tuple[float, float, dict]:
    """(leg factor, arm factor, info) from a camera-frame fit of every k-th frame.

    ``prior_sigma`` (log factor) only keeps the fit from running off: at 0.04 it held the dev
    clips' leg factors to 0.17 of the way from 1 to the truth.
    """
    import torch

    T = len(local)
    idx = np.unique(np.linspace(0, T - 1, min(max_frames, T)).round().astype(int))
    idx = idx[(conf[idx] > 0).sum(axis=1) >= 8]
    if len(idx) < 5:
        return 1.0, 1.0, {"proportions": "too few frames"}
    dt = torch.float64
    X = torch.tensor(local[idx] + tau[idx, None], dtype=dt, requires_grad=True)
    g = torch.zeros(2, dtype=dt, requires_grad=True)  # log leg, log arm
    Kt = torch.tensor(K, dtype=dt)
    uv = torch.tensor(np.nan_to_num(kp2d[idx]), dtype=dt)
    W = torch.tensor(conf[idx], dtype=dt)
    par = np.array(HUMAN_PARENTS)
    ch_np = np.flatnonzero(par >= 0)
    ch, pa = torch.tensor(ch_np), torch.tensor(par[ch_np])
    B = torch.tensor(bones, dtype=dt)
    leg_m = torch.zeros(len(bones), dtype=dt)
    leg_m[LEG_BONES] = 1
    arm_m = torch.zeros(len(bones), dtype=dt)
    arm_m[ARM_BONES] = 1
    trunk_m = torch.zeros(len(bones), dtype=dt)
    trunk_m[TRUNK_BONES] = 1
    L_leg = float(bones[[index("left_knee"), index("left_ankle")]].sum())
    L_trunk = float(bones[TRUNK_BONES].sum())
    rel0 = torch.tensor(local[idx] - local[idx, index("pelvis") : index("pelvis") + 1], dtype=dt)
    rho = 15.0
    n2d = float(W.sum())

    def lengths() -> torch.Tensor:
        leg = torch.exp(g[0])
        trunk = (L_leg + L_trunk - L_leg * leg) / L_trunk
        f = 1 + leg_m * (leg - 1) + arm_m * (torch.exp(g[1]) - 1) + trunk_m * (trunk - 1)
        return B * f

    def loss_fn() -> torch.Tensor:
        z = X[..., 2].clamp(min=0.05)
        p2 = torch.einsum("ij,tkj->tki", Kt, X)[..., :2] / z[..., None]
        e2 = ((p2 - uv) ** 2).sum(-1)
        l2d = (W * e2 / (e2 + rho**2)).sum() / n2d
        bl = torch.linalg.norm(X[:, ch] - X[:, pa], dim=-1)
        lbone = ((bl - lengths()[ch]) ** 2).mean() / 0.01**2
        rel = X - X[:, index("pelvis") : index("pelvis") + 1]
        # the MediaPipe pose shape, up to the unknown proportions: compare directions, not lengths
        lpose = (rel / (rel.norm(dim=-1, keepdim=True) + 1e-6) - rel0 / (rel0.norm(dim=-1, keepdim=True) + 1e-6)) ** 2
        lpose = lpose.sum(-1).mean()
        lprior = (g**2).sum() / prior_sigma**2
        return l2d + 0.3 * lbone + 0.5 * lpose + 0.01 * lprior

    opt = torch.optim.LBFGS([X, g], lr=1.0, max_iter=80, history_size=20, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    opt.step(closure)
    leg, arm = float(np.exp(g[0].item())), float(np.exp(g[1].item()))
    leg, arm = float(np.clip(leg, 0.9, 1.1)), float(np.clip(arm, 0.85, 1.15))
    return leg, arm, {"leg_factor": leg, "arm_factor": arm, "proportion_frames": len(idx)}
