"""ViTPose 2D keypoints from a local ONNX file (heavy backend for ``keypoint_backend="vitpose"``).

Format (as exported by the ViTPose/easy_ViTPose tools): input ``(1,3,256,192)`` float32 RGB crop,
ImageNet-normalised; output COCO-17 heatmaps ``(1,17,64,48)``. The person box from the persons stage
is padded to the 3:4 aspect, each heatmap's arg-max (with a quarter-pixel refinement) is mapped back
to the frame, and COCO joints fill our skeleton (toes keep MediaPipe's estimates).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from videomimic_offline.body.skeleton import HUMAN_JOINTS, index
from videomimic_offline.errors import BackendUnavailableError, ConfigError, InputError

IN_H, IN_W = 256, 192
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)
# HUMAN_JOINTS name -> {coco index: weight}
_COCO_MAP: dict[str, dict[int, float]] = {
    "pelvis": {11: 0.45, 12: 0.45, 5: 0.05, 6: 0.05},
    "left_hip": {11: 1.0},
    "right_hip": {12: 1.0},
    "spine": {11: 0.27, 12: 0.27, 5: 0.23, 6: 0.23},
    "neck": {11: -0.03, 12: -0.03, 5: 0.53, 6: 0.53},
    "head": {3: 0.5, 4: 0.5},
    "left_shoulder": {5: 1.0},
    "left_elbow": {7: 1.0},
    "left_wrist": {9: 1.0},
    "right_shoulder": {6: 1.0},
    "right_elbow": {8: 1.0},
    "right_wrist": {10: 1.0},
    "left_knee": {13: 1.0},
    "left_ankle": {15: 1.0},
    "right_knee": {14: 1.0},
    "right_ankle": {16: 1.0},
}


class VitPose:
    """An onnxruntime session over a ViTPose ONNX file, checked for the expected shapes."""

    def __init__(self, onnx_path: Path | None) -> None:
        if onnx_path is None:
            raise ConfigError(
                "--keypoints.backend vitpose needs --keypoints.vitpose-onnx: the local path of a ViTPose .onnx file"
            )
        onnx_path = Path(onnx_path)
        if not onnx_path.is_file():
            raise InputError(f"{onnx_path} does not exist: export ViTPose to ONNX yourself and give its local path")
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise BackendUnavailableError(
                "--keypoints.backend vitpose needs onnxruntime: pip install onnxruntime"
            ) from exc
        try:
            self.session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise InputError(f"{onnx_path} is not a loadable ONNX model ({type(exc).__name__}: {exc})") from exc
        inp, out = self.session.get_inputs()[0], self.session.get_outputs()[0]
        if list(inp.shape[1:]) != [3, IN_H, IN_W]:
            raise InputError(f"{onnx_path}: input shape {inp.shape}, expected (N,3,{IN_H},{IN_W}) like ViTPose")
        if len(out.shape) != 4 or out.shape[1] != 17:
            raise InputError(f"{onnx_path}: output shape {out.shape}, expected COCO-17 heatmaps (N,17,64,48)")
        self.input_name = inp.name

    def predict(self, img: np.ndarray, box: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """COCO-17 (17,2) pixels and (17,) heatmap peak scores for the person in ``box`` (x0,y0,x1,y1)."""
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        w, h = (box[2] - box[0]) * 1.25, (box[3] - box[1]) * 1.25
        if w / h > IN_W / IN_H:
            h = w * IN_H / IN_W
        else:
            w = h * IN_W / IN_H
        src = np.float32([[cx - w / 2, cy - h / 2], [cx + w / 2, cy - h / 2], [cx - w / 2, cy + h / 2]])
        dst = np.float32([[0, 0], [IN_W, 0], [0, IN_H]])
        A = cv2.getAffineTransform(src, dst)
        crop = cv2.warpAffine(img, A, (IN_W, IN_H), flags=cv2.INTER_LINEAR)
        x = ((crop.astype(np.float32) / 255.0 - MEAN) / STD).transpose(2, 0, 1)[None]
        hm = self.session.run(None, {self.input_name: x})[0][0]
        K, hh, hw = hm.shape
        flat = hm.reshape(K, -1)
        idx = flat.argmax(axis=1)
        score = flat.max(axis=1)
        py, px = (idx // hw).astype(float), (idx % hw).astype(float)
        for k in range(K):  # quarter-pixel shift toward the higher neighbour
            ix, iy = int(px[k]), int(py[k])
            if 0 < ix < hw - 1:
                px[k] += 0.25 * np.sign(hm[k, iy, ix + 1] - hm[k, iy, ix - 1])
            if 0 < iy < hh - 1:
                py[k] += 0.25 * np.sign(hm[k, iy + 1, ix] - hm[k, iy - 1, ix])
        crop_xy = np.stack([(px + 0.5) * IN_W / hw, (py + 0.5) * IN_H / hh], axis=1)
        Ainv = cv2.invertAffineTransform(A)
        xy = crop_xy @ Ainv[:, :2].T + Ainv[:, 2]
        return xy, np.clip(score, 0.0, 1.0)

    def predict_video(
        self, frames: np.ndarray, boxes: np.ndarray, kp2d: np.ndarray, conf: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Replace the joints ViTPose sees in ``kp2d``/``conf`` (T,J,..) frame by frame."""
        kp2d, conf = kp2d.copy(), conf.copy()
        for t in range(len(frames)):
            if not np.isfinite(boxes[t]).all():
                continue
            xy, s = self.predict(frames[t], boxes[t])
            for name, comb in _COCO_MAP.items():
                j = index(name)
                kp2d[t, j] = sum(w * xy[k] for k, w in comb.items())
                conf[t, j] = min(s[k] for k in comb)
        return kp2d, conf


__all__ = ["VitPose", "HUMAN_JOINTS"]
