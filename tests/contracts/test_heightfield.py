"""The heightfield contract: one reader, one unknown-cell and transform policy, and the same ground for
retargeting, training and the simulator from one file."""

from __future__ import annotations

from pathlib import Path

import mujoco
import numpy as np
import pytest
from videomimic_offline.contracts.heightfield import SOURCE_CONTACT, Heightfield, read_heightfield, write_heightfield
from videomimic_offline.errors import ArtifactError

from videomimic_offline import artifacts


def _raw(path: Path, heights: np.ndarray, T: np.ndarray, origin=(-1.0, -1.0), res: float = 0.1) -> Path:
    """A heightfield file as another tool might write it (known mask, a scene-to-world transform)."""
    artifacts.write_npz(path, schema="videomimic.heightfield", version=1, heights=np.nan_to_num(heights, nan=7.0),
                        known=np.isfinite(heights), origin_xy=np.array(origin), resolution=np.float64(res),
                        T_world_scene=T)  # fmt: skip
    return path


def _step_scene() -> np.ndarray:
    """20 x 30 cells: floor at 0, a 0.2 m step for x >= 0.5 (columns >= 15), an unseen patch on the step."""
    h = np.zeros((20, 30))
    h[:, 15:] = 0.2
    h[8:12, 20:24] = np.nan
    return h


def test_unknown_cells_take_the_lowest_known_height_and_stay_unseen(tmp_path: Path) -> None:
    T = np.eye(4)
    T[:3, 3] = [0.5, 0.0, 0.1]
    hf = read_heightfield(_raw(tmp_path / "hf.npz", _step_scene(), T))
    # translated by (0.5, 0, 0.1): cell [r, c] is at (-0.5 + 0.1 c, -1 + 0.1 r)
    xy = np.array([[-0.4, 0.0], [1.1, 0.0], [1.6, 0.0], [9.0, 0.0]])  # floor, step, unseen patch, outside
    np.testing.assert_allclose(hf.height_at(xy)[:3], [0.1, 0.3, 0.1])
    assert np.isnan(hf.height_at(xy)[3])
    assert hf.known_at(xy).tolist() == [True, True, False, False]
    assert hf.surface.min() == pytest.approx(0.1) and np.isnan(hf.heights).sum() == 16


def test_a_yawed_scene_is_resampled_once_onto_world_axes_and_a_tilt_is_refused(tmp_path: Path) -> None:
    h = _step_scene()
    T = np.eye(4)
    T[:2, :2] = [[0.0, -1.0], [1.0, 0.0]]  # +90 deg about z: the step now rises along +y
    hf = read_heightfield(_raw(tmp_path / "yaw.npz", h, T))
    assert hf.heights.shape == (30, 20)  # world-aligned grid
    # scene point (x, y) lands at world (-y, x); scene (0.0, 0.0) is floor, (1.5, 0.0) the step
    np.testing.assert_allclose(hf.height_at(np.array([[0.0, 0.0], [0.0, 1.5], [-0.9, -0.5]])), [0.0, 0.2, 0.0])
    tilt = np.eye(4)
    tilt[:3, :3] = [[1, 0, 0], [0, 0.8, -0.6], [0, 0.6, 0.8]]
    with pytest.raises(ArtifactError, match="tilts the scene"):
        read_heightfield(_raw(tmp_path / "tilt.npz", h, tilt))


def test_write_read_round_trip_keeps_the_optional_layers(tmp_path: Path) -> None:
    h = _step_scene()
    source = np.where(np.isfinite(h), 2, 0).astype(np.uint8)
    source[0, 0] = SOURCE_CONTACT
    write_heightfield(
        tmp_path / "heightfield.npz", Heightfield(h, [0.0, 0.0], 0.05, source=source, from_contact=source == 3)
    )
    back = read_heightfield(tmp_path)  # a scene folder works too
    np.testing.assert_array_equal(back.known, np.isfinite(h))
    np.testing.assert_array_equal(back.source, source)
    assert back.from_contact[0, 0] and back.from_contact.sum() == 1 and back.resolution == 0.05


def _ray_heights(model: mujoco.MjModel, xy: np.ndarray, group: int = 0) -> np.ndarray:
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    groups = np.zeros(6, np.uint8)
    groups[group] = 1
    gid = np.zeros(1, np.int32)
    out = []
    for x, y in xy:
        d = mujoco.mj_ray(model, data, np.array([x, y, 5.0]), np.array([0.0, 0.0, -1.0]), groups, 1, -1, gid)
        out.append(5.0 - d if d >= 0 else np.nan)
    return np.array(out)


def test_retargeting_training_and_the_simulator_stand_on_the_same_ground(tmp_path: Path) -> None:
    """One file with unseen cells and a shift: the retargeter's surface, the simulator's hfield and
    training's terrain patch give the same height at every cell centre."""
    pytest.importorskip("mjlab")
    from videomimic_offline.retarget.terrain import from_field
    from videomimic_offline.sim.terrain import scene_spec
    from videomimic_offline.training.terrain import make_clip_terrain_cfg

    T = np.eye(4)
    T[:3, 3] = [0.3, -0.2, 0.05]
    path = _raw(tmp_path / "heightfield.npz", _step_scene(), T)
    hf = read_heightfield(path)
    rows, cols = np.meshgrid(np.arange(1, 19, 3), np.arange(1, 29, 2), indexing="ij")
    xy = hf.origin_xy + np.stack([cols.ravel(), rows.ravel()], 1) * hf.resolution
    assert (~hf.known_at(xy)).any() and hf.known_at(xy).any()  # unseen and seen cells are both probed

    retarget = from_field(hf).height(xy)
    sim = _ray_heights(scene_spec(hf).compile(), xy)

    spec = mujoco.MjSpec()
    spec.worldbody.add_body(name="terrain")
    patch = make_clip_terrain_cfg(path)
    patch.size = (8.0, 8.0)
    placed = patch.function(0.0, spec, np.random.default_rng(0))
    train = _ray_heights(spec.compile(), xy + placed.origin[:2]) - placed.origin[2]

    np.testing.assert_allclose(retarget, hf.surface[rows.ravel(), cols.ravel()])
    np.testing.assert_allclose(sim, retarget, atol=1e-5)
    np.testing.assert_allclose(train, retarget, atol=1e-5)
    # sim_g1 builds it as tiles (cheap LiDAR rays): the same ground at the cell centres and between them,
    # seams included (tiles of 4 cells here, so the probes cross many)
    mid = xy + 0.5 * hf.resolution
    one = _ray_heights(scene_spec(hf).compile(), np.concatenate([xy, mid]))
    np.testing.assert_allclose(_ray_heights(scene_spec(hf, tile_cells=4).compile(), np.concatenate([xy, mid])), one,
                               atol=1e-5)  # fmt: skip
    # unseen cells are the lowest known height (0.05 after the shift) for all three
    np.testing.assert_allclose(retarget[~hf.known_at(xy)], 0.05)
