"""Person detection, choice, tracking and masks (offline default: MediaPipe).

People are found on evenly spaced sample frames by MediaPipe's own pose detector, repeatedly:
after each person found their box is blanked out and the detector runs again, so a second or
third person is found too (MediaPipe reports one person per image; the HOG people detector it
replaces missed half the detections on the synthetic clips and saw chairs as people). Detections
are linked into tracks across samples and ranked by how visible each person is (box area x
samples seen). With one person MediaPipe runs on whole frames; with several, it runs on a crop
that follows the chosen person's track, so its own landmark tracker stays on that person, and only
over the part of the clip where that person was seen (people who come and go one after another
are different tracks). MediaPipe's segmentation gives the person mask (used to hide the person
from the camera stage) and its landmarks are kept for the keypoint stage.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

import cv2
import numpy as np

from videomimic_offline.errors import InputError

NUM_MP = 33  # MediaPipe pose landmarks
CROP_PX = 384  # side of the square person crop given to MediaPipe when several people are in view
#: MediaPipe's landmark order with left and right exchanged (nose and the centre stay).
MP_MIRROR = list(range(NUM_MP))
for _l, _r in [(1, 4), (2, 5), (3, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16), (17, 18),
               (19, 20), (21, 22), (23, 24), (25, 26), (27, 28), (29, 30), (31, 32)]:  # fmt: skip
    MP_MIRROR[_l], MP_MIRROR[_r] = _r, _l


@dataclass
class PersonTrack:
    """The chosen person's per-frame data (pixels at the processing resolution)."""

    boxes: np.ndarray  # (T,4) x0,y0,x1,y1; NaN where not found
    masks: np.ndarray  # (T,H,W) uint8 0/255
    mp_2d: np.ndarray  # (T,33,3) x px, y px, visibility; NaN where not found
    mp_3d: np.ndarray  # (T,33,3) MediaPipe world landmarks (m, hip-centred, camera-aligned)
    found: np.ndarray  # (T,) bool
    num_people: int
    person: int
    span: tuple[int, int] = (0, 0)  # frames [first, last + 1) where the chosen person is seen
    crop_boxes: np.ndarray | None = None  # (T,4) the region MediaPipe was given; NaN: not run there


def _landmark_box(lm: np.ndarray, w: int, h: int, min_vis: float = 0.5) -> np.ndarray | None:
    """x0,y0,x1,y1 (px) around the visible landmarks (N,3 normalised x, y, visibility), or None."""
    vis = lm[:, 2] > min_vis
    if vis.sum() < 8:
        return None
    x, y = lm[vis, 0] * w, lm[vis, 1] * h
    pad = 0.1 * max(x.max() - x.min(), y.max() - y.min())
    return np.array([x.min() - pad, y.min() - 1.5 * pad, x.max() + pad, y.max() + pad])


def _find_in(pose, img: np.ndarray, max_people: int, x0: int = 0, y0: int = 0) -> list[tuple]:  # type: ignore[no-untyped-def]
    """People in ``img`` (detect, blank, repeat); boxes offset by (x0, y0) into frame pixels."""
    img = img.copy()
    h, w = img.shape[:2]
    boxes = []
    for _ in range(max_people):
        with _quiet_stderr():
            res = pose.process(img)
        if res.pose_landmarks is None:
            break
        lm = np.array([(p.x, p.y, p.visibility) for p in res.pose_landmarks.landmark])
        b = _landmark_box(lm, w, h)
        if b is None:
            break
        boxes.append((b[0] + x0, b[1] + y0, b[2] + x0, b[3] + y0, float(np.mean(lm[:, 2]))))
        # blank the whole body (every landmark, visible or not) so the next look finds someone else
        allb = _landmark_box(lm, w, h, min_vis=-1.0)
        bx0, by0 = int(max(min(b[0], allb[0]), 0)), int(max(min(b[1], allb[1]), 0))
        bx1, by1 = int(min(max(b[2], allb[2]), w)), int(min(max(b[3], allb[3]), h))
        if bx1 <= bx0 or by1 <= by0:
            break
        img[by0:by1, bx0:bx1] = 127
    return boxes


def _hog_boxes(img: np.ndarray) -> np.ndarray:
    """HOG people-detector boxes (N,4): candidates only (it also fires on chairs and railings)."""
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    rects, weights = hog.detectMultiScale(img, winStride=(8, 8), padding=(8, 8), scale=1.05)
    return np.array([(x, y, x + w, y + h) for (x, y, w, h), s in zip(rects, np.ravel(weights)) if s > 0.5], float)


