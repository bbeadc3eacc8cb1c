"""2D keypoints (and a per-frame 3D pose prior) in ``body.skeleton.HUMAN_JOINTS`` order.

MediaPipe's 33 landmarks are mapped to our 18 joints by fixed linear combinations, so every later
stage works in one joint set. The MediaPipe "world" landmarks (metric, hip-centred, camera-aligned)
become the local-pose prior of the joint optimisation.
"""

from __future__ import annotations

import numpy as np

from videomimic_offline.body.model import ANKLE_HEIGHT_FRAC, TOE_HEIGHT_FRAC
from videomimic_offline.body.skeleton import HUMAN_JOINTS

# HUMAN_JOINTS name -> {mediapipe index: weight}
_MP_MAP: dict[str, dict[int, float]] = {
    # torso joints lie on the hip-shoulder midline at the body model's fractions
    "pelvis": {23: 0.45, 24: 0.45, 11: 0.05, 12: 0.05},
    "left_hip": {23: 1.0},
    "right_hip": {24: 1.0},
    "spine": {23: 0.27, 24: 0.27, 11: 0.23, 12: 0.23},
    "neck": {23: -0.03, 24: -0.03, 11: 0.53, 12: 0.53},
    "head": {7: 0.5, 8: 0.5},
    "left_shoulder": {11: 1.0},
    "left_elbow": {13: 1.0},
    "left_wrist": {15: 1.0},
    "right_shoulder": {12: 1.0},
    "right_elbow": {14: 1.0},
    "right_wrist": {16: 1.0},
    "left_knee": {25: 1.0},
    "left_ankle": {27: 1.0},
    "left_toe": {31: 1.0},
    "right_knee": {26: 1.0},
    "right_ankle": {28: 1.0},
    "right_toe": {32: 1.0},
}


def mediapipe_matrix() -> np.ndarray:
    """(J,33) matrix M with joints = M @ landmarks."""
    M = np.zeros((len(HUMAN_JOINTS), 33))
    for j, name in enumerate(HUMAN_JOINTS):
        for k, w in _MP_MAP[name].items():
            M[j, k] = w
    return M


