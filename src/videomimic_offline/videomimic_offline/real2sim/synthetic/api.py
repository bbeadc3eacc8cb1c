"""Stable entry points other areas call (the main job's embedded default input, the bench)."""

from __future__ import annotations

import json
from pathlib import Path

from videomimic_offline.real2sim.synthetic import GENERATOR_VERSION
from videomimic_offline.real2sim.synthetic.clip import load_gt, make_clip

#: The README main job's embedded default: a person walking up stairs, filmed handheld.
DEFAULT_CLIP = {"kind": "stairs_up", "seconds": 4.0, "seed": 0, "width": 640, "height": 480, "height_m": 1.72}


def make_default_clip(out: Path, *, progress: bool = True) -> Path:
    """Generate (or reuse, when already there from this generator version) the default clip
    folder at ``out``: ``video.mp4`` + ``gt.npz`` + ``meta.json``. Deterministic, ~5-10 s."""
    out = Path(out)
    meta_path = out / "meta.json"
    if meta_path.is_file() and (out / "video.mp4").is_file():
        try:
            meta = json.loads(meta_path.read_text())
            if meta.get("generator_version") == GENERATOR_VERSION and meta.get("defaults") == DEFAULT_CLIP:
                load_gt(out)  # schema check: a damaged folder is regenerated
                return out
        except Exception:  # noqa: BLE001 - anything unreadable is simply regenerated
            pass
    d = DEFAULT_CLIP
    make_clip(
        str(d["kind"]),
        out,
        seconds=float(d["seconds"]),
        seed=int(d["seed"]),
        width=int(d["width"]),
        height=int(d["height"]),
        height_m=float(d["height_m"]),
        progress=progress,
        extra_meta={"defaults": DEFAULT_CLIP},
    )
    return out