def _verify(pose, img: np.ndarray, box: np.ndarray) -> tuple | None:  # type: ignore[no-untyped-def]
    """A person's box if MediaPipe finds a body in (a square crop around) ``box``, else None."""
    h, w = img.shape[:2]
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half = int(0.65 * max(box[2] - box[0], box[3] - box[1])) + 1
    x0, y0 = int(max(cx - half, 0)), int(max(cy - half, 0))
    x1, y1 = int(min(cx + half, w)), int(min(cy + half, h))
    if x1 - x0 < 16 or y1 - y0 < 16:
        return None
    found = _find_in(pose, img[y0:y1, x0:x1], 1, x0, y0)
    return found[0] if found else None


def detect_people(frames: np.ndarray, samples: int, max_people: int = 4) -> list[np.ndarray]:
    """Boxes (N,5: x0,y0,x1,y1,score) of the people on ``samples`` evenly spaced frames.

    MediaPipe finds the most prominent person; their body is blanked out and it looks again, up to
    ``max_people`` per image. It looks on the whole frame and on tiles (``_tiles``: squares across
    the frame, and 60 % corners where a person a sixth of the frame tall is still big enough for
    it), and checks each HOG people-detector box it has not explained by looking into a crop around
    it (HOG alone sees chairs).
    """
    import mediapipe as mp

    idx = np.linspace(0, len(frames) - 1, min(samples, len(frames))).round().astype(int)
    out = []
    with _quiet_stderr():
        pose = mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1, enable_segmentation=False)
    try:
        for i in idx:
            img = frames[i]
            h, w = img.shape[:2]
            boxes = _find_in(pose, img, max_people)
            for ty, tx, th, tw in _tiles(h, w):
                boxes += _find_in(pose, img[ty : ty + th, tx : tx + tw], 2, tx, ty)
            for hb in _hog_boxes(img):
                if not any(_overlap_min(hb, np.asarray(b[:4])) > 0.5 for b in boxes):
                    v = _verify(pose, img, hb)
                    if v is not None:
                        boxes.append(v)
            b = np.array(boxes, float).reshape(-1, 5)
            b = b[(b[:, 3] - b[:, 1] >= 0.06 * h) & (b[:, 4] >= 0.3)]  # specks and landmark-less guesses
            out.append(_nms(b, 0.3))
    finally:
        pose.close()
    return out


def _tiles(h: int, w: int) -> list[tuple[int, int, int, int]]:
    """(y, x, height, width) of the tiles looked at besides the whole frame: overlapping squares
    across the long side (the detector sees a square) and four 60 % corners (small people)."""
    side = min(h, w)
    n = int(np.ceil(max(h, w) / side)) + 1
    out = []
    for k in np.linspace(0, max(h, w) - side, n).round().astype(int):
        out.append((0, int(k), side, side) if w >= h else (int(k), 0, side, side))
    th, tw = int(0.6 * h), int(0.6 * w)
    out += [(ty, tx, th, tw) for ty in (0, h - th) for tx in (0, w - tw)]
    return out


def _overlap_min(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over the smaller box's area (a part of a body found apart from the rest is 1)."""
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    small = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return inter / small if small > 0 else 0.0


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / ua if ua > 0 else 0.0


def _nms(boxes: np.ndarray, thr: float) -> np.ndarray:
    """Largest boxes first; drop one overlapping a kept box by IoU ``thr`` or mostly inside it."""
    keep: list[np.ndarray] = []
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) if len(boxes) else np.zeros(0)
    for b in boxes[np.argsort(-area)] if len(boxes) else []:
        if all(_iou(b, k) < thr and _overlap_min(b, k) < 0.5 for k in keep):
            keep.append(b)
    return np.array(keep).reshape(-1, 5)


