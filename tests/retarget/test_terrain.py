"""The heightfield contract: unknown cells stay unknown, the scene-to-world shift is applied, rotations refused."""

from __future__ import annotations

import numpy as np
import pytest
from videomimic_offline.errors import InputError
from videomimic_offline.retarget import terrain as tr

from videomimic_offline import artifacts


def _write(path, heights, known, T):
    artifacts.write_npz(path, schema=tr.SCHEMA, version=1, heights=heights, known=known,
                        origin_xy=np.array([-1.0, -1.0]), resolution=np.float64(0.1), T_world_scene=T)  # fmt: skip


def test_read_heightfield_mask_and_shift(tmp_path):
    h = np.full((20, 30), 0.2)
    known = np.ones_like(h, bool)
    known[:, 20:] = False  # x >= 1.0 never seen
    T = np.eye(4)
    T[:3, 3] = [0.5, 0.0, 0.1]
    _write(tmp_path / "hf.npz", h, known, T)
    ter = tr.read_heightfield(tmp_path / "hf.npz")
    z = ter.height(np.array([[-0.5, 0.0], [1.2, 0.0], [1.6, 0.0], [9.0, 0.0]]))
    assert z[0] == pytest.approx(0.3) and z[1] == pytest.approx(0.3)  # shifted 0.5 m in x, 0.1 m up
    assert np.isnan(z[2]) and np.isnan(z[3])  # unseen, outside


def test_rotated_scene_refused(tmp_path):
    T = np.eye(4)
    T[:2, :2] = [[0.0, -1.0], [1.0, 0.0]]
    _write(tmp_path / "hf.npz", np.zeros((5, 5)), np.ones((5, 5), bool), T)
    with pytest.raises(InputError, match="rotates the scene"):
        tr.read_heightfield(tmp_path / "hf.npz")


def test_dilation_keeps_step_edges_conservative():
    h, o, res = tr.staircase(n_steps=1, rise=0.2, run=1.0, start_x=1.0)
    ter = tr.from_heights(h, o, res)
    below_edge = np.array([[0.985, 0.0]])  # 1.5 cm before the riser, on the floor
    assert ter.height(below_edge)[0] == pytest.approx(0.0)
    assert ter.height(below_edge, dilated=True)[0] == pytest.approx(0.2)
