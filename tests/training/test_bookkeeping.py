"""Per-clip bookkeeping and terrain geometry that the throughput work changed (same results, fewer ops)."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
import torch
from videomimic_offline.training.command import sequential_ema
from videomimic_offline.training.terrain import floor_frame


def test_vectorised_ema_equals_one_update_per_env_in_order():
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        ema = torch.rand(6, generator=g)
        idx = torch.randint(0, 6, (25,), generator=g)  # clips repeat within one batch of resets
        ok = (torch.rand(25, generator=g) > 0.4).float()
        ref = ema.clone()
        for c, s in zip(idx.tolist(), ok.tolist()):
            ref[c] = 0.9 * ref[c] + 0.1 * s
        torch.testing.assert_close(sequential_ema(ema, idx, ok, 0.1), ref, atol=1e-6, rtol=0)


@pytest.mark.parametrize("field", [(2.9, 2.9), (4.0, 1.0), (1.0, 4.0), (4.0, 4.0)])
def test_floor_frame_covers_patch_outside_the_field_only(field):
    patch = (4.0, 4.0)
    boxes = floor_frame(patch, field)
    fx0, fx1 = (patch[0] - field[0]) / 2, (patch[0] + field[0]) / 2
    fy0, fy1 = (patch[1] - field[1]) / 2, (patch[1] + field[1]) / 2
    area = 0.0
    for x, y, hx, hy in boxes:
        assert x - hx >= 0 and x + hx <= patch[0] + 1e-9 and y - hy >= 0 and y + hy <= patch[1] + 1e-9
        overlap_x = min(x + hx, fx1) - max(x - hx, fx0)
        overlap_y = min(y + hy, fy1) - max(y - hy, fy0)
        assert min(overlap_x, overlap_y) <= 1e-9  # never under the field
        area += 4 * hx * hy
    assert area == pytest.approx(patch[0] * patch[1] - field[0] * field[1])


@pytest.mark.slow
def test_feet_on_the_field_touch_only_the_heightfield(flat_teacher_env):
    """The floor around a scene must not add a second contact under feet that stand on its lowest cells."""
    env = flat_teacher_env
    base = env.unwrapped
    for _ in range(3):
        env.step(torch.zeros(2, 23))
    m, d = base.sim.mj_model, base.sim.data
    n = int(d.nacon[0])
    geoms = d.contact.geom[:n].cpu().numpy()
    types = m.geom_type[geoms]
    terrain_body = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, "terrain")
    on_terrain = (m.geom_bodyid[geoms] == terrain_body).any(axis=1)
    assert on_terrain.any()  # the robot stands
    hfield = (types == mujoco.mjtGeom.mjGEOM_HFIELD).any(axis=1)
    assert np.all(hfield[on_terrain]), "feet on the scene also touch a floor box"