def link_tracks(dets: list[np.ndarray], max_jump: float, max_gap: int = 1) -> list[list[tuple[int, np.ndarray]]]:
    """Greedy sample-to-sample association by box-centre distance; returns tracks of (sample, box).

    A track continues only from a detection at most ``max_gap`` samples back: someone who left the
    view and someone else who walks in later where they were are two tracks.
    """
    tracks: list[list[tuple[int, np.ndarray]]] = []
    for si, boxes in enumerate(dets):
        used: set[int] = set()
        for tr in sorted(tracks, key=len, reverse=True):
            if si - tr[-1][0] > max_gap + 1:
                continue
            last = tr[-1][1]
            c_last = np.array([(last[0] + last[2]) / 2, (last[1] + last[3]) / 2])
            best, best_d = -1, max_jump + (last[3] - last[1])  # a walker moves about a body height a second
            for bi, b in enumerate(boxes):
                if bi in used:
                    continue
                d = float(np.linalg.norm(np.array([(b[0] + b[2]) / 2, (b[1] + b[3]) / 2]) - c_last))
                if d < best_d:
                    best, best_d = bi, d
            if best >= 0:
                tr.append((si, boxes[best]))
                used.add(best)
        for bi, b in enumerate(boxes):
            if bi not in used:
                tracks.append([(si, b)])
    return tracks


def rank_tracks(tracks: list[list[tuple[int, np.ndarray]]], num_samples: int) -> list[list[tuple[int, np.ndarray]]]:
    """Most visible first: total box area over the sampled frames; drop one-off false positives
    (a person counts when seen in at least two samples and a quarter of them)."""
    min_len = max(2, int(np.ceil(0.25 * num_samples))) if num_samples >= 4 else 1
    good = [t for t in tracks if len(t) >= min_len]

    def visibility(t: list[tuple[int, np.ndarray]]) -> float:
        return float(sum((b[2] - b[0]) * (b[3] - b[1]) for _, b in t))

    return sorted(good, key=visibility, reverse=True)


def _track_boxes(track: list[tuple[int, np.ndarray]], sample_idx: np.ndarray, T: int) -> np.ndarray:
    """Per-frame box of a sampled track, linearly interpolated (held at the ends)."""
    si = np.array([sample_idx[s] for s, _ in track], float)
    bx = np.array([b[:4] for _, b in track], float)
    return np.stack([np.interp(np.arange(T), si, bx[:, k]) for k in range(4)], axis=1)


@contextlib.contextmanager
def _quiet_stderr():  # type: ignore[no-untyped-def]
    """MediaPipe's C++ logging writes to fd 2; keep tool output to one clear line."""
    fd = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        yield
    finally:
        os.dup2(fd, 2)
        os.close(fd)
        os.close(null)


