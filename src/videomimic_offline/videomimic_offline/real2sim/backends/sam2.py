"""SAM2 person masks (heavy backend for ``mask_backend="sam2"``).

SAM2 is not installed by default: its PyPI build pulls a CUDA torchvision that replaces the CPU
torch. The loader checks the local checkpoint (a torch file holding ``{"model": state_dict}``)
and config (Hydra YAML with a ``model`` node) first, then imports ``sam2``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from videomimic_offline.errors import BackendUnavailableError, ConfigError, InputError


def validate_checkpoint(checkpoint: Path | None, config: Path | None) -> dict:
    """Check both files are the SAM2 formats; returns the checkpoint's state dict."""
    import torch
    import yaml

    if checkpoint is None or config is None:
        raise ConfigError(
            "--persons.mask-backend sam2 needs --persons.sam2-checkpoint (.pt) and --persons.sam2-config (.yaml): local paths"
        )
    checkpoint, config = Path(checkpoint), Path(config)
    for p in (checkpoint, config):
        if not p.is_file():
            raise InputError(f"{p} does not exist: download the SAM2 files yourself and give their local paths")
    try:
        ckpt = torch.load(checkpoint, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise InputError(
            f"{checkpoint} is not a torch checkpoint ({type(exc).__name__}); give a SAM2 .pt file"
        ) from exc
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get("model"), dict):
        raise InputError(f"{checkpoint} has no 'model' state dict: not a SAM2 checkpoint")
    if not any(k.startswith("image_encoder.") for k in ckpt["model"]):
        raise InputError(f"{checkpoint} holds no 'image_encoder.*' weights: not a SAM2 checkpoint")
    try:
        cfg = yaml.safe_load(config.read_text())
    except yaml.YAMLError as exc:
        raise InputError(f"{config} is not valid YAML ({exc})") from exc
    if not isinstance(cfg, dict) or "model" not in cfg:
        raise InputError(f"{config} has no 'model' section: not a SAM2 config")
    return ckpt["model"]


def check_sam2(checkpoint: Path | None, config: Path | None) -> None:
    """Refuse unusable SAM2 files or a missing ``sam2`` package (run before any work starts)."""
    import importlib.util

    validate_checkpoint(checkpoint, config)
    if importlib.util.find_spec("sam2") is None:
        raise BackendUnavailableError(
            "--persons.mask-backend sam2 needs the 'sam2' package, which is not installed (its wheel pulls a CUDA "
            "torchvision); install it in a GPU environment or use the default mediapipe"
        )


def load_sam2(checkpoint: Path | None, config: Path | None):  # type: ignore[no-untyped-def]
    """Validated SAM2 video predictor on CPU; BackendUnavailableError when ``sam2`` is missing."""
    check_sam2(checkpoint, config)
    from sam2.build_sam import build_sam2_video_predictor  # type: ignore[import-not-found]

    return build_sam2_video_predictor(str(config), str(checkpoint), device="cpu")


def sam2_masks(predictor, frames_dir: Path, boxes: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    """(T,H,W) uint8 masks: prompt with the person's box on its first found frame, propagate."""
    state = predictor.init_state(video_path=str(frames_dir))
    first = int(np.flatnonzero(np.isfinite(boxes[:, 0]))[0])
    predictor.add_new_points_or_box(state, frame_idx=first, obj_id=1, box=boxes[first])
    out: dict[int, np.ndarray] = {}
    for t, _ids, logits in predictor.propagate_in_video(state):
        out[t] = (logits[0, 0].cpu().numpy() > 0).astype(np.uint8) * 255
    T = len(boxes)
    shape = next(iter(out.values())).shape
    return np.stack([out.get(t, np.zeros(shape, np.uint8)) for t in range(T)])