def from_mediapipe(mp_2d: np.ndarray, mp_3d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(T,33,3) landmarks -> kp2d (T,J,2) px, conf (T,J) in [0,1], local3d (T,J,3) m (camera axes).

    MediaPipe world landmarks use x right, y down, z away from the camera, like OpenCV camera axes.
    Missing frames give conf 0 and NaN positions.
    """
    M = mediapipe_matrix()
    kp2d = np.einsum("jk,tkc->tjc", M, np.nan_to_num(mp_2d[..., :2]))
    vis = np.nan_to_num(mp_2d[..., 2])
    # a combined joint is as visible as its least visible landmark
    conf = np.stack([np.min(vis[:, list(_MP_MAP[n])], axis=1) for n in HUMAN_JOINTS], axis=1)
    local3d = np.einsum("jk,tkc->tjc", M, np.nan_to_num(mp_3d))
    missing = np.isnan(mp_2d[:, 0, 0])
    kp2d[missing] = np.nan
    local3d[missing] = np.nan
    conf[missing] = 0.0
    return kp2d, np.clip(conf, 0.0, 1.0), local3d


#: MediaPipe landmark bone length / body-model joint bone length, per bone (indexed by child joint).
#: The detector's landmarks are not our skeleton's joint centres (its ankle sits higher, its neck is
#: the shoulder midpoint, ...), so a body fitted to them with anatomical bone lengths comes out ~8 %
#: too big and therefore too far from the camera, and the SfM scale inherits the error. Measured as
#: median 2D ratios on two synthetic clips that are not in the benchmark set (stairs_up seeds 0, 7);
#: consistent within a few percent between clips. Left and right share one value.
MEDIAPIPE_BONE_SCALE: dict[str, float] = {
    "hip": 0.94, "spine": 0.92, "neck": 0.93, "head": 1.28, "shoulder": 0.85,
    "elbow": 0.905, "wrist": 1.04, "knee": 1.04, "ankle": 0.93, "toe": 1.21,
}  # fmt: skip


#: Size of the MediaPipe landmark skeleton in the image, relative to a body fitted with
#: ``MEDIAPIPE_BONE_SCALE``, by how the person faces the camera: (cos below which they show their
#: back, factor), (cos above which they face it, factor), factor in between (side views). Side views
#: come out smaller and back views larger, so one bone scale put side-view people ~2 % too far
#: (and seats, steps and the scale with them) and walkers seen from behind too near. Per-frame
#: median 2D size ratio (rms spread about the centroid, detector / projected truth) on the 12
#: non-orbit dev clips, which are not in the benchmark: 1.020 back (cos < -0.7, 435 frames), 0.98
#: side (320), 1.01 front (264).
MEDIAPIPE_VIEW_SIZE = ((-0.7, 1.02), (0.7, 1.01), 0.98)


def facing_cos(local3d: np.ndarray, kp2d: np.ndarray, K: np.ndarray) -> np.ndarray:
    """(T,) cosine between the body's forward direction (from the 3D pose prior) and the
    direction to the camera: +1 faces the camera, -1 shows its back, 0 a side view."""
    lr = local3d[:, _HIPS[0]] - local3d[:, _HIPS[1]] + local3d[:, _SHOULDERS[0]] - local3d[:, _SHOULDERS[1]]
    up = local3d[:, HUMAN_JOINTS.index("neck")] - local3d[:, HUMAN_JOINTS.index("pelvis")]
    fwd = np.cross(lr, up)  # x right, y down, z away (camera axes): left x up points forward
    fwd /= np.linalg.norm(fwd, axis=1, keepdims=True) + 1e-9
    uv = kp2d[:, HUMAN_JOINTS.index("pelvis")]
    ray = np.c_[(uv - K[:2, 2]) / np.diag(K)[:2], np.ones(len(uv))]
    ray /= np.linalg.norm(ray, axis=1, keepdims=True)
    return -(fwd * ray).sum(axis=1)


def view_size_factor(backend: str, local3d: np.ndarray, kp2d: np.ndarray, K: np.ndarray) -> float:
    """Mean over frames of the detector's view-dependent skeleton size (``MEDIAPIPE_VIEW_SIZE``);
    1 for a backend without one. Multiplies the fitted bone lengths, so the depth follows."""
    if backend != "mediapipe" or len(local3d) == 0:
        return 1.0
    (back_cos, back), (front_cos, front), side = MEDIAPIPE_VIEW_SIZE
    c = facing_cos(local3d, kp2d, K)
    c = c[np.isfinite(c)]
    if len(c) == 0:
        return 1.0
    return float(np.mean(np.where(c < back_cos, back, np.where(c > front_cos, front, side))))


#: Height of the sole below the ankle-toe midpoint, as a fraction of stature, per keypoint backend.
#: The body model's joints give 0.0255 (ankle 0.039, toe 0.012). MediaPipe's ankle landmark sits
#: higher than the joint (its shin is 0.93 of the joint's: +0.017) and its toe is the tip of the
#: foot, which puts the drop at about 0.035-0.038; 0.039 is what made the stance-ray scale
#: (``optimize.scale_from_stance_rays``) unbiased on the five dev clips, which are not in the benchmark.
SOLE_DROP: dict[str, float] = {"mediapipe": 0.039}
BODY_MODEL_SOLE_DROP = 0.5 * (ANKLE_HEIGHT_FRAC + TOE_HEIGHT_FRAC)


def sole_drop(backend: str) -> float:
    """Fraction of stature the ground lies below the detector's ankle-toe midpoint when standing."""
    return SOLE_DROP.get(backend, BODY_MODEL_SOLE_DROP)


def landmark_bone_scale(backend: str) -> np.ndarray:
    """(J,) factors turning body-model bone lengths into the keypoint detector's landmark bone lengths."""
    out = np.ones(len(HUMAN_JOINTS))
    if backend != "mediapipe":
        return out
    for j, name in enumerate(HUMAN_JOINTS):
        out[j] = MEDIAPIPE_BONE_SCALE.get(name.split("_")[-1], 1.0)
    return out


_LEGS = (
    [HUMAN_JOINTS.index(n) for n in ("left_knee", "left_ankle", "left_toe")],
    [HUMAN_JOINTS.index(n) for n in ("right_knee", "right_ankle", "right_toe")],
)
_ARMS = (
    [HUMAN_JOINTS.index(n) for n in ("left_elbow", "left_wrist")],
    [HUMAN_JOINTS.index(n) for n in ("right_elbow", "right_wrist")],
)
_SHOULDERS = [HUMAN_JOINTS.index("left_shoulder"), HUMAN_JOINTS.index("right_shoulder")]
_HIPS = [HUMAN_JOINTS.index("left_hip"), HUMAN_JOINTS.index("right_hip")]


def fix_leg_swaps(
    kp2d: np.ndarray,
    conf: np.ndarray,
    local3d: np.ndarray,
    swap_cost_px: float,
    second: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Undo stretches of frames where the detector labelled the left leg right and vice versa.

    MediaPipe flips the legs' labels for stretches of frames (side views, legs passing), which
    drags each leg's 3D joints across the body. Legs move little between frames, so each frame is
    labelled kept or swapped by dynamic programming: the cost is the leg keypoints' jump from the
    previous frame (px) plus ``swap_cost_px`` per swapped frame (the detector is right most of the
    time, so a swapped stretch must be paid for by the jumps it removes at its ends).

    Where the legs pass each other in the image, a flip and a crossing look alike, so one pass
    alone often cannot tell which stretch is wrong. ``second`` is another detection of the same
    frames (kp2d, conf, local3d: the mirrored pass, ``persons.run_mediapipe(mirror=True)``), whose
    flips fall in other frames; the programme then also chooses, frame by frame, which pass to
    take (all its joints), and follows the one whose legs move continuously. On the 17 dev clips
    the frames with the legs' labels wrong went 244 -> 187 with one pass and -> 41 with two.

    Returns the corrected arrays, the (T,) bool mask of swapped frames and the (T,) bool mask of
    frames taken from ``second``.
    """
    left, right = _LEGS
    both, crossed = left + right, right + left
    passes = [(kp2d, conf, local3d)] + ([second] if second is not None else [])
    finite = np.stack([np.isfinite(k[:, both]).all(axis=(1, 2)) for k, _, _ in passes])  # (P,T)
    ok = np.flatnonzero(finite.any(axis=0))
    swapped = np.zeros(len(kp2d), bool)
    chosen = np.zeros(len(kp2d), int)
    if len(ok) >= 2:
        # states per frame: (pass, kept | swapped); a pass without the legs in a frame is barred there
        opts = np.stack([np.nan_to_num(k[ok][:, idx]) for k, _, _ in passes for idx in (both, crossed)], axis=1)
        barred = np.repeat(~finite[:, ok].T, 2, axis=1) * 1e9  # (N,S)
        unary = np.tile([0.0, swap_cost_px], len(passes)) + barred
        cost = unary[0].copy()
        back = np.zeros(opts.shape[:2], int)
        for n in range(1, len(ok)):
            # jump[a, b]: frame n-1 in state a -> frame n in state b
            jump = np.linalg.norm(opts[n][None] - opts[n - 1][:, None], axis=-1).sum(-1)
            tot = cost[:, None] + jump
            back[n] = np.argmin(tot, axis=0)
            cost = tot[back[n], np.arange(tot.shape[1])] + unary[n]
        state = np.zeros(len(ok), int)
        state[-1] = int(np.argmin(cost))
        for n in range(len(ok) - 1, 0, -1):
            state[n - 1] = back[n, state[n]]
        chosen[ok], swapped[ok] = state // 2, state % 2 == 1
    out = [a.copy() for a in passes[0]]
    for k in range(1, len(passes)):
        take = chosen == k
        for o, a in zip(out, passes[k], strict=True):
            o[take] = a[take]
    for a in out:
        a[np.ix_(swapped, both)] = a[np.ix_(swapped, crossed)]
    if second is not None:
        out = _average_passes(out, passes[0], second, chosen)
    return out[0], out[1], out[2], swapped, chosen == 1


#: Two passes' keypoints are averaged where they lie within this fraction of the torso's length.
AGREE_FRAC = 0.25


def _average_passes(
    out: list[np.ndarray],
    first: tuple[np.ndarray, np.ndarray, np.ndarray],
    second: tuple[np.ndarray, np.ndarray, np.ndarray],
    chosen: np.ndarray,
) -> list[np.ndarray]:
    """The chosen labelling ``out`` averaged with the pass not chosen in each frame: that pass's limb
    pairs labelled like the chosen ones (whichever way round lies closer), and each joint averaged
    only where the two passes agree (a pass that lost a limb must not drag it). Averaging two
    detections halves their independent noise: the median 2D error on the dev clips fell 1-30 %."""
    kp, conf, loc = (a.copy() for a in out)
    for t in range(len(kp)):
        other = first if chosen[t] == 1 else second
        ok = np.isfinite(other[0][t]).all() and np.isfinite(kp[t]).all()
        if not ok:
            continue
        o = [a[t].copy() for a in other]
        torso = np.linalg.norm(kp[t, _SHOULDERS].mean(0) - kp[t, _HIPS].mean(0))
        use = np.ones(len(kp[t]), bool)
        for left, right in (_LEGS, _ARMS):
            b, c = left + right, right + left
            d_kept = np.linalg.norm(o[0][b] - kp[t, b], axis=-1)
            d_swap = np.linalg.norm(o[0][c] - kp[t, b], axis=-1)
            if d_swap.sum() < d_kept.sum():
                for a in o:
                    a[b] = a[c].copy()
                d_kept = d_swap
            use[b] = d_kept.max() < AGREE_FRAC * torso  # the passes disagree on this limb pair: keep the chosen
        use &= np.linalg.norm(o[0] - kp[t], axis=-1) < AGREE_FRAC * torso
        kp[t, use] = 0.5 * (kp[t, use] + o[0][use])
        conf[t, use] = 0.5 * (conf[t, use] + o[1][use])
        loc[t, use] = 0.5 * (loc[t, use] + o[2][use])
    return [kp, conf, loc]
