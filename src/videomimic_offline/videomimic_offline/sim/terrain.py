"""Terrain for MuJoCo scenes: a heightfield (:mod:`contracts.heightfield`) as an hfield geom, and the default step.

MuJoCo collides meshes as convex hulls (a staircase becomes a ramp), so reconstructed terrain goes
in as an hfield. The simulated robot (``sim_g1``), training's sim2sim check, training's terrain
patches and the retargeting video all build it with :func:`add_heightfield`, from the field's
:attr:`~contracts.heightfield.Heightfield.surface`, so they stand on the same ground.
"""

from __future__ import annotations

import numpy as np

from videomimic_offline.contracts.heightfield import Heightfield

TERRAIN_GROUP = 0  # geom group of the terrain (visible and ray-castable)


def step_heightfield(
    step_x: float = 0.35, step_height: float = 0.1, size: float = 8.0, resolution: float = 0.04
) -> Heightfield:
    """The default scene: flat ground at z = 0 and a step up of ``step_height`` for x >= ``step_x``.

    The hfield interpolates between samples, so the step face is a one-cell ramp ending at the first
    sample at or past ``step_x``. 4 cm keeps ray casts (the simulated LiDAR) and foot contacts cheap:
    at 2 cm both cost about twice as much.
    """
    n = int(round(size / resolution)) + 1
    xs = -size / 2 + np.arange(n) * resolution
    heights = np.where(xs[None, :] >= step_x - 1e-9, step_height, 0.0) * np.ones((n, 1))
    return Heightfield(heights, np.array([-size / 2, -size / 2]), resolution)


def add_heightfield(spec, field: Heightfield, name: str = "terrain", body=None, center_xy=None, base: float = 0.1):
    """Add ``field`` to ``spec`` as an hfield geom (spec: mujoco.MjSpec; returns the MjsGeom).

    The geom goes into ``body`` (default the world body), centred at ``center_xy`` in that body's
    frame (default: where the field lies in the world), its lowest point at the field's lowest
    height, ``base`` m thick below it. MuJoCo samples the grid exactly at the cell centres.
    """
    import mujoco

    h = field.surface
    lo, hi = float(h.min()), float(h.max())
    span = max(hi - lo, 1e-3)
    nrow, ncol = h.shape
    hf = spec.add_hfield()
    hf.name = name
    hf.nrow, hf.ncol = nrow, ncol
    ex, ey = field.extent
    hf.size = [ex / 2, ey / 2, span, base]
    hf.userdata = ((h - lo) / span).reshape(-1).tolist()
    geom = (body if body is not None else spec.worldbody).add_geom()
    geom.name = name
    geom.type = mujoco.mjtGeom.mjGEOM_HFIELD
    geom.hfieldname = name
    geom.group = TERRAIN_GROUP
    centre = field.center_xy if center_xy is None else np.asarray(center_xy, np.float64)
    geom.pos = [float(centre[0]), float(centre[1]), lo]
    return geom


def add_heightfield_tiles(spec, field: Heightfield, tile_cells: int, name: str = "terrain", base: float = 0.1) -> list:
    """``field`` as hfield geoms of about ``tile_cells`` x ``tile_cells`` cells (neighbours overlap by one
    cell of the same samples, so the surface is the same; returns the MjsGeoms).

    MuJoCo intersects a ray with an hfield by testing the cells under the ray's path through the
    geom's bounding box, which is as tall as the field's whole relief. On a reconstruction with 2.7 m
    walls, every upward LiDAR ray crossed the scene inside that box: the simulated MID-360 took 5.2 ms
    of CPU per 2 ms physics step (0.07 ms without it), and the simulator ran at ~16 % of real time. A
    tile's box is only as tall as its own relief, so a ray tests the few cells of the tiles it crosses.
    """
    h = field.surface
    H, W = h.shape
    step = max(int(tile_cells), 1)
    geoms = []
    for r0 in range(0, H - 1, step):
        for c0 in range(0, W - 1, step):
            # one cell of overlap with the previous tile (the same samples, so the same triangles): a ray
            # exactly on a seam missed both tiles
            ra, ca = max(r0 - 1, 0), max(c0 - 1, 0)
            r1, c1 = min(r0 + step, H - 1), min(c0 + step, W - 1)
            tile = Heightfield(h[ra : r1 + 1, ca : c1 + 1], field.origin_xy + np.array([ca, ra]) * field.resolution,
                               field.resolution)  # fmt: skip
            geoms.append(add_heightfield(spec, tile, f"{name}_{r0}_{c0}", base=base))
    return geoms


def scene_spec(field: Heightfield | None = None, tile_cells: int | None = None):  # -> mujoco.MjSpec
    """The G1 (29 DoF, its physics from ``robot.physics``) on ``field`` (default: :func:`step_heightfield`);
    with ``tile_cells``, the field as tiles of that many cells (:func:`add_heightfield_tiles`)."""
    from videomimic_offline.robot import physics
    from videomimic_offline.robot.model import g1_spec

    spec = g1_spec("29dof", actuators=True, floor=False)
    physics.apply_options(spec.option)
    field = field if field is not None else step_heightfield()
    if tile_cells:
        add_heightfield_tiles(spec, field, tile_cells)
    else:
        add_heightfield(spec, field)
    return spec
