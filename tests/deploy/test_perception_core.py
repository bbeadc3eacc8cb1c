"""Cloud cleaning, the elevation map and the policy heightmap (ROS-free cores)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from videomimic_nodes.core.cloud import (
    CleanConfig,
    Cloud,
    CloudError,
    OdomBuffer,
    clean_cloud,
    cloud2_to_cloud,
    custom_to_cloud,
    xyz_to_cloud2_fields,
)
from videomimic_nodes.core.elevation import ElevationMap
from videomimic_offline.robot import g1


def cloud2(xyz: np.ndarray, extra=None, stamp=100.0, **override) -> SimpleNamespace:
    fields, data, step = xyz_to_cloud2_fields(xyz, extra)
    msg = SimpleNamespace(
        fields=[SimpleNamespace(name=n, offset=o, datatype=d, count=1) for n, o, d in fields],
        width=len(xyz), height=1, point_step=step, row_step=step * len(xyz), data=data, is_bigendian=False,
        header=SimpleNamespace(stamp=SimpleNamespace(sec=int(stamp), nanosec=int((stamp % 1) * 1e9)), frame_id="livox"),
    )  # fmt: skip
    for k, v in override.items():
        setattr(msg, k, v)
    return msg


def step_scene_points(n: int = 20000, step_x: float = 1.35, h: float = 0.1, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(-2.0, 2.0, (n, 2)) + np.array([1.0, 0.0])
    z = np.where(xy[:, 0] >= step_x, h, 0.0) + rng.normal(0, 0.005, n)
    return np.column_stack([xy, z])


def test_cloud2_roundtrip_with_time_field():
    xyz = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    c = cloud2_to_cloud(cloud2(xyz, {"timestamp": np.array([100.0e9, 100.05e9])}))
    np.testing.assert_allclose(c.xyz, xyz, atol=1e-6)
    np.testing.assert_allclose(c.t, [0.0, 0.05], atol=1e-6)


@pytest.mark.parametrize(
    "override, match",
    [
        ({"fields": []}, "lacks x/y/z"),
        ({"data": b"\x00" * 5}, "bytes"),
        ({"width": 0, "row_step": 0}, "empty"),
    ],
)
def test_malformed_cloud2_raises_clear_error(override, match):
    with pytest.raises(CloudError, match=match):
        cloud2_to_cloud(cloud2(np.ones((4, 3)), **override))


def test_custom_msg_and_wrong_point_num():
    pts = [SimpleNamespace(x=1.0, y=0.0, z=0.0, offset_time=1000 * i) for i in range(3)]
    hdr = SimpleNamespace(stamp=SimpleNamespace(sec=5, nanosec=0), frame_id="livox")
    c = custom_to_cloud(SimpleNamespace(points=pts, point_num=3, timebase=5_000_000_000, header=hdr))
    assert c.stamp == 5.0 and c.t[2] == pytest.approx(2e-6)
    with pytest.raises(CloudError):
        custom_to_cloud(SimpleNamespace(points=pts, point_num=7, timebase=0, header=hdr))
    with pytest.raises(CloudError):
        custom_to_cloud(SimpleNamespace(points=[], point_num=0, timebase=0, header=hdr))


def test_clean_drops_nan_inf_body_and_outliers_and_deskews():
    xyz = np.array(
        [
            [np.nan, 0, 0],
            [np.inf, 1, 1],
            [0.1, 0.0, -0.3],
            [2.0, 0.0, -0.8],
            [0.01, 0, 0],
            [50.0, 0, 0],
            [3.0, 0.0, -5.0],
        ]
    )
    c = Cloud(xyz, np.array([0, 0, 0, 0.05, 0, 0, 0]), stamp=10.0)
    odom = OdomBuffer()
    odom.add(10.0, np.array([0.0, 0.0, 0.8]), np.array([0, 0, 0, 1.0]))
    odom.add(10.1, np.array([1.0, 0.0, 0.8]), np.array([0, 0, 0, 1.0]))
    pts, frame = clean_cloud(c, np.eye(4), odom, CleanConfig())
    assert frame == "odom"
    # only the ground point at 2 m survives; it was taken at t=10.05 when the robot was at x=0.5
    np.testing.assert_allclose(pts, [[2.5, 0.0, 0.0]], atol=0.01)  # poses interpolated per 1 ms bin
    pts, frame = clean_cloud(c, np.eye(4), None, CleanConfig())
    assert frame == "torso_link" and len(pts) == 1


def test_heightmap_shows_step_in_front_and_fallback_where_unknown():
    m = ElevationMap()
    torso = np.array([1.0, 0.0, 0.82])
    n = m.integrate(step_scene_points(60000, step_x=1.33), torso[:2], now=0.0)
    assert n > 1000
    hm = m.policy_heightmap(torso, 0.0).reshape(g1.HEIGHTMAP_SHAPE)  # [iy, ix], x ascending
    front, back = hm[:, -2:], hm[:, :3]  # x = +0.4..+0.5 (on the step) vs -0.5..-0.3
    assert np.allclose(back, 0.82, atol=0.02)
    assert np.allclose(front, 0.72, atol=0.02)
    # yaw by pi: the step is now behind the torso's heading
    hm180 = m.policy_heightmap(torso, np.pi).reshape(g1.HEIGHTMAP_SHAPE)
    assert np.allclose(hm180[:, :2], 0.72, atol=0.02)
    # a fresh map knows nothing: every cell is the fallback
    assert np.all(ElevationMap().policy_heightmap(torso, 0.0) == np.float32(g1.HEIGHTMAP_FALLBACK))


def test_map_fuses_over_time_follows_robot_and_ages():
    m = ElevationMap()
    pts = step_scene_points(5000, step_x=10.0)  # flat
    m.integrate(pts, np.zeros(2), now=0.0)
    v1 = np.nanmean(m.var)
    m.integrate(pts, np.zeros(2), now=0.1)
    assert np.nanmean(m.var[np.isfinite(m.var)]) < v1  # two scans: more certain
    h = m.sample(np.array([[1.5, 0.5]]))
    m.recentre(np.array([0.52, 0.0]))  # move the map 10 cells: the same world point keeps its height
    assert m.sample(np.array([[1.5, 0.5]])) == pytest.approx(h)
    m.integrate(np.zeros((0, 3)), np.array([0.52, 0.0]), now=20.0)  # unseen for 20 s: forgotten
    assert not np.isfinite(m.height).any()
