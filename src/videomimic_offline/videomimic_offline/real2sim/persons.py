"""Person detection, choice, tracking and masks (offline default: HOG + MediaPipe).

The HOG people detector runs on a few evenly spaced frames to count people and rank them by how
visible they are (box area x frames seen). With one person MediaPipe runs on whole frames; with
several, it runs on a crop that follows the chosen person's track, so its own landmark tracker
stays on that person. MediaPipe's segmentation gives the person mask (used to hide the person
from SfM) and its landmarks are kept for the keypoint stage.
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


def detect_people(frames: np.ndarray, samples: int) -> list[np.ndarray]:
    """HOG boxes (N,5: x0,y0,x1,y1,score) on ``samples`` evenly spaced frames."""
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    idx = np.linspace(0, len(frames) - 1, min(samples, len(frames))).round().astype(int)
    out = []
    for i in idx:
        rects, weights = hog.detectMultiScale(frames[i], winStride=(8, 8), padding=(8, 8), scale=1.05)
        boxes = [(x, y, x + w, y + h, float(s)) for (x, y, w, h), s in zip(rects, np.ravel(weights)) if s > 0.5]
        boxes = _nms(np.array(boxes, float).reshape(-1, 5), 0.3)
        out.append(boxes)
    return out


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / ua if ua > 0 else 0.0


def _nms(boxes: np.ndarray, thr: float) -> np.ndarray:
    keep: list[np.ndarray] = []
    for b in boxes[np.argsort(-boxes[:, 4])] if len(boxes) else []:
        if all(_iou(b, k) < thr for k in keep) and all(not _contains(k, b) for k in keep):
            keep.append(b)
    return np.array(keep).reshape(-1, 5)


def _contains(outer: np.ndarray, inner: np.ndarray) -> bool:
    return bool(
        inner[0] >= outer[0] - 4 and inner[1] >= outer[1] - 4 and inner[2] <= outer[2] + 4 and inner[3] <= outer[3] + 4
    )


def link_tracks(dets: list[np.ndarray], max_jump: float) -> list[list[tuple[int, np.ndarray]]]:
    """Greedy frame-to-frame association by box-centre distance; returns tracks of (sample, box)."""
    tracks: list[list[tuple[int, np.ndarray]]] = []
    for si, boxes in enumerate(dets):
        used: set[int] = set()
        for tr in sorted(tracks, key=len, reverse=True):
            last = tr[-1][1]
            c_last = np.array([(last[0] + last[2]) / 2, (last[1] + last[3]) / 2])
            best, best_d = -1, max_jump
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
    """Most visible first: total box area over the sampled frames; drop one-off false positives."""
    min_len = 2 if num_samples >= 4 else 1
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


def run_mediapipe(frames: np.ndarray, crop_boxes: np.ndarray | None, progress: bool = False) -> tuple[np.ndarray, ...]:
    """MediaPipe Pose (model_complexity=1, the offline model) with segmentation over the clip."""
    import mediapipe as mp
    from tqdm import tqdm

    T, H, W = frames.shape[:3]
    mp2d = np.full((T, NUM_MP, 3), np.nan)
    mp3d = np.full((T, NUM_MP, 3), np.nan)
    masks = np.zeros((T, H, W), np.uint8)
    with _quiet_stderr():
        pose = mp.solutions.pose.Pose(
            static_image_mode=False, model_complexity=1, enable_segmentation=True, smooth_landmarks=True
        )
    try:
        for t in tqdm(range(T), desc="persons", disable=not progress, leave=False):
            x0, y0, side = 0.0, 0.0, None
            img = frames[t]
            if crop_boxes is not None:
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
                    canvas[sy0 - iy0 : sy1 - iy0, sx0 - ix0 : sx1 - ix0] = frames[t, sy0:sy1, sx0:sx1]
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


def track_person(
    frames: np.ndarray, person: int, samples: int, min_fraction: float, progress: bool = False
) -> PersonTrack:
    """Find, choose and follow one person; InputError when nobody (or not that person) is there."""
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
    mp2d, mp3d, masks = run_mediapipe(frames, crop, progress)
    found = ~np.isnan(mp2d[:, 0, 0])
    if found.mean() < min_fraction:
        raise InputError(
            f"no person found in {100 * (1 - found.mean()):.0f}% of the frames (need one in at least "
            f"{100 * min_fraction:.0f}%): use a clip where one person is fully visible"
        )
    boxes = np.full((T, 4), np.nan)
    vis = mp2d[..., 2] > 0.3
    for t in np.flatnonzero(found):
        p = mp2d[t, vis[t], :2] if vis[t].any() else mp2d[t, :, :2]
        boxes[t] = [p[:, 0].min(), p[:, 1].min(), p[:, 0].max(), p[:, 1].max()]
    return PersonTrack(boxes, masks, mp2d, mp3d, found, max(num_people, 1), person)
