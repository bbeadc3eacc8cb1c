"""Scene description ``scene.json``: schema ``videomimic.scene`` v1 — the record, its one writer and one reader.

Written by real2sim's scene stage beside ``scene_mesh.ply`` and ``heightfield.npz``; read by the
report and the viewers.

Conventions: metres, the motion's world frame (z up, floor z = 0). ``bounds_min`` / ``bounds_max``
bound the mesh's vertices. ``solids`` lists simple boxes the scene stage derived from the person's
contacts: ``{"kind": "floor" | "step" | "seat", "box": {"center": [x, y, z], "size": [sx, sy, sz],
"yaw": rad}}`` (a box turned by ``yaw`` about z around its centre). Any other key is a figure of the
stage that made the scene (``stats``), e.g. dense-stereo coverage or heightfield contact cells.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from videomimic_offline import artifacts
from videomimic_offline.errors import ArtifactError

SCHEMA = "videomimic.scene"
VERSION = 1
FILE = "scene.json"
SOLID_KINDS = ("floor", "step", "seat")
_FIXED = ("schema", "version", "units", "frame", "source", "bounds_min", "bounds_max", "num_vertices",
          "num_faces", "solids")  # fmt: skip


@dataclass
class Solid:
    """A contact-derived box in the world frame."""

    kind: str
    center: tuple[float, float, float]
    size: tuple[float, float, float]
    yaw: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in SOLID_KINDS:
            raise ArtifactError(f"solid kind {self.kind!r} is not one of {SOLID_KINDS}")
        self.center = tuple(float(v) for v in self.center)  # type: ignore[assignment]
        self.size = tuple(float(v) for v in self.size)  # type: ignore[assignment]
        self.yaw = float(self.yaw)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "box": {"center": list(self.center), "size": list(self.size), "yaw": self.yaw}}


@dataclass
class SceneInfo:
    """What the scene stage made (see the module docstring)."""

    source: str
    bounds_min: tuple[float, float, float] = (0.0, 0.0, 0.0)
    bounds_max: tuple[float, float, float] = (0.0, 0.0, 0.0)
    num_vertices: int = 0
    num_faces: int = 0
    solids: list[Solid] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of_mesh(cls, source: str, vertices: np.ndarray, faces: np.ndarray, **kwargs: Any) -> SceneInfo:
        """A SceneInfo whose bounds and counts are those of a mesh."""
        v = np.asarray(vertices, np.float64).reshape(-1, 3)
        lo = v.min(axis=0) if len(v) else np.zeros(3)
        hi = v.max(axis=0) if len(v) else np.zeros(3)
        return cls(source, tuple(lo.tolist()), tuple(hi.tolist()), len(v), len(faces), **kwargs)


def write_scene_info(path: Path, info: SceneInfo) -> None:
    """Write ``scene.json`` (the only writer of this schema)."""
    clash = sorted(set(info.stats) & set(_FIXED))
    if clash:
        raise ArtifactError(f"scene stats may not use the reserved keys {clash}")
    artifacts.write_json(
        Path(path),
        {
            "schema": SCHEMA, "version": VERSION, "units": "m", "frame": "world z-up, floor z=0 (same frame as motion.npz)",
            "source": info.source, "bounds_min": list(info.bounds_min), "bounds_max": list(info.bounds_max),
            "num_vertices": int(info.num_vertices), "num_faces": int(info.num_faces),
            "solids": [s.to_dict() for s in info.solids], **info.stats,
        },
    )  # fmt: skip


def read_scene_info(path: Path) -> SceneInfo:
    """Read ``scene.json`` (the only reader of this schema); a file from before ``schema`` was stored is v1."""
    path = Path(path)
    d = artifacts.read_json(path)
    if d.get("schema", SCHEMA) != SCHEMA or int(d.get("version", VERSION)) > VERSION:
        raise ArtifactError(f"{path} is {d.get('schema')} v{d.get('version')}; this code reads {SCHEMA} v{VERSION}")
    try:
        solids = [Solid(s["kind"], s["box"]["center"], s["box"]["size"], s["box"].get("yaw", 0.0))
                  for s in d.get("solids", [])]  # fmt: skip
    except (KeyError, TypeError) as exc:
        raise ArtifactError(f"{path}: malformed solid ({exc}); re-run the scene stage") from exc
    return SceneInfo(
        str(d.get("source", "")), tuple(d.get("bounds_min", (0, 0, 0))), tuple(d.get("bounds_max", (0, 0, 0))),
        int(d.get("num_vertices", 0)), int(d.get("num_faces", 0)), solids,
        {k: v for k, v in d.items() if k not in _FIXED},
    )  # fmt: skip
