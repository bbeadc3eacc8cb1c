"""The retargeter's terrain: the heightfield's surface (unknown cells low, never planted on) and its dilation."""

from __future__ import annotations

import numpy as np
import pytest
from videomimic_offline.retarget import terrain as tr


def test_unknown_cells_are_low_ground_but_not_seen():
    h = np.full((20, 30), 0.2)
    h[5, 5] = 0.0
    h[:, 20:] = np.nan  # x >= 1.0 never seen
    ter = tr.from_heights(h, [-1.0, -1.0], 0.1, source="hf.npz")
    xy = np.array([[-0.5, 0.0], [1.2, 0.0], [9.0, 0.0]])
    z = ter.height(xy)
    assert z[0] == pytest.approx(0.2) and z[1] == pytest.approx(0.0)  # unseen: the lowest known height
    assert np.isnan(z[2])  # outside the grid
    assert ter.known(xy).tolist() == [True, False, False]
    assert tr.flat().known(xy).all() and (tr.flat().height(xy) == 0).all()


def test_dilation_keeps_step_edges_conservative():
    h, o, res = tr.staircase(n_steps=1, rise=0.2, run=1.0, start_x=1.0)
    ter = tr.from_heights(h, o, res)
    below_edge = np.array([[0.985, 0.0]])  # 1.5 cm before the riser, on the floor
    assert ter.height(below_edge)[0] == pytest.approx(0.0)
    assert ter.height(below_edge, dilated=True)[0] == pytest.approx(0.2)
