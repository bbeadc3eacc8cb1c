"""Training terrain: reconstructed heightfields and procedural ground, laid out in mjlab's terrain grid.

mjlab compiles one MuJoCo model for all envs, so every scene must exist up front: each clip's
heightfield becomes one sub-terrain (one column of mjlab's curriculum grid), next to procedural
flat / rough / stairs columns for MoCap pre-training. At reset an env is moved to the patch of the
clip it was given (:mod:`training.command`), and the clip is offset so that its scene lands on
that patch: ``sim_xyz = motion_xyz + patch_origin``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from videomimic_offline.contracts.heightfield import read_heightfield
from videomimic_offline.errors import InputError
from videomimic_offline.training.config import TERRAINS as PROCEDURAL


def floor_frame(patch: tuple[float, float], field: tuple[float, float]) -> list[tuple[float, float, float, float]]:
    """Boxes (centre x, y, half-sizes x, y) that cover a patch except the centred field's footprint.

    A single floor box under the whole patch would touch every foot that stands on the field's lowest
    cells a second time (box + heightfield contacts for the same point): twice the contacts and
    constraint rows for the solver, for no change in the ground's shape.
    """
    (sx, sy), (ex, ey) = patch, field
    x0, x1 = (sx - ex) / 2, (sx + ex) / 2
    y0, y1 = (sy - ey) / 2, (sy + ey) / 2
    boxes = [
        (x0 / 2, sy / 2, x0 / 2, sy / 2),  # left strip, full height
        ((x1 + sx) / 2, sy / 2, (sx - x1) / 2, sy / 2),  # right strip
        (sx / 2, y0 / 2, ex / 2, y0 / 2),  # below the field
        (sx / 2, (y1 + sy) / 2, ex / 2, (sy - y1) / 2),  # above the field
    ]
    return [b for b in boxes if min(b[2], b[3]) > 1e-6]


def _sub_terrain_base():  # late import: mjlab is heavy and only needed when training
    from mjlab.terrains.terrain_generator import SubTerrainCfg

    return SubTerrainCfg


def make_clip_terrain_cfg(heightfield_path: Path):
    """A mjlab ``SubTerrainCfg`` that places the heightfield at the centre of its patch."""
    import mujoco
    from mjlab.terrains.terrain_generator import TerrainGeometry, TerrainOutput

    from videomimic_offline.sim.terrain import add_heightfield

    base = _sub_terrain_base()

    @dataclass(kw_only=True)
    class ClipHeightfieldTerrainCfg(base):  # type: ignore[valid-type, misc]
        path: str = ""
        base_thickness: float = 0.2

        def function(self, difficulty: float, spec: mujoco.MjSpec, rng: np.random.Generator) -> TerrainOutput:
            del difficulty, rng
            hf = read_heightfield(Path(self.path))
            ex, ey = hf.extent
            if ex > self.size[0] or ey > self.size[1]:
                raise InputError(f"terrain {self.path} is {ex:.1f} x {ey:.1f} m, larger than the patch {self.size}")
            cx, cy = self.size[0] / 2, self.size[1] / 2
            body = spec.body("terrain")
            geom = add_heightfield(spec, hf, f"clip_hfield_{uuid.uuid4().hex}", body, (cx, cy), self.base_thickness)
            zmin = float(hf.surface.min())
            # Ground around the field at its lowest level, so a robot that leaves the scan still stands.
            floors = [
                body.add_geom(type=mujoco.mjtGeom.mjGEOM_BOX, size=[hx, hy, 0.05], pos=[x, y, zmin - 0.05])
                for x, y, hx, hy in floor_frame(self.size, (ex, ey))
            ]
            origin = np.array([cx - hf.center_xy[0], cy - hf.center_xy[1], 0.0])
            geoms = [TerrainGeometry(geom=geom)] + [TerrainGeometry(geom=f) for f in floors]
            return TerrainOutput(origin=origin, geometries=geoms)

    return ClipHeightfieldTerrainCfg(path=str(heightfield_path))


def procedural_terrain_cfgs(
    kinds: tuple[str, ...] = PROCEDURAL, rough_height: float = 0.04, step_height: float = 0.1
) -> dict[str, object]:
    """mjlab sub-terrains for pre-training: flat boxes, random-uniform rough hfield, pyramid stairs."""
    from mjlab.terrains import BoxFlatTerrainCfg, BoxPyramidStairsTerrainCfg, HfRandomUniformTerrainCfg

    out: dict[str, object] = {}
    for k in kinds:
        if k == "flat":
            out["flat"] = BoxFlatTerrainCfg()
        elif k == "rough":
            out["rough"] = HfRandomUniformTerrainCfg(
                noise_range=(0.0, rough_height), noise_step=0.01, horizontal_scale=0.1, border_width=0.25
            )
        elif k == "stairs":
            out["stairs"] = BoxPyramidStairsTerrainCfg(
                step_height_range=(step_height, step_height), step_width=0.3, platform_width=2.0, border_width=0.5
            )
        else:
            raise InputError(f"unknown procedural terrain {k!r}; choose from {PROCEDURAL}")
    return out


@dataclass
class TerrainLayout:
    """Which grid column each clip's patch is, and which columns are procedural."""

    columns: list[str] = field(default_factory=list)
    clip_column: dict[str, int] = field(default_factory=dict)  # clip name -> column (scene clips)
    procedural_columns: list[int] = field(default_factory=list)


def build_terrain(clip_scenes: dict[str, Path | None], procedural: tuple[str, ...], patch_size: float, seed: int = 0):
    """(mjlab TerrainEntityCfg, TerrainLayout): one column per scene clip, then one per procedural kind."""
    from mjlab.terrains import TerrainEntityCfg
    from mjlab.terrains.terrain_generator import TerrainGeneratorCfg

    layout = TerrainLayout()
    subs: dict[str, object] = {}
    for clip, scene in clip_scenes.items():
        if scene is None:
            continue
        hf = read_heightfield(scene)
        ex, ey = hf.extent
        if max(ex, ey) > patch_size:
            raise InputError(
                f"terrain of clip {clip} is {ex:.1f} x {ey:.1f} m; raise --patch-size above {max(ex, ey):.1f}"
            )
        key = f"clip:{clip}"
        layout.clip_column[clip] = len(subs)
        subs[key] = make_clip_terrain_cfg(scene)
    for name, cfg in procedural_terrain_cfgs(procedural).items():
        layout.procedural_columns.append(len(subs))
        subs[name] = cfg
    if not subs:
        raise InputError("no terrain: give clips with scenes or at least one procedural terrain kind")
    layout.columns = list(subs)
    gen = TerrainGeneratorCfg(
        size=(patch_size, patch_size),
        num_rows=1,
        num_cols=len(subs),
        curriculum=True,
        sub_terrains=subs,
        seed=seed,
        border_width=1.0,
        color_scheme="height",
    )  # type: ignore[arg-type]
    return TerrainEntityCfg(terrain_type="generator", terrain_generator=gen), layout