def run_mediapipe(
    frames: np.ndarray, crop_boxes: np.ndarray | None, progress: bool = False, mirror: bool = False
) -> tuple[np.ndarray, ...]:
    """MediaPipe Pose (model_complexity=1, the offline model) with segmentation over the clip.

    ``mirror``: run on the left-right mirrored frames (and crops) instead, without segmentation,
    and return the landmarks in the original image with their sides exchanged back (``masks`` all
    zero). The detector's mistakes are not mirror-symmetric, so the mirrored pass is a second
    opinion on which leg is which (``keypoints.fix_leg_swaps``).
    """
    import mediapipe as mp
    from tqdm import tqdm

    T, H, W = frames.shape[:3]
    mp2d = np.full((T, NUM_MP, 3), np.nan)
    mp3d = np.full((T, NUM_MP, 3), np.nan)
    masks = np.zeros((T, H, W), np.uint8)
    if mirror and crop_boxes is not None:
        crop_boxes = crop_boxes.copy()
        crop_boxes[:, [0, 2]] = W - crop_boxes[:, [2, 0]]
    with _quiet_stderr():
        pose = mp.solutions.pose.Pose(
            static_image_mode=False, model_complexity=1, enable_segmentation=not mirror, smooth_landmarks=True
        )
    try:
        for t in tqdm(range(T), desc="persons (mirrored)" if mirror else "persons", disable=not progress, leave=False):
            x0, y0, side = 0.0, 0.0, None
            img = np.ascontiguousarray(frames[t, :, ::-1]) if mirror else frames[t]
            if crop_boxes is not None and not np.isfinite(crop_boxes[t]).all():
                continue  # the chosen person is not in view in this part of the clip
            whole = crop_boxes is not None and np.array_equal(crop_boxes[t], [0.0, 0.0, float(W), float(H)])
            if crop_boxes is not None and not whole:
                # a fixed-size square crop around the chosen person (MediaPipe's smoothing needs a
                # constant input size; padding keeps the aspect ratio)
                b = crop_boxes[t]
                cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
                half = int(0.65 * max(b[2] - b[0], b[3] - b[1])) + 1
                x0, y0, side = cx - half, cy - half, 2 * half
                canvas = np.full((side, side, 3), 127, np.uint8)
                ix0, iy0 = int(round(x0)), int(round(y0))
                sx0, sy0 = max(0, ix0), max(0, iy0)
                sx1, sy1 = min(W, ix0 + side), min(H, iy0 + side)
                if sx1 > sx0 and sy1 > sy0:
                    canvas[sy0 - iy0 : sy1 - iy0, sx0 - ix0 : sx1 - ix0] = img[sy0:sy1, sx0:sx1]
                x0, y0 = float(ix0), float(iy0)
                img = cv2.resize(canvas, (CROP_PX, CROP_PX), interpolation=cv2.INTER_AREA)
            with _quiet_stderr():
                res = pose.process(img)
            if res.pose_landmarks is None:
                continue
            h, w = img.shape[:2]
            f = (side / CROP_PX) if side else 1.0
            lm = res.pose_landmarks.landmark
            mp2d[t] = [(p.x * w * f + x0, p.y * h * f + y0, p.visibility) for p in lm]
            mp3d[t] = [(p.x, p.y, p.z) for p in res.pose_world_landmarks.landmark]
            if mirror:  # back into the original image: x mirrored, left and right exchanged
                mp2d[t, :, 0] = W - mp2d[t, :, 0]
                mp3d[t, :, 0] = -mp3d[t, :, 0]
                mp2d[t], mp3d[t] = mp2d[t, MP_MIRROR], mp3d[t, MP_MIRROR]
                continue
            if res.segmentation_mask is not None:
                seg = (res.segmentation_mask > 0.5).astype(np.uint8) * 255
                if side:
                    # back to frame pixels: scale the square up and paste its in-frame part
                    M = np.float32([[f, 0, x0], [0, f, y0]])
                    seg = cv2.warpAffine(seg, M, (W, H), flags=cv2.INTER_NEAREST)
                masks[t] = np.maximum(masks[t], seg)
            # also blank the hull of the body above the ankles: segmentation misses thin limbs and
            # motion blur, and features on the moving person would corrupt SfM
            hull_pts = mp2d[t, :27][mp2d[t, :27, 2] > 0.3, :2]
            if len(hull_pts) >= 3:
                cv2.fillConvexPoly(masks[t], cv2.convexHull(hull_pts.astype(np.int32)), 255)
    finally:
        pose.close()
    return mp2d, mp3d, masks


#: MediaPipe ankle landmarks, and the visibility from which one counts as in view (the fit's own
#: keypoint threshold, ``FitConfig.min_keypoint_conf``).
ANKLES_MP, LEGS_VISIBILITY = (27, 28), 0.3


def legs_span(mp2d: np.ndarray, span: tuple[int, int], width: int, height: int) -> tuple[int, int]:
    """``span`` without its leading and trailing frames in which neither ankle is in view.

    A person walking in from an edge of the image (legs below the frame) is reconstructed from the
    first frame their legs show: the fit can only guess legs it does not see (on a real clip from
    an elevated static camera, intel, the ankles went 0.3 m under the floor while the man walked
    in, and the retargeted G1 walked up through the floor). Gaps inside the span stay (the fit
    bridges them); the span is unchanged when the legs never show.
    """
    a, b = span
    an = mp2d[a:b, list(ANKLES_MP)]
    with np.errstate(invalid="ignore"):
        inside = (an[..., 0] >= 0) & (an[..., 0] < width) & (an[..., 1] >= 0) & (an[..., 1] < height)
        legs = (inside & (an[..., 2] >= LEGS_VISIBILITY)).any(axis=1)
    idx = np.flatnonzero(legs)
    if len(idx) < 2:
        return span
    return a + int(idx[0]), a + int(idx[-1]) + 1


#: MediaPipe hip and shoulder landmarks, and the fraction of its usual (+-1 s median) image length
#: below which the torso counts as collapsed.
HIPS_MP, SHOULDERS_MP, COLLAPSED_TORSO = (23, 24), (11, 12), 0.6


