"""Pick the reader for a motion file by its extension/content (or a declared format)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from videomimic_offline.contracts.human_motion import HumanMotion, read_human_motion, validate
from videomimic_offline.errors import InputError

FORMATS = ("auto", "npz", "bvh", "amass", "lafan-csv")


def detect_format(path: Path) -> str:
    """'npz' (ours), 'amass', 'bvh' or 'lafan-csv'; unknown files fail with the list of formats."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".bvh":
        return "bvh"
    if suffix == ".csv":
        return "lafan-csv"
    if suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as data:
                keys = set(data.files)
        except Exception as exc:
            raise InputError(f"{path} is not a readable npz ({exc})") from exc
        if "schema" in keys:
            return "npz"
        if {"poses", "trans"} <= keys:
            return "amass"
        raise InputError(f"{path}: npz with keys {sorted(keys)[:8]} is neither motion.npz nor AMASS; pass --format")
    raise InputError(f"{path}: unknown motion format '{suffix}'; use one of {FORMATS[1:]} (--format)")


def load_human(path: Path, fmt: str = "auto", units: str = "auto", up: str = "auto", floor: str = "auto",
               smpl_model: Path | None = None) -> HumanMotion:  # fmt: skip
    """Read a human motion in any supported format, checked for retargeting (:func:`validate`)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path} does not exist")
    fmt = detect_format(path) if fmt == "auto" else fmt
    if fmt == "npz":
        return validate(read_human_motion(path))
    if fmt == "bvh":
        from videomimic_offline.motion_io.bvh import read_bvh

        return validate(read_bvh(path, units=units, up=up, floor=floor))
    if fmt == "amass":
        from videomimic_offline.motion_io.amass import read_amass

        return validate(read_amass(path, smpl_model))
    raise InputError(f"format {fmt!r} is not a human motion; use one of {FORMATS}")