def upright_span(mp2d: np.ndarray, span: tuple[int, int], fps: float) -> tuple[int, int]:
    """``span`` without its leading and trailing frames whose torso is collapsed in the image.

    When MediaPipe first locks on to a small, distant person it can return a confident but
    collapsed skeleton for a few frames: on a tripod dev clip (a person walking towards the camera
    from 7 m, 95 px tall) the first 8 detections had the shoulders at the hips' height (torso 0.3-0.6
    of its length a second later, 20 px median keypoint error), and the fit turned them into a
    broken body 1.5 m off. Such frames at the ends of the span are dropped, by the torso's image
    length (hip centre to shoulder centre) against its median over +-1 s; inside the span a short
    torso may be real (a bend towards the camera) and is kept.
    """
    a, b = span
    hip = mp2d[:, list(HIPS_MP), :2].mean(axis=1)
    sh = mp2d[:, list(SHOULDERS_MP), :2].mean(axis=1)
    torso = np.linalg.norm(sh - hip, axis=1)
    half = max(1, int(round(fps)))
    ok = np.zeros(len(mp2d), bool)
    for t in range(a, b):
        near = torso[max(a, t - half) : min(b, t + half + 1)]
        near = near[np.isfinite(near)]
        ok[t] = bool(len(near)) and np.isfinite(torso[t]) and torso[t] >= COLLAPSED_TORSO * np.median(near)
    idx = np.flatnonzero(ok[a:b])
    if len(idx) < 2:
        return span
    return a + int(idx[0]), a + int(idx[-1]) + 1


def track_person(
    frames: np.ndarray,
    person: int,
    samples: int,
    min_fraction: float,
    progress: bool = False,
    fps: float | None = None,
) -> PersonTrack:
    """Find, choose and follow one person; InputError when nobody (or not that person) is there.

    People are looked for on ``samples`` frames, and at least once a second when ``fps`` is given
    (up to 30 samples), so someone who is in view for a few seconds of a long clip is counted.
    """
    if fps:
        samples = max(samples, min(30, int(np.ceil(len(frames) / fps))))
    T, H, W = frames.shape[:3]
    dets = detect_people(frames, samples)
    sample_idx = np.linspace(0, T - 1, min(samples, T)).round().astype(int)
    tracks = rank_tracks(link_tracks(dets, max_jump=0.25 * max(H, W)), len(dets))
    num_people = len(tracks)
    if person > 0 and person >= num_people:
        raise InputError(
            f"--person {person} asked for, but {max(num_people, 1)} person(s) were found "
            f"(0 = most visible); use a value below {max(num_people, 1)}"
        )
    crop = _track_boxes(tracks[person], sample_idx, T) if num_people >= 2 else None
    if num_people:  # only where this person was seen (half a sample spacing beyond)
        first, last = sample_idx[tracks[person][0][0]], sample_idx[tracks[person][-1][0]]
        half = int(np.ceil(0.5 * T / max(len(sample_idx) - 1, 1)))
        outside = (np.arange(T) < first - half) | (np.arange(T) > last + half)
        if crop is None and outside.any():
            crop = np.full((T, 4), np.nan)
            crop[~outside] = [0.0, 0.0, float(W), float(H)]  # the whole frame, where they are
        if crop is not None:
            crop[outside] = np.nan
    mp2d, mp3d, masks = run_mediapipe(frames, crop, progress)
    found = ~np.isnan(mp2d[:, 0, 0])
    span = (int(np.argmax(found)), int(T - np.argmax(found[::-1]))) if found.any() else (0, 0)
    seen = found[span[0] : span[1]].mean() if found.any() else 0.0
    if span[1] - span[0] < max(2, min_fraction * T) and crop is None or seen < min_fraction:
        raise InputError(
            f"no person found in {100 * (1 - found.mean()):.0f}% of the frames (need one in at least "
            f"{100 * min_fraction:.0f}%): use a clip where one person is fully visible"
        )
    span = upright_span(mp2d, legs_span(mp2d, span, W, H), fps or 30.0)
    boxes = np.full((T, 4), np.nan)
    vis = mp2d[..., 2] > 0.3
    for t in np.flatnonzero(found):
        p = mp2d[t, vis[t], :2] if vis[t].any() else mp2d[t, :, :2]
        boxes[t] = [p[:, 0].min(), p[:, 1].min(), p[:, 0].max(), p[:, 1].max()]
    if crop is None:
        crop = np.tile([0.0, 0.0, float(W), float(H)], (T, 1))
    return PersonTrack(boxes, masks, mp2d, mp3d, found, max(num_people, 1), person, span, crop)
